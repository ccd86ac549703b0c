#include "metrics/Metrics.h"

#include <QDateTime>
#include <QFile>
#include <QUrl>

#include <algorithm>
#include <chrono>
#include <utility>

#include <unistd.h>

namespace sb {

namespace {

constexpr qint64 kUs = 1000;
constexpr qint64 kMs = 1000 * kUs;
constexpr qint64 kS = 1000 * kMs;

template<size_t... I>
std::array<Histogram, sizeof...(I)> makeHistograms(std::span<const qint64> bounds,
                                                   std::index_sequence<I...>)
{
    return {((void)I, Histogram(bounds))...};
}

// Seconds as Prometheus reads them: fixed point to the nanosecond, trailing zeros dropped
// (0.0005, not 5e-04; 1, not 1.000000000).
QByteArray number(double v)
{
    QByteArray text = QByteArray::number(v, 'f', 9);
    if (text.contains('.')) {
        while (text.endsWith('0'))
            text.chop(1);
        if (text.endsWith('.'))
            text.chop(1);
    }
    return text;
}

QByteArray escapeLabel(QByteArrayView value)
{
    QByteArray out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void family(QByteArray &out, QByteArrayView name, QByteArrayView type, QByteArrayView help)
{
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
}

void sample(QByteArray &out, QByteArrayView name, QByteArrayView labels, QByteArrayView value)
{
    out.append(name);
    if (!labels.isEmpty())
        out.append('{').append(labels).append('}');
    out.append(' ').append(value).append('\n');
}

void gauge(QByteArray &out, QByteArrayView name, QByteArrayView help, const QByteArray &value)
{
    family(out, name, "gauge", help);
    sample(out, name, {}, value);
}

qint64 residentBytes()
{
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() * qint64(::sysconf(_SC_PAGESIZE)) : 0;
}

} // namespace

QLatin1String notifyRejectReasonName(NotifyRejectReason reason)
{
    switch (reason) {
    case NotifyRejectReason::Signature:
        return QLatin1String("signature");
    case NotifyRejectReason::Stale:
        return QLatin1String("stale");
    case NotifyRejectReason::Replay:
        return QLatin1String("replay");
    case NotifyRejectReason::Invalid:
        break;
    }
    return QLatin1String("invalid");
}

// HTTP answers: from well under a millisecond (most REST calls) to seconds (a log commit
// stalled, a slow reader of /api/log).
const std::array<qint64, 14> Metrics::kHttpBoundsNs = {
        100 * kUs, 250 * kUs, 500 * kUs, 1 * kMs,   2500 * kUs, 5 * kMs, 10 * kMs,
        25 * kMs,  50 * kMs,  100 * kMs, 250 * kMs, 500 * kMs,  1 * kS,  5 * kS};
// Log batch commits: tens of microseconds (a few records in SQLite's WAL) to seconds (a
// checkpoint with fsync, PostgreSQL across a network).
const std::array<qint64, 15> Metrics::kLogWriteBoundsNs = {
        50 * kUs, 100 * kUs, 250 * kUs, 500 * kUs, 1 * kMs,   2500 * kUs, 5 * kMs, 10 * kMs,
        25 * kMs, 50 * kMs,  100 * kMs, 250 * kMs, 500 * kMs, 1 * kS,     5 * kS};

const std::array<qint64, 14> Metrics::kRedisBoundsNs = {
        50 * kUs, 100 * kUs, 250 * kUs, 500 * kUs, 1 * kMs,   2500 * kUs, 5 * kMs,
        10 * kMs, 25 * kMs,  50 * kMs,  100 * kMs, 250 * kMs, 1 * kS,     5 * kS};

Histogram::Histogram(std::span<const qint64> boundsNs)
    : m_boundsNs(boundsNs.first(std::min<size_t>(boundsNs.size(), kMaxBounds)))
{ }

void Histogram::observeNs(qint64 ns)
{
    ns = std::max<qint64>(ns, 0);
    size_t i = 0;
    while (i < m_boundsNs.size() && ns > m_boundsNs[i])
        ++i;
    m_buckets[i].fetch_add(1, std::memory_order_relaxed);
    m_sumNs.fetch_add(quint64(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const
{
    Snapshot s;
    s.bounds = int(m_boundsNs.size());
    quint64 total = 0;
    for (int i = 0; i <= s.bounds; ++i) {
        total += m_buckets[size_t(i)].load(std::memory_order_relaxed);
        s.cumulative[size_t(i)] = total;
    }
    s.sumSeconds = double(m_sumNs.load(std::memory_order_relaxed)) / double(kS);
    return s;
}

void Histogram::render(QByteArray &out, QByteArrayView name, QByteArrayView labels) const
{
    const Snapshot s = snapshot();
    QByteArray prefix = labels.toByteArray();
    if (!prefix.isEmpty())
        prefix += ',';
    const QByteArray bucket = name.toByteArray() + "_bucket";
    for (int i = 0; i <= s.bounds; ++i) {
        const QByteArray le = i < s.bounds ? number(double(m_boundsNs[size_t(i)]) / double(kS))
                                           : QByteArrayLiteral("+Inf");
        sample(out, bucket, QByteArray(prefix + "le=\"" + le + '"'),
               QByteArray::number(s.cumulative[size_t(i)]));
    }
    sample(out, QByteArray(name.toByteArray() + "_sum"), labels, number(s.sumSeconds));
    sample(out, QByteArray(name.toByteArray() + "_count"), labels, QByteArray::number(s.count()));
}

Histogram::Timer::Timer(Histogram *histogram)
    : m_histogram(histogram), m_startNs(histogram ? Metrics::nowNs() : 0)
{ }

Histogram::Timer::~Timer()
{
    if (m_histogram)
        m_histogram->observeNs(Metrics::nowNs() - m_startNs);
}

Metrics::Metrics()
    : m_httpDuration(makeHistograms(kHttpBoundsNs, std::make_index_sequence<kMaxRoutes>())),
      m_logWrite(kLogWriteBoundsNs),
      m_redisCommand(kRedisBoundsNs)
{
    const std::pair<const char *, const char *> fixed[] = {
            {"", "other"}, {"/ws", "/ws"}, {"/admin", "/admin"}, {"", "legacy_ws"}};
    for (const auto &[path, label] : fixed) {
        Route &r = m_routes[size_t(m_routeCount.load())];
        if (*path)
            r.pattern = QString::fromLatin1(path).split(u'/', Qt::SkipEmptyParts);
        r.label = label;
        m_routeCount.fetch_add(1);
    }
    static_assert(kRouteLegacyWs == 3, "the fixed routes above are in id order");
}

qint64 Metrics::nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
}

int Metrics::addRoute(const QString &pattern)
{
    const QStringList segments = pattern.split(u'/', Qt::SkipEmptyParts);
    QByteArray label;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        label += '/';
        if (segments[i] != u"*") {
            label += segments[i].toUtf8();
            continue;
        }
        // The collection's name in the singular: rooms/* is {room}.
        QString name = i > 0 ? segments[i - 1] : QStringLiteral("id");
        if (name.size() > 1 && name.endsWith(u's'))
            name.chop(1);
        label += '{' + name.toUtf8() + '}';
    }
    if (label.isEmpty())
        label = "/";
    const int count = m_routeCount.load(std::memory_order_acquire);
    for (int i = 0; i < count; ++i) {
        if (m_routes[size_t(i)].label == label)
            return i;
    }
    if (count >= kMaxRoutes)
        return kRouteOther;
    m_routes[size_t(count)] = Route{segments, label};
    m_routeCount.store(count + 1, std::memory_order_release);
    return count;
}

int Metrics::routeForPath(QStringView encodedPath) const
{
    QStringList segments;
    for (const QStringView segment : encodedPath.split(u'/', Qt::SkipEmptyParts))
        segments << QUrl::fromPercentEncoding(segment.toUtf8());
    const int count = m_routeCount.load(std::memory_order_acquire);
    for (int i = 0; i < count; ++i) {
        const Route &r = m_routes[size_t(i)];
        if (r.label.startsWith('/') && r.pattern.size() == segments.size()
            && std::equal(r.pattern.cbegin(), r.pattern.cend(), segments.cbegin(),
                          [](const QString &p, const QString &s) { return p == u"*" || p == s; }))
            return i;
    }
    return kRouteOther;
}

int Metrics::upgradeRoute(QStringView encodedPath)
{
    if (encodedPath == u"/ws")
        return kRouteWs;
    if (encodedPath == u"/admin")
        return kRouteAdmin;
    if (encodedPath == u"/websockets" || encodedPath.startsWith(u"/websockets/"))
        return kRouteOther; // reserved, refused
    return kRouteLegacyWs;
}

QByteArray Metrics::routeLabel(int route) const
{
    if (route < 0 || route >= m_routeCount.load(std::memory_order_acquire))
        return m_routes[kRouteOther].label;
    return m_routes[size_t(route)].label;
}

int Metrics::statusSlot(int status)
{
    const quint16 code = quint16(std::clamp(status, 1, 999));
    // Slots are taken in the order statuses first occur; the last one is "other" (more than
    // kMaxStatuses - 1 distinct statuses: never with this server's answers).
    for (size_t i = 0; i + 1 < m_statuses.size(); ++i) {
        quint16 seen = m_statuses[i].load(std::memory_order_acquire);
        if (seen == 0
            && m_statuses[i].compare_exchange_strong(seen, code, std::memory_order_acq_rel))
            return int(i);
        if (seen == code)
            return int(i);
    }
    return kMaxStatuses - 1;
}

void Metrics::countHttp(int route, int status, qint64 startNs)
{
    if (route < 0 || route >= kMaxRoutes)
        route = kRouteOther;
    m_http[size_t(route)][size_t(statusSlot(status))].fetch_add(1, std::memory_order_relaxed);
    m_httpDuration[size_t(route)].observeNs(nowNs() - startNs);
}

quint64 Metrics::httpRequests(int route, int status) const
{
    if (route < 0 || route >= kMaxRoutes)
        return 0;
    for (size_t i = 0; i + 1 < m_statuses.size(); ++i) {
        if (m_statuses[i].load(std::memory_order_acquire) == status)
            return m_http[size_t(route)][i].load(std::memory_order_relaxed);
    }
    return 0;
}

// The request counters and durations, by route pattern and status.
void Metrics::renderHttp(QByteArray &out) const
{
    // Statuses in numeric order, routes in registration order; only pairs that occurred.
    const int routes = m_routeCount.load(std::memory_order_acquire);
    std::vector<std::pair<quint16, size_t>> statuses;
    for (size_t i = 0; i < m_statuses.size(); ++i) {
        const quint16 code = m_statuses[i].load(std::memory_order_acquire);
        if (code || i + 1 == m_statuses.size())
            statuses.emplace_back(code, i);
    }
    std::sort(statuses.begin(), statuses.end(), [](const auto &a, const auto &b) {
        return (a.first ? a.first : 1000) < (b.first ? b.first : 1000);
    });
    family(out, "switchboard_http_requests_total", "counter",
           "Answered HTTP requests (refusals included), by route pattern and status.");
    for (int r = 0; r < routes; ++r) {
        const QByteArray route = "route=\"" + escapeLabel(m_routes[size_t(r)].label) + '"';
        for (const auto &[code, slot] : statuses) {
            const quint64 n = m_http[size_t(r)][slot].load(std::memory_order_relaxed);
            if (n == 0)
                continue;
            const QByteArray status = code ? QByteArray::number(code) : QByteArrayLiteral("other");
            sample(out, "switchboard_http_requests_total",
                   QByteArray(route + ",status=\"" + status + '"'), QByteArray::number(n));
        }
    }
    family(out, "switchboard_http_request_duration_seconds", "histogram",
           "Time from a complete request head to its answer being written, by route pattern.");
    for (int r = 0; r < routes; ++r) {
        const Histogram &h = m_httpDuration[size_t(r)];
        if (h.snapshot().count() == 0)
            continue;
        h.render(out, "switchboard_http_request_duration_seconds",
                 QByteArray("route=\"" + escapeLabel(m_routes[size_t(r)].label) + '"'));
    }
}

QByteArray Metrics::render(const MetricsGauges &gauges) const
{
    const HubStats &hub = gauges.hub;
    QByteArray out;
    out.reserve(16 * 1024);
    const qint64 uptimeMs = QDateTime::currentMSecsSinceEpoch() - gauges.startedMs;

    gauge(out, "switchboard_connections", "Open /ws WebSocket connections.",
          QByteArray::number(hub.connections));
    gauge(out, "switchboard_rooms", "Rooms with at least one member.",
          QByteArray::number(hub.rooms));
    gauge(out, "switchboard_users", "Distinct users with a connection joined to a room.",
          QByteArray::number(hub.users));
    gauge(out, "switchboard_legacy_connections",
          "Open legacy WebSocket connections (any path other than /ws and /admin).",
          QByteArray::number(hub.legacyConnections));
    gauge(out, "switchboard_admin_observers", "Connected admin stream observers.",
          QByteArray::number(m_adminObservers.load(std::memory_order_relaxed)));
    gauge(out, "switchboard_log_queue_depth",
          "Records waiting for the message log writer (0 when the log is off).",
          QByteArray::number(gauges.logQueueDepth));
    gauge(out, "switchboard_uptime_seconds", "Seconds since the server started.",
          number(double(qMax<qint64>(0, uptimeMs)) / 1000.0));
    gauge(out, "switchboard_process_resident_memory_bytes", "Resident memory of the process.",
          QByteArray::number(residentBytes()));

    family(out, "switchboard_messages_total", "counter", "Accepted emits, by source.");
    for (int s = 0; s < kEmitSourceCount; ++s) {
        const QLatin1String name = sourceName(EmitSource(s));
        sample(out, "switchboard_messages_total",
               QByteArray("source=\"" + QByteArray(name.data(), name.size()) + '"'),
               QByteArray::number(hub.messagesBySource[size_t(s)]));
    }
    family(out, "switchboard_deliveries_total", "counter",
           "Event frames handed to connections (messages_out_total of /api/stats).");
    sample(out, "switchboard_deliveries_total", {}, QByteArray::number(hub.messagesOut));
    family(out, "switchboard_slow_client_disconnects_total", "counter",
           "Connections closed with 1013 because their unsent queue passed max_queue_bytes.");
    sample(out, "switchboard_slow_client_disconnects_total", {},
           QByteArray::number(slowClientDisconnects()));

    // Every reason from the start (docs/API.md, "Notifications are signed").
    family(out, "switchboard_notify_rejected_total", "counter",
           "LISTEN/NOTIFY notifications dropped, by reason (signature, stale, replay, invalid).");
    for (int r = 0; r < kNotifyRejectReasonCount; ++r) {
        const QLatin1String name = notifyRejectReasonName(NotifyRejectReason(r));
        sample(out, "switchboard_notify_rejected_total",
               QByteArray("reason=\"" + QByteArray(name.data(), name.size()) + '"'),
               QByteArray::number(m_notifyRejected[size_t(r)].load(std::memory_order_relaxed)));
    }

    renderHttp(out);
    family(out, "switchboard_log_write_seconds", "histogram",
           "Duration of each message log batch commit.");
    m_logWrite.render(out, "switchboard_log_write_seconds", {});
    renderEndpoints(out, gauges);
    if (gauges.cluster)
        renderCluster(out, gauges);
    return out;
}

// Endpoints with handlers and outbound clients (docs/API.md, "Endpoints").
void Metrics::renderEndpoints(QByteArray &out, const MetricsGauges &gauges) const
{
    struct Column
    {
        const char *name;
        const char *type;
        const char *help;
        qint64 (*value)(const MetricsGauges::Endpoint &);
    };
    static const Column columns[] = {
            {"switchboard_endpoint_sessions", "gauge", "Open sessions, by endpoint.",
             [](const MetricsGauges::Endpoint &e) { return e.sessions; }},
            {"switchboard_handler_calls_total", "counter", "Handler calls made, by endpoint.",
             [](const MetricsGauges::Endpoint &e) { return qint64(e.calls); }},
            {"switchboard_handler_failures_total", "counter",
             "Handler calls that failed (exception, timeout, HTTP error), by endpoint.",
             [](const MetricsGauges::Endpoint &e) { return qint64(e.failures); }},
            {"switchboard_handler_queue_depth", "gauge",
             "Events waiting for or in a handler call, by endpoint (at most 1000).",
             [](const MetricsGauges::Endpoint &e) { return e.queued; }},
    };
    for (const Column &c : columns) {
        family(out, c.name, c.type, c.help);
        for (const MetricsGauges::Endpoint &e : gauges.endpoints)
            sample(out, c.name, QByteArray("endpoint=\"" + escapeLabel(e.name) + '"'),
                   QByteArray::number(c.value(e)));
    }
    family(out, "switchboard_outbound_clients", "gauge", "Outbound WebSocket clients, by state.");
    const char *states[] = {"connecting", "open", "closed"};
    for (size_t i = 0; i < 3; ++i)
        sample(out, "switchboard_outbound_clients",
               QByteArray(QByteArray("state=\"") + states[i] + '"'),
               QByteArray::number(gauges.clientsByState[i]));
}

// Only on a node of a cluster (docs/API.md, "Cluster").
void Metrics::renderCluster(QByteArray &out, const MetricsGauges &gauges) const
{
    gauge(out, "switchboard_cluster_nodes", "Live nodes of the cluster, this one included.",
          QByteArray::number(gauges.clusterNodes));
    gauge(out, "switchboard_redis_up", "1 while the cluster's Redis answers, else 0.",
          QByteArray::number(gauges.redisUp ? 1 : 0));
    family(out, "switchboard_redis_command_seconds", "histogram",
           "Round trip of each command to the cluster's Redis.");
    m_redisCommand.render(out, "switchboard_redis_command_seconds", {});
    family(out, "switchboard_cluster_events_total", "counter",
           "Emits of the cluster's bus delivered here, by the node that accepted them.");
    sample(out, "switchboard_cluster_events_total", QByteArray("origin=\"local\""),
           QByteArray::number(m_clusterEvents[0].load(std::memory_order_relaxed)));
    sample(out, "switchboard_cluster_events_total", QByteArray("origin=\"remote\""),
           QByteArray::number(m_clusterEvents[1].load(std::memory_order_relaxed)));
}

} // namespace sb
