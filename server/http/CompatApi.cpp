#include "base/Logging.h"
#include "base/Names.h"
#include "base/RawJson.h"
#include "commands/BodyDecoder.h"
#include "commands/EmitService.h"
#include "commands/Validation.h"
#include "context/ServerContext.h"
#include "http/EmitAnswer.h"
#include "http/RequestBody.h"
#include "http/RestApi.h"

#include <QHttpServerRequest>

namespace sb {

namespace {

HttpReply emitForCompat(const ServerContext *context, EmitRequest &request, const HttpCall &call,
                        const char *route)
{
    request.source = EmitSource::Compat;
    request.remote = call.remote;
    return answerEmit(context, call, request, [request, route](const EmitResult &r) {
        qCInfo(lcHttp).noquote() << route << "emit" << r.id << request.to << "event"
                                 << request.event << "delivered" << r.delivered << "legacy"
                                 << r.legacyDelivered << "from" << request.remote;
        return HttpReply::json(QByteArrayLiteral(R"({"result":true})"));
    });
}

} // namespace

CompatApi::CompatApi(const ServerContext *context, const RestApi *rest)
    : m_context(context), m_rest(rest)
{ }

HttpReply CompatApi::okFalse(int status, const QString &message)
{
    return HttpReply::json(
            QByteArrayLiteral(R"({"ok":false,"message":)") + rawjson::quote(message) + '}', status);
}

HttpReply CompatApi::broadcast(const HttpCall &call) const
{
    CommandError error;
    const auto body = decodeRequestBody(call.request, &error);
    if (!body)
        return okFalse(error.status, error.message);
    const QJsonValue channel = body->value(u"channel");
    if (channel.isUndefined() || channel.isNull()
        || (channel.isString() && channel.toString().isEmpty()))
        return okFalse(400, QStringLiteral("channel is required"));
    if (!channel.isString())
        return okFalse(400, QStringLiteral("channel must be a string"));
    if (QString why; !names::checkLength(u"channel", channel.toString(), names::kRoomMax, &why))
        return okFalse(400, why);
    const QJsonValue eventName = body->value(u"eventName");
    if (eventName.isUndefined() || eventName.isNull()
        || (eventName.isString() && eventName.toString().isEmpty()))
        return okFalse(400, QStringLiteral("eventName is required"));
    if (!eventName.isString())
        return okFalse(400, QStringLiteral("eventName must be a string"));
    if (QString why;
        !names::checkLength(u"eventName", eventName.toString(), names::kEventMax, &why))
        return okFalse(400, why);

    EmitRequest request;
    request.target = EmitTarget::Room;
    request.to = channel.toString();
    request.event = eventName.toString();
    const QByteArray payload = body->rawJson(u"payload");
    request.data = payload.isEmpty() ? QByteArrayLiteral("null") : payload;
    // What the seed bridge sends: JSON.stringify({channel, eventName, payload}).
    request.legacyText = QByteArrayLiteral(R"({"channel":)") + rawjson::quote(request.to)
            + QByteArrayLiteral(R"(,"eventName":)") + rawjson::quote(request.event)
            + (payload.isEmpty() ? QByteArray() : QByteArrayLiteral(R"(,"payload":)") + payload)
            + '}';
    request.source = EmitSource::Compat;
    request.remote = call.remote;
    return answerEmit(
            m_context, call, request,
            [request](const EmitResult &r) {
                qCInfo(lcHttp).noquote()
                        << "broadcast" << r.id << "channel" << request.to << "event"
                        << request.event << "delivered" << r.delivered << "legacy"
                        << r.legacyDelivered << "from" << request.remote;
                return HttpReply::json(QByteArrayLiteral(R"({"ok":true})"));
            },
            [](const CommandError &why) { return okFalse(why.status, why.message); });
}

HttpReply CompatApi::pushLegacy(const HttpCall &call) const
{
    HttpReply error;
    // Any Content-Type or none; never form-decoded. The charset is honoured when declared.
    const auto text = decodeRequestText(call.request, &error);
    if (!text)
        return error;
    const QByteArray utf8 = text->toUtf8();
    const QByteArray pushed = rawjson::isValidValue(utf8)
            ? utf8
            : QByteArray(QByteArrayLiteral(R"({"message":)") + rawjson::quote(*text) + '}');
    EmitRequest request;
    request.target = EmitTarget::Legacy;
    request.event = QStringLiteral("websocket::message");
    request.data = rawjson::compact(pushed);
    request.legacyText = pushed;
    request.eventFrame = false;
    request.source = EmitSource::Compat;
    request.remote = call.remote;
    return answerEmit(m_context, call, request, [remote = call.remote](const EmitResult &r) {
        qCInfo(lcHttp).noquote() << "push" << r.id << "to" << r.legacyDelivered
                                 << "legacy clients from" << remote;
        return HttpReply::json(QByteArrayLiteral(R"({"message":"Send to )")
                               + QByteArray::number(r.legacyDelivered)
                               + QByteArrayLiteral(R"( clients"})"));
    });
}

HttpReply CompatApi::socketRegister(const HttpCall &call) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    FieldReader f(*body);
    const QString room = f.name(u"room", names::kRoomMax);
    const QString session = f.name(u"sessionId", names::kSessionMax);
    QString user = f.optionalName(u"username", names::kUserMax);
    if (!f.ok())
        return HttpReply::error(f.commandError());
    if (user.isNull())
        user = session;
    const RestApi::Registration r =
            m_rest->issueToken(room, user, session, m_context->config.tokenDefaultTtl, false);
    qCInfo(lcHttp).noquote() << "socket register room" << room << "user" << user << "from"
                             << call.remote;
    return HttpReply::json(QByteArrayLiteral(R"({"token":")") + r.token + QByteArrayLiteral("\"}"));
}

HttpReply CompatApi::socketEmitRoom(const HttpCall &call) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    CommandError why;
    std::optional<EmitRequest> request = EmitService::read(*body, EmitTarget::Room, u"room", &why);
    if (!request)
        return HttpReply::error(why);
    return emitForCompat(m_context, *request, call, "socket/room");
}

HttpReply CompatApi::socketEmitUser(const HttpCall &call) const
{
    const DecodedBody *body = call.body; // decoded by the router (Body::Fields)
    CommandError why;
    std::optional<EmitRequest> request =
            EmitService::read(*body, EmitTarget::User, u"username", &why);
    if (!request)
        return HttpReply::error(why);
    return emitForCompat(m_context, *request, call, "socket/user");
}

} // namespace sb
