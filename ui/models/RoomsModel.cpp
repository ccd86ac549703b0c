#include "models/RoomsModel.h"

#include <QSet>

namespace sb::ui {

// Top-level rows (rooms) have internal id 0; a member row has its room's row + 1.

namespace {
// Header texts by column (RoomsModel::Column).
constexpr const char *kHeaders[] = {
        QT_TRANSLATE_NOOP("sb::ui::RoomsModel", "Room / connection"),
        QT_TRANSLATE_NOOP("sb::ui::RoomsModel", "Connections"),
        QT_TRANSLATE_NOOP("sb::ui::RoomsModel", "Users"),
        QT_TRANSLATE_NOOP("sb::ui::RoomsModel", "User"),
        QT_TRANSLATE_NOOP("sb::ui::RoomsModel", "Session"),
};
static_assert(std::size(kHeaders) == RoomsModel::ColumnCount);
} // namespace

RoomsModel::RoomsModel(QObject *parent) : QAbstractItemModel(parent) { }

QModelIndex RoomsModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid())
        return row < m_rooms.size() ? createIndex(row, column, quintptr(0)) : QModelIndex();
    if (parent.internalId() != 0 || parent.row() >= m_rooms.size())
        return {};
    if (row >= m_rooms.at(parent.row()).members.size())
        return {};
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex RoomsModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || child.internalId() == 0)
        return {};
    return createIndex(int(child.internalId() - 1), 0, quintptr(0));
}

int RoomsModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_rooms.size());
    if (parent.internalId() != 0 || parent.column() != 0 || parent.row() >= m_rooms.size())
        return 0;
    return int(m_rooms.at(parent.row()).members.size());
}

int RoomsModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant RoomsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    return columnHeader(*this, kHeaders, section, orientation, role);
}

int RoomsModel::distinctUsers(const Room &room)
{
    QSet<QString> users;
    for (const RoomMemberInfo &m : room.members)
        users.insert(m.user);
    return int(users.size());
}

QVariant RoomsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return {};
    if (index.internalId() == 0) {
        if (index.row() >= m_rooms.size())
            return {};
        const Room &room = m_rooms.at(index.row());
        switch (role) {
        case Qt::DisplayRole:
        case SortRole:
            if (index.column() == Name)
                return room.name;
            if (index.column() == Connections)
                return int(room.members.size());
            if (index.column() == Users)
                return distinctUsers(room);
            return {};
        case RoomRole:
            return room.name;
        case Qt::ToolTipRole:
            return tr("%1: %n connection(s)", nullptr, int(room.members.size())).arg(room.name);
        case Qt::TextAlignmentRole:
            if (index.column() == Connections || index.column() == Users)
                return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
            return {};
        default:
            return {};
        }
    }
    const int roomRow = int(index.internalId() - 1);
    if (roomRow >= m_rooms.size() || index.row() >= m_rooms.at(roomRow).members.size())
        return {};
    const RoomMemberInfo &m = m_rooms.at(roomRow).members.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case SortRole:
        if (index.column() == Name)
            return m.connection;
        if (index.column() == User)
            return m.user;
        if (index.column() == Session)
            return m.session;
        return {};
    case RoomRole:
        return m_rooms.at(roomRow).name;
    case ConnectionRole:
        return m.connection;
    default:
        return {};
    }
}

void RoomsModel::reindexRooms(int from)
{
    for (int i = from; i < m_rooms.size(); ++i)
        m_roomIndex.insert(m_rooms.at(i).name, i);
}

void RoomsModel::reset(const QList<ConnectionInfo> &connections)
{
    beginResetModel();
    m_rooms.clear();
    m_roomIndex.clear();
    m_roomsOfConnection.clear();
    for (const ConnectionInfo &c : connections) {
        for (const QString &room : c.rooms)
            join(room, RoomMemberInfo{c.id, c.user, c.session}, false);
    }
    endResetModel();
}

void RoomsModel::apply(const QList<LiveChange> &changes)
{
    const bool signal = changes.size() <= kResetThreshold;
    if (!signal)
        beginResetModel();
    for (const LiveChange &c : changes) {
        switch (c.kind) {
        case LiveChange::Kind::Opened:
            break;
        case LiveChange::Kind::Joined:
            join(c.room, RoomMemberInfo{c.connection.id, c.user, c.session}, signal);
            break;
        case LiveChange::Kind::Left:
            leave(c.room, c.connection.id, signal);
            break;
        case LiveChange::Kind::Closed: {
            // Normally every room.left came first; whatever is left goes now.
            const QStringList rooms = m_roomsOfConnection.value(c.connection.id);
            for (const QString &room : rooms)
                leave(room, c.connection.id, signal);
            m_roomsOfConnection.remove(c.connection.id);
            break;
        }
        }
    }
    if (!signal)
        endResetModel();
}

void RoomsModel::join(const QString &room, const RoomMemberInfo &member, bool signal)
{
    QStringList &mine = m_roomsOfConnection[member.connection];
    if (mine.contains(room))
        return;
    mine.append(room);
    int row = m_roomIndex.value(room, -1);
    if (row < 0) {
        row = int(m_rooms.size());
        if (signal)
            beginInsertRows({}, row, row);
        m_rooms.append(Room{room, {}});
        m_roomIndex.insert(room, row);
        if (signal)
            endInsertRows();
    }
    Room &r = m_rooms[row];
    const int memberRow = int(r.members.size());
    const QModelIndex parent = signal ? index(row, 0) : QModelIndex();
    if (signal)
        beginInsertRows(parent, memberRow, memberRow);
    r.members.append(member);
    if (signal) {
        endInsertRows();
        Q_EMIT dataChanged(index(row, Connections), index(row, Users));
    }
}

void RoomsModel::leave(const QString &room, const QString &connection, bool signal)
{
    auto mine = m_roomsOfConnection.find(connection);
    if (mine != m_roomsOfConnection.end()) {
        mine->removeAll(room);
        if (mine->isEmpty())
            m_roomsOfConnection.erase(mine);
    }
    const int row = m_roomIndex.value(room, -1);
    if (row < 0)
        return;
    Room &r = m_rooms[row];
    const auto it = std::find_if(
            r.members.cbegin(), r.members.cend(),
            [&connection](const RoomMemberInfo &m) { return m.connection == connection; });
    if (it == r.members.cend())
        return;
    if (r.members.size() == 1) { // the room goes with its last member
        if (signal)
            beginRemoveRows({}, row, row);
        m_roomIndex.remove(room);
        m_rooms.removeAt(row);
        reindexRooms(row);
        if (signal)
            endRemoveRows();
        return;
    }
    const int memberRow = int(it - r.members.cbegin());
    if (signal)
        beginRemoveRows(index(row, 0), memberRow, memberRow);
    r.members.removeAt(memberRow);
    if (signal) {
        endRemoveRows();
        Q_EMIT dataChanged(index(row, Connections), index(row, Users));
    }
}

QStringList RoomsModel::roomNames() const
{
    QStringList out;
    out.reserve(m_rooms.size());
    for (const Room &r : m_rooms)
        out.append(r.name);
    out.sort();
    return out;
}

int RoomsModel::memberCount(const QString &room) const
{
    const int row = m_roomIndex.value(room, -1);
    return row < 0 ? 0 : int(m_rooms.at(row).members.size());
}

} // namespace sb::ui
