#pragma once

#include <QSslServer>
#include <QTcpServer>

namespace sb {

class Metrics;
struct ServerConfig;

// QTcpServer and QSslServer that put a RequestGuard on every socket before the HTTP server
// connects its own handlers, and that accept bursts of connections (large backlog).
class GuardedTcpServer final : public QTcpServer
{
    Q_OBJECT

public:
    GuardedTcpServer(const ServerConfig *config, QObject *httpServer, Metrics *metrics);
    QTcpSocket *nextPendingConnection() override;

private:
    const ServerConfig *m_config;
    QObject *m_httpServer;
    Metrics *m_metrics;
};

class GuardedSslServer final : public QSslServer
{
    Q_OBJECT

public:
    GuardedSslServer(const ServerConfig *config, QObject *httpServer, Metrics *metrics);
    QTcpSocket *nextPendingConnection() override;

private:
    const ServerConfig *m_config;
    QObject *m_httpServer;
    Metrics *m_metrics;
};

} // namespace sb
