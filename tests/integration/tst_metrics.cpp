// GET /metrics (docs/API.md, "`GET /metrics`: Prometheus metrics"): the key, the Prometheus text
// format, and that each counter moves by exactly what happened: emits by source, deliveries, HTTP
// answers by route pattern and status (refusals included), slow-client disconnects, the histograms.
// A fresh daemon per test. The exposition is parsed line by line (name{labels} value), not
// searched.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "RawConn.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QMap>
#include <QTcpSocket>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

using Labels = QMap<QString, QString>;

struct Sample
{
    QString name;
    Labels labels;
    double value = 0;
};

// The Prometheus text exposition format 0.0.4, as far as a scraper reads it.
struct Exposition
{
    QHash<QString, QString> help;
    QHash<QString, QString> type;
    QList<Sample> samples;
    QStringList errors; // lines that are not valid exposition text

    static Exposition parse(const QByteArray &text)
    {
        Exposition e;
        if (!text.endsWith('\n'))
            e.errors << u"the text does not end with a line feed"_s;
        const QList<QByteArray> lines = text.split('\n');
        for (qsizetype n = 0; n < lines.size(); ++n) {
            const QString line = QString::fromUtf8(lines[n]);
            if (line.isEmpty())
                continue;
            if (line.startsWith(u"# HELP ") || line.startsWith(u"# TYPE ")) {
                const QString rest = line.mid(7);
                const qsizetype space = rest.indexOf(u' ');
                const QString name = rest.left(space);
                const QString what = space < 0 ? QString() : rest.mid(space + 1);
                QHash<QString, QString> &map = line.startsWith(u"# HELP ") ? e.help : e.type;
                if (name.isEmpty() || what.isEmpty() || map.contains(name))
                    e.errors << u"line %1: bad or repeated comment: %2"_s.arg(n + 1).arg(line);
                map.insert(name, what);
                continue;
            }
            if (line.startsWith(u'#'))
                continue;
            Sample s;
            QString why;
            if (!parseSample(line, &s, &why)) {
                e.errors << u"line %1: %2: %3"_s.arg(n + 1).arg(why, line);
                continue;
            }
            // A sample belongs to a family declared before it (histograms: _bucket, _sum,
            // _count of the family's name).
            QString family = s.name;
            for (const QString &suffix : {u"_bucket"_s, u"_sum"_s, u"_count"_s}) {
                if (!e.type.contains(family) && family.endsWith(suffix))
                    family.chop(suffix.size());
            }
            if (!e.type.contains(family))
                e.errors << u"line %1: sample before its # TYPE: %2"_s.arg(n + 1).arg(line);
            e.samples << s;
        }
        return e;
    }

    static bool parseSample(const QString &line, Sample *s, QString *why)
    {
        qsizetype i = 0;
        auto isNameChar = [](QChar c, bool first) {
            return c.isLetter() || c == u'_' || c == u':' || (!first && c.isDigit());
        };
        while (i < line.size() && isNameChar(line[i], i == 0))
            ++i;
        s->name = line.left(i);
        if (s->name.isEmpty()) {
            *why = u"no metric name"_s;
            return false;
        }
        if (i < line.size() && line[i] == u'{') {
            ++i;
            while (i < line.size() && line[i] != u'}') {
                const qsizetype keyStart = i;
                while (i < line.size() && isNameChar(line[i], i == keyStart))
                    ++i;
                const QString key = line.mid(keyStart, i - keyStart);
                if (key.isEmpty() || i + 1 >= line.size() || line[i] != u'='
                    || line[i + 1] != u'"') {
                    *why = u"bad label"_s;
                    return false;
                }
                i += 2;
                QString value;
                bool closed = false;
                while (i < line.size()) {
                    const QChar c = line[i++];
                    if (c == u'"') {
                        closed = true;
                        break;
                    }
                    if (c == u'\\' && i < line.size()) {
                        const QChar esc = line[i++];
                        value += esc == u'n' ? u'\n' : esc;
                    } else {
                        value += c;
                    }
                }
                if (!closed || s->labels.contains(key)) {
                    *why = u"unterminated or repeated label"_s;
                    return false;
                }
                s->labels.insert(key, value);
                if (i < line.size() && line[i] == u',')
                    ++i;
            }
            if (i >= line.size()) {
                *why = u"unterminated label set"_s;
                return false;
            }
            ++i; // '}'
        }
        if (i >= line.size() || line[i] != u' ') {
            *why = u"no space before the value"_s;
            return false;
        }
        const QStringList rest = line.mid(i + 1).split(u' ');
        if (rest.isEmpty() || rest.size() > 2) {
            *why = u"expected a value and an optional timestamp"_s;
            return false;
        }
        const QString v = rest[0];
        bool ok = true;
        if (v == u"+Inf")
            s->value = std::numeric_limits<double>::infinity();
        else if (v == u"-Inf")
            s->value = -std::numeric_limits<double>::infinity();
        else if (v == u"NaN")
            s->value = std::numeric_limits<double>::quiet_NaN();
        else
            s->value = v.toDouble(&ok);
        if (!ok)
            *why = u"value is not a number"_s;
        return ok;
    }

    QList<Sample> family(const QString &name) const
    {
        QList<Sample> out;
        for (const Sample &s : samples) {
            if (s.name == name)
                out << s;
        }
        return out;
    }
    // The value of the sample with exactly these labels; NaN when absent.
    double value(const QString &name, const Labels &labels = {}) const
    {
        for (const Sample &s : samples) {
            if (s.name == name && s.labels == labels)
                return s.value;
        }
        return std::numeric_limits<double>::quiet_NaN();
    }
    // Absent counts as zero: a counter series appears with its first event.
    double counter(const QString &name, const Labels &labels = {}) const
    {
        const double v = value(name, labels);
        return std::isnan(v) ? 0 : v;
    }
    double sum(const QString &name) const
    {
        double total = 0;
        for (const Sample &s : samples) {
            if (s.name == name)
                total += s.value;
        }
        return total;
    }
};

Labels requestLabels(const QString &route, int status)
{
    return {{u"route"_s, route}, {u"status"_s, QString::number(status)}};
}

const QStringList kSources = {u"rest"_s,   u"ws"_s,      u"console"_s, u"compat"_s,
                              u"notify"_s, u"handler"_s, u"client"_s};

} // namespace

class TestMetrics : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void auth_keyRequired();
    void format_familiesTypesAndContentType();
    void emits_countedBySourceAndDelivered();
    void compat_countedAsCompat();
    void rejected_changeOnlyRequestMetrics();
    void httpRequests_routePatternAndStatus();
    void histograms_cumulativeAndCounted();
    void heldAnswers_countedWhenWritten();
    void slowClient_disconnectCounted();
    void logOff_queueDepthZero();

private:
    // GET /metrics with the key, parsed; fails the test when it is not valid exposition text.
    Exposition scrape(ServerProcess *server = nullptr);
};

void TestMetrics::init()
{
    QString why;
    QVERIFY2(startDaemon({}, &why), qPrintable(why));
}

void TestMetrics::cleanup()
{
    endCase();
    stopDaemon();
}

Exposition TestMetrics::scrape(ServerProcess *server)
{
    std::unique_ptr<HttpClient> own;
    HttpClient *api = m_api.get();
    if (server) {
        own = server->client();
        api = own.get();
    }
    const HttpResponse r = api->get("/metrics");
    if (r.status != 200) {
        qWarning().noquote() << "GET /metrics:" << r.describe();
        return {};
    }
    Exposition e = Exposition::parse(r.body);
    if (!e.errors.isEmpty())
        qWarning().noquote() << "invalid exposition:\n" << e.errors.join(u'\n');
    if (e.samples.isEmpty())
        e.errors << u"no samples"_s;
    return e;
}

void TestMetrics::auth_keyRequired()
{
    auto anonymous = m_server->client(false);
    const HttpResponse none = anonymous->get("/metrics");
    QVERIFY2(none.status == 401, qPrintable(none.describe()));
    QCOMPARE(none.errorCode(), u"unauthorized"_s);
    QVERIFY(!none.body.contains("switchboard_"));

    const HttpResponse wrong = anonymous->get("/metrics", {{"X-API-Key", "not-the-key"}});
    QVERIFY2(wrong.status == 401, qPrintable(wrong.describe()));

    const HttpResponse bearer =
            anonymous->get("/metrics", {{"Authorization", "Bearer " + m_server->apiKey()}});
    QVERIFY2(bearer.status == 200, qPrintable(bearer.describe()));
    QVERIFY(bearer.body.contains("switchboard_connections"));

    // The two refusals are themselves counted, under the route pattern.
    const Exposition e = scrape();
    QVERIFY(e.errors.isEmpty());
    QCOMPARE(e.counter(u"switchboard_http_requests_total"_s, requestLabels(u"/metrics"_s, 401)),
             2.0);
    QCOMPARE(e.counter(u"switchboard_http_requests_total"_s, requestLabels(u"/metrics"_s, 200)),
             1.0);
}

void TestMetrics::format_familiesTypesAndContentType()
{
    QString why;
    auto member = openJoined(*m_server, *m_api, u"fmt"_s, u"U1"_s, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    const HttpResponse r = m_api->get("/metrics");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.header("Content-Type"), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    const Exposition e = Exposition::parse(r.body);
    QVERIFY2(e.errors.isEmpty(), qPrintable(e.errors.join(u'\n')));

    const QList<QPair<QString, QString>> families = {
            {u"switchboard_connections"_s, u"gauge"_s},
            {u"switchboard_rooms"_s, u"gauge"_s},
            {u"switchboard_users"_s, u"gauge"_s},
            {u"switchboard_log_queue_depth"_s, u"gauge"_s},
            {u"switchboard_uptime_seconds"_s, u"gauge"_s},
            {u"switchboard_legacy_connections"_s, u"gauge"_s},
            {u"switchboard_admin_observers"_s, u"gauge"_s},
            {u"switchboard_process_resident_memory_bytes"_s, u"gauge"_s},
            {u"switchboard_messages_total"_s, u"counter"_s},
            {u"switchboard_deliveries_total"_s, u"counter"_s},
            {u"switchboard_slow_client_disconnects_total"_s, u"counter"_s},
            {u"switchboard_notify_rejected_total"_s, u"counter"_s},
            {u"switchboard_http_requests_total"_s, u"counter"_s},
            {u"switchboard_http_request_duration_seconds"_s, u"histogram"_s},
            {u"switchboard_log_write_seconds"_s, u"histogram"_s},
    };
    for (const auto &[name, type] : families) {
        QVERIFY2(!e.help.value(name).isEmpty(), qPrintable(u"no # HELP for "_s + name));
        QVERIFY2(e.type.value(name) == type,
                 qPrintable(u"# TYPE of %1 is '%2', expected %3"_s.arg(name, e.type.value(name),
                                                                       type)));
    }
    // Gauges: one unlabelled sample each, agreeing with /api/stats.
    const QJsonObject s = stats(*m_api);
    for (const QString &g : {u"connections"_s, u"rooms"_s, u"users"_s}) {
        const QList<Sample> samples = e.family(u"switchboard_"_s + g);
        QCOMPARE(samples.size(), qsizetype(1));
        QVERIFY(samples[0].labels.isEmpty());
        QCOMPARE(samples[0].value, s.value(g).toDouble(-1));
    }
    QCOMPARE(e.value(u"switchboard_connections"_s), 1.0);
    QCOMPARE(e.value(u"switchboard_rooms"_s), 1.0);
    QCOMPARE(e.value(u"switchboard_users"_s), 1.0);
    QCOMPARE(e.value(u"switchboard_legacy_connections"_s), 0.0);
    QCOMPARE(e.value(u"switchboard_admin_observers"_s), 0.0);
    QVERIFY(e.value(u"switchboard_log_queue_depth"_s) >= 0);
    QVERIFY(e.value(u"switchboard_uptime_seconds"_s) >= 0);
    const double rss = e.value(u"switchboard_process_resident_memory_bytes"_s);
    QVERIFY2(rss > 1e6 && rss < 1e10, qPrintable(QString::number(rss)));
    // Every source is present from the start, and nothing else.
    const QList<Sample> messages = e.family(u"switchboard_messages_total"_s);
    QCOMPARE(messages.size(), kSources.size());
    for (const QString &source : kSources)
        QCOMPARE(e.value(u"switchboard_messages_total"_s, {{u"source"_s, source}}), 0.0);
    QCOMPARE(e.value(u"switchboard_deliveries_total"_s), 0.0);
    QCOMPARE(e.value(u"switchboard_slow_client_disconnects_total"_s), 0.0);
    for (const QString &reason : {u"signature"_s, u"stale"_s, u"replay"_s, u"invalid"_s})
        QCOMPARE(e.value(u"switchboard_notify_rejected_total"_s, {{u"reason"_s, reason}}), 0.0);
    QCOMPARE(e.family(u"switchboard_notify_rejected_total"_s).size(), qsizetype(4));
    // The register call and the WebSocket upgrade of openJoined are counted.
    QCOMPARE(
            e.counter(u"switchboard_http_requests_total"_s, requestLabels(u"/api/register"_s, 200)),
            1.0);
    QCOMPARE(e.counter(u"switchboard_http_requests_total"_s, requestLabels(u"/ws"_s, 101)), 1.0);
    QCOMPARE(e.family(u"switchboard_log_write_seconds_count"_s).size(), qsizetype(1));
}

void TestMetrics::emits_countedBySourceAndDelivered()
{
    const QString room = u"metrics:emit"_s;
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"U1"_s, u"S1"_s, true, &why);
    QVERIFY2(member, qPrintable(why));
    auto publisher = openJoined(*m_server, *m_api, room, u"U2"_s, u"S2"_s, true, &why);
    QVERIFY2(publisher, qPrintable(why));
    const Exposition before = scrape();
    QVERIFY(before.errors.isEmpty());

    // N REST emits reach both members: 2N deliveries.
    const int n = 7;
    for (int i = 0; i < n; ++i) {
        const HttpResponse r = m_api->postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"e"_s}, {u"data"_s, i}});
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.object().value(u"delivered"_s).toInt(), 2);
    }
    QVERIFY(waitUntil([&] { return member->count(u"event"_s) == n; }, 5000));
    Exposition after = scrape();
    QVERIFY(after.errors.isEmpty());
    auto delta = [&](const QString &name, const Labels &labels = {}) {
        return after.counter(name, labels) - before.counter(name, labels);
    };
    const QString messages = u"switchboard_messages_total"_s;
    QCOMPARE(delta(messages, {{u"source"_s, u"rest"_s}}), double(n));
    for (const QString &source : {u"ws"_s, u"console"_s, u"compat"_s, u"notify"_s})
        QCOMPARE(delta(messages, {{u"source"_s, source}}), 0.0);
    QCOMPARE(delta(u"switchboard_deliveries_total"_s), double(2 * n));
    // The same figures as /api/stats (nothing emitted between the two reads).
    QJsonObject s = stats(*m_api);
    QCOMPARE(after.sum(messages), s.value(u"messages_in_total"_s).toDouble());
    QCOMPARE(after.value(u"switchboard_deliveries_total"_s),
             s.value(u"messages_out_total"_s).toDouble());

    // A console emit (X-Switchboard-Source) and a client emit (the sender gets none).
    const HttpResponse console =
            m_api->postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"c"_s}},
                            {{"X-Switchboard-Source", "console"}});
    QVERIFY2(console.status == 200, qPrintable(console.describe()));
    publisher->send({{u"type"_s, u"emit"_s}, {u"room"_s, room}, {u"event"_s, u"w"_s}});
    QVERIFY(waitUntil([&] { return member->count(u"event"_s) == n + 2; }, 5000));
    const Exposition last = scrape();
    QVERIFY(last.errors.isEmpty());
    QCOMPARE(last.counter(messages, {{u"source"_s, u"console"_s}}), 1.0);
    QCOMPARE(last.counter(messages, {{u"source"_s, u"ws"_s}}), 1.0);
    QCOMPARE(last.counter(messages, {{u"source"_s, u"rest"_s}}),
             after.counter(messages, {{u"source"_s, u"rest"_s}}));
    // Console: both members; client emit: the other member only.
    QCOMPARE(last.counter(u"switchboard_deliveries_total"_s)
                     - after.counter(u"switchboard_deliveries_total"_s),
             3.0);
}

void TestMetrics::compat_countedAsCompat()
{
    const QString room = u"metrics:compat"_s;
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"U1"_s, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    WsClient legacy;
    QVERIFY(legacy.open(m_server->wsUrl(u"/"_s)));
    const Exposition before = scrape();
    QVERIFY(before.errors.isEmpty());
    QCOMPARE(before.value(u"switchboard_legacy_connections"_s), 1.0);

    const HttpResponse b = m_api->postJson(
            "/api/broadcast", {{u"channel"_s, room}, {u"eventName"_s, u"b"_s}, {u"payload"_s, 1}});
    QVERIFY2(b.status == 200, qPrintable(b.describe()));
    const HttpResponse p = m_api->putJson(
            "/socket/room", {{u"room"_s, room}, {u"event"_s, u"p"_s}, {u"data"_s, 2}});
    QVERIFY2(p.status == 200, qPrintable(p.describe()));
    const HttpResponse push = m_api->post("/", R"({"hello":1})", "application/json");
    QVERIFY2(push.status == 200, qPrintable(push.describe()));
    QVERIFY(waitUntil([&] { return member->count(u"event"_s) == 2; }, 5000));

    const Exposition after = scrape();
    QVERIFY(after.errors.isEmpty());
    const QString messages = u"switchboard_messages_total"_s;
    for (const QString &source : kSources) {
        const double d = after.counter(messages, {{u"source"_s, source}})
                - before.counter(messages, {{u"source"_s, source}});
        QVERIFY2(d == (source == u"compat" ? 3.0 : 0.0),
                 qPrintable(u"%1 grew by %2"_s.arg(source).arg(d)));
    }
    // Event frames to /ws members only (the legacy pushes are not event frames).
    QCOMPARE(after.counter(u"switchboard_deliveries_total"_s)
                     - before.counter(u"switchboard_deliveries_total"_s),
             2.0);
    const QString requests = u"switchboard_http_requests_total"_s;
    for (const QString &route : {u"/api/broadcast"_s, u"/socket/room"_s, u"/"_s})
        QCOMPARE(after.counter(requests, requestLabels(route, 200))
                         - before.counter(requests, requestLabels(route, 200)),
                 1.0);
    QCOMPARE(after.counter(requests, requestLabels(u"legacy_ws"_s, 101)), 1.0);
}

void TestMetrics::rejected_changeOnlyRequestMetrics()
{
    const QString room = u"metrics:rejected"_s;
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"U1"_s, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    const Exposition before = scrape();
    QVERIFY(before.errors.isEmpty());

    const HttpResponse missing = m_api->postJson("/api/emit/room", {{u"room"_s, room}});
    QVERIFY2(missing.status == 400, qPrintable(missing.describe()));
    const HttpResponse media =
            m_api->post("/api/emit/room", R"({"room":"r","event":"e"})", "text/plain");
    QVERIFY2(media.status == 415, qPrintable(media.describe()));
    auto anonymous = m_server->client(false);
    const HttpResponse key =
            anonymous->postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"e"_s}});
    QVERIFY2(key.status == 401, qPrintable(key.describe()));
    const HttpResponse badCompat = m_api->postJson("/api/broadcast", {{u"eventName"_s, u"e"_s}});
    QVERIFY2(badCompat.status == 400, qPrintable(badCompat.describe()));

    const Exposition after = scrape();
    QVERIFY(after.errors.isEmpty());
    for (const QString &source : kSources)
        QCOMPARE(after.counter(u"switchboard_messages_total"_s, {{u"source"_s, source}}),
                 before.counter(u"switchboard_messages_total"_s, {{u"source"_s, source}}));
    QCOMPARE(after.counter(u"switchboard_deliveries_total"_s),
             before.counter(u"switchboard_deliveries_total"_s));
    const QString requests = u"switchboard_http_requests_total"_s;
    for (const auto &[route, status] :
         {std::pair{u"/api/emit/room"_s, 400}, std::pair{u"/api/emit/room"_s, 415},
          std::pair{u"/api/emit/room"_s, 401}, std::pair{u"/api/broadcast"_s, 400}}) {
        QVERIFY2(after.counter(requests, requestLabels(route, status))
                                 - before.counter(requests, requestLabels(route, status))
                         == 1.0,
                 qPrintable(u"%1 %2"_s.arg(route).arg(status)));
    }
    QVERIFY(member->noFrameWithin(200, u"event"_s));
}

void TestMetrics::httpRequests_routePatternAndStatus()
{
    const QString unique = uniqueName(u"zq"_s);
    const QByteArray u8 = unique.toUtf8();
    const Exposition before = scrape();
    QVERIFY(before.errors.isEmpty());

    // Answered by routing: 404 for no route, 404 from a handler, 401, 405.
    QCOMPARE(m_api->get("/no/such/" + u8).status, 404);
    QCOMPARE(m_api->get("/" + u8).status, 404);
    QCOMPARE(m_api->get("/api/rooms/" + u8).status, 404);
    QCOMPARE(m_api->get("/api/connections/c99999").status, 404);
    QCOMPARE(m_server->client(false)->get("/api/stats").status, 401);
    QCOMPARE(m_api->del("/api/stats").status, 405);
    QCOMPARE(m_api->get("/api/health").status, 200);

    // Answered by the request guard before routing: 413 (Content-Length over max_body_bytes)
    // and 431 (a head over 64 KiB), each on its own connection.
    {
        RawConn raw;
        QVERIFY(raw.connectTo(m_server->port()));
        raw.write(rawHead(*m_server, "POST", "/api/emit/room?x=" + u8, "HTTP/1.1",
                          "Content-Type: application/json\r\nContent-Length: 5000000")
                  + "\r\n\r\n");
        HttpResponse r;
        QVERIFY(raw.read(&r, 5000));
        QCOMPARE(r.status, 413);
    }
    {
        RawConn raw;
        QVERIFY(raw.connectTo(m_server->port()));
        raw.write(rawHead(*m_server, "GET", "/api/stats", "HTTP/1.1",
                          "X-Big: " + QByteArray(70 * 1024, 'b'))
                  + "\r\n\r\n");
        HttpResponse r;
        QVERIFY(raw.read(&r, 5000));
        QCOMPARE(r.status, 431);
    }

    const Exposition after = scrape();
    QVERIFY(after.errors.isEmpty());
    const QString requests = u"switchboard_http_requests_total"_s;
    auto delta = [&](const QString &route, int status) {
        return after.counter(requests, requestLabels(route, status))
                - before.counter(requests, requestLabels(route, status));
    };
    QCOMPARE(delta(u"other"_s, 404), 2.0);
    QCOMPARE(delta(u"/api/rooms/{room}"_s, 404), 1.0);
    QCOMPARE(delta(u"/api/connections/{connection}"_s, 404), 1.0);
    QCOMPARE(delta(u"/api/stats"_s, 401), 1.0);
    QCOMPARE(delta(u"/api/stats"_s, 405), 1.0);
    QCOMPARE(delta(u"/api/health"_s, 200), 1.0);
    QCOMPARE(delta(u"/api/emit/room"_s, 413), 1.0);
    QCOMPARE(delta(u"/api/stats"_s, 431), 1.0);
    // The scrape before this one, counted once it was answered.
    QCOMPARE(delta(u"/metrics"_s, 200), 1.0);

    // Labels are route patterns and numeric statuses, never what the caller sent.
    for (const Sample &s : after.family(requests)) {
        const QString route = s.labels.value(u"route"_s);
        QCOMPARE(s.labels.size(), qsizetype(2));
        QVERIFY2(!route.contains(unique) && !route.contains(u"c99999"_s), qPrintable(route));
        QVERIFY2(route == u"other" || route == u"legacy_ws" || route.startsWith(u'/'),
                 qPrintable(route));
        bool numeric = false;
        const int status = s.labels.value(u"status"_s).toInt(&numeric);
        QVERIFY2(numeric && status >= 100 && status <= 599,
                 qPrintable(s.labels.value(u"status"_s)));
    }
    for (const Sample &s : after.samples)
        QVERIFY2(!s.labels.values().join(u' ').contains(unique), qPrintable(s.name));
}

void TestMetrics::histograms_cumulativeAndCounted()
{
    const QString room = u"metrics:hist"_s;
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"U1"_s, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(
                m_api->postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"h"_s}}).status,
                200);
    QCOMPARE(m_api->get("/nope").status, 404);
    // The log writer commits on its own thread, a few milliseconds after the answers.
    Exposition e;
    QVERIFY(waitUntil(
            [&] {
                e = scrape();
                return e.value(u"switchboard_log_write_seconds_count"_s) > 0;
            },
            5000));
    QVERIFY(e.errors.isEmpty());

    int series = 0;
    for (const QString &name :
         {u"switchboard_http_request_duration_seconds"_s, u"switchboard_log_write_seconds"_s}) {
        // Group the buckets by their labels without le.
        QMap<QString, QList<QPair<double, double>>> buckets; // labels -> (le, count)
        for (const Sample &s : e.family(name + u"_bucket"_s)) {
            Labels rest = s.labels;
            QVERIFY2(rest.contains(u"le"_s), qPrintable(name));
            bool ok = true;
            const QString le = rest.take(u"le"_s);
            const double bound =
                    le == u"+Inf" ? std::numeric_limits<double>::infinity() : le.toDouble(&ok);
            QVERIFY2(ok, qPrintable(le));
            QStringList key;
            for (auto it = rest.cbegin(); it != rest.cend(); ++it)
                key << it.key() + u'=' + it.value();
            buckets[key.join(u',')].append({bound, s.value});
        }
        QVERIFY2(!buckets.isEmpty(), qPrintable(name));
        for (auto it = buckets.cbegin(); it != buckets.cend(); ++it) {
            const QList<QPair<double, double>> &b = it.value();
            QVERIFY2(b.size() >= 6, qPrintable(name + u' ' + it.key()));
            for (qsizetype i = 1; i < b.size(); ++i) {
                QVERIFY2(b[i].first > b[i - 1].first, "le values are not increasing");
                QVERIFY2(b[i].second >= b[i - 1].second,
                         qPrintable(u"%1{%2} buckets are not cumulative"_s.arg(name, it.key())));
            }
            QVERIFY2(std::isinf(b.last().first), "the last bucket is not +Inf");
            Labels labels;
            if (!it.key().isEmpty()) {
                for (const QString &pair : it.key().split(u',')) {
                    const qsizetype eq = pair.indexOf(u'=');
                    labels.insert(pair.left(eq), pair.mid(eq + 1));
                }
            }
            const double count = e.value(name + u"_count"_s, labels);
            const double sum = e.value(name + u"_sum"_s, labels);
            QCOMPARE(count, b.last().second);
            QVERIFY2(sum >= 0 && std::isfinite(sum), qPrintable(name));
            ++series;
        }
    }
    QVERIFY(series >= 3); // log writes, and at least /api/register and /api/emit/room
    const Labels emitRoute{{u"route"_s, u"/api/emit/room"_s}};
    QCOMPARE(e.value(u"switchboard_http_request_duration_seconds_count"_s, emitRoute), 5.0);
    QVERIFY(e.value(u"switchboard_http_request_duration_seconds_sum"_s, emitRoute) > 0);
    // Every answered request is in both: the counter and the duration histogram.
    QCOMPARE(e.sum(u"switchboard_http_request_duration_seconds_count"_s),
             e.sum(u"switchboard_http_requests_total"_s));
}

// Answers that wait for the log commit (the journal cannot be used: every emit answer waits
// for the database) and the answers queued behind them are counted once each, when written.
void TestMetrics::heldAnswers_countedWhenWritten()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY(QFile::link(u"/dev/null"_s, m_extra->dataDir() + u"/messages.db.journal"_s));
    QVERIFY2(m_extra->start({u"--log-level"_s, u"info"_s}), qPrintable(m_extra->lastError()));
    QVERIFY2(m_extra->output().contains(u"answers wait for the database commit"_s),
             "the journal is in use: answers would not wait for the log");
    QTcpSocket raw;
    raw.connectToHost(m_extra->host(), m_extra->port());
    QVERIFY(waitUntil([&] { return raw.state() == QAbstractSocket::ConnectedState; }, 5000));
    const int n = 20;
    const QByteArray emit = rawRequest(*m_extra, "POST", "/api/emit/all", R"({"event":"held"})");
    raw.write(emit.repeated(n) + rawHead(*m_extra, "GET", "/api/health") + "\r\n"
              + rawHead(*m_extra, "GET", "/nope") + "\r\n");
    HttpResponseParser parser;
    QList<int> statuses;
    QVERIFY(waitUntil(
            [&] {
                parser.feed(raw.readAll());
                HttpResponse r;
                while (parser.take(&r))
                    statuses << r.status;
                return statuses.size() == n + 2;
            },
            10000));
    QList<int> expected(n, 200);
    expected << 200 << 404;
    QCOMPARE(statuses, expected);

    const Exposition e = scrape(m_extra.get());
    QVERIFY(e.errors.isEmpty());
    const QString requests = u"switchboard_http_requests_total"_s;
    QCOMPARE(e.counter(requests, requestLabels(u"/api/emit/all"_s, 200)), double(n));
    QCOMPARE(e.counter(requests, requestLabels(u"/api/health"_s, 200)), 1.0);
    QCOMPARE(e.counter(requests, requestLabels(u"other"_s, 404)), 1.0);
    QCOMPARE(e.value(u"switchboard_http_request_duration_seconds_count"_s,
                     {{u"route"_s, u"/api/emit/all"_s}}),
             double(n));
    QCOMPARE(e.sum(u"switchboard_http_request_duration_seconds_count"_s), e.sum(requests));
    QVERIFY(e.value(u"switchboard_log_write_seconds_count"_s) >= 1);
    QCOMPARE(e.value(u"switchboard_messages_total"_s, {{u"source"_s, u"rest"_s}}), double(n));
}

void TestMetrics::slowClient_disconnectCounted()
{
    SlowRoom slowRoom;
    QString why;
    QVERIFY2(startSlowRoom(m_extra, {}, &slowRoom, &why), qPrintable(why));
    const QString counter = u"switchboard_slow_client_disconnects_total"_s;
    const Exposition before = scrape(m_extra.get());
    QVERIFY(before.errors.isEmpty());
    QCOMPARE(before.value(counter), 0.0);
    QCOMPARE(before.value(u"switchboard_connections"_s), 2.0);

    // Big events, pipelined on one raw connection, until the slow client is closed.
    int emitted = 0;
    double closed = 0;
    QElapsedTimer t;
    t.start();
    while (emitted < 3000 && t.elapsed() < 60000 && closed == 0) {
        const int batch = 25;
        QVERIFY2(slowRoom.rest.sendBatch(slowRoom.flood, batch),
                 "emits not answered while a client is slow");
        emitted += batch;
        if (emitted % 100 == 0)
            closed = scrape(m_extra.get()).value(counter);
    }
    QVERIFY(waitUntil([&] { return scrape(m_extra.get()).value(counter) > 0; }, 10000));
    const Exposition after = scrape(m_extra.get());
    QVERIFY(after.errors.isEmpty());
    QCOMPARE(after.value(counter), 1.0); // one slow client, closed once
    QCOMPARE(after.value(u"switchboard_connections"_s), 1.0);
    QVERIFY(slowRoom.good->isConnected());
    qInfo("slow client closed after %d emits of 10 KB", emitted);
}

void TestMetrics::logOff_queueDepthZero()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start({u"--log-database"_s, u"off"_s}), qPrintable(m_extra->lastError()));
    auto api = m_extra->client();
    QCOMPARE(api->postJson("/api/emit/all", {{u"event"_s, u"x"_s}}).status, 200);
    const Exposition e = scrape(m_extra.get());
    QVERIFY(e.errors.isEmpty());
    QCOMPARE(e.value(u"switchboard_log_queue_depth"_s), 0.0);
    QCOMPARE(e.value(u"switchboard_log_write_seconds_count"_s), 0.0);
    QCOMPARE(e.value(u"switchboard_messages_total"_s, {{u"source"_s, u"rest"_s}}), 1.0);
}

QTEST_MAIN(TestMetrics)
#include "tst_metrics.moc"
