#pragma once

#include "cluster/ClusterStatus.h"
#include "commands/EmitOrderer.h"

#include <QString>

#include <atomic>

class QThread;

namespace sb {

class ClusterNode;
struct ClusterOptions;
class Hub;

// This node as one of a cluster on Redis (docs/ARCHITECTURE.md, "Cluster"; docs/API.md,
// "Cluster"): orders every emit through Redis (EmitOrderer), delivers what the cluster's
// bus brings, keeps the node alive and counted there. Its work runs on a thread of its own
// (switchboard-cluster); the calls below are thread-safe.
class Cluster final : public EmitOrderer
{
public:
    explicit Cluster(Hub *hub);
    ~Cluster() override;

    // Blocks until the node has joined (or kJoinTimeoutMs). False: *error says why, naming
    // the setting (redis, node_name, jwt_secret); *conflict when the cluster refused the
    // node's name or secret (a configuration error).
    bool start(const ClusterOptions &options, QString *error, bool *conflict);
    // Leaves the cluster at once (its entries in Redis go); emits waiting are answered 503.
    void stop();

    void order(const EmitRequest &request, Done done) override;

    ClusterStatus status() const;
    quint64 number() const;

private:
    Hub *const m_hub;
    QString m_nodeName;
    qint64 m_historyPerRoom = 0;
    QThread *m_thread = nullptr;
    ClusterNode *m_node = nullptr;
    std::atomic<bool> m_running{false};
};

} // namespace sb
