#pragma once

#include "clients/OutboundClients.h"

#include <QJsonArray>
#include <QJsonObject>

namespace sb {

// A client as /api/clients and the admin stream show it (docs/API.md, "Outbound clients").
QJsonObject clientJson(const ClientInfo &info);
QJsonArray clientsJson(const QList<ClientInfo> &clients);

} // namespace sb
