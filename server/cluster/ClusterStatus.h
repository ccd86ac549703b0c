#pragma once

#include <QByteArray>
#include <QString>

namespace sb {

// The cluster as this node sees it, for the API and the metrics (Cluster::status()).
struct ClusterStatus
{
    bool redisUp = false;
    quint64 number = 0;
    QString name;
    qint64 nodes = 0;                               // live nodes, this one included
    QByteArray nodesJson = QByteArrayLiteral("[]"); // as GET /api/nodes lists them
};

} // namespace sb
