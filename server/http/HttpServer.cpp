#include "http/HttpServer.h"

#include "admin/StatsSampler.h"
#include "base/Logging.h"
#include "context/ServerContext.h"
#include "http/ListenServers.h"
#include "http/RequestGuard.h"
#include "http/RequestKey.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "net/LingeringClose.h"
#include "store/MessageLog.h"

#include <QFile>
#include <QHostInfo>
#include <QSslKey>
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
      m_upgrades(std::move(upgrades)),
      m_rest(context, stats),
      m_compat(context, &m_rest)
{
    addRoutes();
    connect(this, &QAbstractHttpServer::newWebSocketConnection, this, &HttpServer::takeWebSockets);
}

HttpServer::~HttpServer() = default;

QString HttpServer::listen()
{
    const ServerConfig &config = m_context->config;
    QTcpServer *server = nullptr;
    if (config.tlsEnabled()) {
        QFile certFile(config.tlsCert);
        if (!certFile.open(QIODevice::ReadOnly))
            return QStringLiteral("cannot read tls_cert %1: %2")
                    .arg(config.tlsCert, certFile.errorString());
        const QList<QSslCertificate> chain =
                QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
        if (chain.isEmpty())
            return QStringLiteral("tls_cert %1 holds no PEM certificate").arg(config.tlsCert);
        QFile keyFile(config.tlsKey);
        if (!keyFile.open(QIODevice::ReadOnly))
            return QStringLiteral("cannot read tls_key %1: %2")
                    .arg(config.tlsKey, keyFile.errorString());
        const QByteArray keyPem = keyFile.readAll();
        QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull())
            key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
        if (key.isNull())
            return QStringLiteral("tls_key %1 holds no PEM RSA or EC private key (unencrypted)")
                    .arg(config.tlsKey);
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setLocalCertificateChain(chain);
        ssl.setPrivateKey(key);
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        auto *sslServer = new GuardedSslServer(&config, this, m_context->metrics);
        sslServer->setSslConfiguration(ssl);
        server = sslServer;
    } else {
        server = new GuardedTcpServer(&config, this, m_context->metrics);
    }
    if (!server->listen(config.listenAddress, config.listenPort)) {
        const QString why =
                QStringLiteral("cannot listen on %1: %2").arg(config.listen, server->errorString());
        delete server;
        return why;
    }
    m_listener = server;
    bind(server);
    return {};
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
                          Handler handler)
{
    m_routes.append(Route{path.split(u'/', Qt::SkipEmptyParts), methods, auth, std::move(handler),
                          m_context->metrics->addRoute(path)});
}

void HttpServer::addRoutes()
{
    const auto Get = QHttpServerRequest::Methods(Method::Get) | Method::Head;
    const QHttpServerRequest::Methods Post(Method::Post);
    const QHttpServerRequest::Methods Put(Method::Put);
    const QHttpServerRequest::Methods Delete(Method::Delete);
    RestApi *rest = &m_rest;
    CompatApi *compat = &m_compat;

    addRoute(QStringLiteral("/api/health"), Get, Auth::None,
             [rest](const HttpCall &c, const QStringList &) { return rest->health(c); });
    addRoute(QStringLiteral("/api/stats"), Get, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &) { return rest->stats(c); });
    addRoute(QStringLiteral("/api/register"), Post, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &) { return rest->registerToken(c); });
    addRoute(QStringLiteral("/api/unregister"), Post, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &) { return rest->unregister(c); });
    for (const char *target : {"room", "user", "all", "connection"}) {
        const QString t = QString::fromLatin1(target);
        addRoute(QStringLiteral("/api/emit/") + t, Post, Auth::ApiKey,
                 [rest, t](const HttpCall &c, const QStringList &) { return rest->emitTo(c, t); });
    }
    addRoute(QStringLiteral("/api/connections"), Get, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &) { return rest->listConnections(c); });
    addRoute(QStringLiteral("/api/connections/*"), Get, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->getConnection(c, a[0]);
             });
    addRoute(QStringLiteral("/api/connections/*"), Delete, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->deleteConnection(c, a[0]);
             });
    addRoute(QStringLiteral("/api/connections/*/send"), Post, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &a) {
                 return rest->sendToConnection(c, a[0]);
             });
    addRoute(QStringLiteral("/api/log"), Get, Auth::ApiKey,
             [this](const HttpCall &call, const QStringList &) { return m_rest.log(call); });
    addRoute(QStringLiteral("/api/rooms"), Get, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &) { return rest->listRooms(c); });
    addRoute(QStringLiteral("/api/rooms/*"), Get, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &a) { return rest->getRoom(c, a[0]); });
    addRoute(QStringLiteral("/metrics"), Get, Auth::ApiKey,
             [rest](const HttpCall &c, const QStringList &) { return rest->metrics(c); });

    // Drop-in routes of the seed bridges.
    addRoute(QStringLiteral("/api/broadcast"), Post, Auth::Compat,
             [compat](const HttpCall &c, const QStringList &) { return compat->broadcast(c); });
    addRoute(QStringLiteral("/"), Post, Auth::Compat,
             [compat](const HttpCall &c, const QStringList &) { return compat->pushLegacy(c); });
    // Pages and scripts (docs/API.md, "Pages and the browser client"): no key needed.
    const StaticFiles *files = &m_static;
    for (const char *path : {"/", "/switchboard.js", "/switchboard.mjs", "/switchboard.d.ts"}) {
        const QString p = QString::fromLatin1(path);
        addRoute(p, Get, Auth::None, [files, p](const HttpCall &c, const QStringList &) {
            return files->get(c.request, p);
        });
    }
    addRoute(QStringLiteral("/examples"), Get, Auth::None,
             [files](const HttpCall &c, const QStringList &) {
                 return files->get(c.request, QStringLiteral("/examples/"));
             });
    for (const char *folder : {"examples", "assets"}) {
        const QString prefix = u'/' + QString::fromLatin1(folder) + u'/';
        addRoute(prefix + u'*', Get, Auth::None,
                 [files, prefix](const HttpCall &c, const QStringList &a) {
                     return files->get(c.request, prefix + a[0]);
                 });
    }
    addRoute(
            QStringLiteral("/socket"), Post, Auth::Compat,
            [compat](const HttpCall &c, const QStringList &) { return compat->socketRegister(c); });
    addRoute(
            QStringLiteral("/socket/room"), Put, Auth::Compat,
            [compat](const HttpCall &c, const QStringList &) { return compat->socketEmitRoom(c); });
    addRoute(
            QStringLiteral("/socket/user"), Put, Auth::Compat,
            [compat](const HttpCall &c, const QStringList &) { return compat->socketEmitUser(c); });
}

HttpReply HttpServer::dispatch(const HttpCall &call)
{
    const Method method = call.request.method();
    const Route *match = nullptr;
    QHttpServerRequest::Methods allowed;
    QStringList args;
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
            match = &route;
            args = captured;
            break;
        }
    }
    const bool broadcast =
            call.segments == QStringList{QStringLiteral("api"), QStringLiteral("broadcast")};
    if (!match) {
        if (!allowed) {
            return HttpReply::error(
                    404, u"not_found",
                    QStringLiteral("no route for %1")
                            .arg(call.request.url().path(QUrl::FullyEncoded).left(200)));
        }
        HttpReply reply = broadcast
                ? CompatApi::okFalse(405, QStringLiteral("method not allowed; use POST"))
                : HttpReply::error(405, u"method_not_allowed",
                                   QStringLiteral("method not allowed here; allowed: %1")
                                           .arg(QString::fromLatin1(allowHeader(allowed))));
        reply.headers.append({QByteArrayLiteral("Allow"), allowHeader(allowed)});
        return reply;
    }
    if (match->auth != Auth::None) {
        const bool keyOk = m_context->apiKey.isConfigured()
                && requestHasApiKey(m_context->apiKey, call.request);
        const bool keyless = !keyOk
                && (m_context->config.insecure
                    || (match->auth == Auth::Compat && m_context->config.isTrusted(call.peer)));
        if (keyless) {
            // Let in without a key: only when no browser page can have sent it.
            if (const QString why = keylessRefusal(call); !why.isEmpty()) {
                qCInfo(lcHttp).noquote() << "keyless call refused from" << call.remote << why;
                return broadcast ? CompatApi::okFalse(403, why)
                                 : HttpReply::error(403, u"forbidden", why);
            }
        } else if (!keyOk) {
            const QString message = QStringLiteral("missing or wrong API key: send X-API-Key, "
                                                   "Authorization: Bearer, or Basic with "
                                                   "the key as password");
            HttpReply reply = broadcast ? CompatApi::okFalse(401, message)
                                        : HttpReply::error(401, u"unauthorized", message);
            reply.headers.append({QByteArrayLiteral("WWW-Authenticate"),
                                  QByteArrayLiteral(R"(Basic realm="switchboard")")});
            return reply;
        }
    }
    return match->handler(call, args);
}

// A call without the API key is let in from trusted_networks (or with --insecure) because a
// database on that network cannot send one. A web page that the browser of someone on that
// network opens could send the same call (a form post needs no CORS preflight), or reach the
// server through a name it controls (DNS rebinding). Browsers tell: they send Origin with
// every cross-site POST and PUT, Sec-Fetch-Site on every request, and the Host the page
// asked for. Database callers (UTL_HTTP, APEX_WEB_SERVICE, curl, libpq-side code) send no
// Origin and no Sec-Fetch-Site, and a Host naming this server.
QString HttpServer::keylessRefusal(const HttpCall &call) const
{
    const ServerConfig &config = m_context->config;
    const QString origin = QString::fromUtf8(call.request.value(QByteArrayLiteral("origin")));
    // A page this server served itself (the landing page's demo) is same-origin: its Origin
    // names the Host it was loaded from, which the Host check below then vouches for.
    const QUrl originUrl(origin);
    const QString hostHeader =
            QString::fromLatin1(call.request.value(QByteArrayLiteral("host")).trimmed().toLower());
    const bool sameOrigin = originUrl.isValid() && !originUrl.host().isEmpty()
            && originUrl.authority().toLower() == hostHeader;
    if (!origin.isEmpty() && !sameOrigin
        && (config.allowedOrigins.isEmpty() || !config.isOriginAllowed(origin)))
        return QStringLiteral("a request without the API key may not come from a web page: "
                              "Origin %1 is not in allowed_origins")
                .arg(origin.left(200));
    const QByteArray site = call.request.value(QByteArrayLiteral("sec-fetch-site")).toLower();
    if (site == "cross-site")
        return QStringLiteral("a request without the API key may not come from a web page of "
                              "another site (Sec-Fetch-Site: cross-site)");
    QByteArray host = call.request.value(QByteArrayLiteral("host")).trimmed().toLower();
    if (host.isEmpty())
        return {}; // HTTP/1.0 callers may send none; a browser always does
    // Drop the port: "[::1]:8080" -> "::1", "name:8080" -> "name".
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        host = close > 0 ? host.mid(1, close - 1) : host;
    } else if (host.count(':') == 1) {
        host = host.left(host.indexOf(':'));
    }
    if (host.endsWith('.'))
        host.chop(1);
    const QString name = QString::fromLatin1(host);
    if (config.allowedHosts.contains(name) || name == u"localhost" || name.endsWith(u".localhost"))
        return {};
    const QHostAddress address(name);
    if (!address.isNull()) {
        // An address: this server's own (loopback, the listen address, any local one).
        if (address.isLoopback() || address == config.listenAddress
            || config.listenAddress == QHostAddress::Any
            || config.listenAddress == QHostAddress::AnyIPv4
            || config.listenAddress == QHostAddress::AnyIPv6)
            return {};
        if (call.socket && address == call.socket->localAddress())
            return {};
    } else {
        static const QString machine = QHostInfo::localHostName().toLower();
        static const QString domain = QHostInfo::localDomainName().toLower();
        if (name == machine || (!domain.isEmpty() && name == machine + u'.' + domain))
            return {};
    }
    return QStringLiteral("a request without the API key must name this server in Host (the "
                          "listen address, localhost, the machine's name or allowed_hosts), "
                          "not %1")
            .arg(name.left(200));
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
    const HttpCall call{request, socket, segments, socket->peerAddress(), remoteOf(socket)};
    const HttpReply reply = dispatch(call);
    qCDebug(lcHttp).noquote() << call.remote << request.method() << encodedPath << reply.status;
    write(socket, reply, meta.closeAfter, request.method() == Method::Head);
    return true;
}

void HttpServer::write(QTcpSocket *socket, const HttpReply &reply, bool close, bool headOnly)
{
    QByteArray bytes = reply.serialize(close, headOnly);
    const bool mustWait = reply.waitForLogId > m_logCommitted && m_context->log
            && reply.waitForLogId > m_context->log->durableId();
    auto held = m_held.find(socket);
    if (!mustWait && held == m_held.end()) {
        writeBytes(socket, bytes, close);
        m_context->metrics->countHttp(m_metricsRoute, reply.status, m_requestStartNs);
        outputChanged(socket, 0);
        return;
    }
    // Behind an answer that waits for the log, or waiting itself: keep the request order.
    if (held == m_held.end()) {
        held = m_held.insert(socket, {});
        held->onDestroyed = connect(socket, &QObject::destroyed, this,
                                    [this, socket] { m_held.remove(socket); });
        if (RequestGuard *guard = RequestGuard::of(socket)) {
            guard->setAnswerQueue([this, socket](const QByteArray &answer, bool closeAfter) {
                const auto it = m_held.find(socket);
                if (it == m_held.end() || it->queue.empty())
                    return false;
                it->bytes += answer.size();
                it->queue.push_back({answer, 0, closeAfter});
                return true;
            });
        }
    }
    held->bytes += bytes.size();
    held->queue.push_back({std::move(bytes), mustWait ? reply.waitForLogId : 0, close,
                           m_metricsRoute, reply.status, m_requestStartNs});
    outputChanged(socket, held->bytes);
}

void HttpServer::outputChanged(QTcpSocket *socket, qint64 heldBytes)
{
    if (RequestGuard *guard = RequestGuard::of(socket))
        guard->outputChanged(heldBytes);
}

void HttpServer::writeBytes(QTcpSocket *socket, const QByteArray &bytes, bool close)
{
    socket->write(bytes);
    if (close) {
        // A client that pipelined more after its Connection: close request must still read
        // this answer: no reset (see net/LingeringClose.h).
        net::lingerAfterClose(socket);
        socket->disconnectFromHost();
    }
}

void HttpServer::logCommitted(quint64 upTo)
{
    m_logCommitted = qMax(m_logCommitted, upTo);
    for (auto it = m_held.begin(); it != m_held.end();) {
        HeldAnswers &held = *it;
        bool wrote = false;
        while (!held.queue.empty() && held.queue.front().waitForLogId <= m_logCommitted) {
            const HeldAnswer answer = std::move(held.queue.front());
            held.queue.pop_front();
            held.bytes -= answer.bytes.size();
            writeBytes(it.key(), answer.bytes, answer.close);
            wrote = true;
            if (answer.metricsRoute >= 0)
                m_context->metrics->countHttp(answer.metricsRoute, answer.status, answer.startNs);
        }
        QTcpSocket *socket = it.key();
        const qint64 stillHeld = held.bytes;
        if (held.queue.empty()) {
            disconnect(held.onDestroyed);
            it = m_held.erase(it);
        } else {
            ++it;
        }
        if (wrote)
            outputChanged(socket, stillHeld);
    }
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
    if (path.startsWith(u"/websockets/") || path == u"/websockets")
        return refuse(404, u"not_found", QStringLiteral("paths under /websockets/ are reserved"));
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
    const ConnectionKind kind = path == u"/ws" ? ConnectionKind::Native : ConnectionKind::Legacy;
    m_pendingUpgrades.insert(peerKey(socket->peerAddress(), socket->peerPort()),
                             PendingUpgrade{socket, kind, admin});
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
        m_upgrades.client(socket, tcp, pending.kind, remoteOf(tcp));
    }
}

} // namespace sb
