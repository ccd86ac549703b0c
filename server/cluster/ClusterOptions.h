#pragma once

#include "redis/RedisUrl.h"

#include <QByteArray>
#include <QString>

namespace sb {

// What a node needs to join a cluster (docs/ARCHITECTURE.md, "Cluster").
struct ClusterOptions
{
    RedisUrl redis;
    QString nodeName;       // resolved: never empty (default host:port)
    QString address;        // where this node listens, host:port (GET /api/nodes)
    QByteArray secretCheck; // a keyed hash of jwt_secret: nodes must agree on it
    QString dataDir;        // keeps the node's number and its last run id
    quint64 loggedUpTo = 0; // the highest id in this node's message log
    qint64 historyPerRoom = 1000;
    qint64 startedMs = 0;
    bool logsEveryEvent = true; // a log per node (SQLite): every cluster event is recorded
    qint64 tokenMaxTtl = 86400; // revocations older than a token's longest life are dropped
};

} // namespace sb
