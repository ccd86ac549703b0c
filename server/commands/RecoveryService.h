#pragma once

#include "hub/Hub.h"

#include <optional>

namespace sb {

class MessageLog;
struct TokenClaims;

// A join with recovery (docs/API.md, "Recovery and history"): the events a page missed since `since`
// come from memory first and, where memory falls short (an old `since`, a room not seen since
// a restart), from the message log, joined under the hub lock so that no event is missed or
// sent twice while emits race the join. The WebSocket side calls it; a Redis-backed history
// will sit behind the same call. Thread-safe.
class RecoveryService
{
public:
    // log: null when the message log is off. replayBudget: the bytes one join may replay
    // (max_queue_bytes); a longer replay is none at all, with recovered: false.
    RecoveryService(Hub *hub, MessageLog *log, qint64 replayBudget)
        : m_hub(hub), m_log(log), m_replayBudget(replayBudget)
    { }

    struct Outcome
    {
        JoinResult::Status status = JoinResult::Status::Gone;
        quint64 lastId = 0;
        bool recovered = true;
        QList<QByteArray> replay; // wire frames, oldest first (empty when over the budget)
        qsizetype fromLog = 0;    // how many of them came from the log
    };
    Outcome join(ConnId id, const TokenClaims &claims, std::optional<quint64> since) const;

    // Past this many log reads (memory drops events faster than the log is read) the join
    // takes what memory has, and the gap makes it recovered: false.
    static constexpr int kMaxLogAttempts = 8;

private:
    Hub *m_hub;
    MessageLog *m_log;
    qint64 m_replayBudget;
};

} // namespace sb
