#include "cluster/ClusterBus.h"

#include <array>

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

// The fields every node needs of an emit besides its data and legacy text, in one bus
// field: each as <length>:<bytes>, in this order. Packed by the node that accepts the emit,
// read by every node; Redis stores it as it is.
enum HeaderField { Node, Target, To, Event, Ts, Source, Remote, Exclude, Flags, kHeaderFields };

void appendPart(QByteArray &out, QByteArrayView part)
{
    out += QByteArray::number(part.size());
    out += ':';
    out += part;
}

QByteArray header(const EmitRequest &request, const QString &node, qint64 ts)
{
    QByteArray out;
    out.reserve(64 + node.size() + request.to.size() + request.event.size()
                + request.remote.size());
    appendPart(out, node.toUtf8());
    appendPart(
            out,
            QByteArrayView(targetName(request.target).data(), targetName(request.target).size()));
    appendPart(out, request.to.toUtf8());
    appendPart(out, request.event.toUtf8());
    appendPart(out, QByteArray::number(ts));
    appendPart(
            out,
            QByteArrayView(sourceName(request.source).data(), sourceName(request.source).size()));
    appendPart(out, request.remote.toUtf8());
    appendPart(out, request.exclude ? connectionIdText(request.exclude).toUtf8() : QByteArray());
    const char flags[2] = {request.eventFrame ? '1' : '0', request.legacyText.isNull() ? '0' : '1'};
    appendPart(out, QByteArrayView(flags, 2));
    return out;
}

// The parts of a header; false when it is not one.
bool splitHeader(QByteArrayView header, std::array<QByteArrayView, kHeaderFields> &parts)
{
    qsizetype at = 0;
    for (QByteArrayView &part : parts) {
        const qsizetype colon = header.indexOf(':', at);
        if (colon <= at || colon - at > 10)
            return false;
        bool ok = false;
        const qsizetype length = header.sliced(at, colon - at).toLongLong(&ok);
        if (!ok || length < 0 || length > header.size() - colon - 1)
            return false;
        part = header.sliced(colon + 1, length);
        at = colon + 1 + length;
    }
    return at == header.size();
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
            QByteArray(targetName(request.target).data(), targetName(request.target).size()),
            request.to.toUtf8(),
            request.event.toUtf8(),
            request.data.isEmpty() ? QByteArrayLiteral("null") : request.data,
            QByteArray::number(ts),
            flag(request.excludeIsTarget),
            flag(request.eventFrame),
            flag(legacy),
            QByteArray::number(connectionNode(connection)),
            QByteArray::number(connection & kConnLocalMask),
            QByteArray::number(historyPerRoom),
            QByteArray::number(kHistoryTtlMs),
            QByteArray::number(kBusDepth),
            header(request, node, ts),
            legacy ? request.legacyText : QByteArray()};
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

// An entry: [id, [h, header, d, data, c, "delivered legacyDelivered", (l, legacy text)]].
std::optional<OrderedEmit> parseEntry(const RedisReply &entry, const QString &self, quint64 *id)
{
    *id = 0;
    if (!entry.isArray() || entry.elements.size() != 2 || !entry.elements[1].isArray())
        return std::nullopt;
    const quint64 emitId = emitIdOf(entry.elements[0].string);
    if (emitId == 0)
        return std::nullopt;
    const QList<RedisReply> &fields = entry.elements[1].elements;
    const QByteArray *head = nullptr, *data = nullptr, *counts = nullptr, *legacy = nullptr;
    for (qsizetype i = 0; i + 1 < fields.size(); i += 2) {
        const QByteArray &name = fields[i].string;
        const QByteArray *value = &fields[i + 1].string;
        if (name == "h")
            head = value;
        else if (name == "d")
            data = value;
        else if (name == "c")
            counts = value;
        else if (name == "l")
            legacy = value;
    }
    std::array<QByteArrayView, kHeaderFields> parts;
    if (!head || !data || !counts || !splitHeader(*head, parts) || parts[Flags].size() != 2)
        return std::nullopt;
    const std::optional<EmitTarget> target = parseTargetName(QString::fromUtf8(parts[Target]));
    const std::optional<EmitSource> source = parseSourceName(QString::fromUtf8(parts[Source]));
    if (!target || !source)
        return std::nullopt;
    *id = emitId;
    OrderedEmit e;
    e.id = emitId;
    e.node = QString::fromUtf8(parts[Node]);
    e.local = e.node == self;
    e.ts = parts[Ts].toLongLong();
    const qsizetype space = counts->indexOf(' ');
    e.delivered = counts->left(space).toLongLong();
    e.legacyDelivered = space > 0 ? counts->mid(space + 1).toLongLong() : 0;
    EmitRequest &r = e.request;
    r.target = *target;
    r.source = *source;
    r.to = QString::fromUtf8(parts[To]);
    r.event = QString::fromUtf8(parts[Event]);
    r.data = data->isEmpty() ? QByteArrayLiteral("null") : *data;
    r.remote = QString::fromUtf8(parts[Remote]);
    r.exclude = parseConnectionId(QString::fromUtf8(parts[Exclude]));
    r.eventFrame = parts[Flags][0] == '1';
    if (parts[Flags][1] == '1')
        r.legacyText = legacy && !legacy->isNull() ? *legacy : QByteArray("");
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
