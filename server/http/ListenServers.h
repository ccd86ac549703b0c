#pragma once

#include <QSslServer>
#include <QTcpServer>

#include <memory>

namespace sb {

class HttpLimits;
class Metrics;
struct ServerConfig;

// What both listeners do with a connection they accept: a client address over its
// connection limit gets a 503 and is closed (the HTTP server never sees it); any other gets
// a RequestGuard before the HTTP server connects its own handlers.
class ConnectionAdmission
{
public:
    ConnectionAdmission(const ServerConfig *config, QObject *httpServer, Metrics *metrics);
    // The socket to hand to the HTTP server, or null when it was refused.
    QTcpSocket *admit(QTcpSocket *socket);
    const std::shared_ptr<HttpLimits> &limits() const { return m_limits; }

private:
    void refuse(QTcpSocket *socket);

    const ServerConfig *m_config;
    QObject *m_httpServer;
    Metrics *m_metrics;
    std::shared_ptr<HttpLimits> m_limits;
};

// QTcpServer and QSslServer that admit every connection as above, and that accept bursts of
// connections (large backlog).
class GuardedTcpServer final : public QTcpServer
{
    Q_OBJECT

public:
    GuardedTcpServer(const ServerConfig *config, QObject *httpServer, Metrics *metrics);
    QTcpSocket *nextPendingConnection() override;
    HttpLimits *limits() const { return m_admission.limits().get(); }

private:
    ConnectionAdmission m_admission;
};

class GuardedSslServer final : public QSslServer
{
    Q_OBJECT

public:
    GuardedSslServer(const ServerConfig *config, QObject *httpServer, Metrics *metrics);
    QTcpSocket *nextPendingConnection() override;
    HttpLimits *limits() const { return m_admission.limits().get(); }

private:
    ConnectionAdmission m_admission;
};

} // namespace sb
