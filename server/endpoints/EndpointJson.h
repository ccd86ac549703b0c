#pragma once

#include "endpoints/EndpointHost.h"

#include <QJsonArray>
#include <QJsonObject>

namespace sb {

// An endpoint as GET /api/endpoints and the admin stream show it (docs/API.md, "Endpoints"):
// {"endpoint", "handler", "description", "file", "auth", "sessions", "error"?, "last_error"?,
// "calls", "failures"}.
QJsonObject endpointJson(const EndpointInfo &info);
QJsonArray endpointsJson(const QList<EndpointInfo> &endpoints);

} // namespace sb
