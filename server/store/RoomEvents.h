#pragma once

#include "base/Message.h"

#include <QList>
#include <QString>

#include <optional>

namespace sb {

// What `since` recovery needs of a room that memory no longer holds (docs/ARCHITECTURE.md,
// "How recovery flows"): its events with ids in (since, upTo], oldest first, and its latest
// id up to upTo.
struct RoomEvents
{
    QList<MessageRecord> records;
    quint64 lastId = 0;
    // false: some are gone (retention, trimming), more than the source replays or than
    // maxBytes, the source lacks some (it is away) or a query failed. `records` is then empty:
    // a replay with a gap is of no use to a client told recovered: false, which reloads anyway.
    bool complete = true;
    // false: the latest id could not be read (the source is away): lastId is unknown, not 0,
    // and must not be taken as the room's latest id.
    bool lastIdKnown = true;
};

// Where a join's older events come from (docs/ARCHITECTURE.md, "How recovery flows"): the
// message log on one node, Redis and then the log in a cluster. Implementations are
// thread-safe: the I/O threads ask during their joins.
class RoomEventSource
{
public:
    virtual ~RoomEventSource() = default;

    // The room's events with ids in (since, upTo] within maxBytes (counted as
    // MessageLog::recordBytes does; 0 or less: no byte budget), and its latest id up to upTo.
    // Without `since` only lastId is read.
    virtual RoomEvents roomEvents(const QString &room, std::optional<quint64> since, quint64 upTo,
                                  qint64 maxBytes) const = 0;
};

} // namespace sb
