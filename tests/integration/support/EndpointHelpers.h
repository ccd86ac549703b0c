#pragma once

// Shortcuts for the endpoint tests (docs/API.md, "Endpoints"): descriptors on disk, the
// entries of GET /api/endpoints, sessions at /websockets/..., the events a handler gets.

#include "HttpClient.h"
#include "ServerProcess.h"
#include "WsClient.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <memory>

namespace sbit {

// Where the daemon reads descriptors: its default endpoints_dir, <data_dir>/endpoints.
QString endpointsDir(const ServerProcess &server);

// {"endpoint": name, "handler": handler[, "auth": auth]}.
QJsonObject descriptor(const QString &name, const QString &handler, const QString &auth = {});

// Writes content to dir/relativePath, creating folders; false on failure.
bool writeFile(const QString &dir, const QString &relativePath, const QByteArray &content);
bool writeDescriptor(const QString &dir, const QString &relativePath, const QJsonObject &d);

// The entry of GET /api/endpoints whose "file" is file (empty object when none).
QJsonObject entryOfFile(HttpClient &api, const QString &file);
// The entry in service (no "error") named name (empty object when none).
QJsonObject entryOf(HttpClient &api, const QString &name);
// Waits until name is in service with this handler (any handler when empty).
bool waitForEndpoint(HttpClient &api, const QString &name, const QString &handler = {},
                     int timeoutMs = 3000);

// Opens a session at path (e.g. "/websockets/NAME"); null on failure with *why.
std::unique_ptr<WsClient> openSession(const ServerProcess &server, const QString &pathAndQuery,
                                      QString *why);
// The session's id, from GET /api/connections (its remote port).
QString sessionIdOf(HttpClient &api, const WsClient &session);
// The status of an upgrade at pathAndQuery (101, 401, 404...; 0 without an answer).
int upgradeStatus(const ServerProcess &server, const QByteArray &pathAndQuery);

// The body a handler receives for an event, as the contract writes it (null where absent).
QJsonObject handlerEvent(const QString &method, const QString &endpoint, const QString &session,
                         const QJsonValue &user = QJsonValue::Null,
                         const QJsonValue &message = QJsonValue::Null,
                         const QJsonValue &error = QJsonValue::Null);

// The next n text frames of client (fewer on timeout).
QStringList nextTexts(WsClient &client, int n, int timeoutMs = 5000);

// The records of GET /api/log?event=event, once there is one at least (empty after timeoutMs).
QJsonArray logRecordsOf(HttpClient &api, const QString &event, int timeoutMs = 3000);

// A handler's answer {"send": texts} as JSON text.
QByteArray sendAnswer(const QStringList &texts);

} // namespace sbit
