#include "http/ClientsApi.h"

#include "admin/AdminJson.h"
#include "base/Logging.h"
#include "clients/ClientJson.h"
#include "clients/OutboundClients.h"
#include "commands/BodyDecoder.h"
#include "commands/Validation.h"
#include "context/ServerContext.h"

namespace sb {

namespace {

HttpReply notFound(const QString &id)
{
    return HttpReply::error(404, u"not_found",
                            QStringLiteral("client '%1' does not exist").arg(id.left(100)));
}

// An optional string field: null when absent (or JSON null); a present one must be a
// non-empty string.
bool optionalText(const DecodedBody &body, QStringView key, QString *out, CommandError *error)
{
    const QJsonValue v = body.value(key);
    if (v.isUndefined() || v.isNull())
        return true;
    if (!v.isString() || v.toString().isEmpty()) {
        *error = CommandError{400, QStringLiteral("bad_request"),
                              QStringLiteral("%1 must be a non-empty string").arg(key)};
        return false;
    }
    *out = v.toString();
    return true;
}

} // namespace

HttpReply ClientsApi::create(const HttpCall &call) const
{
    const DecodedBody &body = *call.body; // decoded by the router (Body::Fields)
    ClientSpec spec;
    CommandError error;
    const QJsonValue uri = body.value(u"uri");
    if (uri.isUndefined() || uri.isNull())
        return HttpReply::error(400, u"bad_request", u"uri is required");
    if (!uri.isString())
        return HttpReply::error(400, u"bad_request", u"uri must be a string");
    spec.uri = uri.toString();
    if (!optionalText(body, u"handler", &spec.handler, &error)
        || !optionalText(body, u"room", &spec.room, &error)
        || !optionalText(body, u"event", &spec.event, &error))
        return HttpReply::error(error);
    const std::optional<ClientInfo> client = m_context->clients->create(spec, &error);
    if (!client)
        return HttpReply::error(error);
    qCInfo(lcHttp).noquote() << "client" << client->id << "created by" << call.remote;
    return HttpReply::json(compactJson(clientJson(*client)), 201);
}

HttpReply ClientsApi::list(const HttpCall &) const
{
    return HttpReply::json(compactJson(clientsJson(m_context->clients->list())));
}

HttpReply ClientsApi::get(const HttpCall &, const QString &id) const
{
    const std::optional<ClientInfo> client = m_context->clients->get(id);
    if (!client)
        return notFound(id);
    return HttpReply::json(compactJson(clientJson(*client)));
}

HttpReply ClientsApi::remove(const HttpCall &call, const QString &id) const
{
    if (!m_context->clients->remove(id))
        return notFound(id);
    qCInfo(lcHttp).noquote() << "client" << id << "deleted by" << call.remote;
    return HttpReply::json(QByteArrayLiteral(R"({"closed":true})"));
}

HttpReply ClientsApi::send(const HttpCall &call, const QString &id) const
{
    FieldReader f(*call.body);
    const QString text = f.text(u"text");
    if (!f.ok())
        return HttpReply::error(f.commandError());
    CommandError error;
    if (!m_context->clients->send(id, text, &error))
        return HttpReply::error(error);
    return HttpReply::json(QByteArrayLiteral(R"({"sent":true})"));
}

} // namespace sb
