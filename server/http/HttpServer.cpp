#include "http/HttpServer.h"

#include "admin/StatsSampler.h"
#include "base/Logging.h"
#include "context/ServerContext.h"
#include "http/KeylessCheck.h"
#include "http/ListenServers.h"
#include "http/RequestBody.h"
#include "http/RequestGuard.h"
#include "http/RequestKey.h"
#include "http/TlsConfig.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"

#include <QTcpSocket>
#include <QWebSocket>

namespace sb {

namespace {

using Method = QHttpServerRequest::Method;

QString peerKey(const QHostAddress &address, quint16 port)
{
    return address.toString() + u'|' + QString::number(port);
}

QString remoteOf(const QTcpSocket *socket)
{
    QHostAddress address = socket->peerAddress();
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        address = QHostAddress(v4);
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
            ? u'[' + address.toString() + u']'
            : address.toString();
    return host + u':' + QString::number(socket->peerPort());
}

QByteArray allowHeader(QHttpServerRequest::Methods methods)
{
    QByteArrayList names;
    if (methods & Method::Get)
        names << "GET"
              << "HEAD";
    if (methods & Method::Post)
        names << "POST";
    if (methods & Method::Put)
        names << "PUT";
    if (methods & Method::Delete)
        names << "DELETE";
    return names.join(", ");
}

} // namespace

HttpServer::HttpServer(const ServerContext *context, const StatsSampler *stats, Upgrades upgrades,
                       QObject *parent)
    : QAbstractHttpServer(parent),
      m_context(context),
      m_held(this, context),
      m_upgrades(std::move(upgrades)),
      m_rest(context, stats),
      m_compat(context, &m_rest),
      m_clients(context)
{
    addRoutes();
    connect(this, &QAbstractHttpServer::newWebSocketConnection, this, &HttpServer::takeWebSockets);
}

HttpServer::~HttpServer() = default;

bool HttpServer::listen(QString *error)
{
    const ServerConfig &config = m_context->config;
    QTcpServer *server = nullptr;
    if (config.tlsEnabled()) {
        const std::optional<QSslConfiguration> ssl = loadTlsConfiguration(config, error);
        if (!ssl)
            return false;
        auto *sslServer = new GuardedSslServer(&config, this, m_context->metrics);
        sslServer->setSslConfiguration(*ssl);
        server = sslServer;
    } else {
        server = new GuardedTcpServer(&config, this, m_context->metrics);
    }
    if (!server->listen(config.listenAddress, config.listenPort)) {
        if (error)
            *error = QStringLiteral("cannot listen on %1: %2")
                             .arg(config.listen, server->errorString());
        delete server;
        return false;
    }
    m_listener = server;
    bind(server);
    return true;
}

quint16 HttpServer::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

void HttpServer::closeListeners()
{
    if (m_listener)
        m_listener->close();
}

void HttpServer::addRoute(const QString &path, QHttpServerRequest::Methods methods, Auth auth,
                          Body body, Handler handler)
{
    m_routes.append(Route{path.split(u'/', Qt::SkipEmptyParts), methods, auth, body,
                          std::move(handler), m_context->metrics->addRoute(path)});
}

void HttpServer::addRoutes()
{
    const auto Get = QHttpServerRequest::Methods(Method::Get) | Method::Head;
    const QHttpServerRequest::Methods Post(Method::Post);
    const QHttpServerRequest::Methods Delete(Method::Delete);
    const Body NoBody = Body::None;
    const Body Fields = Body::Fields; // decoded by dispatch(), handed over in HttpCall::body
    RestApi *rest = &m_rest;

    addRoute(QStringLiteral("/api/health"), Get, Auth::None, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->health(c); });
    addRoute(QStringLiteral("/api/health/live"), Get, Auth::None, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->healthLive(c); });
    addRoute(QStringLiteral("/api/nodes"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->nodes(c); });
    addRoute(QStringLiteral("/api/stats"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->stats(c); });
    addRoute(QStringLiteral("/api/register"), Post, Auth::ApiKey, Fields,
             [rest](const HttpCall &c, const QStringList &) { return rest->registerToken(c); });
    addRoute(QStringLiteral("/api/unregister"), Post, Auth::ApiKey, Fields,
             [rest](const HttpCall &c, const QStringList &) { return rest->unregister(c); });
    for (const char *target : {"room", "user", "all", "connection"}) {
        const QString t = QString::fromLatin1(target);
        addRoute(QStringLiteral("/api/emit/") + t, Post, Auth::ApiKey, Fields,
                 [rest, t](const HttpCall &c, const QStringList &) { return rest->emitTo(c, t); });
    }
    addRoute(QStringLiteral("/api/connections"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->listConnections(c); });
    addRoute(QStringLiteral("/api/connections/*"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->getConnection(c, a[0]);
             });
    addRoute(QStringLiteral("/api/connections/*"), Delete, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->deleteConnection(c, a[0]);
             });
    addRoute(QStringLiteral("/api/connections/*/send"), Post, Auth::ApiKey, Fields,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->sendToConnection(c, a[0]);
             });
    addRoute(QStringLiteral("/api/log"), Get, Auth::ApiKey, NoBody,
             [this](const HttpCall &call, const QStringList &) { return m_rest.log(call); });
    addRoute(QStringLiteral("/api/rooms"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->listRooms(c); });
    addRoute(QStringLiteral("/api/rooms/*"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &a) { return rest->getRoom(c, a[0]); });
    addRoute(QStringLiteral("/api/endpoints"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->listEndpoints(c); });
    addRoute(QStringLiteral("/api/endpoints"), Post, Auth::ApiKey, Fields,
             [rest](const HttpCall &c, const QStringList &) { return rest->createEndpoint(c); });
    addRoute(QStringLiteral("/api/endpoints/*"), Delete, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->deleteEndpoint(c, a[0]);
             });
    addRoute(QStringLiteral("/metrics"), Get, Auth::ApiKey, NoBody,
             [rest](const HttpCall &c, const QStringList &) { return rest->metrics(c); });
    addClientRoutes();
    addSeedAndPageRoutes();
}

// Outbound clients (docs/API.md, "Outbound clients").
void HttpServer::addClientRoutes()
{
    const auto Get = QHttpServerRequest::Methods(Method::Get) | Method::Head;
    const QHttpServerRequest::Methods Post(Method::Post);
    const QHttpServerRequest::Methods Delete(Method::Delete);
    const ClientsApi *clients = &m_clients;
    addRoute(QStringLiteral("/api/clients"), Get, Auth::ApiKey, Body::None,
             [clients](const HttpCall &c, const QStringList &) { return clients->list(c); });
    addRoute(QStringLiteral("/api/clients"), Post, Auth::ApiKey, Body::Fields,
             [clients](const HttpCall &c, const QStringList &) { return clients->create(c); });
    addRoute(QStringLiteral("/api/clients/*"), Get, Auth::ApiKey, Body::None,
             [clients](const HttpCall &c, const QStringList &a) { return clients->get(c, a[0]); });
    addRoute(QStringLiteral("/api/clients/*"), Delete, Auth::ApiKey, Body::None,
             [clients](const HttpCall &c, const QStringList &a) {
                 return clients->remove(c, a[0]);
             });
    addRoute(QStringLiteral("/api/clients/*/send"), Post, Auth::ApiKey, Body::Fields,
             [clients](const HttpCall &c, const QStringList &a) { return clients->send(c, a[0]); });
}

// After the REST routes, in this order: the drop-in routes of the seed bridges and the pages.
void HttpServer::addSeedAndPageRoutes()
{
    const auto Get = QHttpServerRequest::Methods(Method::Get) | Method::Head;
    const QHttpServerRequest::Methods Post(Method::Post);
    const QHttpServerRequest::Methods Put(Method::Put);
    const Body NoBody = Body::None;
    const Body Fields = Body::Fields;
    CompatApi *compat = &m_compat;

    // Drop-in routes of the seed bridges. /api/broadcast answers a body it cannot decode in
    // its own shape ({"ok":false}) and POST / reads text, not fields: both decode themselves.
    addRoute(QStringLiteral("/api/broadcast"), Post, Auth::Compat, NoBody,
             [compat](const HttpCall &c, const QStringList &) { return compat->broadcast(c); });
    addRoute(QStringLiteral("/"), Post, Auth::Compat, NoBody,
             [compat](const HttpCall &c, const QStringList &) { return compat->pushLegacy(c); });
    // Pages and scripts (docs/API.md, "Pages and the browser client"): no key needed.
    const StaticFiles *files = &m_static;
    for (const char *path : {"/", "/switchboard.js", "/switchboard.mjs", "/switchboard.d.ts"}) {
        const QString p = QString::fromLatin1(path);
        addRoute(p, Get, Auth::None, NoBody, [files, p](const HttpCall &c, const QStringList &) {
            return files->get(c.request, p);
        });
    }
    addRoute(QStringLiteral("/examples"), Get, Auth::None, NoBody,
             [files](const HttpCall &c, const QStringList &) {
                 return files->get(c.request, QStringLiteral("/examples/"));
             });
    for (const char *folder : {"examples", "assets"}) {
        const QString prefix = u'/' + QString::fromLatin1(folder) + u'/';
        addRoute(prefix + u'*', Get, Auth::None, NoBody,
                 [files, prefix](const HttpCall &c, const QStringList &a) {
                     return files->get(c.request, prefix + a[0]);
                 });
    }
    addRoute(
            QStringLiteral("/socket"), Post, Auth::Compat, Fields,
            [compat](const HttpCall &c, const QStringList &) { return compat->socketRegister(c); });
    addRoute(
            QStringLiteral("/socket/room"), Put, Auth::Compat, Fields,
            [compat](const HttpCall &c, const QStringList &) { return compat->socketEmitRoom(c); });
    addRoute(
            QStringLiteral("/socket/user"), Put, Auth::Compat, Fields,
            [compat](const HttpCall &c, const QStringList &) { return compat->socketEmitUser(c); });
}

namespace {

bool isBroadcast(const HttpCall &call)
{
    return call.segments == QStringList{QStringLiteral("api"), QStringLiteral("broadcast")};
}

} // namespace

const HttpServer::Route *HttpServer::match(const HttpCall &call, QStringList *args,
                                           HttpReply *refusal)
{
    const Method method = call.request.method();
    QHttpServerRequest::Methods allowed;
    for (const Route &route : std::as_const(m_routes)) {
        if (route.pattern.size() != call.segments.size())
            continue;
        QStringList captured;
        bool same = true;
        for (qsizetype i = 0; i < route.pattern.size() && same; ++i) {
            if (route.pattern[i] == u"*")
                captured << call.segments[i];
            else
                same = route.pattern[i] == call.segments[i];
        }
        if (!same)
            continue;
        if (!allowed)
            m_metricsRoute = route.metricsRoute; // the first route of this path
        allowed |= route.methods;
        if (route.methods.testFlag(method)) {
            *args = captured;
            return &route;
        }
    }
    if (!allowed) {
        *refusal = HttpReply::error(
                404, u"not_found",
                QStringLiteral("no route for %1")
                        .arg(call.request.url().path(QUrl::FullyEncoded).left(200)));
        return nullptr;
    }
    *refusal = isBroadcast(call)
            ? CompatApi::okFalse(405, QStringLiteral("method not allowed; use POST"))
            : HttpReply::error(405, u"method_not_allowed",
                               QStringLiteral("method not allowed here; allowed: %1")
                                       .arg(QString::fromLatin1(allowHeader(allowed))));
    refusal->headers.append({QByteArrayLiteral("Allow"), allowHeader(allowed)});
    return nullptr;
}

std::optional<HttpReply> HttpServer::authRefusal(const Route &route, const HttpCall &call) const
{
    if (route.auth == Auth::None)
        return std::nullopt;
    const bool keyOk =
            m_context->apiKey.isConfigured() && requestHasApiKey(m_context->apiKey, call.request);
    const bool keyless = !keyOk
            && (m_context->config.insecure
                || (route.auth == Auth::Compat && m_context->config.isTrusted(call.peer)));
    if (keyless) {
        // Let in without a key: only when no browser page can have sent it.
        QString why;
        if (keylessCallAllowed(m_context->config, call, &why))
            return std::nullopt;
        qCInfo(lcHttp).noquote() << "keyless call refused from" << call.remote << why;
        return isBroadcast(call) ? CompatApi::okFalse(403, why)
                                 : HttpReply::error(403, u"forbidden", why);
    }
    if (keyOk)
        return std::nullopt;
    const QString message = QStringLiteral("missing or wrong API key: send X-API-Key, "
                                           "Authorization: Bearer, or Basic with "
                                           "the key as password");
    HttpReply reply = isBroadcast(call) ? CompatApi::okFalse(401, message)
                                        : HttpReply::error(401, u"unauthorized", message);
    reply.headers.append({QByteArrayLiteral("WWW-Authenticate"),
                          QByteArrayLiteral(R"(Basic realm="switchboard")")});
    return reply;
}

HttpReply HttpServer::dispatch(HttpCall &call)
{
    QStringList args;
    HttpReply refusal;
    const Route *route = match(call, &args, &refusal);
    if (!route)
        return refusal;
    if (std::optional<HttpReply> refused = authRefusal(*route, call))
        return std::move(*refused);
    if (route->body == Body::None)
        return route->handler(call, args);
    // Decoded once here for every route that takes fields (docs/API.md, "Request bodies").
    const std::optional<DecodedBody> body = decodeRequestBody(call.request, &refusal);
    if (!body)
        return refusal;
    call.body = &*body;
    HttpReply reply = route->handler(call, args);
    call.body = nullptr;
    return reply;
}

bool HttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    m_answered = false;
    RequestGuard *guard = RequestGuard::of(socket);
    const RequestGuard::RequestMeta meta = guard ? guard->takeMeta() : RequestGuard::RequestMeta{};
    m_requestStartNs = meta.headNs ? meta.headNs : Metrics::nowNs();
    m_metricsRoute = Metrics::kRouteOther;

    if (request.value(QByteArrayLiteral("upgrade")).toLower() == "websocket"
        && request.value(QByteArrayLiteral("connection")).toLower().contains("upgrade")) {
        m_metricsRoute = Metrics::upgradeRoute(request.url().path(QUrl::FullyEncoded));
        const bool accepted = handleUpgrade(request, socket, meta.http10);
        if (accepted)
            m_context->metrics->countHttp(m_metricsRoute, 101, m_requestStartNs);
        if (accepted && guard)
            guard->release();
        return accepted;
    }

    const QString encodedPath = request.url().path(QUrl::FullyEncoded);
    QStringList segments;
    for (const QString &segment : encodedPath.split(u'/', Qt::SkipEmptyParts))
        segments << QUrl::fromPercentEncoding(segment.toUtf8());
    HttpCall call{request, socket, segments, socket->peerAddress(), remoteOf(socket), this};
    const HttpReply reply = dispatch(call);
    qCDebug(lcHttp).noquote() << call.remote << request.method() << encodedPath << reply.status;
    write(socket, reply, meta.closeAfter, request.method() == Method::Head);
    return true;
}

void HttpServer::write(QTcpSocket *socket, const HttpReply &reply, bool close, bool headOnly)
{
    if (reply.deferred) {
        // Its place in the connection's answer order is kept; the answer comes on this thread.
        const quint64 token = m_held.hold(
                socket, HeldAnswers::Answer{{}, 0, close, m_metricsRoute, 0, m_requestStartNs});
        QPointer<QTcpSocket> target(socket);
        reply.deferred([this, target, token, close, headOnly](HttpReply answer) {
            if (target)
                m_held.complete(target, token, answer.serialize(close, headOnly),
                                answer.waitForLogId, answer.status);
        });
        return;
    }
    m_held.write(socket,
                 HeldAnswers::Answer{reply.serialize(close, headOnly), reply.waitForLogId, close,
                                     m_metricsRoute, reply.status, m_requestStartNs});
}

bool HttpServer::handleUpgrade(const QHttpServerRequest &request, QTcpSocket *socket, bool http10)
{
    const QString path = request.url().path(QUrl::FullyEncoded);
    auto refuse = [&](int status, QStringView code, const QString &message) {
        qCInfo(lcWs).noquote() << "upgrade refused" << status << path.left(100) << "from"
                               << remoteOf(socket) << message;
        write(socket, HttpReply::error(status, code, message), true);
        m_answered = true;
        return false;
    };
    // What QWebSocketServer would refuse without an answer gets a 400 naming the problem.
    if (request.method() != Method::Get)
        return refuse(400, u"bad_request", QStringLiteral("a WebSocket upgrade must use GET"));
    if (request.value(QByteArrayLiteral("sec-websocket-key")).trimmed().isEmpty())
        return refuse(400, u"bad_request",
                      QStringLiteral("Sec-WebSocket-Key header is missing from the upgrade"));
    if (request.value(QByteArrayLiteral("sec-websocket-version")).trimmed() != "13")
        return refuse(400, u"bad_request", QStringLiteral("Sec-WebSocket-Version must be 13"));
    if (http10)
        return refuse(400, u"bad_request", QStringLiteral("a WebSocket upgrade needs HTTP/1.1"));
    // Qt's WebSocket would read frames sent with the handshake before anything can receive
    // them (they would be lost); RFC 6455 4.1 has the client wait for the 101 first.
    if (socket->bytesAvailable() > 0)
        return refuse(400, u"bad_request",
                      QStringLiteral("data was sent after the upgrade request before the "
                                     "handshake answer; wait for 101 Switching Protocols"));
    const bool admin = path == u"/admin";
    if (admin && m_context->apiKey.isConfigured()
        && !requestHasApiKey(m_context->apiKey, request, true))
        return refuse(401, u"unauthorized",
                      QStringLiteral("the admin stream needs the API key (api_key=, X-API-Key, "
                                     "Bearer or Basic)"));
    ClientUpgrade client;
    client.kind = path == u"/ws" ? ConnectionKind::Native : ConnectionKind::Legacy;
    if (path.startsWith(u"/websockets/") || path == u"/websockets") {
        client.kind = ConnectionKind::Endpoint;
        if (std::optional<HttpReply> refusal = endpointUpgrade(request, &client)) {
            qCInfo(lcWs).noquote() << "upgrade refused" << refusal->status << path.left(100)
                                   << "from" << remoteOf(socket);
            write(socket, *refusal, true);
            m_answered = true;
            return false;
        }
    }
    const QString origin = QString::fromUtf8(request.value(QByteArrayLiteral("origin")));
    if (!origin.isEmpty() && !m_context->config.isOriginAllowed(origin))
        return refuse(403, u"forbidden",
                      QStringLiteral("origin %1 is not in allowed_origins").arg(origin.left(200)));
    for (auto it = m_pendingUpgrades.begin(); it != m_pendingUpgrades.end();) {
        if (!it->socket)
            it = m_pendingUpgrades.erase(it);
        else
            ++it;
    }
    if (m_context->hub->openCount() + m_pendingUpgrades.size() >= m_context->config.maxConnections)
        return refuse(503, u"unavailable",
                      QStringLiteral("too many connections (max_connections %1)")
                              .arg(m_context->config.maxConnections));
    m_pendingUpgrades.insert(peerKey(socket->peerAddress(), socket->peerPort()),
                             PendingUpgrade{socket, client, admin});
    return true;
}

void HttpServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    if (m_answered)
        return;
    write(socket,
          HttpReply::error(404, u"not_found",
                           QStringLiteral("no route for %1")
                                   .arg(request.url().path(QUrl::FullyEncoded).left(200))),
          true);
}

void HttpServer::takeWebSockets()
{
    while (hasPendingWebSocketConnections()) {
        QWebSocket *socket = nextPendingWebSocketConnection().release();
        if (!socket)
            break;
        const PendingUpgrade pending =
                m_pendingUpgrades.take(peerKey(socket->peerAddress(), socket->peerPort()));
        QTcpSocket *tcp = pending.socket;
        if (!tcp) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        if (pending.admin) {
            // Observers only listen: small frames.
            socket->setMaxAllowedIncomingFrameSize(4096);
            socket->setMaxAllowedIncomingMessageSize(4096);
            m_upgrades.admin(socket);
            continue;
        }
        ClientUpgrade client = pending.client;
        client.remote = remoteOf(tcp);
        m_upgrades.client(socket, tcp, client);
    }
}

} // namespace sb
