#pragma once

// Shortcuts used by several test files: register a token, open and join a /ws client, find
// a client's connection id, read stats.

#include "HttpClient.h"
#include "ServerProcess.h"
#include "WsClient.h"

#include <QJsonObject>
#include <QString>
#include <QTcpSocket>

#include <functional>
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

// Opens a raw WebSocket (one that can stop reading) at /ws and joins room with a fresh token
// for (user, session). False on failure, with *why set.
bool openRawJoined(RawWsClient &client, const ServerProcess &server, HttpClient &api,
                   const QString &room, const QString &user, const QString &session, QString *why);

// Finds the connection id of the /ws connection whose remote port is localPort.
QString connectionIdForPort(HttpClient &api, quint16 localPort);

// GET /api/stats as an object (empty on failure).
QJsonObject stats(HttpClient &api);

// The counters of stats that a rejected call must not change.
QJsonObject stableStats(const QJsonObject &stats);

// Emits a "flush" event to room and waits until member has seen it, then clears member's
// queue: whatever an earlier (failed) case delivered cannot leak into the next one.
bool flushMember(HttpClient &api, WsClient &member, const QString &room);

// Emits a "sentinel" event to room and checks that it is the next event member sees: nothing
// else was delivered to member before it.
bool nextEventIsSentinel(HttpClient &api, WsClient &member, const QString &room);

// Raw HTTP for the database caller shapes: a request head (Host and X-API-Key of server, then
// `extra` header lines) without its blank line, and a whole request with a JSON body.
QByteArray rawHead(const ServerProcess &server, const QByteArray &method, const QByteArray &path,
                   const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {});
QByteArray rawRequest(const ServerProcess &server, const QByteArray &method, const QByteArray &path,
                      const QByteArray &body, const QByteArray &version = "HTTP/1.1",
                      const QByteArray &extra = {});

// Compact JSON text of an object.
QByteArray json(const QJsonObject &o);

// The value of the sample `line` (a metric name with its labels, as /metrics prints it) in
// GET /metrics; -1 when absent.
double metricValue(HttpClient &api, const QByteArray &line);

// POST /api/emit/room of event to room; the answer's delivered count (-1 when it failed).
int emitToRoom(HttpClient &api, const QString &room, const QString &event);

// POST /api/emit/room of event to room whose data is the JSON text `data`, sent as written
// (numbers no double holds, 1.0 stays 1.0). room and event go in as they are, unescaped.
HttpResponse emitRawData(HttpClient &api, const QString &room, const QString &event,
                         const QByteArray &data);

// POST / (the legacy push) of a JSON body; the answer's message ("Send to N clients").
QString legacyPush(HttpClient &api, const QByteArray &json);

// True when GET /api/connections?user=... lists a connection of user.
bool userListed(HttpClient &api, const QString &user);

// One raw keep-alive connection that sends emits pipelined, in batches, and reads the answers
// (a non-200 answer is printed as a warning).
class PipelinedEmitter
{
public:
    bool connectTo(const ServerProcess &server);
    // Writes `request` `count` times at once and waits until all are answered; onPoll runs at
    // every wake. False when they are not all answered within timeoutMs.
    bool sendBatch(const QByteArray &request, int count, int timeoutMs = 10000,
                   const std::function<void()> &onPoll = {});

private:
    QTcpSocket m_socket;
    HttpResponseParser m_parser;
};

// A room "slow" with two members, `good` (a WsClient that reads) and `slow` (a raw client
// that stopped reading), and `rest`, a connection to flood the room with 10 KB events
// (`flood` is the request of one).
struct SlowRoom
{
    std::unique_ptr<HttpClient> api;
    std::unique_ptr<WsClient> good;
    RawWsClient slow;
    PipelinedEmitter rest;
    QByteArray flood;
    bool slowListed() { return userListed(*api, QStringLiteral("slowuser")); }
};

// Starts a daemon into *server with --max-queue-bytes 65536 and extraArgs, and opens the slow
// room on it. False on failure, with *why set.
bool startSlowRoom(std::unique_ptr<ServerProcess> &server, const QStringList &extraArgs,
                   SlowRoom *room, QString *why);

} // namespace sbit
