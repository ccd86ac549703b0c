#pragma once

#include "base/Message.h"
#include "http/ClientsApi.h"
#include "http/HeldAnswers.h"
#include "http/HttpCall.h"
#include "http/HttpResponse.h"
#include "http/RestApi.h"
#include "http/StaticFiles.h"

#include <QHttpServerRequest>

#include <QAbstractHttpServer>
#include <QHash>
#include <QPointer>

#include <functional>

class QTcpServer;
class QWebSocket;

namespace sb {

struct ServerContext;
class StatsSampler;

// The one listener: REST, compatibility routes and WebSocket upgrades (/ws native, /admin
// reserved for the admin stream, any other path legacy). Runs on its own thread. Accepted
// WebSockets are handed on (Upgrades): clients to the I/O shards, so that idle clients cost
// REST callers nothing, observers to the admin stream.
class HttpServer final : public QAbstractHttpServer
{
    Q_OBJECT

public:
    // Where upgraded WebSockets go, called on the HTTP thread; each takes the sockets.
    struct Upgrades
    {
        // /ws and the legacy paths; tcp is the socket under the WebSocket.
        std::function<void(QWebSocket *socket, QTcpSocket *tcp, const ClientUpgrade &upgrade)>
                client;
        std::function<void(QWebSocket *socket)> admin; // /admin, the key checked
    };
    HttpServer(const ServerContext *context, const StatsSampler *stats, Upgrades upgrades,
               QObject *parent = nullptr);
    ~HttpServer() override;

    // On the HTTP thread. False with *error when it cannot listen (or load the TLS files).
    bool listen(QString *error);
    quint16 port() const;
    // Where /admin upgrades go (set after construction: the admin stream needs the server).
    void setAdminUpgrade(std::function<void(QWebSocket *socket)> admin)
    {
        m_upgrades.admin = std::move(admin);
    }
    void closeListeners();
    // Cluster: this node's answers to the other nodes' questions (any thread).
    const RestApi &rest() const { return m_rest; }
    // On the HTTP thread: the message log committed every id up to upTo. Answers waiting for
    // them leave (in order per connection).
    void logCommitted(quint64 upTo) { m_held.logCommitted(upTo); }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    enum class Auth { None, ApiKey, Compat };
    // Fields: the router decodes the body (http/RequestBody.h) before the handler runs, hands
    // it over in HttpCall::body and answers a body it cannot decode itself. None: the handler
    // reads the body itself, if any (routes that answer in their own shape).
    enum class Body { None, Fields };
    using Handler = std::function<HttpReply(const HttpCall &, const QStringList &args)>;
    struct Route
    {
        QStringList pattern; // literal segments, "*" matches one segment
        QHttpServerRequest::Methods methods;
        Auth auth;
        Body body;
        Handler handler;
        int metricsRoute = 0; // its id in Metrics (route label of the request counters)
    };

    void addRoutes();
    void addSeedAndPageRoutes();
    void addClientRoutes();
    void addRoute(const QString &path, QHttpServerRequest::Methods methods, Auth auth, Body body,
                  Handler handler);
    HttpReply dispatch(HttpCall &call);
    // The route for the call's path and method: null with *refusal (404, 405) when none.
    const Route *match(const HttpCall &call, QStringList *args, HttpReply *refusal);
    // The API key check of a route that needs one: empty when the call may go on.
    std::optional<HttpReply> authRefusal(const Route &route, const HttpCall &call) const;
    bool handleUpgrade(const QHttpServerRequest &request, QTcpSocket *socket, bool http10);
    // /websockets/v4/service/NAME and /websockets/NAME (docs/API.md, "Endpoints"): the
    // endpoint's name and the token's user in *upgrade; else a refusal (404, 401).
    std::optional<HttpReply> endpointUpgrade(const QHttpServerRequest &request,
                                             ClientUpgrade *upgrade) const;
    void takeWebSockets();
    void write(QTcpSocket *socket, const HttpReply &reply, bool close, bool headOnly = false);
    const ServerContext *m_context;
    HeldAnswers m_held;
    Upgrades m_upgrades;
    RestApi m_rest;
    CompatApi m_compat;
    ClientsApi m_clients;
    StaticFiles m_static;
    QList<Route> m_routes;
    QPointer<QTcpServer> m_listener;

    struct PendingUpgrade
    {
        QPointer<QTcpSocket> socket;
        ClientUpgrade client;
        bool admin = false; // /admin: an observer of the admin stream
    };
    QHash<QString, PendingUpgrade> m_pendingUpgrades; // by peer address:port
    bool m_answered = false;
    int m_metricsRoute = 0;      // the request being handled: its route in Metrics
    qint64 m_requestStartNs = 0; // and when its head was complete
};

} // namespace sb
