// The endpoints' side of HTTP (docs/API.md, "Endpoints"): the upgrade of a session at
// /websockets/v4/service/NAME or /websockets/NAME, and GET/POST/DELETE /api/endpoints.
#include "auth/TokenService.h"
#include "commands/BodyDecoder.h"
#include "context/ServerContext.h"
#include "endpoints/EndpointHost.h"
#include "endpoints/EndpointJson.h"
#include "http/HttpServer.h"
#include "http/RestApi.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QUrlQuery>

namespace sb {

std::optional<HttpReply> HttpServer::endpointUpgrade(const QHttpServerRequest &request,
                                                     ClientUpgrade *upgrade) const
{
    QStringList segments;
    for (const QString &s : request.url().path(QUrl::FullyEncoded).split(u'/', Qt::SkipEmptyParts))
        segments << QUrl::fromPercentEncoding(s.toUtf8());
    // websockets/v4/service/NAME or websockets/NAME
    QString name;
    if (segments.size() == 4 && segments[1] == u"v4" && segments[2] == u"service")
        name = segments[3];
    else if (segments.size() == 2)
        name = segments[1];
    const std::optional<EndpointInfo> endpoint =
            name.isEmpty() ? std::nullopt : m_context->endpoints->find(name);
    if (!endpoint)
        return HttpReply::error(404, u"not_found",
                                QStringLiteral("no endpoint named '%1' (the path is "
                                               "/websockets/v4/service/NAME or /websockets/NAME)")
                                        .arg(name.left(100)));
    upgrade->endpoint = endpoint->name;
    if (!endpoint->tokenAuth)
        return std::nullopt;
    const QUrlQuery query(request.url());
    const QByteArray token =
            query.queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded).toUtf8();
    if (token.isEmpty())
        return HttpReply::error(
                401, u"unauthorized",
                QStringLiteral("endpoint %1 needs a token (?token=)").arg(endpoint->name));
    const TokenCheck check = m_context->tokens->verify(token, QDateTime::currentSecsSinceEpoch());
    if (!check.ok())
        return HttpReply::error(401, u"unauthorized", QString(u"token: " + check.message));
    upgrade->user = check.claims.user;
    return std::nullopt;
}

HttpReply RestApi::listEndpoints(const HttpCall &) const
{
    return HttpReply::json(QJsonDocument(endpointsJson(m_context->endpoints->list()))
                                   .toJson(QJsonDocument::Compact));
}

HttpReply RestApi::createEndpoint(const HttpCall &call) const
{
    QJsonObject descriptor;
    for (const char *field : {"endpoint", "handler", "description", "auth"}) {
        const QString key = QString::fromLatin1(field);
        if (call.body->has(key))
            descriptor.insert(key, call.body->value(key));
    }
    CommandError error;
    const std::optional<EndpointInfo> info = m_context->endpoints->create(descriptor, &error);
    if (!info)
        return HttpReply::error(error);
    return HttpReply::json(QJsonDocument(endpointJson(*info)).toJson(QJsonDocument::Compact), 201);
}

HttpReply RestApi::deleteEndpoint(const HttpCall &, const QString &name) const
{
    CommandError error;
    if (!m_context->endpoints->remove(name, &error))
        return HttpReply::error(error);
    return HttpReply::json(QJsonDocument(QJsonObject{{QStringLiteral("deleted"), name}})
                                   .toJson(QJsonDocument::Compact));
}

} // namespace sb
