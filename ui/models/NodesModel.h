#pragma once

#include "backend/ConsoleTypes.h"
#include "models/TableColumns.h"

#include <QDateTime>

namespace sb::ui {

// The nodes of a cluster (docs/API.md, "Admin stream"): one row per node,
// live while its last heartbeat is recent, gone otherwise, and the node this console is
// attached to marked. A node that leaves the list keeps its row (and turns gone) until the
// next snapshot. Empty on a single node.
class NodesModel final : public FlatTableModel
{
    Q_OBJECT

public:
    enum Column { Node, Number, Address, Health, Connections, Rooms, Uptime, Version, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, LiveRole, AttachedRole };
    // Nodes beat once a second: five missed beats and the node counts as gone.
    static constexpr qint64 kGoneAfterMs = 5000;

    explicit NodesModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    // Starts over from a snapshot's list: nodes not in it are forgotten.
    void reset(const QList<NodeInfo> &nodes, qint64 nowMs = localNow());
    // A nodes frame: listed nodes are updated or added; the others keep their last entry.
    void update(const QList<NodeInfo> &nodes, qint64 nowMs = localNow());
    // Ages the rows to `nowMs` (this machine's clock).
    void refresh(qint64 nowMs = localNow());
    void setAttachedNode(const QString &name);
    QString attachedNode() const { return m_attached; }

    bool isCluster() const { return !m_nodes.isEmpty(); }
    const NodeInfo &at(int row) const { return m_nodes.at(row); }
    int rowOf(const QString &name) const;
    bool isLive(int row) const;
    int liveCount() const;

    // "3 d 4 h", "2 h 5 min", "4 min 10 s", "12 s".
    static QString uptimeText(qint64 seconds);
    static qint64 localNow() { return QDateTime::currentMSecsSinceEpoch(); }

Q_SIGNALS:
    void healthChanged();

private:
    int size() const override { return int(m_nodes.size()); }
    void setClock(const QList<NodeInfo> &nodes, qint64 nowMs);
    void rowsChanged(int first, int last);

    QList<NodeInfo> m_nodes;
    QString m_attached;
    // Ages are measured on the cluster's clock (its newest heartbeat), so that a console
    // whose clock differs from the servers' still tells live from gone.
    qint64 m_clusterMs = 0; // the newest last_seen_ms of the last list
    qint64 m_listAtMs = 0;  // this machine's time when that list came
    qint64 m_nowMs = 0;
};

} // namespace sb::ui
