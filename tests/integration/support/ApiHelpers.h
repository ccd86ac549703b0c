#pragma once

// Shortcuts used by several test files: register a token, open and join a /ws client, find
// a client's connection id, read stats.

#include "HttpClient.h"
#include "ServerProcess.h"
#include "WsClient.h"

#include <QJsonObject>
#include <QString>

#include <memory>

namespace sbit {

// POST /api/register; returns the token (empty on failure; *response gets the answer).
QByteArray registerToken(HttpClient &api, const QString &room, const QString &user,
                         const QString &session, const QJsonObject &extra = {},
                         HttpResponse *response = nullptr);

// Opens ws://.../ws and joins room with a fresh token for (user, session). Null on failure,
// with *why set.
std::unique_ptr<WsClient> openJoined(const ServerProcess &server, HttpClient &api,
                                     const QString &room, const QString &user,
                                     const QString &session, bool publish = false,
                                     QString *why = nullptr);

// Finds the connection id of the /ws connection whose remote port is localPort.
QString connectionIdForPort(HttpClient &api, quint16 localPort);

// GET /api/stats as an object (empty on failure).
QJsonObject stats(HttpClient &api);

// The counters of stats that a rejected call must not change.
QJsonObject stableStats(const QJsonObject &stats);

// Emits a "flush" event to room and waits until member has seen it, then clears member's
// queue: whatever an earlier (failed) case delivered cannot leak into the next one.
bool flushMember(HttpClient &api, WsClient &member, const QString &room);

// Compact JSON text of an object.
QByteArray json(const QJsonObject &o);

} // namespace sbit
