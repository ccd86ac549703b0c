#include "clients/ClientJson.h"

namespace sb {

QJsonObject clientJson(const ClientInfo &info)
{
    QJsonObject o{{QStringLiteral("id"), info.id}, {QStringLiteral("uri"), info.spec.uri}};
    if (!info.spec.handler.isEmpty()) {
        o.insert(QStringLiteral("handler"), info.spec.handler);
    } else {
        o.insert(QStringLiteral("room"), info.spec.room);
        o.insert(QStringLiteral("event"), info.spec.event);
    }
    o.insert(QStringLiteral("state"), ClientInfo::stateName(info.state));
    o.insert(QStringLiteral("since"), double(info.sinceMs));
    o.insert(QStringLiteral("received"), double(info.received));
    o.insert(QStringLiteral("sent"), double(info.sent));
    o.insert(QStringLiteral("reconnects"), double(info.reconnects));
    if (!info.lastError.isNull())
        o.insert(QStringLiteral("error"), info.lastError);
    return o;
}

QJsonArray clientsJson(const QList<ClientInfo> &clients)
{
    QJsonArray out;
    for (const ClientInfo &c : clients)
        out.append(clientJson(c));
    return out;
}

} // namespace sb
