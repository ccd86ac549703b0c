#pragma once

#include "store/HistoryStore.h"

#include <QHash>

#include <deque>
#include <utility>

namespace sb {

// The single-node HistoryStore: the recent events of each room in memory (history_per_room
// of them, all rooms together within kMaxBytes and kMaxRooms, the oldest going first), the
// message log below it, and presence counted per (user, session). Not thread-safe: the hub
// calls it under its lock (HistoryStore).
class RoomHistory final : public HistoryStore
{
public:
    // Memory for the recent history of all rooms together (the per-room depth is
    // history_per_room); the oldest events go first. Older events come from the message log.
    static constexpr qint64 kMaxBytes = 64 * 1024 * 1024;
    static constexpr qsizetype kMaxRooms = 100000;

    explicit RoomHistory(qint64 historyPerRoom = 1000);
    ~RoomHistory() override;

    quint64 nextId() override { return ++m_lastId; }
    quint64 lastId() const override { return m_lastId; }
    void continueAfter(quint64 id) override;
    void advanceTo(quint64 id) override { m_lastId = qMax(m_lastId, id); }

    void append(const QString &room, quint64 id, const QByteArray &wire) override;
    HistoryRead read(const QString &room, const HistoryQuery &query) override;
    void release(const QString &room, quint64 needLogUpTo) override;
    void seedRoom(const QString &room, quint64 lastIdInLog) override;
    qsizetype historyRooms() const override { return m_history.size(); }

    void addPresence(const QString &room, const QString &user, const QString &session) override;
    void removePresence(const QString &room, const QString &user, const QString &session) override;
    QList<QPair<QString, QString>> presence(const QString &room) const override;

    // Bytes of the events held, all rooms (tests).
    qint64 bytes() const { return m_bytes; }

private:
    struct History
    {
        std::deque<std::pair<quint64, QByteArray>> events; // id, wire frame
        quint64 lastId = 0;
        quint64 droppedUpTo = 0; // highest id no longer held
        QList<quint64> pins;     // reads of the log up to these ids: keep what follows
    };
    static bool pinned(const History &h, quint64 eventId);
    void readEvents(const History &h, const HistoryQuery &query, HistoryRead &out) const;
    void evict();
    void trimStaleOrder();

    const qint64 m_perRoom;
    quint64 m_lastId = 0;
    QHash<QString, History> m_history;
    std::deque<std::pair<QString, quint64>> m_order; // (room, id), oldest first
    qint64 m_bytes = 0;
    quint64 m_forgottenUpTo = 0; // a room with no record may have had events up to this id
    // room -> (user, session) -> connections present with it
    QHash<QString, QHash<QPair<QString, QString>, qint64>> m_presence;
};

} // namespace sb
