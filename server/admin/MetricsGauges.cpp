#include "admin/MetricsGauges.h"

#include "cluster/Cluster.h"
#include "context/ServerContext.h"
#include "hub/Hub.h"
#include "store/MessageLog.h"

namespace sb {

MetricsGauges metricsGauges(const ServerContext &context)
{
    MetricsGauges gauges;
    if (context.hub)
        gauges.hub = context.hub->stats();
    gauges.logQueueDepth = context.log ? context.log->queueDepth() : 0;
    gauges.startedMs = context.startedMs;
    if (context.cluster) {
        const ClusterStatus cluster = context.cluster->status();
        gauges.cluster = true;
        gauges.clusterNodes = cluster.nodes;
        gauges.redisUp = cluster.redisUp;
    }
    return gauges;
}

} // namespace sb
