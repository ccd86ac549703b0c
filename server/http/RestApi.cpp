#include "http/RestApi.h"

#include "cluster/Cluster.h"

#include "http/EmitAnswer.h"

#include "admin/AdminJson.h"
#include "admin/MetricsGauges.h"
#include "admin/StatsSampler.h"
#include "auth/RevocationList.h"
#include "auth/TokenService.h"
#include "base/Logging.h"
#include "base/Names.h"
#include "base/RawJson.h"
#include "commands/BodyDecoder.h"
#include "commands/EmitService.h"
#include "commands/Validation.h"
#include "context/ServerContext.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "store/MessageLog.h"

#include <QDateTime>
#include <QHttpServerRequest>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrlQuery>

#include <tuple>

namespace sb {

namespace {

HttpReply notFoundConnection(const QString &id)
{
    return HttpReply::error(404, u"not_found",
                            QStringLiteral("connection '%1' is not open").arg(id.left(100)));
}

EmitSource sourceOf(const HttpCall &call)
{
    const QByteArray header = call.request.value(QByteArrayLiteral("x-switchboard-source"));
    return header.trimmed().toLower() == "console" ? EmitSource::Console : EmitSource::Rest;
}

// The room, user and session of register and unregister, in that order.
std::tuple<QString, QString, QString> readMember(FieldReader &f)
{
    QString room = f.name(u"room", names::kRoomMax);
    QString user = f.name(u"user", names::kUserMax);
    QString session = f.name(u"session", names::kSessionMax);
    return {room, user, session};
}

} // namespace

RestApi::RestApi(const ServerContext *context, const StatsSampler *stats)
    : m_context(context), m_stats(stats), m_clusterViews(context, stats)
{ }

HttpReply RestApi::health(const HttpCall &) const
{
    const qint64 uptime = (QDateTime::currentMSecsSinceEpoch() - m_context->startedMs) / 1000;
    QJsonObject o{{QStringLiteral("status"), QStringLiteral("ok")},
                  {QStringLiteral("version"), QStringLiteral(SWITCHBOARD_VERSION)},
                  {QStringLiteral("uptime_s"), double(uptime)}};
    if (!m_context->cluster)
        return HttpReply::json(compactJson(o));
    // A node without Redis takes no emits: degraded, though its connections stay.
    const ClusterStatus cluster = m_context->cluster->status();
    o.insert(QStringLiteral("cluster"),
             QJsonObject{{QStringLiteral("redis"),
                          cluster.redisUp ? QStringLiteral("up") : QStringLiteral("down")},
                         {QStringLiteral("nodes"), double(cluster.nodes)},
                         {QStringLiteral("node"), cluster.name}});
    if (cluster.redisUp)
        return HttpReply::json(compactJson(o));
    o.insert(QStringLiteral("status"), QStringLiteral("degraded"));
    HttpReply reply = HttpReply::json(compactJson(o), 503);
    reply.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")});
    return reply;
}

HttpReply RestApi::healthLive(const HttpCall &) const
{
    // The process answers: whatever its dependencies do (docs/API.md, "Health").
    return HttpReply::json(QByteArrayLiteral(R"({"status":"ok"})"));
}

HttpReply RestApi::stats(const HttpCall &call) const
{
    if (m_context->cluster)
        return m_clusterViews.stats(call);
    return HttpReply::json(compactJson(m_stats->json()));
}

HttpReply RestApi::nodes(const HttpCall &) const
{
    if (!m_context->cluster) {
        // One node: itself, in the shape of the cluster's list.
        const HubStats hub = m_context->hub->stats();
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const QJsonObject self{
                {QStringLiteral("node"), QStringLiteral("local")},
                {QStringLiteral("number"), 0},
                {QStringLiteral("address"), m_context->config.listen},
                {QStringLiteral("version"), QStringLiteral(SWITCHBOARD_VERSION)},
                {QStringLiteral("connections"), double(hub.connections)},
                {QStringLiteral("rooms"), double(hub.rooms)},
                {QStringLiteral("uptime_s"), double((now - m_context->startedMs) / 1000)},
                {QStringLiteral("last_seen_ms"), double(now)}};
        return HttpReply::json(QJsonDocument(QJsonArray{self}).toJson(QJsonDocument::Compact));
    }
    return HttpReply::json(m_context->cluster->status().nodesJson);
}

RestApi::Registration RestApi::issueToken(const QString &room, const QString &user,
                                          const QString &session, qint64 ttl, bool publish) const
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    TokenClaims claims;
    claims.room = room;
    claims.user = user;
    claims.session = session;
    claims.publish = publish;
    // A token issued in the second of an unregister must still work: it gets iat + 1, and the
    // next unregister covers it (RevocationList::issueSecond).
    claims.issuedAt = m_context->revocations->issueSecond(room, user, session, now);
    claims.expiresAt = claims.issuedAt + ttl;
    return Registration{m_context->tokens->sign(claims), claims.expiresAt};
}

HttpReply RestApi::registerToken(const HttpCall &call) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    FieldReader f(*body);
    const auto [room, user, session] = readMember(f);
    const auto ttl =
            f.positiveInt(u"ttl", m_context->config.tokenMaxTtl, QStringLiteral("token_max_ttl"));
    const bool publish = f.boolean(u"publish", false);
    if (!f.ok())
        return HttpReply::error(f.commandError());
    const Registration r = issueToken(room, user, session,
                                      ttl.value_or(m_context->config.tokenDefaultTtl), publish);
    qCInfo(lcHttp).noquote() << "register room" << room << "user" << user << "from" << call.remote;
    return HttpReply::json(QByteArrayLiteral(R"({"token":")") + r.token
                           + QByteArrayLiteral(R"(","expires":)") + QByteArray::number(r.expires)
                           + '}');
}

HttpReply RestApi::unregister(const HttpCall &call) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    FieldReader f(*body);
    const auto [room, user, session] = readMember(f);
    if (!f.ok())
        return HttpReply::error(f.commandError());
    if (m_context->cluster)
        return m_clusterViews.unregister(call, room, user, session);
    m_context->revocations->revoke(room, user, session, QDateTime::currentSecsSinceEpoch());
    const qint64 removed = m_context->hub->revoke(room, user, session);
    qCInfo(lcHttp).noquote() << "unregister room" << room << "user" << user << "removed" << removed;
    return HttpReply::json(QByteArrayLiteral(R"({"removed":)") + QByteArray::number(removed) + '}');
}

HttpReply RestApi::emitTo(const HttpCall &call, const QString &target) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    const EmitTarget kind = parseTargetName(target).value_or(EmitTarget::Connection);
    CommandError why;
    std::optional<EmitRequest> request = EmitService::read(*body, kind, target, &why);
    if (!request)
        return HttpReply::error(why);
    request->source = sourceOf(call);
    request->remote = call.remote;
    return answerEmit(m_context, call, *request, [request = *request, target](const EmitResult &r) {
        // Every emit is in the message log; a line per emit at info level would flood the
        // system journal at thousands per second.
        qCDebug(lcHttp).noquote() << "emit" << r.id << target << request.to << "event"
                                  << request.event << "delivered" << r.delivered << "from"
                                  << request.remote;
        return HttpReply::json(QByteArrayLiteral(R"({"id":)") + QByteArray::number(r.id)
                               + QByteArrayLiteral(R"(,"delivered":)")
                               + QByteArray::number(r.delivered) + '}');
    });
}

HttpReply RestApi::listConnections(const HttpCall &call) const
{
    const QUrlQuery query(call.request.url());
    const QString room = query.hasQueryItem(QStringLiteral("room"))
            ? query.queryItemValue(QStringLiteral("room"), QUrl::FullyDecoded)
            : QString();
    const QString user = query.hasQueryItem(QStringLiteral("user"))
            ? query.queryItemValue(QStringLiteral("user"), QUrl::FullyDecoded)
            : QString();
    if (m_context->cluster)
        return m_clusterViews.connections(call, room, user);
    QJsonArray out;
    for (const ConnectionSnapshot &c : m_context->hub->connections(room, user))
        out.append(connectionJson(c));
    return HttpReply::json(compactJson(out));
}

HttpReply RestApi::getConnection(const HttpCall &call, const QString &id) const
{
    if (m_context->cluster)
        return m_clusterViews.connection(call, id);
    const auto c = m_context->hub->connection(parseConnectionId(id));
    if (!c)
        return notFoundConnection(id);
    return HttpReply::json(compactJson(connectionJson(*c)));
}

HttpReply RestApi::deleteConnection(const HttpCall &call, const QString &id) const
{
    if (m_context->cluster)
        return m_clusterViews.close(call, id);
    if (!m_context->hub->closeConnectionWithCode(parseConnectionId(id), 4000))
        return notFoundConnection(id);
    qCInfo(lcHttp).noquote() << "close connection" << id << "by" << call.remote;
    return HttpReply::json(QByteArrayLiteral(R"({"closed":true})"));
}

HttpReply RestApi::sendToConnection(const HttpCall &call, const QString &id) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    FieldReader f(*body);
    const QString text = f.text(u"text");
    if (!f.ok())
        return HttpReply::error(f.commandError());
    if (m_context->cluster)
        return m_clusterViews.send(call, id, text);
    if (!m_context->hub->sendRaw(parseConnectionId(id), text.toUtf8()))
        return notFoundConnection(id);
    return HttpReply::json(QByteArrayLiteral(R"({"sent":true})"));
}

HttpReply RestApi::listRooms(const HttpCall &call) const
{
    if (m_context->cluster)
        return m_clusterViews.rooms(call);
    return HttpReply::json(compactJson(roomsJson(m_context->hub->rooms())));
}

HttpReply RestApi::getRoom(const HttpCall &call, const QString &room) const
{
    if (m_context->cluster)
        return m_clusterViews.room(call, room);
    const QList<RoomMember> members = m_context->hub->roomMembers(room);
    if (members.isEmpty())
        return HttpReply::error(404, u"not_found",
                                QStringLiteral("room '%1' has no members").arg(room.left(200)));
    QJsonArray array;
    for (const RoomMember &m : members) {
        array.append(QJsonObject{{QStringLiteral("connection"), connectionIdText(m.id)},
                                 {QStringLiteral("user"), m.user},
                                 {QStringLiteral("session"), m.session},
                                 {QStringLiteral("since"), double(m.sinceMs)}});
    }
    return HttpReply::json(compactJson(
            QJsonObject{{QStringLiteral("room"), room}, {QStringLiteral("members"), array}}));
}

HttpReply RestApi::log(const HttpCall &call) const
{
    const QUrlQuery query(call.request.url());
    LogQuery q;
    auto text = [&](const QString &key) {
        return query.hasQueryItem(key) ? query.queryItemValue(key, QUrl::FullyDecoded) : QString();
    };
    q.room = text(QStringLiteral("room"));
    q.user = text(QStringLiteral("user"));
    q.event = text(QStringLiteral("event"));
    // Ids and limit: decimal digits only, named in the error when they are anything else.
    QString why;
    auto number = [&](const QString &key, quint64 min, std::optional<quint64> *out) {
        if (!query.hasQueryItem(key))
            return true;
        const QString value = text(key);
        bool ok = !value.isEmpty() && value.size() <= 20
                && std::all_of(value.cbegin(), value.cend(),
                               [](QChar c) { return c >= u'0' && c <= u'9'; });
        const quint64 n = ok ? value.toULongLong(&ok) : 0;
        if (!ok || n < min) {
            why = QStringLiteral("%1 must be %2 integer")
                          .arg(key, min ? u"a positive"_qs : u"a non-negative"_qs);
            return false;
        }
        *out = n;
        return true;
    };
    std::optional<quint64> limit;
    if (!number(QStringLiteral("since_id"), 0, &q.sinceId)
        || !number(QStringLiteral("before_id"), 0, &q.beforeId)
        || !number(QStringLiteral("limit"), 1, &limit))
        return HttpReply::error(400, u"bad_request", why);
    q.limit = int(qMin<quint64>(limit.value_or(100), 1000));
    if (!m_context->log)
        return HttpReply::error(503, u"unavailable", QStringLiteral("the message log is not open"));
    QString error;
    bool more = false; // cut short by the byte budget: page on with since_id / before_id
    const auto records = m_context->log->query(q, &error, &more);
    if (!records) {
        qCWarning(lcHttp).noquote() << "log query failed:" << error;
        return HttpReply::error(503, u"unavailable",
                                QStringLiteral("the message log could not be read; retry"));
    }
    QByteArray body = QByteArrayLiteral(R"({"records":[)");
    for (qsizetype i = 0; i < records->size(); ++i) {
        if (i)
            body += ',';
        body += recordJson(records->at(i));
    }
    body += more ? QByteArrayLiteral(R"(],"more":true})") : QByteArrayLiteral("]}");
    return HttpReply::json(body);
}

HttpReply RestApi::metrics(const HttpCall &) const
{
    HttpReply reply;
    reply.contentType = QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8");
    reply.body = m_context->metrics->render(metricsGauges(*m_context));
    return reply;
}

} // namespace sb
