#pragma once

#include "backend/ConsoleTypes.h"
#include "models/TableColumns.h"

#include <QAbstractItemModel>
#include <QHash>

namespace sb::ui {

// The live rooms tree: each room with its member connections (user, session) and counts.
class RoomsModel final : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column { Name, Connections, Users, User, Session, ColumnCount };
    enum Role { RoomRole = Qt::UserRole + 1, ConnectionRole, SortRole };
    static constexpr int kResetThreshold = 64;

    explicit RoomsModel(QObject *parent = nullptr);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    void reset(const QList<ConnectionInfo> &connections);
    void apply(const QList<LiveChange> &changes);

    QStringList roomNames() const;
    int memberCount(const QString &room) const;

private:
    struct Room
    {
        QString name;
        QList<RoomMemberInfo> members;
    };

    void join(const QString &room, const RoomMemberInfo &member, bool signal);
    void leave(const QString &room, const QString &connection, bool signal);
    void reindexRooms(int from);
    static int distinctUsers(const Room &room);

    QList<Room> m_rooms;
    QHash<QString, int> m_roomIndex;                 // room -> row
    QHash<QString, QStringList> m_roomsOfConnection; // connection -> its rooms
};

} // namespace sb::ui
