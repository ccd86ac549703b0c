#pragma once

#include "base/Message.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <array>
#include <atomic>
#include <span>

namespace sb {

// What the rest of the server reports for one scrape: the gauges and counters that live
// elsewhere (the hub's and the log's), read by the caller (http/RestApi).
struct MetricsGauges
{
    HubStats hub;
    qint64 logQueueDepth = 0; // 0 when the log is off
    qint64 startedMs = 0;
    bool cluster = false; // the switchboard_cluster_* and switchboard_redis_* families
    qint64 clusterNodes = 0;
    bool redisUp = false;
    // Endpoints in service (docs/API.md, "Endpoints") and outbound clients by state.
    struct Endpoint
    {
        QByteArray name;
        qint64 sessions = 0;
        quint64 calls = 0;
        quint64 failures = 0;
        qint64 queued = 0;
    };
    QList<Endpoint> endpoints;
    std::array<qint64, 3> clientsByState{}; // connecting, open, closed
};

// A Prometheus histogram with fixed upper bounds (nanoseconds, shown in seconds). observeNs()
// is lock-free and allocates nothing: one relaxed increment of a bucket and one of the sum.
// There is no separate count: _count is the total of the buckets, so it always equals the
// +Inf bucket, whatever observations race with a scrape.
class Histogram
{
public:
    static constexpr int kMaxBounds = 16;

    // boundsNs: increasing upper bounds, at most kMaxBounds; must outlive the histogram.
    explicit Histogram(std::span<const qint64> boundsNs);

    void observeNs(qint64 ns);

    struct Snapshot
    {
        std::array<quint64, kMaxBounds + 1> cumulative{}; // per bound, then +Inf
        int bounds = 0;
        double sumSeconds = 0;
        quint64 count() const { return cumulative[size_t(bounds)]; }
    };
    Snapshot snapshot() const;
    // The _bucket, _sum and _count lines of this histogram. labels: `a="x"` or empty.
    void render(QByteArray &out, QByteArrayView name, QByteArrayView labels) const;

    // Observes the time from its construction to its destruction (nothing when null).
    class Timer
    {
    public:
        explicit Timer(Histogram *histogram);
        ~Timer();
        Timer(const Timer &) = delete;
        Timer &operator=(const Timer &) = delete;

    private:
        Histogram *m_histogram;
        qint64 m_startNs;
    };

private:
    std::span<const qint64> m_boundsNs;
    std::array<std::atomic<quint64>, kMaxBounds + 1> m_buckets{}; // not cumulative
    std::atomic<quint64> m_sumNs{0};
};

// Why a LISTEN/NOTIFY notification was dropped (docs/API.md, "Notifications are signed"): the
// reason label of switchboard_notify_rejected_total.
enum class NotifyRejectReason {
    Signature, // not signed, or the signature does not verify with the API key
    Stale,     // signed, but its timestamp is outside the accepted window
    Replay,    // signed and fresh, but its nonce was seen already
    Invalid,   // a malformed envelope, or a signed payload that is no valid emit
};
inline constexpr int kNotifyRejectReasonCount = 4;
QLatin1String notifyRejectReasonName(NotifyRejectReason reason);

// The counters behind GET /metrics (docs/API.md, "`GET /metrics`: Prometheus metrics"), owned by
// Server and reachable from every thread through ServerContext. Counting is lock-free and
// allocation-free: relaxed atomic increments into fixed arrays. Label sets are bounded: routes are
// the patterns of the HTTP route table (registered once at start) plus a few fixed ones, statuses
// at most kMaxStatuses distinct codes. Gauges and the hub's own counters (messages in by source,
// deliveries) are read when rendering, never counted twice.
class Metrics
{
public:
    Metrics();
    Metrics(const Metrics &) = delete;
    Metrics &operator=(const Metrics &) = delete;

    // Monotonic clock for durations.
    static qint64 nowNs();

    // Route ids for switchboard_http_requests_total and the duration histogram.
    static constexpr int kRouteOther = 0;    // no route matched (never the raw path)
    static constexpr int kRouteWs = 1;       // GET /ws upgrade
    static constexpr int kRouteAdmin = 2;    // GET /admin upgrade
    static constexpr int kRouteLegacyWs = 3; // an upgrade at any other path (legacy clients)
    static constexpr int kMaxRoutes = 40;
    static constexpr int kMaxStatuses = 24;
    // Registers a route pattern of the HTTP route table ("/api/rooms/*"; "*" is one segment)
    // and returns its id; the label names the wildcard after its collection
    // ("/api/rooms/{room}"). The same label twice gives the same id. Called from one thread,
    // before requests are counted; over kMaxRoutes routes, kRouteOther.
    int addRoute(const QString &pattern);
    // The route of a request path that did not go through routing (a refusal of the request
    // guard): the first registered pattern the path matches, else kRouteOther.
    int routeForPath(QStringView encodedPath) const;
    // The route of a WebSocket upgrade at this path.
    static int upgradeRoute(QStringView encodedPath);
    QByteArray routeLabel(int route) const;

    // An HTTP answer was written: counts it by route and status and observes the time since
    // startNs (the request head was complete). Any thread.
    void countHttp(int route, int status, qint64 startNs);
    // A connection was closed with 1013 because its unsent queue passed max_queue_bytes.
    void countSlowClientDisconnect()
    {
        m_slowClientDisconnects.fetch_add(1, std::memory_order_relaxed);
    }
    // Admin stream observers connected now (the admin stream keeps it up to date).
    void addAdminObservers(qint64 delta)
    {
        m_adminObservers.fetch_add(delta, std::memory_order_relaxed);
    }
    // A LISTEN/NOTIFY notification was dropped (PgNotifyListener). Any thread.
    void countNotifyRejected(NotifyRejectReason reason)
    {
        m_notifyRejected[size_t(reason)].fetch_add(1, std::memory_order_relaxed);
    }
    quint64 notifyRejected(NotifyRejectReason reason) const
    {
        return m_notifyRejected[size_t(reason)].load(std::memory_order_relaxed);
    }
    // Batch commits of the message log's writer (LogWriter::writeBatch).
    Histogram *logWriteSeconds() { return &m_logWrite; }
    // Cluster: round trips of the commands to Redis.
    Histogram *redisCommandSeconds() { return &m_redisCommand; }
    // Cluster: an emit of the bus handed to the hub, accepted by this node or by another.
    void countClusterEvent(bool local)
    {
        m_clusterEvents[local ? 0 : 1].fetch_add(1, std::memory_order_relaxed);
    }

    quint64 httpRequests(int route, int status) const;
    quint64 slowClientDisconnects() const
    {
        return m_slowClientDisconnects.load(std::memory_order_relaxed);
    }

    // The Prometheus text exposition (format 0.0.4) of everything, with the hub's and the
    // log's current figures. Any thread.
    QByteArray render(const MetricsGauges &gauges) const;

    static const std::array<qint64, 14> kHttpBoundsNs;
    static const std::array<qint64, 15> kLogWriteBoundsNs;
    static const std::array<qint64, 14> kRedisBoundsNs;

private:
    void renderHttp(QByteArray &out) const;
    void renderEndpoints(QByteArray &out, const MetricsGauges &gauges) const;
    void renderCluster(QByteArray &out, const MetricsGauges &gauges) const;
    struct Route
    {
        QStringList pattern; // decoded literal segments, "*" for one any segment
        QByteArray label;
    };
    int statusSlot(int status);

    std::array<Route, kMaxRoutes> m_routes;
    std::atomic<int> m_routeCount{0};
    std::array<std::atomic<quint16>, kMaxStatuses> m_statuses{}; // 0: free; slot order
    std::array<std::array<std::atomic<quint64>, kMaxStatuses>, kMaxRoutes> m_http{};
    std::array<Histogram, kMaxRoutes> m_httpDuration;
    Histogram m_logWrite;
    Histogram m_redisCommand;
    std::array<std::atomic<quint64>, 2> m_clusterEvents{}; // local, remote
    std::atomic<quint64> m_slowClientDisconnects{0};
    std::atomic<qint64> m_adminObservers{0};
    std::array<std::atomic<quint64>, kNotifyRejectReasonCount> m_notifyRejected{};
};

} // namespace sb
