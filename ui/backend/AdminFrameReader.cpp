#include "backend/AdminFrameReader.h"

#include "base/RawJson.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sb::ui {

namespace {

quint64 toU64(const QJsonValue &v)
{
    const double d = v.toDouble();
    return d > 0 ? quint64(d) : 0;
}

// The raw texts of the array member `key` of an object text, element by element.
QList<QByteArrayView> arrayElements(QByteArrayView objectText, QStringView key, QByteArray *storage)
{
    *storage = rawjson::member(objectText, key);
    return rawjson::elements(*storage);
}

QList<LogRecord> recordsOf(const QJsonArray &array, const QList<QByteArrayView> &texts)
{
    QList<LogRecord> out;
    out.reserve(array.size());
    for (qsizetype i = 0; i < array.size(); ++i) {
        out.append(AdminFrameReader::record(array.at(i).toObject(),
                                            i < texts.size() ? texts.at(i) : QByteArrayView()));
    }
    return out;
}

} // namespace

ConnectionInfo AdminFrameReader::connection(const QJsonObject &o)
{
    ConnectionInfo c;
    c.id = o.value(u"connection").toString();
    c.user = o.value(u"user").toString();
    c.session = o.value(u"session").toString();
    for (const QJsonValue &room : o.value(u"rooms").toArray())
        c.rooms.append(room.toString());
    c.endpoint = o.value(u"endpoint").toString();
    c.remote = o.value(u"remote").toString();
    c.origin = o.value(u"origin").toString();
    c.since = qint64(o.value(u"since").toDouble());
    c.sent = toU64(o.value(u"sent"));
    c.received = toU64(o.value(u"received"));
    return c;
}

ServerStats AdminFrameReader::stats(const QJsonObject &o)
{
    ServerStats s;
    s.connections = qint64(o.value(u"connections").toDouble());
    s.rooms = qint64(o.value(u"rooms").toDouble());
    s.users = qint64(o.value(u"users").toDouble());
    s.messagesInTotal = toU64(o.value(u"messages_in_total"));
    s.messagesOutTotal = toU64(o.value(u"messages_out_total"));
    s.messagesInPerS = o.value(u"messages_in_per_s").toDouble();
    s.messagesOutPerS = o.value(u"messages_out_per_s").toDouble();
    s.uptimeS = qint64(o.value(u"uptime_s").toDouble());
    return s;
}

NodeInfo AdminFrameReader::node(const QJsonObject &o)
{
    NodeInfo n;
    n.name = o.value(u"node").toString();
    n.number = qint64(o.value(u"number").toDouble());
    n.address = o.value(u"address").toString();
    n.version = o.value(u"version").toString();
    n.connections = qint64(o.value(u"connections").toDouble());
    n.rooms = qint64(o.value(u"rooms").toDouble());
    n.uptimeS = qint64(o.value(u"uptime_s").toDouble());
    n.lastSeenMs = qint64(o.value(u"last_seen_ms").toDouble());
    return n;
}

QList<NodeInfo> AdminFrameReader::nodes(const QJsonArray &array)
{
    QList<NodeInfo> out;
    out.reserve(array.size());
    for (const QJsonValue &v : array)
        out.append(node(v.toObject()));
    return out;
}

EndpointEntry AdminFrameReader::endpoint(const QJsonObject &o)
{
    EndpointEntry e;
    e.name = o.value(u"endpoint").toString();
    e.handler = o.value(u"handler").toString();
    e.description = o.value(u"description").toString();
    e.file = o.value(u"file").toString();
    e.auth = o.value(u"auth").toString();
    e.sessions = qint64(o.value(u"sessions").toDouble());
    e.calls = toU64(o.value(u"calls"));
    e.failures = toU64(o.value(u"failures"));
    e.error = o.value(u"error").toString();
    e.lastError = o.value(u"last_error").toString();
    return e;
}

QList<EndpointEntry> AdminFrameReader::endpoints(const QJsonArray &array)
{
    QList<EndpointEntry> out;
    out.reserve(array.size());
    for (const QJsonValue &v : array)
        out.append(endpoint(v.toObject()));
    return out;
}

OutboundClient AdminFrameReader::client(const QJsonObject &o)
{
    OutboundClient c;
    c.id = o.value(u"id").toString();
    c.uri = o.value(u"uri").toString();
    c.handler = o.value(u"handler").toString();
    c.room = o.value(u"room").toString();
    c.event = o.value(u"event").toString();
    c.state = o.value(u"state").toString();
    c.since = qint64(o.value(u"since").toDouble());
    c.received = toU64(o.value(u"received"));
    c.sent = toU64(o.value(u"sent"));
    c.reconnects = toU64(o.value(u"reconnects"));
    c.error = o.value(u"error").toString();
    return c;
}

QList<OutboundClient> AdminFrameReader::clients(const QJsonArray &array)
{
    QList<OutboundClient> out;
    out.reserve(array.size());
    for (const QJsonValue &v : array)
        out.append(client(v.toObject()));
    return out;
}

LogRecord AdminFrameReader::record(const QJsonObject &o, QByteArrayView text)
{
    LogRecord r;
    r.id = toU64(o.value(u"id"));
    r.ts = qint64(o.value(u"ts").toDouble());
    r.source = o.value(u"source").toString();
    r.target = o.value(u"target").toString();
    r.to = o.value(u"to").toString();
    r.event = o.value(u"event").toString();
    r.delivered = qint64(o.value(u"delivered").toDouble());
    r.remote = o.value(u"remote").toString();
    r.node = o.value(u"node").toString();
    if (!text.isEmpty())
        r.data = rawjson::member(text, u"data");
    if (r.data.isEmpty()) // no raw text at hand: Qt's rendering of the value
        r.data = QJsonDocument(QJsonArray{o.value(u"data")})
                         .toJson(QJsonDocument::Compact)
                         .mid(1)
                         .chopped(1);
    return r;
}

QList<LogRecord> AdminFrameReader::records(const QByteArray &utf8, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &parseError);
    if (!doc.isObject()) {
        if (error)
            *error = parseError.error != QJsonParseError::NoError ? parseError.errorString()
                                                                  : QStringLiteral("not an object");
        return {};
    }
    QByteArray storage;
    return recordsOf(doc.object().value(u"records").toArray(),
                     arrayElements(utf8, u"records", &storage));
}

AdminFrameReader::Frame AdminFrameReader::read(const QByteArray &utf8)
{
    Frame f;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &parseError);
    if (!doc.isObject()) {
        f.error = parseError.error != QJsonParseError::NoError ? parseError.errorString()
                                                               : QStringLiteral("not an object");
        return f;
    }
    const QJsonObject o = doc.object();
    const QString type = o.value(u"type").toString();
    if (type == u"snapshot") {
        for (const QJsonValue &c : o.value(u"connections").toArray())
            f.snapshot.connections.append(connection(c.toObject()));
        QByteArray storage;
        f.snapshot.log =
                recordsOf(o.value(u"log").toArray(), arrayElements(utf8, u"log", &storage));
        f.snapshot.stats = stats(o.value(u"stats").toObject());
        f.snapshot.nodes = nodes(o.value(u"nodes").toArray());
        f.snapshot.endpoints = endpoints(o.value(u"endpoints").toArray());
        f.snapshot.clients = clients(o.value(u"clients").toArray());
    } else if (type == u"messages") {
        QByteArray storage;
        f.records =
                recordsOf(o.value(u"records").toArray(), arrayElements(utf8, u"records", &storage));
        f.dropped = toU64(o.value(u"dropped"));
    } else if (type == u"stats") {
        f.stats = stats(o.value(u"stats").toObject());
    } else if (type == u"nodes") {
        f.nodes = nodes(o.value(u"nodes").toArray());
    } else if (type == u"endpoints") {
        f.endpoints = endpoints(o.value(u"endpoints").toArray());
    } else if (type == u"clients") {
        f.clients = clients(o.value(u"clients").toArray());
    } else if (type == u"connection.opened") {
        LiveChange c;
        c.kind = LiveChange::Kind::Opened;
        c.connection = connection(o.value(u"connection").toObject());
        f.live = c;
    } else if (type == u"connection.closed") {
        LiveChange c;
        c.kind = LiveChange::Kind::Closed;
        c.connection.id = o.value(u"connection").toString();
        c.code = o.value(u"code").toInt();
        f.live = c;
    } else if (type == u"room.joined" || type == u"room.left") {
        LiveChange c;
        c.kind = type == u"room.joined" ? LiveChange::Kind::Joined : LiveChange::Kind::Left;
        c.connection.id = o.value(u"connection").toString();
        c.room = o.value(u"room").toString();
        c.user = o.value(u"user").toString();
        c.session = o.value(u"session").toString();
        f.live = c;
    } else {
        f.error = QStringLiteral("unknown frame type '%1'").arg(type.left(64));
        return f;
    }
    f.type = type;
    return f;
}

} // namespace sb::ui
