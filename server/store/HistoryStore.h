#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace sb {

// A read of a room's history after an id (HistoryStore::read).
struct HistoryQuery
{
    std::optional<quint64> since; // the last id the reader saw; nullopt: it asks no replay
    // The reader replays the room's events with ids in (since, logCoveredUpTo] itself, from
    // the message log; the store supplies those above.
    quint64 logCoveredUpTo = 0;
    // The store may answer needLog where it falls short (a log backs it, and the reader has not
    // asked the log too often yet); otherwise it answers with what it holds.
    bool mayAskLog = false;
    // False: the reader already receives the room's events live (a member joining again);
    // only lastId and complete are answered, no events.
    bool wantEvents = true;
    // Most bytes of events one read returns: past it none (tooLarge).
    qint64 maxBytes = 8 * 1024 * 1024;
};

struct HistoryRead
{
    // The store does not hold every event the read must return, or the room's last id: read
    // the room's events up to needLogUpTo from the message log, seedRoom() with the latest id
    // found, and read again with logCoveredUpTo = needLogUpTo. The room's events after
    // needLogUpTo stay held until that read (or release()).
    bool needLog = false;
    quint64 needLogUpTo = 0;
    quint64 lastId = 0;       // the room's latest id as far as the store knows it; 0: none
    bool complete = true;     // nothing the reader missed is lost (the client's recovered)
    bool tooLarge = false;    // the events passed maxBytes: none returned
    QList<QByteArray> events; // wire frames of the events after the id, oldest first
};

// The history of the rooms behind a seam (docs/ARCHITECTURE.md, "Parts"): ordering ids,
// each room's recent events and who is present in which room. The single-node
// implementation is RoomHistory (in memory, the message log below it); a shared engine
// (Redis) implements the same calls for several nodes.
//
// Not thread-safe by contract: the hub calls it under its lock, so that ids, appends and
// reads are ordered with memberships and deliveries (appends come in id order).
class HistoryStore
{
public:
    virtual ~HistoryStore() = default;

    // Ordering ids: strictly increasing over all rooms, never 0.
    virtual quint64 nextId() = 0;
    // The highest id given so far (any room).
    virtual quint64 lastId() const = 0;
    // Ids continue after `id` (the message log's last id after a restart); events up to it
    // are then only in the log. Never goes back.
    virtual void continueAfter(quint64 id) = 0;
    // An id ordered elsewhere (the cluster's sequence, docs/ARCHITECTURE.md, "Cluster"): ids
    // continue after it. Unlike continueAfter, nothing up to it is taken as missing.
    virtual void advanceTo(quint64 id) = 0;

    // Appends the event `id` (from nextId(), in id order) of `room`, as its wire frame.
    virtual void append(const QString &room, quint64 id, const QByteArray &wire) = 0;
    // The room's events after query.since within query.maxBytes (HistoryQuery, HistoryRead).
    virtual HistoryRead read(const QString &room, const HistoryQuery &query) = 0;
    // Ends the hold of a needLog answer (needLogUpTo) of `room`.
    virtual void release(const QString &room, quint64 needLogUpTo) = 0;
    // A room the store knows nothing of: its latest id as the message log has it.
    virtual void seedRoom(const QString &room, quint64 lastIdInLog) = 0;
    // Rooms the store holds a history record of (tests and metrics).
    virtual qsizetype historyRooms() const = 0;

    // Presence: one entry per (user, session) in a room, however many connections share it.
    // A room with anyone present keeps its record.
    virtual void addPresence(const QString &room, const QString &user, const QString &session) = 0;
    virtual void removePresence(const QString &room, const QString &user,
                                const QString &session) = 0;
    // (user, session) pairs of the room, one each, in no particular order.
    virtual QList<QPair<QString, QString>> presence(const QString &room) const = 0;
};

} // namespace sb
