#include "hub/Hub.h"

#include "auth/RevocationList.h"
#include "base/Logging.h"
#include "base/RawJson.h"
#include "base/WsFrame.h"
#include "store/HistoryStore.h"

#include <QDateTime>

namespace sb {

Hub::Hub(HistoryStore &history, const RevocationList *revocations)
    : m_history(history), m_revocations(revocations)
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
                           const QString &origin, std::shared_ptr<ConnectionCounters> counters,
                           const QString &endpoint, const QString &user)
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
        countLocked(CountChange::Kind::Legacy, {}, +1);
    } else {
        if (kind == ConnectionKind::Endpoint) {
            c.endpoint = endpoint;
            c.user = user;
            ++m_endpointCount;
            ++m_sessionsByEndpoint[endpoint];
        } else {
            ++m_nativeCount;
            countLocked(CountChange::Kind::Connection, {}, +1, id);
        }
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
    if (m_eventObserver && c.kind != ConnectionKind::Legacy) {
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
        countLocked(CountChange::Kind::Legacy, {}, -1);
    } else if (c.kind == ConnectionKind::Endpoint) {
        --m_endpointCount;
        if (auto n = m_sessionsByEndpoint.find(c.endpoint);
            n != m_sessionsByEndpoint.end() && --*n == 0)
            m_sessionsByEndpoint.erase(n);
    } else {
        --m_nativeCount;
        countLocked(CountChange::Kind::Connection, {}, -1, id);
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
        countLocked(CountChange::Kind::User, conn.user, +1);
        countLocked(CountChange::Kind::Joined, {}, +1);
        return;
    }
    countLocked(CountChange::Kind::User, conn.user, -1);
    countLocked(CountChange::Kind::Joined, {}, -1);
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
        presenceLocked(room, member->user, member->session, -1);
        Room &entry = *r;
        swapRemove(entry.byShard[size_t(conn.shard)], member->pos,
                   [&entry](ConnId moved, qsizetype pos) { entry.members[moved].pos = pos; });
        entry.members.erase(member);
        countLocked(CountChange::Kind::Room, room, -1);
    }
    if (r->members.isEmpty())
        m_rooms.erase(r);
    notifyLocked(HubEvent::Kind::Left, id, room);
}

void Hub::notifyLocked(HubEvent::Kind kind, ConnId id, const QString &room, const QString &user,
                       const QString &session)
{
    if (!m_eventObserver)
        return;
    HubEvent e;
    e.kind = kind;
    e.connection = id;
    e.room = room;
    e.user = user;
    e.session = session;
    m_eventObserver(e);
}

JoinResult Hub::join(ConnId id, const TokenClaims &claims, std::optional<quint64> since,
                     quint64 logCoveredUpTo, bool noMoreLog)
{
    JoinResult result;
    QMutexLocker lock(&m_mutex);
    if (logCoveredUpTo > 0) // the hold of the NeedLog answer before this call
        m_history.release(claims.room, logCoveredUpTo);
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
    const auto existing = m_rooms.constFind(claims.room);
    const bool wasMember = existing != m_rooms.constEnd() && existing->members.contains(id);
    HistoryQuery query;
    query.since = since;
    query.logCoveredUpTo = logCoveredUpTo;
    query.mayAskLog = m_logBacked && !noMoreLog && !wasMember;
    // A member already receives every event live: replaying would duplicate those still on
    // their way.
    query.wantEvents = !wasMember;
    query.maxBytes = m_replayBudget;
    HistoryRead read = m_history.read(claims.room, query);
    if (read.needLog) { // nothing changed but the hold of the room's later events
        result.status = JoinResult::Status::NeedLog;
        result.needLogUpTo = read.needLogUpTo;
        return result;
    }
    addMembershipLocked(id, c, claims);
    result.status = JoinResult::Status::Joined;
    result.lastId = read.lastId;
    result.recovered = read.complete;
    result.replayTooLarge = read.tooLarge;
    result.replay = std::move(read.events);
    return result;
}

void Hub::addMembershipLocked(ConnId id, Conn &c, const TokenClaims &claims)
{
    if (c.user.isNull()) {
        c.user = claims.user;
        c.session = claims.session;
    }
    Room &room = m_rooms[claims.room];
    if (room.byShard.empty())
        room.byShard.resize(size_t(m_sinks.size()));
    if (auto member = room.members.find(id); member != room.members.end()) {
        if (member->session != claims.session) {
            presenceLocked(claims.room, member->user, member->session, -1);
            presenceLocked(claims.room, member->user, claims.session, +1);
        }
        member->publish = claims.publish;
        member->session = claims.session;
        return;
    }
    QList<ConnId> &list = room.byShard[size_t(c.shard)];
    room.members.insert(id,
                        Membership{claims.user, claims.session, QDateTime::currentMSecsSinceEpoch(),
                                   list.size(), claims.publish});
    list.append(id);
    countLocked(CountChange::Kind::Room, claims.room, +1);
    presenceLocked(claims.room, claims.user, claims.session, +1);
    if (c.rooms.isEmpty())
        setJoinedLocked(id, c, true);
    c.rooms.append(claims.room);
    notifyLocked(HubEvent::Kind::Joined, id, claims.room, claims.user, claims.session);
}

void Hub::seedRoom(const QString &room, quint64 lastIdInLog)
{
    QMutexLocker lock(&m_mutex);
    m_history.seedRoom(room, lastIdInLog);
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

bool Hub::leave(ConnId id, const QString &room)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_conns.find(id);
    if (it == m_conns.end() || !it->rooms.contains(room))
        return false;
    removeMembershipLocked(id, *it, room);
    return true;
}

void Hub::presenceLocked(const QString &room, const QString &user, const QString &session,
                         int delta)
{
    if (delta > 0)
        m_history.addPresence(room, user, session);
    else
        m_history.removePresence(room, user, session);
    if (m_countObserver) {
        CountChange change = CountChange::of(CountChange::Kind::Presence, room, delta);
        change.user = user;
        change.session = session;
        m_countObserver(change);
    }
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
    if (c == m_conns.constEnd() || c->kind == ConnectionKind::Legacy)
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
    if (c == m_conns.constEnd() || c->kind == ConnectionKind::Legacy)
        return false;
    Delivery d{wsframe::text(utf8Text), {id}};
    d.countsAsSent = false;
    m_sinks[c->shard]->enqueue(std::move(d));
    return true;
}

void Hub::setLastId(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    m_history.continueAfter(id);
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
