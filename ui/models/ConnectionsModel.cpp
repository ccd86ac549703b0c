#include "models/ConnectionsModel.h"

#include <QDateTime>
#include <QSet>

namespace sb::ui {

namespace {
// Header texts by column (ConnectionsModel::Column).
constexpr const char *kHeaders[] = {
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Connection"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "User"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Session"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Rooms"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Endpoint"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Remote address"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Origin"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Connected since"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Sent"),
        QT_TRANSLATE_NOOP("sb::ui::ConnectionsModel", "Received"),
};
static_assert(std::size(kHeaders) == ConnectionsModel::ColumnCount);
} // namespace

ConnectionsModel::ConnectionsModel(QObject *parent) : FlatTableModel(kHeaders, parent) { }

QVariant ConnectionsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const ConnectionInfo &c = m_rows.at(index.row());
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id:
            return c.id;
        case User:
            return c.user;
        case Session:
            return c.session;
        case Rooms:
            return c.rooms.join(QStringLiteral(", "));
        case Endpoint:
            return c.endpoint;
        case Remote:
            return c.remote;
        case Origin:
            return c.origin;
        case Since:
            return QDateTime::fromMSecsSinceEpoch(c.since).toString(
                    QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case Sent:
            return c.sent;
        case Received:
            return c.received;
        default:
            return {};
        }
    }
    if (role == Qt::UserRole) { // the sort key: the shown value but for the id and the time
        if (index.column() == Id)
            return c.id.mid(1).toULongLong(); // "c123" sorts by number
        if (index.column() == Since)
            return c.since;
        return data(index, Qt::DisplayRole);
    }
    if (role == Qt::TextAlignmentRole && (index.column() == Sent || index.column() == Received))
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == Rooms && !c.rooms.isEmpty())
        return c.rooms.join(u'\n');
    return {};
}

void ConnectionsModel::reset(const QList<ConnectionInfo> &connections)
{
    beginResetModel();
    m_rows = connections;
    m_index.clear();
    reindexFrom(0);
    endResetModel();
}

void ConnectionsModel::reindexFrom(int row)
{
    for (int i = row; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).id, i);
}

void ConnectionsModel::apply(const QList<LiveChange> &changes)
{
    if (changes.size() > kResetThreshold) {
        // Closed rows are left as tombstones (empty id) and compacted once at the end.
        beginResetModel();
        for (const LiveChange &c : changes)
            applyOne(c, false);
        m_rows.removeIf([](const ConnectionInfo &c) { return c.id.isEmpty(); });
        m_index.clear();
        reindexFrom(0);
        endResetModel();
        return;
    }
    for (const LiveChange &c : changes)
        applyOne(c, true);
}

void ConnectionsModel::applyOne(const LiveChange &change, bool signal)
{
    const auto rowOf = [this](const QString &id) { return m_index.value(id, -1); };
    switch (change.kind) {
    case LiveChange::Kind::Opened: {
        if (rowOf(change.connection.id) >= 0)
            return;
        const int row = int(m_rows.size());
        if (signal)
            beginInsertRows({}, row, row);
        m_rows.append(change.connection);
        m_index.insert(change.connection.id, row);
        if (signal)
            endInsertRows();
        return;
    }
    case LiveChange::Kind::Closed: {
        const int row = rowOf(change.connection.id);
        if (row < 0)
            return;
        m_index.remove(change.connection.id);
        if (!signal) {
            m_rows[row].id.clear();
            return;
        }
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        reindexFrom(row);
        endRemoveRows();
        return;
    }
    case LiveChange::Kind::Joined:
    case LiveChange::Kind::Left: {
        const int row = rowOf(change.connection.id);
        if (row < 0)
            return;
        ConnectionInfo &c = m_rows[row];
        if (change.kind == LiveChange::Kind::Joined) {
            if (!c.rooms.contains(change.room))
                c.rooms.append(change.room);
            if (c.user.isEmpty())
                c.user = change.user;
            if (c.session.isEmpty())
                c.session = change.session;
        } else {
            c.rooms.removeAll(change.room);
        }
        if (signal)
            Q_EMIT dataChanged(index(row, User), index(row, Rooms));
        return;
    }
    }
}

void ConnectionsModel::updateCounters(const QList<ConnectionInfo> &fresh)
{
    int first = -1;
    int last = -1;
    for (const ConnectionInfo &f : fresh) {
        const int row = m_index.value(f.id, -1);
        if (row < 0)
            continue;
        ConnectionInfo &c = m_rows[row];
        if (c.sent == f.sent && c.received == f.received)
            continue;
        c.sent = f.sent;
        c.received = f.received;
        first = first < 0 ? row : qMin(first, row);
        last = qMax(last, row);
    }
    if (first >= 0)
        Q_EMIT dataChanged(index(first, Sent), index(last, Received));
}

const ConnectionInfo *ConnectionsModel::find(const QString &id) const
{
    const int row = m_index.value(id, -1);
    return row < 0 ? nullptr : &m_rows.at(row);
}

QStringList ConnectionsModel::ids() const
{
    QStringList out;
    out.reserve(m_rows.size());
    for (const ConnectionInfo &c : m_rows)
        out.append(c.id);
    return out;
}

QStringList ConnectionsModel::users() const
{
    QSet<QString> seen;
    QStringList out;
    for (const ConnectionInfo &c : m_rows) {
        if (!c.user.isEmpty() && !seen.contains(c.user)) {
            seen.insert(c.user);
            out.append(c.user);
        }
    }
    out.sort();
    return out;
}

} // namespace sb::ui
