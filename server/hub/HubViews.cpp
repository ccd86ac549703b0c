// The hub's read-only views: membership checks, presence, and the snapshots of connections,
// rooms and counters that the REST API and the admin stream show (docs/API.md).
#include "hub/Hub.h"

#include "store/HistoryStore.h"

#include <QSet>

#include <algorithm>

namespace sb {

qsizetype Hub::historyRooms() const
{
    QMutexLocker lock(&m_mutex);
    return m_history.historyRooms();
}

std::optional<QList<QPair<QString, QString>>> Hub::presence(ConnId id, const QString &room) const
{
    QMutexLocker lock(&m_mutex);
    const auto r = m_rooms.constFind(room);
    if (r == m_rooms.constEnd() || !r->members.contains(id))
        return std::nullopt;
    return m_history.presence(room);
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
    s.endpoint = c.endpoint;
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
        if (it->kind == ConnectionKind::Legacy)
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
    if (it == m_conns.constEnd() || it->kind == ConnectionKind::Legacy)
        return std::nullopt;
    return snapshotLocked(id, *it);
}

QList<ConnectionSnapshot> Hub::endpointSessions(const QString &endpoint) const
{
    QList<ConnectionSnapshot> out;
    QMutexLocker lock(&m_mutex);
    for (auto it = m_conns.cbegin(); it != m_conns.cend(); ++it) {
        if (it->kind == ConnectionKind::Endpoint && (endpoint.isNull() || it->endpoint == endpoint))
            out.append(snapshotLocked(it.key(), *it));
    }
    lock.unlock();
    std::sort(out.begin(), out.end(),
              [](const ConnectionSnapshot &a, const ConnectionSnapshot &b) { return a.id < b.id; });
    return out;
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

QHash<QString, qint64> Hub::endpointSessionCounts() const
{
    QMutexLocker lock(&m_mutex);
    return m_sessionsByEndpoint;
}

HubStats Hub::stats() const
{
    HubStats s;
    QMutexLocker lock(&m_mutex);
    s.connections = m_nativeCount;
    s.legacyConnections = m_legacyCount;
    s.endpointSessions = m_endpointCount;
    s.rooms = m_rooms.size();
    s.users = m_users.size();
    s.lastId = m_history.lastId();
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
    return m_history.lastId();
}

} // namespace sb
