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

void Hub::targetsLocked(const EmitRequest &request, std::vector<QList<ConnId>> &targets,
                        std::vector<QList<ConnId>> &legacyTargets, std::vector<qint64> &writes,
                        EmitResult &result) const
{
    if (request.eventFrame)
        eventTargetsLocked(request, targets);
    if (!request.legacyText.isNull()) {
        for (size_t s = 0; s < legacyTargets.size(); ++s)
            legacyTargets[s] = m_legacyByShard[s];
    }
    for (size_t s = 0; s < targets.size(); ++s) {
        qint64 n = targets[s].size();
        if (request.exclude && targets[s].contains(request.exclude))
            --n;
        result.delivered += n;
        result.legacyDelivered += legacyTargets[s].size();
        writes[s] = targets[s].size() + legacyTargets[s].size();
    }
}

void Hub::deliverLocked(const EmitRequest &request, quint64 id, qint64 ts,
                        std::vector<QList<ConnId>> &targets,
                        std::vector<QList<ConnId>> &legacyTargets, bool countIn)
{
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
    EmitResult result;
    const size_t shards = size_t(m_sinks.size());
    std::vector<QList<ConnId>> targets(shards);
    std::vector<QList<ConnId>> legacyTargets(shards);
    std::vector<qint64> writes(shards, 0);

    QMutexLocker lock(&m_mutex);
    targetsLocked(request, targets, legacyTargets, writes, result);
    if (!sinksHaveRoomLocked(writes) || (m_gate && !m_gate())) {
        result.accepted = false;
        result.delivered = result.legacyDelivered = 0;
        return result;
    }

    result.id = m_history.nextId();
    const qint64 ts = QDateTime::currentMSecsSinceEpoch();
    // The record goes to the log before any client can see the event: a page that reads
    // GET /api/log the moment the event arrives finds it there.
    if (m_observer)
        recordLocked(request, result.id,
                     request.eventFrame ? result.delivered : result.legacyDelivered, ts, {});
    deliverLocked(request, result.id, ts, targets, legacyTargets, true);
    m_messagesOut.fetch_add(quint64(result.delivered), std::memory_order_relaxed);
    return result;
}

bool Hub::admitForOrdering(EmitRequest &request) const
{
    EmitResult local;
    const size_t shards = size_t(m_sinks.size());
    std::vector<QList<ConnId>> targets(shards);
    std::vector<QList<ConnId>> legacyTargets(shards);
    std::vector<qint64> writes(shards, 0);
    QMutexLocker lock(&m_mutex);
    targetsLocked(request, targets, legacyTargets, writes, local);
    if (!sinksHaveRoomLocked(writes) || (m_gate && !m_gate()))
        return false;
    request.excludeIsTarget = false;
    if (request.exclude) {
        for (const QList<ConnId> &shardTargets : targets)
            request.excludeIsTarget =
                    request.excludeIsTarget || shardTargets.contains(request.exclude);
    }
    return true;
}

bool Hub::deliverOrdered(const OrderedEmit &emit)
{
    EmitResult local;
    const size_t shards = size_t(m_sinks.size());
    std::vector<QList<ConnId>> targets(shards);
    std::vector<QList<ConnId>> legacyTargets(shards);
    std::vector<qint64> writes(shards, 0);
    QMutexLocker lock(&m_mutex);
    targetsLocked(emit.request, targets, legacyTargets, writes, local);
    // Already accepted by the cluster: when the shards' or the log's queues are full it is
    // not refused but handed again later (the bus reader waits), so nothing is lost.
    if (!sinksHaveRoomLocked(writes) || (m_gate && !m_gate()))
        return false;
    m_history.advanceTo(emit.id);
    if (m_observer) // the observer knows which records this node's log keeps
        recordLocked(emit.request, emit.id,
                     emit.request.eventFrame ? emit.delivered : emit.legacyDelivered, emit.ts,
                     emit.node);
    deliverLocked(emit.request, emit.id, emit.ts, targets, legacyTargets, emit.local);
    m_messagesOut.fetch_add(quint64(local.delivered), std::memory_order_relaxed);
    return true;
}

} // namespace sb
