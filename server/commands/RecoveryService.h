#pragma once

#include "hub/Hub.h"

#include <optional>

namespace sb {

class RoomEventSource;
struct TokenClaims;

// A join with recovery (docs/API.md, "Recovery and history"): the events a page missed since
// `since` come from memory first and, where memory falls short (an old `since`, a room not seen
// since a restart), from the older events' source (RoomEventSource: the message log on one node,
// Redis and then the log in a cluster), joined under the hub lock so that no event is missed
// or sent twice while emits race the join. The WebSocket side calls it. Thread-safe.
class RecoveryService
{
public:
    // older: where events memory no longer holds come from; null: none (the message log is
    // off on a single node). replayBudget: the bytes one join may replay (max_queue_bytes); a
    // longer replay is none at all, with recovered: false.
    RecoveryService(Hub *hub, const RoomEventSource *older, qint64 replayBudget)
        : m_hub(hub), m_older(older), m_replayBudget(replayBudget)
    { }

    struct Outcome
    {
        JoinResult::Status status = JoinResult::Status::Gone;
        quint64 lastId = 0;
        bool recovered = true;
        QList<QByteArray> replay; // wire frames, oldest first (empty when over the budget)
        qsizetype fromLog = 0;    // how many of them came from the older events' source
    };
    Outcome join(ConnId id, const TokenClaims &claims, std::optional<quint64> since) const;

    // Past this many log reads (memory drops events faster than the log is read) the join
    // takes what memory has, and the gap makes it recovered: false.
    static constexpr int kMaxLogAttempts = 8;

private:
    Hub *m_hub;
    const RoomEventSource *m_older;
    qint64 m_replayBudget;
};

} // namespace sb
