#pragma once

#include "base/Message.h"

#include <QObject>
#include <QString>

#include <deque>
#include <functional>
#include <map>

class QTimer;

namespace sb {

class Hub;
class Metrics;
class RedisClient;
struct RedisReply;
struct RedisUrl;

// Reads the cluster's bus (docs/ARCHITECTURE.md, "Cluster"): one Redis connection always
// blocked in XREAD BLOCK on sb:bus after the last id handed over, every entry handed to the hub
// in id order (Hub::deliverOrdered). When the hub's queues are full the entry waits and the
// next read too, so a slow node falls behind instead of growing without bound. Entries the bus
// no longer holds (a gap in the ids) send this node's clients to recover (1012). Lives on the
// cluster's thread.
class BusReader final : public QObject
{
    Q_OBJECT
public:
    BusReader(Hub *hub, Metrics *metrics, QString nodeName, QObject *parent = nullptr);
    ~BusReader() override;

    // Connects; reading starts with start().
    void open(const RedisUrl &url, const QByteArray &clientName);
    // Reads every entry after `after` (the cluster's last id when the node joined).
    void start(quint64 after);
    // Stops reading; what waits in whenDelivered() is told it will not be (false).
    void stop();

    // The last id handed to the hub.
    quint64 deliveredUpTo() const { return m_after; }
    // Calls `then(true)` once the hub has every id up to `id` (at once when it has),
    // `then(false)` when the reader stops first.
    void whenDelivered(quint64 id, std::function<void(bool delivered)> then);

    static constexpr int kBlockMs = 1000;
    static constexpr int kBatch = 512;
    static constexpr int kRetryMs = 2;

private:
    void read();
    void onReply(const RedisReply &reply);
    void deliver();

    Hub *const m_hub;
    Metrics *const m_metrics;
    const QString m_nodeName;
    RedisClient *m_client = nullptr;
    QTimer *m_retry = nullptr;
    bool m_started = false;
    bool m_reading = false;            // an XREAD is in flight
    quint64 m_after = 0;               // the last id handed to the hub
    std::deque<OrderedEmit> m_backlog; // read, not yet taken by the hub
    std::multimap<quint64, std::function<void(bool)>> m_waiting;
};

} // namespace sb
