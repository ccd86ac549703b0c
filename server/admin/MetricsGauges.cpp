#include "admin/MetricsGauges.h"

#include "clients/OutboundClients.h"
#include "cluster/Cluster.h"
#include "context/ServerContext.h"
#include "endpoints/EndpointHost.h"
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
    if (context.endpoints) {
        for (const EndpointInfo &e : context.endpoints->list()) {
            if (e.error.isNull())
                gauges.endpoints.append(MetricsGauges::Endpoint{e.name.toUtf8(), e.sessions,
                                                                e.calls, e.failures, e.queued});
        }
    }
    if (context.clients) {
        for (const ClientInfo &c : context.clients->list())
            ++gauges.clientsByState[size_t(c.state)];
    }
    if (context.cluster) {
        const ClusterStatus cluster = context.cluster->status();
        gauges.cluster = true;
        gauges.clusterNodes = cluster.nodes;
        gauges.redisUp = cluster.redisUp;
    }
    return gauges;
}

} // namespace sb
