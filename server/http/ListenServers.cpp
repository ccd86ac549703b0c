#include "http/ListenServers.h"

#include "http/RequestGuard.h"

namespace sb {

namespace {
constexpr int kBacklog = 4096;
}

GuardedTcpServer::GuardedTcpServer(const ServerConfig *config, QObject *httpServer,
                                   Metrics *metrics)
    : m_config(config), m_httpServer(httpServer), m_metrics(metrics)
{
    setListenBacklogSize(kBacklog);
    setMaxPendingConnections(kBacklog);
}

QTcpSocket *GuardedTcpServer::nextPendingConnection()
{
    QTcpSocket *socket = QTcpServer::nextPendingConnection();
    if (socket)
        new RequestGuard(socket, m_config, m_httpServer, m_metrics);
    return socket;
}

GuardedSslServer::GuardedSslServer(const ServerConfig *config, QObject *httpServer,
                                   Metrics *metrics)
    : m_config(config), m_httpServer(httpServer), m_metrics(metrics)
{
    setListenBacklogSize(kBacklog);
    setMaxPendingConnections(kBacklog);
}

QTcpSocket *GuardedSslServer::nextPendingConnection()
{
    QTcpSocket *socket = QSslServer::nextPendingConnection();
    if (socket)
        new RequestGuard(socket, m_config, m_httpServer, m_metrics);
    return socket;
}

} // namespace sb
