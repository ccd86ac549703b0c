// How the hub routes an emit (docs/ARCHITECTURE.md, "How one emit flows"): its targets per
// shard, the room left for them, the record, the room's history and the frames. publish()
// gives the id itself (one node); in a cluster admitForOrdering() checks before Redis orders
// the emit and deliverOrdered() hands over what the cluster's bus brings back.
#include "hub/Hub.h"

#include "base/RawJson.h"
#include "base/WsFrame.h"
#include "store/HistoryStore.h"

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

bool Hub::sinksHaveRoomLocked(const std::vector<qint64> &writesPerShard) const
{
    for (size_t s = 0; s < writesPerShard.size(); ++s) {
        if (writesPerShard[s] > 0 && !m_sinks[qsizetype(s)]->hasRoomFor(writesPerShard[s]))
            return false;
    }
    return true;
}

void Hub::eventTargetsLocked(const EmitRequest &request, std::vector<QList<ConnId>> &targets) const
{
    const size_t shards = targets.size();
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

void Hub::recordLocked(const EmitRequest &request, quint64 id, qint64 delivered, qint64 ts,
                       const QString &node)
{
    MessageRecord record;
    record.id = id;
    record.ts = ts;
    record.source = request.source;
    record.target = request.eventFrame ? request.target : EmitTarget::Legacy;
    if (record.target != EmitTarget::All && record.target != EmitTarget::Legacy)
        record.to = request.to;
    record.event = request.event;
    record.data = request.data;
    record.delivered = delivered;
    record.remote = request.remote;
    record.node = node;
    m_observer(record);
}

bool Hub::routeLocked(const EmitRequest &request, Routing &routing) const
{
    const size_t shards = size_t(m_sinks.size());
    routing.targets.assign(shards, {});
    routing.legacy.assign(shards, {});
    if (request.eventFrame)
        eventTargetsLocked(request, routing.targets);
    if (!request.legacyText.isNull())
        routing.legacy = m_legacyByShard;
    std::vector<qint64> writes(shards, 0);
    for (size_t s = 0; s < shards; ++s) {
        qint64 n = routing.targets[s].size();
        if (request.exclude && routing.targets[s].contains(request.exclude))
            --n;
        routing.counts.delivered += n;
        routing.counts.legacyDelivered += routing.legacy[s].size();
        writes[s] = routing.targets[s].size() + routing.legacy[s].size();
    }
    return sinksHaveRoomLocked(writes) && (!m_gate || m_gate());
}

void Hub::deliverLocked(const EmitRequest &request, quint64 id, qint64 ts, Routing &routing,
                        bool countIn)
{
    std::vector<QList<ConnId>> &targets = routing.targets;
    std::vector<QList<ConnId>> &legacyTargets = routing.legacy;
    if (request.eventFrame) {
        const QByteArray wire = eventWire(
                id, request.event, request.target == EmitTarget::Room ? &request.to : nullptr,
                request.data, ts);
        if (request.target == EmitTarget::Room)
            m_history.append(request.to, id, wire);
        for (size_t s = 0; s < targets.size(); ++s) {
            if (!targets[s].isEmpty())
                m_sinks[qsizetype(s)]->enqueue(
                        Delivery{wire, std::move(targets[s]), request.exclude});
        }
    }
    if (!request.legacyText.isNull()) {
        const QByteArray wire = wsframe::text(request.legacyText);
        for (size_t s = 0; s < legacyTargets.size(); ++s) {
            if (!legacyTargets[s].isEmpty())
                m_sinks[qsizetype(s)]->enqueue(Delivery{wire, std::move(legacyTargets[s])});
        }
    }
    if (countIn)
        m_messagesIn[size_t(request.source)].fetch_add(1, std::memory_order_relaxed);
}

EmitResult Hub::publish(const EmitRequest &request)
{
    Routing routing;
    QMutexLocker lock(&m_mutex);
    if (!routeLocked(request, routing)) {
        EmitResult refused;
        refused.accepted = false;
        return refused;
    }
    EmitResult result = routing.counts;
    result.id = m_history.nextId();
    const qint64 ts = QDateTime::currentMSecsSinceEpoch();
    // The record goes to the log before any client can see the event: a page that reads
    // GET /api/log the moment the event arrives finds it there.
    if (m_observer)
        recordLocked(request, result.id,
                     request.eventFrame ? result.delivered : result.legacyDelivered, ts, {});
    deliverLocked(request, result.id, ts, routing, true);
    m_messagesOut.fetch_add(quint64(result.delivered), std::memory_order_relaxed);
    return result;
}

bool Hub::admitForOrdering(EmitRequest &request) const
{
    Routing routing;
    QMutexLocker lock(&m_mutex);
    if (!routeLocked(request, routing))
        return false;
    request.excludeIsTarget = false;
    for (const QList<ConnId> &shardTargets : routing.targets)
        request.excludeIsTarget = request.excludeIsTarget
                || (request.exclude && shardTargets.contains(request.exclude));
    return true;
}

bool Hub::deliverOrdered(const OrderedEmit &emit)
{
    Routing routing;
    QMutexLocker lock(&m_mutex);
    // Already accepted by the cluster: when the shards' or the log's queues are full it is
    // not refused but handed again later (the bus reader waits), so nothing is lost.
    if (!routeLocked(emit.request, routing))
        return false;
    m_history.advanceTo(emit.id);
    if (m_observer) // the observer knows which records this node's log keeps
        recordLocked(emit.request, emit.id,
                     emit.request.eventFrame ? emit.delivered : emit.legacyDelivered, emit.ts,
                     emit.node);
    deliverLocked(emit.request, emit.id, emit.ts, routing, emit.local);
    m_messagesOut.fetch_add(quint64(routing.counts.delivered), std::memory_order_relaxed);
    return true;
}

} // namespace sb
