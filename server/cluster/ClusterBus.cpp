#include "cluster/ClusterBus.h"

#include <QHash>

namespace sb::clusterbus {

namespace {

QByteArray flag(bool on)
{
    return on ? QByteArrayLiteral("1") : QByteArrayLiteral("0");
}

// The stream id <n>-0 of an emit id; 0 when it is not one.
quint64 emitIdOf(const QByteArray &streamId)
{
    const qsizetype dash = streamId.indexOf('-');
    if (dash <= 0 || streamId.mid(dash + 1) != "0")
        return 0;
    bool ok = false;
    const quint64 id = streamId.left(dash).toULongLong(&ok);
    return ok ? id : 0;
}

} // namespace

QList<QByteArray> emitCommand(const EmitRequest &request, const QString &node, qint64 ts,
                              qint64 historyPerRoom)
{
    ConnId connection = 0;
    if (request.target == EmitTarget::Connection)
        connection = parseConnectionId(request.to);
    const bool legacy = !request.legacyText.isNull();
    return {QByteArrayLiteral("FCALL"),
            QByteArrayLiteral("sb_emit"),
            QByteArrayLiteral("0"),
            node.toUtf8(),
            QByteArray(targetName(request.target).data(), targetName(request.target).size()),
            request.to.toUtf8(),
            request.event.toUtf8(),
            request.data.isEmpty() ? QByteArrayLiteral("null") : request.data,
            QByteArray::number(ts),
            QByteArray(sourceName(request.source).data(), sourceName(request.source).size()),
            request.remote.toUtf8(),
            request.exclude ? connectionIdText(request.exclude).toUtf8() : QByteArray(),
            flag(request.excludeIsTarget),
            flag(request.eventFrame),
            legacy ? request.legacyText : QByteArray(),
            flag(legacy),
            QByteArray::number(connectionNode(connection)),
            QByteArray::number(connection & kConnLocalMask),
            QByteArray::number(historyPerRoom),
            QByteArray::number(kHistoryTtlMs),
            QByteArray::number(kBusDepth)};
}

std::optional<EmitResult> emitResult(const RedisReply &reply)
{
    if (!reply.isArray() || reply.elements.size() != 3)
        return std::nullopt;
    bool ok[3] = {};
    EmitResult result;
    result.id = quint64(reply.elements[0].toInt(&ok[0]));
    result.delivered = reply.elements[1].toInt(&ok[1]);
    result.legacyDelivered = reply.elements[2].toInt(&ok[2]);
    if (!ok[0] || !ok[1] || !ok[2] || result.id == 0)
        return std::nullopt;
    return result;
}

std::optional<OrderedEmit> parseEntry(const RedisReply &entry, const QString &self, quint64 *id)
{
    *id = 0;
    if (!entry.isArray() || entry.elements.size() != 2 || !entry.elements[1].isArray())
        return std::nullopt;
    const quint64 emitId = emitIdOf(entry.elements[0].string);
    if (emitId == 0)
        return std::nullopt;
    const QList<RedisReply> &fields = entry.elements[1].elements;
    QHash<QByteArray, QByteArray> f;
    for (qsizetype i = 0; i + 1 < fields.size(); i += 2)
        f.insert(fields[i].string, fields[i + 1].string);
    const std::optional<EmitTarget> target = parseTargetName(QString::fromUtf8(f.value("k")));
    const std::optional<EmitSource> source = parseSourceName(QString::fromUtf8(f.value("s")));
    if (!target || !source)
        return std::nullopt;
    *id = emitId;
    OrderedEmit e;
    e.id = emitId;
    e.node = QString::fromUtf8(f.value("n"));
    e.local = e.node == self;
    e.ts = f.value("t").toLongLong();
    e.delivered = f.value("dv").toLongLong();
    e.legacyDelivered = f.value("ld").toLongLong();
    EmitRequest &r = e.request;
    r.target = *target;
    r.source = *source;
    r.to = QString::fromUtf8(f.value("to"));
    r.event = QString::fromUtf8(f.value("e"));
    r.data = f.value("d");
    if (r.data.isEmpty())
        r.data = QByteArrayLiteral("null");
    r.remote = QString::fromUtf8(f.value("r"));
    r.exclude = parseConnectionId(QString::fromUtf8(f.value("x")));
    r.eventFrame = f.value("f") == "1";
    if (f.value("hl") == "1") {
        r.legacyText = f.value("l");
        if (r.legacyText.isNull())
            r.legacyText = QByteArray("");
    }
    return e;
}

QList<QByteArray> readCommand(quint64 after, int blockMs, int count)
{
    return {QByteArrayLiteral("XREAD"),  QByteArrayLiteral("COUNT"),
            QByteArray::number(count),   QByteArrayLiteral("BLOCK"),
            QByteArray::number(blockMs), QByteArrayLiteral("STREAMS"),
            QByteArrayLiteral("sb:bus"), QByteArray::number(after) + QByteArrayLiteral("-0")};
}

} // namespace sb::clusterbus
