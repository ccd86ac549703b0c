#pragma once

#include "cluster/ClusterAsks.h"
#include "cluster/ClusterInbox.h"
#include "cluster/ClusterOptions.h"
#include "cluster/ClusterStatus.h"

#include <QMutex>
#include <QObject>

#include <functional>

class QTimer;

namespace sb {

class BusReader;
class Hub;
class Metrics;
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
    ClusterNode(const ClusterOptions &options, Hub *hub, Metrics *metrics,
                QObject *parent = nullptr);
    ~ClusterNode() override;

    // Cluster thread. Connects and joins; `done(error, conflict)` once: error empty when
    // joined, conflict when the cluster refused this node's name or secret.
    void join(std::function<void(const QString &error, bool conflict)> done);
    // Cluster thread: leaves the cluster (its entries go at once) and closes the connections.
    // Pending emits are answered 503.
    void leave();

    ClusterInbox &inbox() { return m_inbox; }
    // Cluster thread: orders an emit at once, without the inbox's wake-up (an emit made on
    // this thread: the REST calls).
    void orderHere(ClusterInbox::Order &&order);
    // Before join(): how this node answers the others' questions (ClusterAsks).
    void setAnswerer(ClusterAsks::Answerer answerer) { m_answerer = std::move(answerer); }
    // Cluster thread: the (user, session) pairs present in `room` on every node, as the JSON
    // arrays [user, session]; ok false when Redis is not reachable.
    void presence(const QString &room,
                  std::function<void(bool ok, const QList<QByteArray> &members)> done);
    // Cluster thread (ClusterAsks::ask); not joined or no Redis: done(false, {}).
    void ask(quint64 node, const QString &op, const QJsonObject &args, ClusterAsks::Done done);
    // Cluster thread: an unregister on every node, kept in Redis for nodes that start later.
    // done(-1): Redis was not reachable, nothing was revoked anywhere.
    void revoke(const QJsonObject &member, std::function<void(qint64 removed)> done);
    // Any thread.
    ClusterStatus status() const;
    bool redisUp() const;

    static constexpr int kHeartbeatMs = 1000;
    static constexpr int kJoinTimeoutMs = 10000;

private:
    void drainInbox();
    void send(ClusterInbox::Order &order, bool up);
    void ordered(const EmitOrderer::Done &done, const RedisReply &reply);
    void heartbeat();
    void heartbeatReply(const RedisReply &reply, quint64 seenWhenSent);
    void commandsConnected();
    void resync(bool epochLost);
    void setRedisUp(bool up);
    QByteArray nodeJson() const;
    void joinReply(const RedisReply &reply);
    void loadRevocations();
    void finishJoin(const QString &error, bool conflict);
    bool saveIdentity(QString *error) const;

    const ClusterOptions m_options;
    Hub *const m_hub;
    Metrics *const m_metrics;
    ClusterInbox m_inbox;
    RedisClient *m_commands = nullptr;
    BusReader *m_bus = nullptr;
    QTimer *m_heartbeat = nullptr;
    QTimer *m_joinTimeout = nullptr;
    std::function<void(const QString &, bool)> m_joinDone;
    ClusterAsks *m_asks = nullptr;
    ClusterAsks::Answerer m_answerer;

    QByteArray m_run;     // this run's id (alive key value)
    QByteArray m_prevRun; // the last run's id from the data dir
    quint64 m_hintNumber = 0;
    QByteArray m_epoch;
    bool m_joined = false;
    bool m_leaving = false;
    quint64 m_maxSeen = 0; // the highest id seen (bus, answers, heartbeats)

    mutable QMutex m_statusMutex;
    ClusterStatus m_status;
};

} // namespace sb
