#include "store/RoomHistory.h"

namespace sb {

RoomHistory::RoomHistory(qint64 historyPerRoom) : m_perRoom(historyPerRoom) { }

RoomHistory::~RoomHistory() = default;

void RoomHistory::continueAfter(quint64 id)
{
    m_lastId = qMax(m_lastId, id);
    m_forgottenUpTo = qMax(m_forgottenUpTo, id);
}

bool RoomHistory::pinned(const History &h, quint64 eventId)
{
    for (quint64 pin : h.pins) {
        if (eventId > pin)
            return true;
    }
    return false;
}

void RoomHistory::append(const QString &room, quint64 id, const QByteArray &wire)
{
    auto record = m_history.find(room);
    if (record == m_history.end()) {
        // Events of this room up to m_forgottenUpTo, if any, are not in memory.
        record = m_history.insert(room, History{});
        record->droppedUpTo = m_forgottenUpTo;
    }
    History &h = *record;
    h.lastId = id;
    h.events.emplace_back(id, wire);
    m_bytes += wire.size();
    m_order.emplace_back(room, id);
    while (qint64(h.events.size()) > m_perRoom && !pinned(h, h.events.front().first)) {
        h.droppedUpTo = h.events.front().first;
        m_bytes -= h.events.front().second.size();
        h.events.pop_front();
    }
    evict();
}

HistoryRead RoomHistory::read(const QString &room, const HistoryQuery &query)
{
    HistoryRead out;
    const std::optional<quint64> since = query.since;
    // Memory holds every event of the room above `held`. What lies below comes from the log:
    // the events since `since`, and for a room memory has no record of, its latest id.
    const auto h = m_history.find(room);
    const quint64 held = h != m_history.end() ? h->droppedUpTo : m_forgottenUpTo;
    if (query.mayAskLog && query.logCoveredUpTo < held
        && ((since && *since < held) || h == m_history.end())) {
        // Up to the room's newest event: memory then only has to supply what comes after the
        // log query, which it still holds unless history_per_room events arrive meanwhile.
        // The room's events after that id stay in memory until the reader reads again, so
        // that the log and memory meet however fast the room's events come.
        // At least up to `held`: a record seeded from the log after a restart has a lastId
        // below the mark of what memory lost (droppedUpTo), and a query that stops below it
        // would be asked again and again.
        out.needLog = true;
        out.needLogUpTo = held;
        if (h != m_history.end()) {
            out.needLogUpTo = qMax(h->lastId, held);
            h->pins.append(out.needLogUpTo);
        }
        return out;
    }
    if (h != m_history.end()) {
        out.lastId = h->lastId;
        if (query.wantEvents)
            readEvents(*h, query, out);
    } else if (since && *since < m_forgottenUpTo && query.logCoveredUpTo < m_forgottenUpTo) {
        // The room's history record itself was dropped: events may have been missed.
        out.complete = false;
    }
    // Ids this server never gave: the client saw another log (or one since wiped).
    if (since && *since > m_lastId)
        out.complete = false;
    return out;
}

void RoomHistory::readEvents(const History &h, const HistoryQuery &query, HistoryRead &out) const
{
    const std::optional<quint64> since = query.since;
    if (!since || *since >= h.lastId)
        return;
    out.complete = *since >= h.droppedUpTo || query.logCoveredUpTo >= h.droppedUpTo;
    const quint64 after = qMax(*since, query.logCoveredUpTo);
    qint64 bytes = 0;
    for (const auto &[eventId, wire] : h.events) {
        if (eventId <= after)
            continue;
        bytes += wire.size();
        if (bytes > query.maxBytes) {
            out.events.clear();
            out.complete = false;
            out.tooLarge = true;
            break;
        }
        out.events.append(wire);
    }
}

void RoomHistory::release(const QString &room, quint64 needLogUpTo)
{
    auto h = m_history.find(room);
    if (h != m_history.end())
        h->pins.removeOne(needLogUpTo);
}

void RoomHistory::seedRoom(const QString &room, quint64 lastIdInLog)
{
    if (m_history.contains(room))
        return;
    History &h = m_history[room];
    h.lastId = lastIdInLog;
    h.droppedUpTo = m_forgottenUpTo;
    // On the eviction order like an event (id 0: no event of its own), so that a record made
    // by a join is forgotten in turn too.
    m_order.emplace_back(room, 0);
    evict();
}

// The budgets over all rooms (bytes, rooms with a record, length of the order list): the
// oldest entries of the order go first, whatever their room, each step O(1), so an emit costs
// the same with a million rooms as with one (a scan of every room per emit made 4,400 emits/s
// fall to 389/s past 100,000 rooms). Entries whose event already went (per-room limit) are
// skipped lazily. A room whose record holds no event any more, that no read holds and nobody
// is present in, is forgotten when the rooms are over their budget: a read of it with `since`
// then goes to the message log.
void RoomHistory::evict()
{
    while (!m_order.empty()
           && (m_bytes > kMaxBytes || m_order.size() > 4 * size_t(kMaxRooms)
               || qsizetype(m_history.size()) > kMaxRooms)) {
        const auto [oldRoom, oldId] = m_order.front();
        auto old = m_history.find(oldRoom);
        // A join is reading the log up to just before this event: the budget waits for it
        // (milliseconds) rather than lose track of the event.
        if (old != m_history.end() && pinned(*old, oldId))
            break;
        m_order.pop_front();
        if (old == m_history.end())
            continue;
        if (oldId != 0 && !old->events.empty() && old->events.front().first == oldId) {
            old->droppedUpTo = oldId;
            m_bytes -= old->events.front().second.size();
            old->events.pop_front();
        }
        if (qsizetype(m_history.size()) > kMaxRooms && old->events.empty() && old->pins.isEmpty()
            && !m_presence.contains(oldRoom)) {
            m_forgottenUpTo = qMax(m_forgottenUpTo, old->lastId);
            m_history.erase(old);
        }
    }
    trimStaleOrder();
}

// Entries whose event the per-room limit already dropped hold memory for nothing (about 100
// bytes each, up to 4 x kMaxRooms of them): drop them from the front as they surface, so that
// a few busy rooms do not keep hundreds of thousands of them.
void RoomHistory::trimStaleOrder()
{
    while (!m_order.empty()) {
        const auto &[room, id] = m_order.front();
        if (id == 0)
            break;
        const auto h = m_history.constFind(room);
        const bool stale =
                h == m_history.constEnd() || h->events.empty() || h->events.front().first > id;
        if (!stale)
            break;
        m_order.pop_front();
    }
}

void RoomHistory::addPresence(const QString &room, const QString &user, const QString &session)
{
    ++m_presence[room][qMakePair(user, session)];
}

void RoomHistory::removePresence(const QString &room, const QString &user, const QString &session)
{
    auto r = m_presence.find(room);
    if (r == m_presence.end())
        return;
    auto entry = r->find(qMakePair(user, session));
    if (entry == r->end())
        return;
    if (--*entry <= 0)
        r->erase(entry);
    if (r->isEmpty())
        m_presence.erase(r);
}

QList<QPair<QString, QString>> RoomHistory::presence(const QString &room) const
{
    const auto r = m_presence.constFind(room);
    return r == m_presence.constEnd() ? QList<QPair<QString, QString>>() : r->keys();
}

} // namespace sb
