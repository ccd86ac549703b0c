#include "hub/Hub.h"

#include "auth/RevocationList.h"
#include "base/Logging.h"
#include "base/RawJson.h"
#include "base/WsFrame.h"

#include <QDateTime>

namespace sb {

QByteArray Hub::eventWire(quint64 id, const QString &event, const QString *room,
                          const QByteArray &data, qint64 ts)
{
    QByteArray json;
    json.reserve(data.size() + event.size() + (room ? room->size() : 0) + 80);
    json.append(R"({"type":"event","id":)").append(QByteArray::number(id));
    json.append(R"(,"event":)").append(rawjson::quote(event));
    if (room)
        json.append(R"(,"room":)").append(rawjson::quote(*room));
    json.append(R"(,"data":)").append(data.isEmpty() ? QByteArrayLiteral("null") : data);
    json.append(R"(,"ts":)").append(QByteArray::number(ts)).append('}');
    return wsframe::text(json);
}

Hub::Hub(qint64 historyPerRoom, const RevocationList *revocations)
    : m_historyPerRoom(historyPerRoom), m_revocations(revocations)
{ }

Hub::~Hub() = default;

void Hub::setSinks(QList<DeliverySink *> sinks)
{
    QMutexLocker lock(&m_mutex);
    m_sinks = std::move(sinks);
    const size_t n = size_t(m_sinks.size());
    m_joinedByShard.assign(n, {});
    m_legacyByShard.assign(n, {});
}

template<typename OnMoved>
void Hub::swapRemove(QList<ConnId> &list, qsizetype pos, OnMoved onMoved)
{
    Q_ASSERT(pos >= 0 && pos < list.size());
    const qsizetype last = list.size() - 1;
    if (pos != last) {
        const ConnId moved = list.at(last);
        list[pos] = moved;
        onMoved(moved, pos);
    }
    list.removeLast();
}

ConnId Hub::openConnection(int shard, ConnectionKind kind, const QString &remote,
                           const QString &origin, std::shared_ptr<ConnectionCounters> counters)
{
    QMutexLocker lock(&m_mutex);
    const ConnId id = m_nextConnId++;
    Conn &c = m_conns[id];
    c.shard = shard;
    c.kind = kind;
    c.remote = remote;
    c.origin = origin;
    c.sinceMs = QDateTime::currentMSecsSinceEpoch();
    c.counters = std::move(counters);
    if (kind == ConnectionKind::Legacy) {
        c.legacyPos = m_legacyByShard[size_t(shard)].size();
        m_legacyByShard[size_t(shard)].append(id);
        ++m_legacyCount;
    } else {
        ++m_nativeCount;
        if (m_eventObserver) {
            HubEvent e;
            e.kind = HubEvent::Kind::Opened;
            e.connection = id;
            e.snapshot = snapshotLocked(id, c);
            m_eventObserver(e);
        }
    }
    m_openCount.fetch_add(1, std::memory_order_relaxed);
    return id;
}

QStringList Hub::closeConnection(ConnId id, int code)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_conns.find(id);
    if (it == m_conns.end())
        return {};
    Conn &c = *it;
    const QStringList rooms = c.rooms;
    for (const QString &room : rooms)
        removeMembershipLocked(id, c, room);
    if (m_eventObserver && c.kind == ConnectionKind::Native) {
        HubEvent e;
        e.kind = HubEvent::Kind::Closed;
        e.connection = id;
        e.code = code;
        m_eventObserver(e);
    }
    const size_t shard = size_t(c.shard);
    if (c.kind == ConnectionKind::Legacy) {
        swapRemove(m_legacyByShard[shard], c.legacyPos,
                   [this](ConnId moved, qsizetype pos) { m_conns[moved].legacyPos = pos; });
        --m_legacyCount;
    } else {
        --m_nativeCount;
    }
    m_conns.erase(it);
    m_openCount.fetch_sub(1, std::memory_order_relaxed);
    return rooms;
}

void Hub::setJoinedLocked(ConnId id, Conn &conn, bool joined)
{
    // A connection is "joined" (reached by emit/user and emit/all, counted in users) while
    // it is in at least one room.
    QList<ConnId> &joinedList = m_joinedByShard[size_t(conn.shard)];
    if (joined) {
        conn.joinedPos = joinedList.size();
        joinedList.append(id);
        QList<ConnId> &userList = m_users[conn.user];
        conn.userPos = userList.size();
        userList.append(id);
        return;
    }
    swapRemove(joinedList, conn.joinedPos,
               [this](ConnId moved, qsizetype pos) { m_conns[moved].joinedPos = pos; });
    conn.joinedPos = -1;
    auto u = m_users.find(conn.user);
    if (u != m_users.end()) {
        swapRemove(*u, conn.userPos,
                   [this](ConnId moved, qsizetype pos) { m_conns[moved].userPos = pos; });
        if (u->isEmpty())
            m_users.erase(u);
    }
    conn.userPos = -1;
}

void Hub::removeMembershipLocked(ConnId id, Conn &conn, const QString &room)
{
    if (!conn.rooms.removeOne(room))
        return;
    if (conn.rooms.isEmpty())
        setJoinedLocked(id, conn, false);
    auto r = m_rooms.find(room);
    if (r == m_rooms.end())
        return;
    const auto member = r->members.constFind(id);
    if (member != r->members.constEnd()) {
        Room &entry = *r;
        swapRemove(entry.byShard[size_t(conn.shard)], member->pos,
                   [&entry](ConnId moved, qsizetype pos) { entry.members[moved].pos = pos; });
        entry.members.erase(member);
    }
    if (r->members.isEmpty())
        m_rooms.erase(r);
    if (m_eventObserver) {
        HubEvent e;
        e.kind = HubEvent::Kind::Left;
        e.connection = id;
        e.room = room;
        m_eventObserver(e);
    }
}

JoinResult Hub::join(ConnId id, const TokenClaims &claims, std::optional<quint64> since,
                     quint64 logCoveredUpTo, bool noMoreLog)
{
    JoinResult result;
    QMutexLocker lock(&m_mutex);
    if (logCoveredUpTo > 0) { // the pin of the NeedLog answer before this call
        auto pinned = m_history.find(claims.room);
        if (pinned != m_history.end())
            pinned->pins.removeOne(logCoveredUpTo);
    }
    auto it = m_conns.find(id);
    if (it == m_conns.end())
        return result;
    Conn &c = *it;
    if (!c.user.isNull() && c.user != claims.user) {
        result.status = JoinResult::Status::Forbidden;
        return result;
    }
    // Checked again under the hub lock: an unregister between the token check and here
    // must not let the connection in (RestApi records the revocation before Hub::revoke).
    if (m_revocations) {
        const qint64 revokedAt = m_revocations->revokedAt(claims.room, claims.user, claims.session);
        if (revokedAt > 0 && claims.issuedAt <= revokedAt) {
            result.status = JoinResult::Status::Revoked;
            return result;
        }
    }
    // Memory holds every event of the room above `held`. What lies below comes from the log:
    // the events since `since`, and for a room memory has no record of, its latest id.
    const auto h = m_history.find(claims.room);
    const quint64 held = h != m_history.end() ? h->droppedUpTo : m_forgottenUpTo;
    const auto existing = m_rooms.constFind(claims.room);
    const bool wasMember = existing != m_rooms.constEnd() && existing->members.contains(id);
    if (m_logBacked && !noMoreLog && !wasMember && logCoveredUpTo < held
        && ((since && *since < held) || h == m_history.end())) {
        // Up to the room's newest event: memory then only has to supply what comes after the
        // log query, which it still holds unless history_per_room events arrive meanwhile.
        // The room's events after that id stay in memory until the caller joins again, so
        // that the log and memory meet however fast the room's events come.
        // At least up to `held`: a record seeded from the log after a restart has a lastId
        // below the mark of what memory lost (droppedUpTo), and a query that stops below it
        // would be asked again and again.
        result.status = JoinResult::Status::NeedLog;
        result.needLogUpTo = held;
        if (h != m_history.end()) {
            result.needLogUpTo = qMax(h->lastId, held);
            h->pins.append(result.needLogUpTo);
        }
        return result;
    }
    if (c.user.isNull()) {
        c.user = claims.user;
        c.session = claims.session;
    }
    Room &room = m_rooms[claims.room];
    if (room.byShard.empty())
        room.byShard.resize(size_t(m_sinks.size()));
    auto member = room.members.find(id);
    const bool alreadyMember = member != room.members.end();
    if (!alreadyMember) {
        QList<ConnId> &list = room.byShard[size_t(c.shard)];
        room.members.insert(id,
                            Membership{claims.user, claims.session,
                                       QDateTime::currentMSecsSinceEpoch(), list.size(),
                                       claims.publish});
        list.append(id);
        if (c.rooms.isEmpty())
            setJoinedLocked(id, c, true);
        c.rooms.append(claims.room);
        if (m_eventObserver) {
            HubEvent e;
            e.kind = HubEvent::Kind::Joined;
            e.connection = id;
            e.room = claims.room;
            e.user = claims.user;
            e.session = claims.session;
            m_eventObserver(e);
        }
    } else {
        member->publish = claims.publish;
        member->session = claims.session;
    }

    result.status = JoinResult::Status::Joined;
    if (h != m_history.end()) {
        result.lastId = h->lastId;
        // A member already receives every event live: replaying would duplicate those still
        // on their way.
        if (since && *since < h->lastId && !alreadyMember) {
            result.recovered = *since >= h->droppedUpTo || logCoveredUpTo >= h->droppedUpTo;
            const quint64 after = qMax(*since, logCoveredUpTo);
            qint64 bytes = 0;
            for (const auto &[eventId, wire] : h->events) {
                if (eventId <= after)
                    continue;
                bytes += wire.size();
                if (bytes > m_replayBudget) {
                    result.replay.clear();
                    result.recovered = false;
                    result.replayTooLarge = true;
                    break;
                }
                result.replay.append(wire);
            }
        }
    } else if (since && *since < m_forgottenUpTo && logCoveredUpTo < m_forgottenUpTo) {
        // The room's history record itself was dropped: events may have been missed.
        result.recovered = false;
    }
    // Ids this server never gave: the client saw another log (or one since wiped).
    if (since && *since > m_lastId)
        result.recovered = false;
    return result;
}

bool Hub::pinnedLocked(const History &h, quint64 eventId)
{
    for (quint64 pin : h.pins) {
        if (eventId > pin)
            return true;
    }
    return false;
}

void Hub::seedRoom(const QString &room, quint64 lastIdInLog)
{
    QMutexLocker lock(&m_mutex);
    if (m_history.contains(room))
        return;
    History &h = m_history[room];
    h.lastId = lastIdInLog;
    h.droppedUpTo = m_forgottenUpTo;
    // On the eviction order like an event (id 0: no event of its own), so that a record made
    // by a join is forgotten in turn too.
    m_historyOrder.emplace_back(room, 0);
    evictHistoryLocked();
}

void Hub::setLogBacked(bool backed)
{
    QMutexLocker lock(&m_mutex);
    m_logBacked = backed;
}

void Hub::setReplayBudget(qint64 bytes)
{
    QMutexLocker lock(&m_mutex);
    m_replayBudget = bytes;
}

qsizetype Hub::historyRooms() const
{
    QMutexLocker lock(&m_mutex);
    return m_history.size();
}

bool Hub::leave(ConnId id, const QString &room)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_conns.find(id);
    if (it == m_conns.end() || !it->rooms.contains(room))
        return false;
    removeMembershipLocked(id, *it, room);
    return true;
}

std::optional<QList<QPair<QString, QString>>> Hub::presence(ConnId id, const QString &room) const
{
    QMutexLocker lock(&m_mutex);
    const auto r = m_rooms.constFind(room);
    if (r == m_rooms.constEnd() || !r->members.contains(id))
        return std::nullopt;
    QList<QPair<QString, QString>> out;
    QSet<QPair<QString, QString>> seen;
    for (const Membership &m : r->members) {
        QPair<QString, QString> pair{m.user, m.session};
        if (!seen.contains(pair)) {
            seen.insert(pair);
            out.append(pair);
        }
    }
    return out;
}

bool Hub::mayPublish(ConnId id, const QString &room) const
{
    QMutexLocker lock(&m_mutex);
    const auto r = m_rooms.constFind(room);
    if (r == m_rooms.constEnd())
        return false;
    const auto m = r->members.constFind(id);
    return m != r->members.constEnd() && m->publish;
}

bool Hub::sinksHaveRoomLocked(const std::vector<qint64> &writesPerShard) const
{
    for (size_t s = 0; s < writesPerShard.size(); ++s) {
        if (writesPerShard[s] > 0 && !m_sinks[qsizetype(s)]->hasRoomFor(writesPerShard[s]))
            return false;
    }
    return true;
}

void Hub::recordHistoryLocked(const QString &room, quint64 id, const QByteArray &wire)
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
    m_historyBytes += wire.size();
    m_historyOrder.emplace_back(room, id);
    while (qint64(h.events.size()) > m_historyPerRoom && !pinnedLocked(h, h.events.front().first)) {
        h.droppedUpTo = h.events.front().first;
        m_historyBytes -= h.events.front().second.size();
        h.events.pop_front();
    }
    evictHistoryLocked();
}

// The budgets over all rooms (bytes, rooms with a record, length of the order list): the
// oldest entries of the order go first, whatever their room, each step O(1), so an emit costs
// the same with a million rooms as with one (a scan of every room per emit made 4,400 emits/s
// fall to 389/s past 100,000 rooms). Entries whose event already went (per-room limit) are
// skipped lazily. A room whose record holds no event any more, that no join reads and no
// connection is in, is forgotten when the rooms are over their budget: a join of it with
// `since` then goes to the message log.
void Hub::evictHistoryLocked()
{
    while (!m_historyOrder.empty()
           && (m_historyBytes > kHistoryMaxBytes
               || m_historyOrder.size() > 4 * size_t(kHistoryMaxRooms)
               || qsizetype(m_history.size()) > kHistoryMaxRooms)) {
        const auto [oldRoom, oldId] = m_historyOrder.front();
        auto old = m_history.find(oldRoom);
        // A join is reading the log up to just before this event: the budget waits for it
        // (milliseconds) rather than lose track of the event.
        if (old != m_history.end() && pinnedLocked(*old, oldId))
            break;
        m_historyOrder.pop_front();
        if (old == m_history.end())
            continue;
        if (oldId != 0 && !old->events.empty() && old->events.front().first == oldId) {
            old->droppedUpTo = oldId;
            m_historyBytes -= old->events.front().second.size();
            old->events.pop_front();
        }
        if (qsizetype(m_history.size()) > kHistoryMaxRooms && old->events.empty()
            && old->pins.isEmpty() && !m_rooms.contains(oldRoom)) {
            m_forgottenUpTo = qMax(m_forgottenUpTo, old->lastId);
            m_history.erase(old);
        }
    } // Entries whose event the per-room limit already dropped hold memory for nothing (about
    // 100 bytes each, up to 4 x kHistoryMaxRooms of them): drop them from the front as they
    // surface, so that a few busy rooms do not keep hundreds of thousands of them.
    while (!m_historyOrder.empty()) {
        const auto &[room, id] = m_historyOrder.front();
        if (id == 0)
            break;
        const auto h = m_history.constFind(room);
        const bool stale =
                h == m_history.constEnd() || h->events.empty() || h->events.front().first > id;
        if (!stale)
            break;
        m_historyOrder.pop_front();
    }
}

EmitResult Hub::publish(const EmitRequest &request)
{
    EmitResult result;
    const size_t shards = size_t(m_sinks.size());
    std::vector<QList<ConnId>> targets(shards);
    std::vector<QList<ConnId>> legacyTargets(shards);
    std::vector<qint64> writes(shards, 0);

    QMutexLocker lock(&m_mutex);
    if (request.eventFrame) {
        switch (request.target) {
        case EmitTarget::Room:
            if (const auto r = m_rooms.constFind(request.to); r != m_rooms.constEnd()) {
                for (size_t s = 0; s < shards; ++s)
                    targets[s] = r->byShard[s];
            }
            break;
        case EmitTarget::User:
            if (const auto u = m_users.constFind(request.to); u != m_users.constEnd()) {
                for (ConnId id : *u) {
                    if (const auto c = m_conns.constFind(id); c != m_conns.constEnd())
                        targets[size_t(c->shard)].append(id);
                }
            }
            break;
        case EmitTarget::All:
            for (size_t s = 0; s < shards; ++s)
                targets[s] = m_joinedByShard[s];
            break;
        case EmitTarget::Connection:
            if (const auto c = m_conns.constFind(parseConnectionId(request.to));
                c != m_conns.constEnd() && c->kind == ConnectionKind::Native)
                targets[size_t(c->shard)].append(c.key());
            break;
        case EmitTarget::Legacy:
            break;
        }
    }
    if (!request.legacyText.isNull()) {
        for (size_t s = 0; s < shards; ++s)
            legacyTargets[s] = m_legacyByShard[s];
    }
    for (size_t s = 0; s < shards; ++s) {
        qint64 n = targets[s].size();
        if (request.exclude && targets[s].contains(request.exclude))
            --n;
        result.delivered += n;
        result.legacyDelivered += legacyTargets[s].size();
        writes[s] = targets[s].size() + legacyTargets[s].size();
    }
    if (!sinksHaveRoomLocked(writes) || (m_gate && !m_gate())) {
        result.accepted = false;
        result.delivered = result.legacyDelivered = 0;
        return result;
    }

    result.id = ++m_lastId;
    const qint64 ts = QDateTime::currentMSecsSinceEpoch();
    // The record goes to the log before any client can see the event: a page that reads
    // GET /api/log the moment the event arrives finds it there.
    if (m_observer) {
        MessageRecord record;
        record.id = result.id;
        record.ts = ts;
        record.source = request.source;
        record.target = request.eventFrame ? request.target : EmitTarget::Legacy;
        if (record.target != EmitTarget::All && record.target != EmitTarget::Legacy)
            record.to = request.to;
        record.event = request.event;
        record.data = request.data;
        record.delivered = request.eventFrame ? result.delivered : result.legacyDelivered;
        record.remote = request.remote;
        m_observer(record);
    }
    if (request.eventFrame) {
        const QByteArray wire = eventWire(
                result.id, request.event,
                request.target == EmitTarget::Room ? &request.to : nullptr, request.data, ts);
        if (request.target == EmitTarget::Room)
            recordHistoryLocked(request.to, result.id, wire);
        for (size_t s = 0; s < shards; ++s) {
            if (!targets[s].isEmpty())
                m_sinks[qsizetype(s)]->enqueue(
                        Delivery{wire, std::move(targets[s]), request.exclude});
        }
    }
    if (!request.legacyText.isNull()) {
        const QByteArray wire = wsframe::text(request.legacyText);
        for (size_t s = 0; s < shards; ++s) {
            if (!legacyTargets[s].isEmpty())
                m_sinks[qsizetype(s)]->enqueue(Delivery{wire, std::move(legacyTargets[s])});
        }
    }
    m_messagesIn[size_t(request.source)].fetch_add(1, std::memory_order_relaxed);
    m_messagesOut.fetch_add(quint64(result.delivered), std::memory_order_relaxed);
    return result;
}

qint64 Hub::revoke(const QString &room, const QString &user, const QString &session)
{
    QMutexLocker lock(&m_mutex);
    auto r = m_rooms.find(room);
    if (r == m_rooms.end())
        return 0;
    QList<ConnId> affected;
    for (auto m = r->members.cbegin(); m != r->members.cend(); ++m) {
        if (m->user == user && m->session == session)
            affected.append(m.key());
    }
    if (affected.isEmpty())
        return 0;
    const QByteArray json = QByteArrayLiteral(R"({"type":"left","room":)") + rawjson::quote(room)
            + QByteArrayLiteral(R"(,"reason":"revoked"})");
    const QByteArray wire = wsframe::text(json);
    std::vector<QList<ConnId>> byShard(size_t(m_sinks.size()));
    for (ConnId id : affected) {
        Conn &c = m_conns[id];
        byShard[size_t(c.shard)].append(id);
        removeMembershipLocked(id, c, room);
    }
    for (size_t s = 0; s < byShard.size(); ++s) {
        if (!byShard[s].isEmpty()) {
            Delivery d{wire, std::move(byShard[s])};
            d.countsAsSent = false;
            m_sinks[qsizetype(s)]->enqueue(std::move(d));
        }
    }
    return affected.size();
}

bool Hub::closeConnectionWithCode(ConnId id, quint16 code)
{
    QMutexLocker lock(&m_mutex);
    const auto c = m_conns.constFind(id);
    if (c == m_conns.constEnd() || c->kind != ConnectionKind::Native)
        return false;
    Delivery d{QByteArray(), {id}};
    d.closeCode = code;
    d.countsAsSent = false;
    m_sinks[c->shard]->enqueue(std::move(d));
    return true;
}

bool Hub::sendRaw(ConnId id, const QByteArray &utf8Text)
{
    QMutexLocker lock(&m_mutex);
    const auto c = m_conns.constFind(id);
    if (c == m_conns.constEnd() || c->kind != ConnectionKind::Native)
        return false;
    Delivery d{wsframe::text(utf8Text), {id}};
    d.countsAsSent = false;
    m_sinks[c->shard]->enqueue(std::move(d));
    return true;
}

ConnectionSnapshot Hub::snapshotLocked(ConnId id, const Conn &c) const
{
    ConnectionSnapshot s;
    s.id = id;
    s.kind = c.kind;
    s.user = c.user;
    s.session = c.session;
    s.rooms = c.rooms;
    s.rooms.sort();
    s.remote = c.remote;
    s.origin = c.origin;
    s.sinceMs = c.sinceMs;
    if (c.counters) {
        s.sent = c.counters->sent.load(std::memory_order_relaxed);
        s.received = c.counters->received.load(std::memory_order_relaxed);
    }
    return s;
}

QList<ConnectionSnapshot> Hub::connections(const QString &room, const QString &user) const
{
    QList<ConnectionSnapshot> out;
    QMutexLocker lock(&m_mutex);
    for (auto it = m_conns.cbegin(); it != m_conns.cend(); ++it) {
        if (it->kind != ConnectionKind::Native)
            continue;
        if (!room.isNull() && !it->rooms.contains(room))
            continue;
        if (!user.isNull() && it->user != user)
            continue;
        out.append(snapshotLocked(it.key(), *it));
    }
    lock.unlock();
    std::sort(out.begin(), out.end(),
              [](const ConnectionSnapshot &a, const ConnectionSnapshot &b) { return a.id < b.id; });
    return out;
}

std::optional<ConnectionSnapshot> Hub::connection(ConnId id) const
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_conns.constFind(id);
    if (it == m_conns.constEnd() || it->kind != ConnectionKind::Native)
        return std::nullopt;
    return snapshotLocked(id, *it);
}

QList<RoomSummary> Hub::rooms() const
{
    QList<RoomSummary> out;
    QMutexLocker lock(&m_mutex);
    out.reserve(m_rooms.size());
    for (auto it = m_rooms.cbegin(); it != m_rooms.cend(); ++it) {
        QSet<QString> users;
        for (const Membership &m : it->members)
            users.insert(m.user);
        out.append(RoomSummary{it.key(), it->members.size(), users.size()});
    }
    lock.unlock();
    std::sort(out.begin(), out.end(),
              [](const RoomSummary &a, const RoomSummary &b) { return a.room < b.room; });
    return out;
}

QList<RoomMember> Hub::roomMembers(const QString &room) const
{
    QList<RoomMember> out;
    QMutexLocker lock(&m_mutex);
    const auto r = m_rooms.constFind(room);
    if (r == m_rooms.constEnd())
        return out;
    for (auto m = r->members.cbegin(); m != r->members.cend(); ++m)
        out.append(RoomMember{m.key(), m->user, m->session, m->sinceMs});
    lock.unlock();
    std::sort(out.begin(), out.end(),
              [](const RoomMember &a, const RoomMember &b) { return a.id < b.id; });
    return out;
}

HubStats Hub::stats() const
{
    HubStats s;
    QMutexLocker lock(&m_mutex);
    s.connections = m_nativeCount;
    s.legacyConnections = m_legacyCount;
    s.rooms = m_rooms.size();
    s.users = m_users.size();
    s.lastId = m_lastId;
    lock.unlock();
    for (size_t i = 0; i < s.messagesBySource.size(); ++i) {
        s.messagesBySource[i] = m_messagesIn[i].load(std::memory_order_relaxed);
        s.messagesIn += s.messagesBySource[i];
    }
    s.messagesOut = m_messagesOut.load(std::memory_order_relaxed);
    return s;
}

quint64 Hub::lastId() const
{
    QMutexLocker lock(&m_mutex);
    return m_lastId;
}

void Hub::setLastId(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    m_lastId = qMax(m_lastId, id);
    m_forgottenUpTo = qMax(m_forgottenUpTo, id);
}

void Hub::setEventObserver(std::function<void(const HubEvent &)> observer)
{
    QMutexLocker lock(&m_mutex);
    m_eventObserver = std::move(observer);
}

void Hub::setRecordObserver(std::function<void(const MessageRecord &)> observer)
{
    QMutexLocker lock(&m_mutex);
    m_observer = std::move(observer);
}

void Hub::setRecordGate(std::function<bool()> hasRoom)
{
    QMutexLocker lock(&m_mutex);
    m_gate = std::move(hasRoom);
}

} // namespace sb
