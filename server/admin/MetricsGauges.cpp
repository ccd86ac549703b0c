#include "admin/MetricsGauges.h"

#include "context/ServerContext.h"
#include "hub/Hub.h"
#include "store/MessageLog.h"

namespace sb {

MetricsGauges metricsGauges(const ServerContext &context)
{
    MetricsGauges gauges;
    if (context.hub) {
        const HubStats hub = context.hub->stats();
        gauges.connections = hub.connections;
        gauges.legacyConnections = hub.legacyConnections;
        gauges.rooms = hub.rooms;
        gauges.users = hub.users;
        gauges.messagesOut = hub.messagesOut;
        gauges.messagesBySource = hub.messagesBySource;
    }
    gauges.logQueueDepth = context.log ? context.log->queueDepth() : 0;
    gauges.startedMs = context.startedMs;
    return gauges;
}

} // namespace sb
