#include "commands/RecoveryService.h"

#include "auth/TokenService.h"
#include "store/RoomEvents.h"

namespace sb {

RecoveryService::Outcome RecoveryService::join(ConnId id, const TokenClaims &claims,
                                               std::optional<quint64> since) const
{
    JoinResult joined;
    bool lastIdUnknown = false; // the log could not say the room's latest id
    QList<QByteArray> fromLog;
    qint64 logBytes = 0;
    bool logComplete = true;
    quint64 covered = 0;
    for (int attempt = 0;; ++attempt) {
        const bool noMoreLog = !m_older || attempt > kMaxLogAttempts;
        joined = m_hub->join(id, claims, since, covered, noMoreLog);
        if (joined.status != JoinResult::Status::NeedLog)
            break;
        const quint64 upTo = joined.needLogUpTo;
        if (!m_older || attempt == kMaxLogAttempts) {
            logComplete = false;
            covered = upTo; // releases the pin of this answer in the next call
            continue;
        }
        // The first query reads from since, the next ones only what memory dropped meanwhile.
        const std::optional<quint64> from = attempt == 0 ? since : std::optional<quint64>(covered);
        // Within the connection's queue limit: a longer replay would only get it closed.
        const RoomEvents history = m_older->roomEvents(claims.room, from, upTo,
                                                       qMax<qint64>(1, m_replayBudget - logBytes));
        // Only what the log really said: a room seeded with 0 while the log is away would
        // answer last_id 0 to every later join (found by bench/soak.sh).
        if (attempt == 0 && history.lastIdKnown)
            m_hub->seedRoom(claims.room, history.lastId);
        lastIdUnknown = lastIdUnknown || !history.lastIdKnown;
        logComplete = logComplete && history.complete;
        for (const MessageRecord &r : history.records) {
            fromLog.append(Hub::eventWire(r.id, r.event, &claims.room, r.data, r.ts));
            logBytes += fromLog.last().size();
        }
        covered = upTo;
    }
    Outcome out;
    out.status = joined.status;
    if (joined.status != JoinResult::Status::Joined)
        return out;
    qint64 replayBytes = logBytes;
    for (const QByteArray &wire : joined.replay)
        replayBytes += wire.size();
    // The log and memory together within the budget, or nothing: a partial replay with
    // recovered: false would be of no use to the page, which reloads its data.
    const bool tooLarge = replayBytes > m_replayBudget || joined.replayTooLarge;
    out.recovered = joined.recovered && logComplete && !tooLarge;
    // The room's latest id is unknown (the log is away): the highest id given so far bounds
    // it. The page reloads its data now (recovered: false) and, joining with this as `since`
    // next time, misses nothing that comes after.
    out.lastId = lastIdUnknown && joined.lastId == 0 ? m_hub->lastId() : joined.lastId;
    if (!tooLarge) {
        out.fromLog = fromLog.size();
        out.replay = std::move(fromLog);
        out.replay.append(joined.replay);
    }
    return out;
}

} // namespace sb
