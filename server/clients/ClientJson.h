#pragma once

#include "clients/OutboundClients.h"

#include <QJsonArray>
#include <QJsonObject>

namespace sb {

// A client as GET /api/clients and the admin stream show it (docs/API.md, "Outbound
// clients"): {"id", "uri", "handler" | "room" + "event", "state", "since", "received", "sent",
// "reconnects", "error"?}.
QJsonObject clientJson(const ClientInfo &client);
QJsonArray clientsJson(const QList<ClientInfo> &clients);

// What clients.json keeps of a client: {"id", "uri", "handler" | "room" + "event"}.
QJsonObject clientSpecJson(const QString &id, const ClientSpec &spec);

} // namespace sb
