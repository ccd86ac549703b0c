#pragma once

#include "redis/RedisUrl.h"
#include "store/RoomEvents.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace sb {

class RedisSyncClient;

// Where a join's older events come from in a cluster (docs/ARCHITECTURE.md, "How recovery
// flows"): the room's history in Redis (sb:h:<room>, the last history_per_room events, each
// with the id of the room's event before it), and the message log below it for what Redis no
// longer holds. Each calling thread asks Redis through a blocking connection of its own
// (RedisSyncClient); a Redis that cannot be reached leaves the answer to the log.
// Thread-safe.
class ClusterHistory final : public RoomEventSource
{
public:
    // Entries one XRANGE reads; a longer range is read in pages.
    static constexpr int kPageSize = 1000;
    // Most events one join replays from Redis; a longer gap answers complete false (as
    // MessageLog::kMaxLogReplay for the log).
    static constexpr int kMaxReplay = 10'000;

    // log: the node's message log (null: off). historyPerRoom: what Redis keeps of a room.
    ClusterHistory(RedisUrl redis, const RoomEventSource *log, qint64 historyPerRoom = 1000);
    ~ClusterHistory() override;

    // RoomEvents of (since, upTo] from Redis, the part Redis lacks (the stream was trimmed,
    // or expired) from the log first; complete false when neither has the whole gap, when
    // it passes maxBytes (counted as MessageLog::recordBytes does) or kMaxReplay. Without
    // `since`, only the room's latest id up to upTo. Redis unreachable: the log's answer
    // (none: complete and lastIdKnown false).
    RoomEvents roomEvents(const QString &room, std::optional<quint64> since, quint64 upTo,
                          qint64 maxBytes) const override;

private:
    struct Entry;
    struct Read;
    RedisSyncClient &client() const;
    RoomEvents withoutRedis(const QString &room, std::optional<quint64> since, quint64 upTo,
                            qint64 maxBytes, const QString &why) const;
    RoomEvents streamGone(const QString &room, std::optional<quint64> since, quint64 upTo,
                          qint64 maxBytes) const;
    Read readAfter(RedisSyncClient &redis, const QString &room, quint64 since, quint64 upTo,
                   qint64 maxBytes) const;
    RoomEvents withGap(const QString &room, quint64 since, Read read, qint64 maxBytes) const;

    const RedisUrl m_url;
    const RoomEventSource *m_log;
    const qint64 m_historyPerRoom;
    const quint64 m_serial; // tells this instance's thread-local connections from another's
};

} // namespace sb
