#pragma once

#include "base/Message.h"
#include "redis/RedisReply.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace sb {

// The cluster's emits on the wire to Redis and back (docs/ARCHITECTURE.md, "Cluster"): the
// arguments of the sb_emit function, its answer, and the bus entries every node reads.
namespace clusterbus {

// Rooms' histories in Redis expire a day after their last event.
constexpr qint64 kHistoryTtlMs = 24 * 3600 * 1000;
// Entries the bus keeps (about): a node away for longer misses events (its members recover).
constexpr qint64 kBusDepth = 100000;

// FCALL sb_emit 0 ... for `request`, accepted by node `node` at `ts`.
QList<QByteArray> emitCommand(const EmitRequest &request, const QString &node, qint64 ts,
                              qint64 historyPerRoom);
// The id and the cluster's counts; nullopt when the reply is not sb_emit's answer.
std::optional<EmitResult> emitResult(const RedisReply &reply);

// One entry of XREAD's answer ([id, [field, value, ...]]) as the emit it carries; `self` is
// this node's name (OrderedEmit::local). nullopt: not a bus entry (*id is 0 then).
std::optional<OrderedEmit> parseEntry(const RedisReply &entry, const QString &self, quint64 *id);

// XREAD BLOCK ... STREAMS sb:bus <after>-0
QList<QByteArray> readCommand(quint64 after, int blockMs, int count);

} // namespace clusterbus

} // namespace sb
