#pragma once

#include "cluster/ClusterStatus.h"
#include "commands/EmitOrderer.h"

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

#include <atomic>
#include <functional>

class QObject;
class QThread;

namespace sb {

class ClusterNode;
class Metrics;
struct ClusterOptions;
class Hub;

// This node as one of a cluster on Redis (docs/ARCHITECTURE.md, "Cluster"; docs/API.md,
// "Cluster"): orders every emit through Redis (EmitOrderer), delivers what the cluster's
// bus brings, keeps the node alive and counted there. Its work runs on a thread of its own
// (switchboard-cluster); the calls below are thread-safe.
class Cluster final : public EmitOrderer
{
public:
    Cluster(Hub *hub, Metrics *metrics);
    ~Cluster() override;

    // Blocks until the node has joined (or kJoinTimeoutMs). False: *error says why, naming
    // the setting (redis, node_name, jwt_secret); *conflict when the cluster refused the
    // node's name or secret (a configuration error). host: the running thread whose event loop
    // does the cluster's work (the HTTP thread: REST emits and their answers then cross no
    // thread); null: a thread of its own, switchboard-cluster. Not the caller's thread.
    bool start(const ClusterOptions &options, QThread *host, QString *error, bool *conflict);
    // Leaves the cluster at once (its entries in Redis go); emits waiting are answered 503.
    void stop();

    void order(const EmitRequest &request, Done done) override;

    // Before start(): how this node answers the other nodes' questions (on the cluster's
    // thread): "connections", "connection", "close", "send", "rooms", "room", "stats",
    // "revoke" (docs/ARCHITECTURE.md, "Cluster").
    using Answerer = std::function<QJsonObject(const QString &op, const QJsonObject &args)>;
    void setAnswerer(Answerer answerer) { m_answerer = std::move(answerer); }
    // Asks every node (node 0) or node `node`; `done` runs on `context`'s thread (which must
    // outlive the cluster's stop()) with the answers, each with "node". ok false: Redis is
    // not reachable, nobody was asked.
    using AskDone = std::function<void(bool ok, const QList<QJsonObject> &answers)>;
    void ask(quint64 node, const QString &op, const QJsonObject &args, QObject *context,
             AskDone done) const;
    // The (user, session) pairs present in `room` on every node, one each; `done` runs on
    // `context`'s thread. ok false: Redis is not reachable.
    using PresenceDone =
            std::function<void(bool ok, const QList<QPair<QString, QString>> &members)>;
    void presence(const QString &room, QObject *context, PresenceDone done) const;
    // Runs `then` on `context`'s thread once the count changes made so far (a join) are in
    // Redis (ClusterInbox::addBarrier); at once when the cluster is not running.
    void afterCounts(QObject *context, std::function<void()> then) const;
    // An unregister on every node, kept for nodes that start later (member: room, user,
    // session, at). removed: the memberships ended on all nodes; -1 when Redis is not
    // reachable (nothing was revoked).
    void revoke(const QJsonObject &member, QObject *context,
                std::function<void(qint64 removed)> done) const;

    ClusterStatus status() const;
    quint64 number() const;

private:
    Hub *const m_hub;
    Metrics *const m_metrics;
    QString m_nodeName;
    qint64 m_historyPerRoom = 0;
    QThread *m_thread = nullptr;    // where the node works
    QThread *m_ownThread = nullptr; // m_thread when no host was given
    bool m_stopped = false;
    ClusterNode *m_node = nullptr;
    std::atomic<bool> m_running{false};
    Answerer m_answerer;
};

} // namespace sb
