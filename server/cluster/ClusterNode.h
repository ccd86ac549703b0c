#pragma once

#include "cluster/ClusterInbox.h"
#include "cluster/ClusterOptions.h"
#include "cluster/ClusterStatus.h"

#include <QMutex>
#include <QObject>

#include <deque>
#include <functional>

class QTimer;

namespace sb {

class Hub;
class RedisClient;
struct RedisReply;

// This node's part of the cluster, on the cluster's own thread (docs/ARCHITECTURE.md,
// "Cluster"): two Redis connections (commands, pipelined; the bus, blocked in XREAD), the
// join, the heartbeat that keeps the node alive and lists the others, the count changes and
// emits of the inbox, and the bus reader that hands every ordered emit to the hub in id order.
class ClusterNode final : public QObject
{
    Q_OBJECT
public:
    ClusterNode(const ClusterOptions &options, Hub *hub, QObject *parent = nullptr);
    ~ClusterNode() override;

    // Cluster thread. Connects and joins; `done(error, conflict)` once: error empty when
    // joined, conflict when the cluster refused this node's name or secret.
    void join(std::function<void(const QString &error, bool conflict)> done);
    // Cluster thread: leaves the cluster (its entries go at once) and closes the connections.
    // Pending emits are answered 503.
    void leave();

    ClusterInbox &inbox() { return m_inbox; }
    // Any thread.
    ClusterStatus status() const;
    bool redisUp() const;

    static constexpr int kHeartbeatMs = 1000;
    static constexpr int kJoinTimeoutMs = 10000;

private:
    void drainInbox();
    void ordered(const EmitOrderer::Done &done, const RedisReply &reply);
    void heartbeat();
    void heartbeatReply(const RedisReply &reply, quint64 seenWhenSent);
    void commandsConnected();
    void resync(bool epochLost);
    void readBus();
    void busReply(const RedisReply &reply);
    void deliverBacklog();
    void setRedisUp(bool up);
    QByteArray nodeJson() const;
    void joinReply(const RedisReply &reply);
    void finishJoin(const QString &error, bool conflict);
    bool saveIdentity(QString *error) const;

    const ClusterOptions m_options;
    Hub *const m_hub;
    ClusterInbox m_inbox;
    RedisClient *m_commands = nullptr;
    RedisClient *m_bus = nullptr;
    QTimer *m_heartbeat = nullptr;
    QTimer *m_retryDelivery = nullptr;
    QTimer *m_joinTimeout = nullptr;
    std::function<void(const QString &, bool)> m_joinDone;

    QByteArray m_run;     // this run's id (alive key value)
    QByteArray m_prevRun; // the last run's id from the data dir
    quint64 m_hintNumber = 0;
    QByteArray m_epoch;
    bool m_joined = false;
    bool m_leaving = false;
    bool m_reading = false;            // an XREAD is in flight
    quint64 m_busAfter = 0;            // the last bus id handed to the hub
    quint64 m_maxSeen = 0;             // the highest id seen (bus, answers, heartbeats)
    std::deque<OrderedEmit> m_backlog; // read, not yet taken by the hub (full queues)

    mutable QMutex m_statusMutex;
    ClusterStatus m_status;
};

} // namespace sb
