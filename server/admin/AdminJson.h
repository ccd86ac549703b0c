#pragma once

#include "hub/Hub.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>

namespace sb {

// The shapes that GET /api/connections, /api/rooms and the admin stream share.
QJsonObject connectionJson(const ConnectionSnapshot &c);
QJsonArray roomsJson(const QList<RoomSummary> &rooms);
QByteArray compactJson(const QJsonObject &object);
QByteArray compactJson(const QJsonArray &array);

} // namespace sb
