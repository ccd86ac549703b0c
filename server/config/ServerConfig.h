#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace sb {

// Everything the server needs to start, resolved from flags, environment, INI file and
// defaults (see ConfigLoader). A plain value type: copied into each thread that needs it.
struct ServerConfig
{
    QString listen = QStringLiteral("127.0.0.1:8080");
    QHostAddress listenAddress = QHostAddress(QHostAddress::LocalHost);
    quint16 listenPort = 8080;

    QString configPath;
    QString dataDir;

    QString apiKey;
    QString jwtSecret;
    bool insecure = false;

    QString tlsCert;
    QString tlsKey;

    qint64 maxBodyBytes = 1048576;
    qint64 maxMessageBytes = 65536;
    qint64 maxQueueBytes = 8388608;
    qint64 maxConnections = 100000;
    // Request bytes buffered by all HTTP connections together, and HTTP connections (not yet
    // upgraded) per client address (docs/SECURITY.md, "Limits").
    qint64 maxRequestBufferBytes = 16 * 1024 * 1024;
    qint64 maxHttpConnectionsPerAddress = 512;
    QStringList allowedOrigins; // empty: any origin
    // Host names a keyless request may name besides the listen address, localhost and the
    // machine's own names (lower case, no port).
    QStringList allowedHosts;
    qint64 tokenMaxTtl = 604800;
    qint64 tokenDefaultTtl = 86400;
    int readTimeoutS = 30;
    int pingIntervalS = 30;
    QList<QPair<QHostAddress, int>> trustedNetworks;
    QString logLevel = QStringLiteral("info");

    // Message log (used by the log issue; parsed and validated here).
    QString logDatabase;
    qint64 logRetentionDays = 30;
    qint64 logMaxRows = 10000000;
    qint64 historyPerRoom = 1000;

    QString pgListen;
    // Cluster (docs/API.md, "Cluster"): the Redis URL (empty: a single node) and this node's
    // name (empty: host:port).
    QString redis;
    QString nodeName;
    QString pgChannel = QStringLiteral("switchboard");

    int ioThreads = 0; // 0: one per core

    // Endpoints with handlers and outbound clients (docs/API.md, "Endpoints"). endpointsDir
    // empty: <dataDir>/endpoints (endpointsPath()).
    QString endpointsDir;
    qint64 handlerTimeoutMs = 1000;
    QString handlerKey;
    qint64 maxClients = 100;
    QString endpointsPath() const;

    bool tlsEnabled() const { return !tlsCert.isEmpty() || !tlsKey.isEmpty(); }
    bool isTrusted(const QHostAddress &address) const;
    bool isOriginAllowed(const QString &origin) const;
};

} // namespace sb
