#include "ApiHelpers.h"

#include <QJsonArray>
#include <QJsonDocument>

#include "TestSupport.h"

using namespace Qt::StringLiterals;

namespace sbit {

QByteArray registerToken(HttpClient &api, const QString &room, const QString &user,
                         const QString &session, const QJsonObject &extra, HttpResponse *response)
{
    QJsonObject body{{u"room"_s, room}, {u"user"_s, user}, {u"session"_s, session}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        body.insert(it.key(), it.value());
    const HttpResponse r = api.postJson("/api/register", body);
    if (response)
        *response = r;
    if (r.status != 200)
        return {};
    return r.object().value(u"token"_s).toString().toLatin1();
}

std::unique_ptr<WsClient> openJoined(const ServerProcess &server, HttpClient &api,
                                     const QString &room, const QString &user,
                                     const QString &session, bool publish, QString *why)
{
    HttpResponse reg;
    QJsonObject extra;
    if (publish)
        extra.insert(u"publish"_s, true);
    const QByteArray token = registerToken(api, room, user, session, extra, &reg);
    if (token.isEmpty()) {
        if (why)
            *why = u"register failed: "_s % reg.describe();
        return nullptr;
    }
    auto client = std::make_unique<WsClient>();
    if (!client->open(server.wsUrl(u"/ws"_s))) {
        if (why)
            *why = u"cannot open /ws: "_s % client->errorString();
        return nullptr;
    }
    const QJsonObject joined = client->join(token);
    if (joined.value(u"type"_s).toString() != u"joined") {
        if (why)
            *why = u"join failed: "_s
                    % QString::fromUtf8(QJsonDocument(joined).toJson(QJsonDocument::Compact));
        return nullptr;
    }
    return client;
}

QString connectionIdForPort(HttpClient &api, quint16 localPort)
{
    const HttpResponse r = api.get("/api/connections");
    const QString suffix = u":"_s % QString::number(localPort);
    const QJsonArray list = r.array();
    for (const QJsonValue &v : list) {
        const QJsonObject c = v.toObject();
        if (c.value(u"remote"_s).toString().endsWith(suffix))
            return c.value(u"connection"_s).toString();
    }
    return {};
}

QJsonObject stats(HttpClient &api)
{
    const HttpResponse r = api.get("/api/stats");
    return r.status == 200 ? r.object() : QJsonObject();
}

QJsonObject stableStats(const QJsonObject &s)
{
    QJsonObject out;
    for (const QString &k : {u"connections"_s, u"rooms"_s, u"users"_s, u"messages_in_total"_s,
                             u"messages_out_total"_s})
        out.insert(k, s.value(k));
    return out;
}

bool flushMember(HttpClient &api, WsClient &member, const QString &room)
{
    const HttpResponse r =
            api.postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"flush"_s}});
    bool seen = false;
    if (r.status == 200) {
        seen = waitUntil(
                [&] {
                    for (const WsFrame &f : member.frames()) {
                        if (f.object.value(u"event"_s).toString() == u"flush")
                            return true;
                    }
                    return false;
                },
                5000);
    }
    member.clear();
    return seen;
}

QByteArray json(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool openRawJoined(RawWsClient &client, const ServerProcess &server, HttpClient &api,
                   const QString &room, const QString &user, const QString &session, QString *why)
{
    const int status = client.connectAndUpgrade(server.host(), server.port(), "/ws");
    if (status != 101) {
        *why = QStringLiteral("upgrade answered %1").arg(status);
        return false;
    }
    const QByteArray token = registerToken(api, room, user, session);
    client.sendText(R"({"type":"join","token":")" + token + "\"}");
    RawWsClient::Frame f;
    if (!client.waitForOpcode(1, &f, 5000) || !f.payload.contains("joined")) {
        *why = QStringLiteral("join answered: ") + QString::fromUtf8(f.payload);
        return false;
    }
    return true;
}

bool nextEventIsSentinel(HttpClient &api, WsClient &member, const QString &room)
{
    const HttpResponse r = api.postJson("/api/emit/room",
                                        {{QStringLiteral("room"), room},
                                         {QStringLiteral("event"), QStringLiteral("sentinel")}});
    if (r.status != 200)
        return false;
    WsFrame f;
    if (!member.waitForFrame(QStringLiteral("event"), &f))
        return false;
    if (f.object.value(u"event").toString() != u"sentinel") {
        qWarning().noquote() << "unexpected event delivered:" << f.text;
        return false;
    }
    return true;
}

QByteArray rawHead(const ServerProcess &server, const QByteArray &method, const QByteArray &path,
                   const QByteArray &version, const QByteArray &extra)
{
    return method + ' ' + path + ' ' + version
            + "\r\nHost: 127.0.0.1:" + QByteArray::number(server.port())
            + "\r\nX-API-Key: " + server.apiKey() + "\r\n" + extra;
}

QByteArray rawRequest(const ServerProcess &server, const QByteArray &method, const QByteArray &path,
                      const QByteArray &body, const QByteArray &version, const QByteArray &extra)
{
    QByteArray h = rawHead(server, method, path, version, extra);
    if (!body.isEmpty() || method == "POST")
        h += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
                + "\r\n";
    return h + "\r\n" + body;
}

double metricValue(HttpClient &api, const QByteArray &line)
{
    const HttpResponse r = api.get("/metrics");
    for (const QByteArray &l : r.body.split('\n')) {
        if (l.startsWith(QByteArray(line + ' ')))
            return l.mid(line.size() + 1).toDouble();
    }
    return -1;
}

int emitToRoom(HttpClient &api, const QString &room, const QString &event)
{
    return api.postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, event}})
            .object()
            .value(u"delivered"_s)
            .toInt(-1);
}

HttpResponse emitRawData(HttpClient &api, const QString &room, const QString &event,
                         const QByteArray &data)
{
    return api.post("/api/emit/room",
                    R"({"room":")" + room.toUtf8() + R"(","event":")" + event.toUtf8()
                            + R"(","data":)" + data + '}',
                    "application/json");
}

QString legacyPush(HttpClient &api, const QByteArray &json)
{
    return api.post("/", json, "application/json").object().value(u"message"_s).toString();
}

bool userListed(HttpClient &api, const QString &user)
{
    const HttpResponse r = api.get("/api/connections?user=" + encodeSegment(user));
    return r.status == 200 && !r.array().isEmpty();
}

// The raw request of one 10 KB event to room "slow".
static QByteArray floodRequest(const ServerProcess &server)
{
    const QByteArray body =
            R"({"room":"slow","event":"flood","data":")" + QByteArray(10000, 'f') + "\"}";
    return rawRequest(server, "POST", "/api/emit/room", body);
}

bool startSlowRoom(std::unique_ptr<ServerProcess> &server, const QStringList &extraArgs,
                   SlowRoom *room, QString *why)
{
    server = std::make_unique<ServerProcess>();
    if (!server->start(QStringList{u"--max-queue-bytes"_s, u"65536"_s} + extraArgs)) {
        *why = server->lastError();
        return false;
    }
    room->api = server->client();
    room->good = openJoined(*server, *room->api, u"slow"_s, u"gooduser"_s, u"S"_s, false, why);
    if (!room->good
        || !openRawJoined(room->slow, *server, *room->api, u"slow"_s, u"slowuser"_s, u"S"_s, why))
        return false;
    room->slow.stopReading();
    if (!room->rest.connectTo(*server)) {
        *why = u"cannot connect the flooding client"_s;
        return false;
    }
    room->flood = floodRequest(*server);
    return true;
}

bool PipelinedEmitter::connectTo(const ServerProcess &server)
{
    m_socket.connectToHost(server.host(), server.port());
    return waitUntil([&] { return m_socket.state() == QAbstractSocket::ConnectedState; }, 5000);
}

bool PipelinedEmitter::sendBatch(const QByteArray &request, int count, int timeoutMs,
                                 const std::function<void()> &onPoll)
{
    m_socket.write(request.repeated(count));
    int answered = 0;
    return waitUntil(
            [&] {
                m_parser.feed(m_socket.readAll());
                HttpResponse r;
                while (m_parser.take(&r)) {
                    if (r.status != 200)
                        qWarning().noquote() << "emit answered" << r.describe();
                    ++answered;
                }
                if (onPoll)
                    onPoll();
                return answered == count;
            },
            timeoutMs);
}

} // namespace sbit
