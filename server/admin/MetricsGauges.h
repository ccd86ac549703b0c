#pragma once

#include "metrics/Metrics.h"

namespace sb {

struct ServerContext;

// The hub's and the log's current figures for a scrape of /metrics (Metrics::render).
MetricsGauges metricsGauges(const ServerContext &context);

} // namespace sb
