// Metrics: histogram buckets, route labels and their bounds, status slots, and the text
// exposition of the counters the hub keeps.

#include "admin/MetricsGauges.h"
#include "context/ServerContext.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "store/RoomHistory.h"

#include <QtTest>

using namespace sb;
using namespace Qt::StringLiterals;

class TestMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void histogram_bucketsAreCumulative();
    void histogram_render();
    void histogram_timerObserves();
    void routes_labelsFromPatterns();
    void routes_pathMatching();
    void routes_bounded();
    void statuses_exactAndBounded();
    void render_familiesAndHubCounters();
};

void TestMetrics::histogram_bucketsAreCumulative()
{
    static const qint64 bounds[] = {1'000'000, 10'000'000}; // 1 ms, 10 ms
    Histogram h(bounds);
    h.observeNs(500'000);    // 0.5 ms
    h.observeNs(1'000'000);  // exactly on a bound: in that bucket (le)
    h.observeNs(5'000'000);  // 5 ms
    h.observeNs(20'000'000); // over every bound: +Inf only
    h.observeNs(-5);         // a clock step backwards counts as 0
    const Histogram::Snapshot s = h.snapshot();
    QCOMPARE(s.bounds, 2);
    QCOMPARE(s.cumulative[0], quint64(3));
    QCOMPARE(s.cumulative[1], quint64(4));
    QCOMPARE(s.cumulative[2], quint64(5));
    QCOMPARE(s.count(), quint64(5));
    QCOMPARE(s.sumSeconds, 0.0265);
}

void TestMetrics::histogram_render()
{
    static const qint64 bounds[] = {500'000, 2'500'000'000}; // 0.5 ms, 2.5 s
    Histogram h(bounds);
    h.observeNs(250'000);
    h.observeNs(1'000'000'000);
    QByteArray out;
    h.render(out, "x_seconds", R"(route="/a")");
    QCOMPARE(out,
             QByteArray("x_seconds_bucket{route=\"/a\",le=\"0.0005\"} 1\n"
                        "x_seconds_bucket{route=\"/a\",le=\"2.5\"} 2\n"
                        "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 2\n"
                        "x_seconds_sum{route=\"/a\"} 1.00025\n"
                        "x_seconds_count{route=\"/a\"} 2\n"));
    out.clear();
    Histogram empty(bounds);
    empty.render(out, "y", {});
    QCOMPARE(out,
             QByteArray("y_bucket{le=\"0.0005\"} 0\ny_bucket{le=\"2.5\"} 0\n"
                        "y_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0\n"));
}

void TestMetrics::histogram_timerObserves()
{
    Histogram h(Metrics::kLogWriteBoundsNs);
    {
        const Histogram::Timer t(&h);
        QThread::msleep(2);
    }
    {
        const Histogram::Timer none(nullptr); // nothing to observe into: no crash
    }
    const Histogram::Snapshot s = h.snapshot();
    QCOMPARE(s.count(), quint64(1));
    QVERIFY2(s.sumSeconds >= 0.002 && s.sumSeconds < 1.0,
             qPrintable(QString::number(s.sumSeconds)));
}

void TestMetrics::routes_labelsFromPatterns()
{
    Metrics m;
    const int rooms = m.addRoute(u"/api/rooms/*"_s);
    const int send = m.addRoute(u"/api/connections/*/send"_s);
    const int conn = m.addRoute(u"/api/connections/*"_s);
    const int root = m.addRoute(u"/"_s);
    QCOMPARE(m.routeLabel(rooms), QByteArray("/api/rooms/{room}"));
    QCOMPARE(m.routeLabel(send), QByteArray("/api/connections/{connection}/send"));
    QCOMPARE(m.routeLabel(conn), QByteArray("/api/connections/{connection}"));
    QCOMPARE(m.routeLabel(root), QByteArray("/"));
    // GET and DELETE of one path share the label.
    QCOMPARE(m.addRoute(u"/api/connections/*"_s), conn);
    QCOMPARE(m.routeLabel(Metrics::kRouteOther), QByteArray("other"));
    QCOMPARE(m.routeLabel(Metrics::kRouteWs), QByteArray("/ws"));
    QCOMPARE(m.routeLabel(Metrics::kRouteAdmin), QByteArray("/admin"));
    QCOMPARE(m.routeLabel(Metrics::kRouteLegacyWs), QByteArray("legacy_ws"));
    QCOMPARE(m.routeLabel(-1), QByteArray("other"));
    QCOMPARE(m.routeLabel(Metrics::kMaxRoutes + 5), QByteArray("other"));
}

void TestMetrics::routes_pathMatching()
{
    Metrics m;
    const int emit = m.addRoute(u"/api/emit/room"_s);
    const int rooms = m.addRoute(u"/api/rooms/*"_s);
    const int root = m.addRoute(u"/"_s);
    QCOMPARE(m.routeForPath(u"/api/emit/room"), emit);
    QCOMPARE(m.routeForPath(u"/api/rooms/a%2Fb"), rooms); // one encoded segment
    QCOMPARE(m.routeForPath(u"/api/rooms/a/b"), Metrics::kRouteOther);
    QCOMPARE(m.routeForPath(u"/"), root);
    QCOMPARE(m.routeForPath(u"/ws"), Metrics::kRouteWs);
    QCOMPARE(m.routeForPath(u"/nothing/here"), Metrics::kRouteOther);
    QCOMPARE(Metrics::upgradeRoute(u"/ws"), Metrics::kRouteWs);
    QCOMPARE(Metrics::upgradeRoute(u"/admin"), Metrics::kRouteAdmin);
    QCOMPARE(Metrics::upgradeRoute(u"/"), Metrics::kRouteLegacyWs);
    QCOMPARE(Metrics::upgradeRoute(u"/anything/else"), Metrics::kRouteLegacyWs);
    QCOMPARE(Metrics::upgradeRoute(u"/websockets/x"), Metrics::kRouteOther);
}

void TestMetrics::routes_bounded()
{
    Metrics m;
    int last = 0;
    for (int i = 0; i < Metrics::kMaxRoutes + 10; ++i)
        last = m.addRoute(u"/r%1"_s.arg(i));
    QCOMPARE(last, Metrics::kRouteOther);
    QCOMPARE(m.addRoute(u"/r0"_s), 4); // the first after the fixed routes, still known
    // Counting under an out-of-range id lands in "other", never out of bounds.
    m.countHttp(Metrics::kMaxRoutes + 3, 200, Metrics::nowNs());
    m.countHttp(-2, 200, Metrics::nowNs());
    QCOMPARE(m.httpRequests(Metrics::kRouteOther, 200), quint64(2));
}

void TestMetrics::statuses_exactAndBounded()
{
    Metrics m;
    const int route = m.addRoute(u"/x"_s);
    m.countHttp(route, 200, Metrics::nowNs());
    m.countHttp(route, 200, Metrics::nowNs());
    m.countHttp(route, 404, Metrics::nowNs());
    QCOMPARE(m.httpRequests(route, 200), quint64(2));
    QCOMPARE(m.httpRequests(route, 404), quint64(1));
    QCOMPARE(m.httpRequests(route, 500), quint64(0));
    // More distinct statuses than slots: the first ones stay exact, the rest are "other".
    for (int s = 0; s < Metrics::kMaxStatuses + 5; ++s)
        m.countHttp(route, 500 + s, Metrics::nowNs());
    QCOMPARE(m.httpRequests(route, 500), quint64(1));
    QCOMPARE(m.httpRequests(route, 200), quint64(2));
    QCOMPARE(m.httpRequests(route, 500 + Metrics::kMaxStatuses + 4), quint64(0));
    ServerContext context;
    const QByteArray text = m.render(metricsGauges(context));
    QVERIFY2(text.contains("switchboard_http_requests_total{route=\"/x\",status=\"other\"} 8\n"),
             text.constData());
    QVERIFY(text.contains("switchboard_http_requests_total{route=\"/x\",status=\"200\"} 2\n"));
    // Statuses in numeric order within a route.
    QVERIFY(text.indexOf("route=\"/x\",status=\"200\"")
            < text.indexOf("route=\"/x\",status=\"404\""));
    QVERIFY(text.indexOf("route=\"/x\",status=\"404\"")
            < text.indexOf("route=\"/x\",status=\"500\""));
}

void TestMetrics::render_familiesAndHubCounters()
{
    sb::RoomHistory history;
    Hub hub(history);
    ServerContext context;
    context.hub = &hub;
    context.startedMs = QDateTime::currentMSecsSinceEpoch();
    Metrics m;
    context.metrics = &m;
    EmitRequest e;
    e.target = EmitTarget::All;
    e.event = u"x"_s;
    e.source = EmitSource::Console;
    QVERIFY(hub.publish(e).accepted);
    e.source = EmitSource::Notify;
    QVERIFY(hub.publish(e).accepted);
    QVERIFY(hub.publish(e).accepted);
    m.countSlowClientDisconnect();
    m.countNotifyRejected(NotifyRejectReason::Replay);
    m.countNotifyRejected(NotifyRejectReason::Replay);
    m.countNotifyRejected(NotifyRejectReason::Signature);
    QCOMPARE(m.notifyRejected(NotifyRejectReason::Replay), quint64(2));
    const QByteArray text = m.render(metricsGauges(context));
    for (const char *line :
         {"switchboard_messages_total{source=\"rest\"} 0\n",
          "switchboard_messages_total{source=\"ws\"} 0\n",
          "switchboard_messages_total{source=\"console\"} 1\n",
          "switchboard_messages_total{source=\"compat\"} 0\n",
          "switchboard_messages_total{source=\"notify\"} 2\n", "switchboard_deliveries_total 0\n",
          "switchboard_slow_client_disconnects_total 1\n", "switchboard_log_queue_depth 0\n",
          "switchboard_connections 0\n", "switchboard_admin_observers 0\n",
          "switchboard_log_write_seconds_count 0\n",
          // every reason is present from the start
          "switchboard_notify_rejected_total{reason=\"signature\"} 1\n",
          "switchboard_notify_rejected_total{reason=\"stale\"} 0\n",
          "switchboard_notify_rejected_total{reason=\"replay\"} 2\n",
          "switchboard_notify_rejected_total{reason=\"invalid\"} 0\n"})
        QVERIFY2(text.contains(line), line);
    QCOMPARE(hub.stats().messagesIn, quint64(3));
    for (const char *name :
         {"switchboard_connections", "switchboard_rooms", "switchboard_users",
          "switchboard_log_queue_depth", "switchboard_messages_total",
          "switchboard_deliveries_total", "switchboard_slow_client_disconnects_total",
          "switchboard_http_requests_total", "switchboard_http_request_duration_seconds",
          "switchboard_log_write_seconds", "switchboard_uptime_seconds",
          "switchboard_legacy_connections", "switchboard_admin_observers",
          "switchboard_process_resident_memory_bytes", "switchboard_notify_rejected_total"}) {
        QVERIFY2(text.contains(QByteArray("# HELP " + QByteArray(name) + ' ')), name);
        QVERIFY2(text.contains(QByteArray("# TYPE " + QByteArray(name) + ' ')), name);
    }
    QVERIFY(text.endsWith('\n'));
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
