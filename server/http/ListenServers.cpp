#include "http/ListenServers.h"

#include "base/Logging.h"
#include "config/ServerConfig.h"
#include "http/HttpLimits.h"
#include "http/HttpResponse.h"
#include "http/RequestGuard.h"
#include "metrics/Metrics.h"
#include "net/LingeringClose.h"

#include <QElapsedTimer>
#include <QTimer>

namespace sb {

namespace {
constexpr int kBacklog = 4096;
constexpr int kRefusedLingerMs = 2000;
} // namespace

ConnectionAdmission::ConnectionAdmission(const ServerConfig *config, QObject *httpServer,
                                         Metrics *metrics)
    : m_config(config),
      m_httpServer(httpServer),
      m_metrics(metrics),
      m_limits(std::make_shared<HttpLimits>(config->maxRequestBufferBytes,
                                            int(config->maxHttpConnectionsPerAddress)))
{ }

QTcpSocket *ConnectionAdmission::admit(QTcpSocket *socket)
{
    if (!m_limits->admit(socket->peerAddress())) {
        refuse(socket);
        return nullptr;
    }
    new RequestGuard(socket, m_config, m_httpServer, m_metrics, m_limits);
    return socket;
}

void ConnectionAdmission::refuse(QTcpSocket *socket)
{
    // Logged at most once a second: the refusals of a flood are one line, not thousands.
    static QElapsedTimer lastLog;
    static qint64 refusedSinceLog = 0;
    ++refusedSinceLog;
    if (!lastLog.isValid() || lastLog.elapsed() >= 1000) {
        qCWarning(lcHttp).noquote()
                << "refused" << refusedSinceLog << "connection(s) from"
                << socket->peerAddress().toString() << ": over max_http_connections_per_address"
                << m_limits->maxPerAddress();
        lastLog.start();
        refusedSinceLog = 0;
    }
    if (m_metrics)
        m_metrics->countHttp(Metrics::kRouteOther, 503, Metrics::nowNs());
    socket->setParent(nullptr);
    QObject::connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
    socket->write(HttpReply::error(503, u"unavailable",
                                   QStringLiteral("too many connections from your address "
                                                  "(max_http_connections_per_address %1)")
                                           .arg(m_limits->maxPerAddress()))
                          .serialize(true));
    net::lingerAfterClose(socket);
    socket->disconnectFromHost();
    if (socket->state() != QAbstractSocket::UnconnectedState)
        QTimer::singleShot(kRefusedLingerMs, socket, [socket] { socket->abort(); });
    else
        socket->deleteLater();
}

GuardedTcpServer::GuardedTcpServer(const ServerConfig *config, QObject *httpServer,
                                   Metrics *metrics)
    : m_admission(config, httpServer, metrics)
{
    setListenBacklogSize(kBacklog);
    setMaxPendingConnections(kBacklog);
}

QTcpSocket *GuardedTcpServer::nextPendingConnection()
{
    while (QTcpSocket *socket = QTcpServer::nextPendingConnection()) {
        if (QTcpSocket *admitted = m_admission.admit(socket))
            return admitted;
    }
    return nullptr;
}

GuardedSslServer::GuardedSslServer(const ServerConfig *config, QObject *httpServer,
                                   Metrics *metrics)
    : m_admission(config, httpServer, metrics)
{
    setListenBacklogSize(kBacklog);
    setMaxPendingConnections(kBacklog);
}

QTcpSocket *GuardedSslServer::nextPendingConnection()
{
    while (QTcpSocket *socket = QSslServer::nextPendingConnection()) {
        if (QTcpSocket *admitted = m_admission.admit(socket))
            return admitted;
    }
    return nullptr;
}

} // namespace sb
