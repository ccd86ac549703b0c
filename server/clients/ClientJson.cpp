#include "clients/ClientJson.h"

namespace sb {

QJsonObject clientSpecJson(const QString &id, const ClientSpec &spec)
{
    QJsonObject o{{QStringLiteral("id"), id}, {QStringLiteral("uri"), spec.uri}};
    if (!spec.handler.isEmpty()) {
        o.insert(QStringLiteral("handler"), spec.handler);
    } else {
        o.insert(QStringLiteral("room"), spec.room);
        o.insert(QStringLiteral("event"), spec.event);
    }
    return o;
}

QJsonObject clientJson(const ClientInfo &client)
{
    QJsonObject o = clientSpecJson(client.id, client.spec);
    o.insert(QStringLiteral("state"), ClientInfo::stateName(client.state));
    o.insert(QStringLiteral("since"), double(client.sinceMs));
    o.insert(QStringLiteral("received"), double(client.received));
    o.insert(QStringLiteral("sent"), double(client.sent));
    o.insert(QStringLiteral("reconnects"), double(client.reconnects));
    if (!client.lastError.isNull())
        o.insert(QStringLiteral("error"), client.lastError);
    return o;
}

QJsonArray clientsJson(const QList<ClientInfo> &clients)
{
    QJsonArray array;
    for (const ClientInfo &client : clients)
        array.append(clientJson(client));
    return array;
}

} // namespace sb
