#include "models/NodesModel.h"

#include <QBrush>
#include <QColor>
#include <QFont>

namespace sb::ui {

namespace {
// Header texts by column (NodesModel::Column).
constexpr const char *kHeaders[] = {
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Node"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Number"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Address"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Health"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Connections"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Rooms"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Uptime"),
        QT_TRANSLATE_NOOP("sb::ui::NodesModel", "Version"),
};
static_assert(std::size(kHeaders) == NodesModel::ColumnCount);
} // namespace

NodesModel::NodesModel(QObject *parent) : FlatTableModel(kHeaders, parent) { }

QString NodesModel::uptimeText(qint64 s)
{
    if (s >= 86400)
        return tr("%1 d %2 h").arg(s / 86400).arg(s % 86400 / 3600);
    if (s >= 3600)
        return tr("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60);
    if (s >= 60)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 s").arg(qMax<qint64>(0, s));
}

QVariant NodesModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_nodes.size())
        return {};
    const NodeInfo &n = m_nodes.at(index.row());
    const bool live = isLive(index.row());
    const bool attached = !m_attached.isEmpty() && n.name == m_attached;
    switch (role) {
    case LiveRole:
        return live;
    case AttachedRole:
        return attached;
    case Qt::FontRole: {
        if (!attached)
            return {};
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    case Qt::ForegroundRole:
        return live ? QVariant() : QVariant(QBrush(QColor(0x9e, 0x9e, 0x9e)));
    case Qt::TextAlignmentRole:
        if (index.column() == Number || index.column() == Connections || index.column() == Rooms)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (index.column() != Health)
            return {};
        return tr("last heartbeat %1")
                .arg(QDateTime::fromMSecsSinceEpoch(n.lastSeenMs)
                             .toString(QStringLiteral("HH:mm:ss")));
    default:
        break;
    }
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    switch (index.column()) {
    case Node:
        return n.name;
    case Number:
        return n.number;
    case Address:
        return n.address;
    case Health: {
        const QString health = live ? tr("live") : tr("gone");
        return attached ? tr("%1, attached").arg(health) : health;
    }
    case Connections:
        return n.connections;
    case Rooms:
        return n.rooms;
    case Uptime:
        return role == SortRole ? QVariant(n.uptimeS) : QVariant(uptimeText(n.uptimeS));
    case Version:
        return n.version;
    default:
        return {};
    }
}

int NodesModel::rowOf(const QString &name) const
{
    for (int row = 0; row < m_nodes.size(); ++row) {
        if (m_nodes.at(row).name == name)
            return row;
    }
    return -1;
}

bool NodesModel::isLive(int row) const
{
    const qint64 clusterNow = m_clusterMs + qMax<qint64>(0, m_nowMs - m_listAtMs);
    return clusterNow - m_nodes.at(row).lastSeenMs <= kGoneAfterMs;
}

int NodesModel::liveCount() const
{
    int live = 0;
    for (int row = 0; row < m_nodes.size(); ++row)
        live += isLive(row) ? 1 : 0;
    return live;
}

void NodesModel::setClock(const QList<NodeInfo> &nodes, qint64 nowMs)
{
    for (const NodeInfo &n : nodes)
        m_clusterMs = qMax(m_clusterMs, n.lastSeenMs);
    m_listAtMs = nowMs;
    m_nowMs = nowMs;
}

void NodesModel::reset(const QList<NodeInfo> &nodes, qint64 nowMs)
{
    beginResetModel();
    m_nodes = nodes;
    m_clusterMs = 0;
    setClock(nodes, nowMs);
    endResetModel();
    Q_EMIT healthChanged();
}

void NodesModel::update(const QList<NodeInfo> &nodes, qint64 nowMs)
{
    setClock(nodes, nowMs);
    QList<NodeInfo> added;
    for (const NodeInfo &n : nodes) {
        const int row = rowOf(n.name);
        if (row >= 0)
            m_nodes[row] = n;
        else
            added.append(n);
    }
    rowsChanged(0, int(m_nodes.size()) - 1);
    if (!added.isEmpty()) {
        const int first = int(m_nodes.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        m_nodes.append(added);
        endInsertRows();
    }
    Q_EMIT healthChanged();
}

void NodesModel::refresh(qint64 nowMs)
{
    m_nowMs = nowMs;
    rowsChanged(0, int(m_nodes.size()) - 1);
    Q_EMIT healthChanged();
}

void NodesModel::setAttachedNode(const QString &name)
{
    if (name == m_attached)
        return;
    m_attached = name;
    rowsChanged(0, int(m_nodes.size()) - 1);
    Q_EMIT healthChanged();
}

void NodesModel::rowsChanged(int first, int last)
{
    if (first <= last)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
}

} // namespace sb::ui
