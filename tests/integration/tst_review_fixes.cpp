// Behaviours fixed after the review, checked against a real switchboardd: the header-field
// limit (431), POST / charset rules, the read timeout as a stall timeout, 400 for malformed
// WebSocket upgrades, no 100 Continue for HTTP/1.0, "joined" = in at least one room, no
// replay for a member re-joining with since, fast and durable unregister of many triples, a
// slow client leaving the hub at once, and an empty --api-key falling through to the file.

#include "ApiHelpers.h"
#include "RawConn.h"
#include "TestSupport.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(content) == content.size();
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A head of `fields` header fields in all (Host, X-API-Key, Content-Type and Content-Length
// included) for a POST of `body`.
QByteArray headWithFields(quint16 port, const QByteArray &apiKey, const QByteArray &path,
                          const QByteArray &body, int fields)
{
    QByteArray h = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
            + "\r\nX-API-Key: " + apiKey + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n";
    for (int i = 4; i < fields; ++i)
        h += "X-Field-" + QByteArray::number(i) + ": v" + QByteArray::number(i) + "\r\n";
    return h + "\r\n";
}

} // namespace

class TestReviewFixes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void headerFields_over100_431ThenServed();
    void headerFields_90WithBody_served();
    void legacyPush_charsetRules();
    void readTimeout_isStallTimeout();
    void malformedUpgrade_400Named_data();
    void malformedUpgrade_400Named();
    void expectContinue_http10_noInterimAnswer();
    void joined_meansInAtLeastOneRoom();
    void rejoinWithSince_noReplayNoDuplicates();
    void unregisterManyTriples_fastAndDurable();
    void slowClient_leavesHubAtOnce();
    void emptyApiKey_fallsThroughToFile_data();
    void emptyApiKey_fallsThroughToFile();

private:
    QByteArray head(const QByteArray &method, const QByteArray &path,
                    const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {}) const;
    QByteArray request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                       const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {}) const;
    // Emits a sentinel to the member's room: true when it is the next event the member sees
    // (nothing else was delivered before it).
    bool nothingDelivered();

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    std::unique_ptr<WsClient> m_member;     // joined to room "rfix" on m_server
    std::unique_ptr<ServerProcess> m_extra; // a dedicated daemon for tests that need other flags
    const QString m_room = u"rfix"_s;
};

void TestReviewFixes::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start({u"--read-timeout-s"_s, u"2"_s}), qPrintable(m_server->lastError()));
    m_api = m_server->client();
    QString why;
    m_member = openJoined(*m_server, *m_api, m_room, u"rfixuser"_s, u"s"_s, false, &why);
    QVERIFY2(m_member, qPrintable(why));
}

void TestReviewFixes::cleanupTestCase()
{
    m_member.reset();
    m_api.reset();
    if (m_server)
        m_server->kill();
}

void TestReviewFixes::cleanup()
{
    if (QTest::currentTestFailed()) {
        qWarning().noquote() << "daemon output (tail):\n" << m_server->output().right(3000);
        if (m_extra)
            qWarning().noquote() << "dedicated daemon output (tail):\n"
                                 << m_extra->output().right(3000);
    }
    m_extra.reset();
    flushMember(*m_api, *m_member, m_room);
    const HttpResponse health = m_server->client(false)->get("/api/health");
    QVERIFY2(health.status == 200 && health.object().value(u"status"_s).toString() == u"ok",
             qPrintable(u"health after the case: "_s % health.describe()));
}

QByteArray TestReviewFixes::head(const QByteArray &method, const QByteArray &path,
                                 const QByteArray &version, const QByteArray &extra) const
{
    return rawHead(*m_server, method, path, version, extra);
}

QByteArray TestReviewFixes::request(const QByteArray &method, const QByteArray &path,
                                    const QByteArray &body, const QByteArray &version,
                                    const QByteArray &extra) const
{
    return rawRequest(*m_server, method, path, body, version, extra);
}

bool TestReviewFixes::nothingDelivered()
{
    return nextEventIsSentinel(*m_api, *m_member, m_room);
}

// 1. More than 100 header fields: 431 too_large (Qt's parser would drop them all and read the
// body as a request); the next connection is served.
void TestReviewFixes::headerFields_over100_431ThenServed()
{
    const QJsonObject before = stableStats(stats(*m_api));
    for (const int fields : {101, 150}) {
        const QByteArray body =
                R"({"room":"rfix","event":"hdr","data":)" + QByteArray::number(fields) + '}';
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(headWithFields(m_server->port(), m_server->apiKey(), "/api/emit/room", body, fields)
                + body);
        HttpResponse r;
        QVERIFY2(c.read(&r, 5000),
                 qPrintable(u"no answer to %1 header fields; received: "_s.arg(fields)
                            % QString::fromLatin1(c.received().left(300))));
        QVERIFY2(r.status == 431, qPrintable(u"%1 header fields: "_s.arg(fields) % r.describe()));
        QCOMPARE(r.errorCode(), u"too_large"_s);
        QVERIFY2(!r.errorMessage().isEmpty(), qPrintable(r.describe()));
        // Nothing else comes on that connection (the body is not read as another request).
        HttpResponse extra;
        QVERIFY2(!c.read(&extra, 300),
                 qPrintable(u"a second answer after the 431: "_s % extra.describe()));

        // A following request on a new connection is served.
        RawConn next;
        QVERIFY(next.connectTo(m_server->port()));
        next.write(request("POST", "/api/emit/room", R"({"room":"rfix","event":"after431"})"));
        QVERIFY2(next.read(&r, 5000), next.received().left(300).constData());
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.object().value(u"delivered"_s).toInt(-1), 1);
        QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"after431"_s);
    }
    QVERIFY(nothingDelivered());
    // Only the two after431 emits and the sentinel were counted.
    const QJsonObject after = stableStats(stats(*m_api));
    QCOMPARE(after.value(u"messages_in_total"_s).toInt(),
             before.value(u"messages_in_total"_s).toInt() + 3);
}

void TestReviewFixes::headerFields_90WithBody_served()
{
    for (const int fields : {90, 100}) {
        const QByteArray body = R"({"room":"rfix","event":"hdr-ok","data":{"fields":)"
                + QByteArray::number(fields) + R"(,"s":"x y"}})";
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(headWithFields(m_server->port(), m_server->apiKey(), "/api/emit/room", body, fields)
                + body);
        HttpResponse r;
        QVERIFY2(c.read(&r, 5000), c.received().left(300).constData());
        QVERIFY2(r.status == 200, qPrintable(u"%1 header fields: "_s.arg(fields) % r.describe()));
        QCOMPARE(r.object().value(u"delivered"_s).toInt(-1), 1);
        WsFrame f;
        QVERIFY(m_member->waitForFrame(u"event"_s, &f));
        QCOMPARE(f.object.value(u"event"_s).toString(), u"hdr-ok"_s);
        QCOMPARE(rawJsonValue(f.text.toUtf8(), "data"),
                 R"({"fields":)" + QByteArray::number(fields) + R"(,"s":"x y"})");
        // the keep-alive connection serves the next request
        c.write(request("GET", "/api/health", {}));
        QVERIFY(c.read(&r, 5000));
        QCOMPARE(r.status, 200);
    }
    QVERIFY(nothingDelivered());
}

// 2. POST / follows the charset rules: invalid UTF-8 without charset is 400, an unknown
// charset 415, a declared ISO-8859-1 body is decoded; refusals push nothing.
void TestReviewFixes::legacyPush_charsetRules()
{
    WsClient legacy;
    QVERIFY(legacy.open(m_server->wsUrl(u"/"_s)));
    // the legacy client is counted before the refusals are tried
    QVERIFY(waitUntil(
            [&] {
                return m_api->post("/", R"({"warmup":1})", "application/json")
                               .object()
                               .value(u"message"_s)
                               .toString()
                        == u"Send to 1 clients";
            },
            3000));
    WsFrame f;
    QVERIFY(waitUntil([&] { return legacy.count() > 0; }, 3000));
    legacy.clear();
    const QJsonObject before = stableStats(stats(*m_api));

    struct Refusal
    {
        const char *name;
        QByteArray contentType; // empty: no Content-Type header
        QByteArray body;
        int status;
        QString code;
    };
    const QList<Refusal> refusals{
            {"invalid UTF-8, no Content-Type", {}, "caf\xE9 au lait", 400, u"bad_request"_s},
            {"invalid UTF-8, text/plain without charset", "text/plain", "caf\xE9 \xFF\xFE", 400,
             u"bad_request"_s},
            {"invalid UTF-8 in JSON, application/json", "application/json", "{\"m\":\"caf\xE9\"}",
             400, u"bad_request"_s},
            {"truncated UTF-8 sequence", "text/plain", "abc\xC3", 400, u"bad_request"_s},
            {"unknown charset", "text/plain; charset=bogus", "hello", 415,
             u"unsupported_media_type"_s},
            {"unknown charset, JSON body", "application/json; charset=bogus", R"({"a":1})", 415,
             u"unsupported_media_type"_s},
    };
    for (const Refusal &k : refusals) {
        const HttpResponse r = m_api->post("/", k.body, k.contentType);
        QVERIFY2(r.status == k.status,
                 qPrintable(QString::fromLatin1(k.name) % u": "_s % r.describe()));
        QVERIFY2(r.errorCode() == k.code,
                 qPrintable(QString::fromLatin1(k.name) % u": "_s % r.describe()));
        QVERIFY2(!r.errorMessage().isEmpty(), qPrintable(r.describe()));
        QVERIFY2(!r.body.contains("Send to"),
                 qPrintable(QString::fromLatin1(k.name) % u": "_s % r.describe()));
    }
    QVERIFY2(legacy.noFrameWithin(200),
             qPrintable(u"a refused POST / was pushed: "_s % legacy.frames().value(0).text));
    QCOMPARE(stableStats(stats(*m_api)), before);

    // A declared ISO-8859-1 body is decoded: 0xE9 is é, and the text (not JSON) is wrapped.
    HttpResponse r = m_api->post("/", "\xE9", "text/plain; charset=ISO-8859-1");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    QVERIFY(legacy.waitForAny(&f));
    QVERIFY2(f.isObject, qPrintable(f.text));
    QCOMPARE(f.object, (QJsonObject{{u"message"_s, u"\u00E9"_s}}));
    QCOMPARE(minifyJson(f.text.toUtf8()), QByteArray("{\"message\":\"\xC3\xA9\"}"));

    // ... and a windows-1252 JSON body is pushed as JSON, decoded.
    r = m_api->post("/", "{\"name\":\"Jos\xE9\"}", "application/json; charset=windows-1252");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    QVERIFY(legacy.waitForAny(&f));
    QCOMPARE(f.object, (QJsonObject{{u"name"_s, u"Jos\u00E9"_s}}));
    QVERIFY(legacy.noFrameWithin(100));
}

// 3. read_timeout_s counts from the last byte received: a slow but steady sender is served,
// one that stops is cut off about read_timeout_s after its last byte.
void TestReviewFixes::readTimeout_isStallTimeout()
{
    const QJsonObject before = stats(*m_api);
    const QByteArray body = R"({"room":"rfix","event":"drip"})";
    QCOMPARE(body.size(), 30);
    const QByteArray bodyHead = head("POST", "/api/emit/room", "HTTP/1.1",
                                     "Content-Type: application/json\r\nContent-Length: 30\r\n")
            + "\r\n";

    // The dripping sender: one byte every 500 ms, 15 s in all (7.5 read timeouts).
    RawConn drip;
    QVERIFY(drip.connectTo(m_server->port()));
    // A sender that sends half a body at once and stops.
    RawConn stalled;
    QVERIFY(stalled.connectTo(m_server->port()));
    // A sender that drips 6 bytes (3 s, longer than the timeout) and then stops: it is cut
    // off a read timeout after its last byte, not after the first.
    RawConn dripThenStall;
    QVERIFY(dripThenStall.connectTo(m_server->port()));

    const QByteArray stalledBody =
            R"({"room":"rfix","event":"stalled","data":")" + QByteArray(40, 's') + R"("})";
    stalled.write(head("POST", "/api/emit/room", "HTTP/1.1",
                       "Content-Type: application/json\r\nContent-Length: "
                               + QByteArray::number(stalledBody.size()) + "\r\n")
                  + "\r\n" + stalledBody.left(stalledBody.size() / 2));
    QElapsedTimer clock;
    clock.start();
    drip.write(bodyHead);
    dripThenStall.write(bodyHead);

    qint64 stalledCutAt = -1, dripStallLastByteAt = -1, dripStallCutAt = -1;
    HttpResponse stalledAnswer, dripStallAnswer, dripAnswer;
    auto watch = [&] {
        if (stalledCutAt < 0 && (stalled.read(&stalledAnswer, 0) || stalled.closed()))
            stalledCutAt = clock.elapsed();
        if (dripStallCutAt < 0
            && (dripThenStall.read(&dripStallAnswer, 0) || dripThenStall.closed()))
            dripStallCutAt = clock.elapsed();
    };
    qint64 maxGap = 0;
    qint64 lastSent = 0;
    bool dripCut = false;
    for (int i = 0; i < body.size(); ++i) {
        // byte i at i * 500 ms (no drift)
        waitUntil(
                [&] {
                    watch();
                    return clock.elapsed() >= qint64(i) * 500;
                },
                1000);
        if (drip.closed() || drip.read(&dripAnswer, 0)) {
            dripCut = true;
            break;
        }
        const qint64 now = clock.elapsed();
        if (i > 0)
            maxGap = qMax(maxGap, now - lastSent);
        lastSent = now;
        drip.write(body.mid(i, 1));
        if (i < 6) {
            dripThenStall.write(body.mid(i, 1));
            dripStallLastByteAt = clock.elapsed();
        }
    }
    const qint64 dripTook = clock.elapsed();
    QVERIFY2(!dripCut,
             qPrintable(u"the dripping sender was cut off after %1 ms (max gap %2 ms): %3"_s
                                .arg(clock.elapsed())
                                .arg(maxGap)
                                .arg(dripAnswer.describe())));
    QVERIFY2(drip.read(&dripAnswer, 5000), drip.received().left(300).constData());
    qInfo("dripped 30 bytes in %lld ms, largest gap %lld ms", dripTook, maxGap);
    QVERIFY2(dripAnswer.status == 200, qPrintable(dripAnswer.describe()));
    QVERIFY2(dripTook >= 14000, qPrintable(u"drip took only %1 ms"_s.arg(dripTook)));
    QCOMPARE(dripAnswer.object().value(u"delivered"_s).toInt(-1), 1);
    const QJsonObject ev = m_member->waitForFrame(u"event"_s);
    QCOMPARE(ev.value(u"event"_s).toString(), u"drip"_s);
    QCOMPARE(ev.value(u"id"_s).toDouble(), dripAnswer.object().value(u"id"_s).toDouble());

    // The stalled senders were cut off (408 timeout or closed) about 2 s after their last byte.
    waitUntil(
            [&] {
                watch();
                return stalledCutAt >= 0 && dripStallCutAt >= 0;
            },
            3000);
    QVERIFY2(stalledCutAt >= 0, "the stalled sender was never cut off");
    QVERIFY2(stalledCutAt >= 1500 && stalledCutAt <= 4500,
             qPrintable(
                     u"stalled sender cut off after %1 ms (read timeout 2 s)"_s.arg(stalledCutAt)));
    if (stalledAnswer.isValid()) {
        QCOMPARE(stalledAnswer.status, 408);
        QCOMPARE(stalledAnswer.errorCode(), u"timeout"_s);
    }
    QVERIFY2(dripStallCutAt >= 0, "the sender that stopped after dripping was never cut off");
    const qint64 afterLast = dripStallCutAt - dripStallLastByteAt;
    QVERIFY2(
            afterLast >= 1500 && afterLast <= 4500,
            qPrintable(
                    u"dripping sender cut off %1 ms after its last byte (at %2 ms; read timeout 2 s)"_s
                            .arg(afterLast)
                            .arg(dripStallCutAt)));
    if (dripStallAnswer.isValid()) {
        QCOMPARE(dripStallAnswer.status, 408);
        QCOMPARE(dripStallAnswer.errorCode(), u"timeout"_s);
    }
    // Only the drip was counted; nothing of the cut-off calls was delivered.
    const QJsonObject after = stats(*m_api);
    QCOMPARE(after.value(u"messages_in_total"_s).toInt(),
             before.value(u"messages_in_total"_s).toInt() + 1);
    QVERIFY(nothingDelivered());
}

// 4. Malformed upgrades get a 400 naming the problem instead of a silent close.
void TestReviewFixes::malformedUpgrade_400Named_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("version");
    QTest::addColumn<bool>("withKey");
    QTest::addColumn<QByteArray>("wsVersion");
    QTest::addColumn<QString>("named");
    QTest::newRow("no Sec-WebSocket-Key")
            << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.1") << false
            << QByteArray("13") << u"Sec-WebSocket-Key"_s;
    QTest::newRow("no Sec-WebSocket-Key, legacy path")
            << QByteArray("GET") << QByteArray("/") << QByteArray("HTTP/1.1") << false
            << QByteArray("13") << u"Sec-WebSocket-Key"_s;
    QTest::newRow("Sec-WebSocket-Version 8")
            << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.1") << true
            << QByteArray("8") << u"Sec-WebSocket-Version"_s;
    QTest::newRow("no Sec-WebSocket-Version")
            << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.1") << true
            << QByteArray() << u"Sec-WebSocket-Version"_s;
    QTest::newRow("POST /ws") << QByteArray("POST") << QByteArray("/ws") << QByteArray("HTTP/1.1")
                              << true << QByteArray("13") << u"GET"_s;
    QTest::newRow("HTTP/1.0") << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.0")
                              << true << QByteArray("13") << u"HTTP/1.1"_s;
}

void TestReviewFixes::malformedUpgrade_400Named()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, version);
    QFETCH(bool, withKey);
    QFETCH(QByteArray, wsVersion);
    QFETCH(QString, named);

    const int connectionsBefore = stats(*m_api).value(u"connections"_s).toInt(-1);
    QByteArray req = method + ' ' + path + ' ' + version
            + "\r\nHost: 127.0.0.1:" + QByteArray::number(m_server->port())
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    if (withKey)
        req += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (!wsVersion.isEmpty())
        req += "Sec-WebSocket-Version: " + wsVersion + "\r\n";
    if (method == "POST")
        req += "Content-Length: 0\r\n";
    req += "\r\n";

    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(req);
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000),
             qPrintable(u"no answer to the upgrade (silent close?); received: "_s
                        % QString::fromLatin1(c.received().left(300))));
    QVERIFY2(r.status == 400, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"bad_request"_s);
    QVERIFY2(r.errorMessage().contains(named, Qt::CaseInsensitive),
             qPrintable(u"the message does not name "_s % named % u": "_s % r.describe()));
    QVERIFY(r.header("Sec-WebSocket-Accept").isNull());
    QVERIFY2(c.waitClosed(3000), "the connection stays open after a refused upgrade");
    // no WebSocket connection was made (earlier rows' connections may still be going away)
    QVERIFY(stats(*m_api).value(u"connections"_s).toInt(-1) <= connectionsBefore);

    // A well-formed upgrade to the same path still works.
    RawWsClient good;
    QCOMPARE(good.connectAndUpgrade(m_server->host(), m_server->port(), path), 101);
}

// 5. Expect: 100-continue on an HTTP/1.0 request gets no interim answer.
void TestReviewFixes::expectContinue_http10_noInterimAnswer()
{
    const QByteArray body = R"({"room":"rfix","event":"expect10"})";
    const QByteArray h =
            head("POST", "/api/emit/room", "HTTP/1.0",
                 "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
                         + QByteArray::number(body.size()) + "\r\n")
            + "\r\n";
    // head alone: no 100 Continue (the client would not understand it) ...
    {
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(h);
        spin(800);
        c.pump();
        QVERIFY2(c.received().isEmpty(), c.received().constData());
        c.write(body);
        HttpResponse r;
        QVERIFY2(c.read(&r, 5000, true), c.received().constData());
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QVERIFY2(!c.received().contains(" 100 ") && !c.received().contains("Continue"),
                 c.received().constData());
        QVERIFY(c.waitClosed(3000));
        QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"expect10"_s);
    }
    // ... and with head and body together the first answer is the final one.
    {
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(h + body);
        HttpResponse r;
        QVERIFY2(c.read(&r, 5000, true), c.received().constData());
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QVERIFY2(c.received().startsWith("HTTP/1.1 200") || c.received().startsWith("HTTP/1.0 200"),
                 c.received().constData());
        QVERIFY(c.waitClosed(3000));
        QVERIFY2(!c.received().contains("Continue"), c.received().constData());
        QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"expect10"_s);
    }
}

// 6. Joined = in at least one room: emit/all, emit/user and the users count follow the rooms.
void TestReviewFixes::joined_meansInAtLeastOneRoom()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
    auto api = m_extra->client();
    const QString r1 = u"j:one"_s, r2 = u"j:two"_s;

    auto deliveredAll = [&] {
        const HttpResponse r = api->postJson("/api/emit/all", {{u"event"_s, u"all"_s}});
        return r.status == 200 ? r.object().value(u"delivered"_s).toInt(-1) : -2;
    };
    auto deliveredUser = [&](const QString &user) {
        const HttpResponse r =
                api->postJson("/api/emit/user", {{u"user"_s, user}, {u"event"_s, u"user"_s}});
        return r.status == 200 ? r.object().value(u"delivered"_s).toInt(-1) : -2;
    };
    auto users = [&] { return stats(*api).value(u"users"_s).toInt(-1); };
    auto usersBecomes = [&](int n) { return waitUntil([&] { return users() == n; }, 2000); };

    WsClient c;
    QVERIFY(c.open(m_extra->wsUrl(u"/ws"_s)));
    const QByteArray t1 = registerToken(*api, r1, u"U"_s, u"S"_s);
    QCOMPARE(c.join(t1).value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(users(), 1);
    QCOMPARE(deliveredAll(), 1);
    QCOMPARE(deliveredUser(u"U"_s), 1);
    QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"all"_s);
    QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"user"_s);

    // leave its only room: no longer joined
    c.send({{u"type"_s, u"leave"_s}, {u"room"_s, r1}});
    QCOMPARE(c.waitForFrame(u"left"_s).value(u"room"_s).toString(), r1);
    QVERIFY2(usersBecomes(0), qPrintable(u"users after leave: %1"_s.arg(users())));
    QCOMPARE(deliveredAll(), 0);
    QCOMPARE(deliveredUser(u"U"_s), 0);
    QVERIFY2(c.noFrameWithin(200, u"event"_s), qPrintable(c.frames().value(0).text));
    QCOMPARE(stats(*api).value(u"connections"_s).toInt(-1), 1); // still open, just not joined

    // a connection keeps its user, in a room or not
    QJsonObject answer = c.join(registerToken(*api, r2, u"V"_s, u"S2"_s));
    QCOMPARE(answer.value(u"type"_s).toString(), u"error"_s);
    QCOMPARE(answer.value(u"code"_s).toString(), u"forbidden"_s);
    QCOMPARE(deliveredUser(u"V"_s), 0);
    QCOMPARE(users(), 0);

    // joining again restores it
    QCOMPARE(c.join(registerToken(*api, r2, u"U"_s, u"S"_s)).value(u"type"_s).toString(),
             u"joined"_s);
    QCOMPARE(users(), 1);
    QCOMPARE(deliveredAll(), 1);
    QCOMPARE(deliveredUser(u"U"_s), 1);
    QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"all"_s);
    QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"user"_s);

    // unregister takes it out of its only room: no longer joined either
    const HttpResponse un = api->postJson(
            "/api/unregister", {{u"room"_s, r2}, {u"user"_s, u"U"_s}, {u"session"_s, u"S"_s}});
    QVERIFY2(un.status == 200, qPrintable(un.describe()));
    QCOMPARE(un.object().value(u"removed"_s).toInt(-1), 1);
    const QJsonObject left = c.waitForFrame(u"left"_s);
    QCOMPARE(left.value(u"room"_s).toString(), r2);
    QCOMPARE(left.value(u"reason"_s).toString(), u"revoked"_s);
    QVERIFY2(usersBecomes(0), qPrintable(u"users after unregister: %1"_s.arg(users())));
    QCOMPARE(deliveredAll(), 0);
    QCOMPARE(deliveredUser(u"U"_s), 0);
    QVERIFY(c.noFrameWithin(200, u"event"_s));

    answer = c.join(registerToken(*api, r2, u"V"_s, u"S2"_s));
    QCOMPARE(answer.value(u"code"_s).toString(), u"forbidden"_s);

    // and joining again (a room not revoked) restores it
    QCOMPARE(c.join(t1).value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(users(), 1);
    QCOMPARE(deliveredAll(), 1);
    QCOMPARE(deliveredUser(u"U"_s), 1);
    QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"all"_s);
    QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"user"_s);
    QVERIFY(c.isConnected());
}

// 7. A member re-joining its room with since gets no replay: under a stream of emits, every
// event arrives exactly once and in increasing id order.
void TestReviewFixes::rejoinWithSince_noReplayNoDuplicates()
{
    const QString room = uniqueName(u"rf:rejoin"_s);
    const QByteArray token = registerToken(*m_api, room, u"RJ"_s, u"S"_s);
    QVERIFY(!token.isEmpty());
    // some history before the member joins
    qint64 firstId = 0;
    for (int i = 0; i < 5; ++i) {
        const HttpResponse r = m_api->postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"old"_s}, {u"data"_s, i}});
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        if (i == 0)
            firstId = qint64(r.object().value(u"id"_s).toDouble());
    }
    WsClient c;
    QVERIFY(c.open(m_server->wsUrl(u"/ws"_s)));
    QCOMPARE(c.join(token).value(u"type"_s).toString(), u"joined"_s);
    QVERIFY(c.noFrameWithin(100, u"event"_s));

    QTcpSocket emitter;
    emitter.connectToHost(m_server->host(), m_server->port());
    QVERIFY(waitUntil([&] { return emitter.state() == QAbstractSocket::ConnectedState; }, 5000));
    HttpResponseParser parser;
    QList<qint64> restIds;
    int answered = 0;
    int failed = 0;
    auto pumpAnswers = [&] {
        parser.feed(emitter.readAll());
        HttpResponse r;
        while (parser.take(&r)) {
            ++answered;
            if (r.status == 200)
                restIds.append(qint64(r.object().value(u"id"_s).toDouble()));
            else if (++failed < 5)
                qWarning().noquote() << "emit answered" << r.describe();
        }
    };
    auto lastSeen = [&] {
        qint64 last = 0;
        for (const WsFrame &f : c.frames()) {
            if (f.type() == u"event")
                last = qMax(last, qint64(f.object.value(u"id"_s).toDouble()));
        }
        return last;
    };

    const int total = 200;
    int joins = 0;
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < total; ++i) {
        const QByteArray body = R"({"room":")" + room.toUtf8() + R"(","event":"stream","data":)"
                + QByteArray::number(i) + '}';
        emitter.write("POST /api/emit/room HTTP/1.1\r\nHost: x\r\nX-API-Key: " + m_server->apiKey()
                      + "\r\nContent-Type: application/json\r\nContent-Length: "
                      + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        emitter.flush();
        if (i % 2 == 0) {
            // since: the last id seen (what a client would send), a few back, or before all
            const qint64 seen = lastSeen();
            qint64 since = seen;
            if (joins % 3 == 1)
                since = qMax<qint64>(0, seen - 5);
            else if (joins % 3 == 2)
                since = firstId - 1;
            c.send({{u"type"_s, u"join"_s},
                    {u"token"_s, QString::fromLatin1(token)},
                    {u"since"_s, since},
                    {u"ref"_s, joins}});
            ++joins;
        }
        waitUntil([] { return false; }, 2); // about 2 ms (spin() may sleep up to 20 ms)
        pumpAnswers();
    }
    QVERIFY2(waitUntil(
                     [&] {
                         pumpAnswers();
                         return answered == total;
                     },
                     15000),
             qPrintable(u"%1 of %2 emits answered"_s.arg(answered).arg(total)));
    QCOMPARE(failed, 0);
    QVERIFY2(waitUntil(
                     [&] {
                         return c.count(u"event"_s) >= total
                                 && c.count(u"joined"_s) + c.count(u"error"_s) >= joins;
                     },
                     10000),
             qPrintable(u"%1 events of %2, %3 answers to %4 joins"_s.arg(c.count(u"event"_s))
                                .arg(total)
                                .arg(c.count(u"joined"_s) + c.count(u"error"_s))
                                .arg(joins)));
    spin(300); // late duplicates would arrive now
    qInfo("%d emits and %d re-joins in %lld ms", total, joins, t.elapsed());

    const QList<WsFrame> errors = c.take(u"error"_s);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).text));
    const QList<WsFrame> joinedFrames = c.take(u"joined"_s);
    QCOMPARE(joinedFrames.size(), qsizetype(joins));
    for (qsizetype i = 0; i < joinedFrames.size(); ++i) {
        const QJsonObject j = joinedFrames.at(i).object;
        QCOMPARE(j.value(u"ref"_s).toInt(-1), int(i)); // in the order of the frames
        QCOMPARE(j.value(u"room"_s).toString(), room);
        QVERIFY2(j.value(u"recovered"_s) == QJsonValue(true), qPrintable(compact(j)));
    }
    const QList<WsFrame> events = c.take(u"event"_s);
    QList<qint64> got;
    for (const WsFrame &e : events)
        got.append(qint64(e.object.value(u"id"_s).toDouble()));
    for (qsizetype i = 1; i < got.size(); ++i) {
        QVERIFY2(got.at(i) > got.at(i - 1),
                 qPrintable(u"event %1 has id %2 after id %3 (a replayed duplicate?)"_s.arg(i)
                                    .arg(got.at(i))
                                    .arg(got.at(i - 1))));
    }
    std::sort(restIds.begin(), restIds.end());
    QCOMPARE(got, restIds);
    QCOMPARE(c.count(), 0);
}

// 8. Unregister of many distinct triples stays fast, and the revocations survive a restart.
void TestReviewFixes::unregisterManyTriples_fastAndDurable()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
    auto api = m_extra->client();

    const int total = 3000;
    auto triple = [](int i) {
        return QJsonObject{{u"room"_s, u"rv:room:%1"_s.arg(i)},
                           {u"user"_s, u"rv-user-%1"_s.arg(i)},
                           {u"session"_s, u"rv-session-%1"_s.arg(i)}};
    };
    // tokens issued before the unregisters
    const QList<int> probes{0, 1, total / 2, total - 1};
    QHash<int, QByteArray> before;
    for (const int i : probes) {
        const QJsonObject t = triple(i);
        before.insert(i,
                      registerToken(*api, t.value(u"room"_s).toString(),
                                    t.value(u"user"_s).toString(),
                                    t.value(u"session"_s).toString()));
        QVERIFY(!before.value(i).isEmpty());
    }

    QElapsedTimer timer;
    timer.start();
    // per-call cost at the start and at the end: the first and the last tenth of the calls
    const int tenth = total / 10;
    qint64 firstTenth = 0;
    qint64 lastTenthStart = 0;
    for (int i = 0; i < total; ++i) {
        if (i == tenth)
            firstTenth = timer.elapsed();
        if (i == total - tenth)
            lastTenthStart = timer.elapsed();
        const HttpResponse r = api->postJson("/api/unregister", triple(i));
        if (r.status != 200 || r.object().value(u"removed"_s).toInt(-1) != 0)
            QFAIL(qPrintable(u"unregister %1: "_s.arg(i) % r.describe()));
    }
    const qint64 took = timer.elapsed();
    const qint64 lastTenth = took - lastTenthStart;
    qInfo("%d unregisters of distinct triples on one connection in %lld ms (first %d: %lld ms, "
          "last %d: %lld ms)",
          total, took, tenth, firstTenth, tenth, lastTenth);
    QVERIFY2(took < 20000, qPrintable(u"%1 unregisters took %2 ms"_s.arg(total).arg(took)));
    // The cost of one unregister does not grow with the revocations already held (no rewrite
    // of the whole file per call): the last calls take about as long as the first.
    QVERIFY2(lastTenth <= 2 * firstTenth + 500,
             qPrintable(u"the first %1 unregisters took %2 ms, the last %1 took %3 ms"_s.arg(tenth)
                                .arg(firstTenth)
                                .arg(lastTenth)));

    auto joinAnswer = [&](ServerProcess &server, const QByteArray &token) {
        WsClient c;
        if (!c.open(server.wsUrl(u"/ws"_s)))
            return QJsonObject{{u"type"_s, u"cannot open /ws"_s}};
        return c.join(token);
    };
    for (const int i : probes) {
        const QJsonObject a = joinAnswer(*m_extra, before.value(i));
        QVERIFY2(a.value(u"code"_s).toString() == u"revoked",
                 qPrintable(u"triple %1 before the restart: "_s.arg(i) % compact(a)));
    }

    // restart on the same data dir
    api.reset();
    QCOMPARE(m_extra->stop(10000), 0);
    QElapsedTimer restart;
    restart.start();
    QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
    qInfo("restart with %d revocations took %lld ms", total, restart.elapsed());
    api = m_extra->client();
    for (const int i : probes) {
        const QJsonObject a = joinAnswer(*m_extra, before.value(i));
        QVERIFY2(a.value(u"type"_s).toString() == u"error"
                         && a.value(u"code"_s).toString() == u"revoked",
                 qPrintable(u"triple %1 after the restart: "_s.arg(i) % compact(a)));
    }
    // a token issued after the unregister works
    const QJsonObject t = triple(total / 2);
    const QByteArray fresh =
            registerToken(*api, t.value(u"room"_s).toString(), t.value(u"user"_s).toString(),
                          t.value(u"session"_s).toString());
    QVERIFY(!fresh.isEmpty());
    const QJsonObject a = joinAnswer(*m_extra, fresh);
    QVERIFY2(a.value(u"type"_s).toString() == u"joined", qPrintable(compact(a)));
}

// 9. A slow client closed with 1013 leaves the hub at once: it is no longer listed or counted
// in delivered while its close is still flushing.
void TestReviewFixes::slowClient_leavesHubAtOnce()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start({u"--max-queue-bytes"_s, u"65536"_s, u"--log-level"_s, u"info"_s}),
             qPrintable(m_extra->lastError()));
    auto api = m_extra->client();
    QString why;
    auto good = openJoined(*m_extra, *api, u"slow"_s, u"gooduser"_s, u"S"_s, false, &why);
    QVERIFY2(good, qPrintable(why));

    RawWsClient slow;
    QVERIFY2(openRawJoined(slow, *m_extra, *api, u"slow"_s, u"slowuser"_s, u"S"_s, &why),
             qPrintable(why));
    slow.stopReading();

    auto slowListed = [&] {
        const HttpResponse r = api->get("/api/connections?user=slowuser");
        return r.status == 200 && !r.array().isEmpty();
    };
    QVERIFY(slowListed());
    auto decided = [&] { return m_extra->output().contains(u"closing slow client"_s); };
    QVERIFY(!decided());

    // Flood the room with 10 KB events until the server decides to close the slow client.
    QTcpSocket rest;
    rest.connectToHost(m_extra->host(), m_extra->port());
    QVERIFY(waitUntil([&] { return rest.state() == QAbstractSocket::ConnectedState; }, 5000));
    HttpResponseParser parser;
    const QByteArray body =
            R"({"room":"slow","event":"flood","data":")" + QByteArray(10000, 'f') + "\"}";
    const QByteArray one = "POST /api/emit/room HTTP/1.1\r\nHost: x\r\nX-API-Key: "
            + m_extra->apiKey() + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    int emitted = 0;
    QElapsedTimer sinceDecision;
    QElapsedTimer t;
    t.start();
    while (emitted < 3000 && t.elapsed() < 40000 && !sinceDecision.isValid()) {
        const int batch = 10;
        rest.write(one.repeated(batch));
        int answered = 0;
        QVERIFY2(waitUntil(
                         [&] {
                             parser.feed(rest.readAll());
                             HttpResponse r;
                             while (parser.take(&r)) {
                                 if (r.status != 200)
                                     qWarning().noquote() << "emit answered" << r.describe();
                                 ++answered;
                             }
                             if (!sinceDecision.isValid() && decided())
                                 sinceDecision.start();
                             return answered == batch;
                         },
                         10000),
                 "emits not answered while a client is slow");
        emitted += batch;
    }
    QVERIFY2(sinceDecision.isValid() || waitUntil(decided, 5000),
             qPrintable(u"the slow client was not closed after %1 events of 10 KB"_s.arg(emitted)));
    if (!sinceDecision.isValid())
        sinceDecision.start();

    // Gone from the listing and from delivered counts within 1 s of the close decision.
    QVERIFY2(waitUntil([&] { return !slowListed(); }, 1000),
             qPrintable(u"the slow client is still listed %1 ms after the close decision"_s.arg(
                     sinceDecision.elapsed())));
    const HttpResponse room =
            api->postJson("/api/emit/room", {{u"room"_s, u"slow"_s}, {u"event"_s, u"after"_s}});
    const HttpResponse all = api->postJson("/api/emit/all", {{u"event"_s, u"after-all"_s}});
    const HttpResponse user = api->postJson(
            "/api/emit/user", {{u"user"_s, u"slowuser"_s}, {u"event"_s, u"after-user"_s}});
    const QJsonObject s = stats(*api);
    const qint64 checkedAfter = sinceDecision.elapsed();
    qInfo("close decision after %d emits; listing, delivered and stats checked %lld ms after it "
          "(slow TCP %s)",
          emitted, checkedAfter, slow.isClosed() ? "closed" : "still open");
    QVERIFY2(room.status == 200 && all.status == 200 && user.status == 200,
             qPrintable(room.describe()));
    QVERIFY2(room.object().value(u"delivered"_s).toInt(-1) == 1, qPrintable(room.describe()));
    QVERIFY2(all.object().value(u"delivered"_s).toInt(-1) == 1, qPrintable(all.describe()));
    QVERIFY2(user.object().value(u"delivered"_s).toInt(-1) == 0, qPrintable(user.describe()));
    QCOMPARE(s.value(u"connections"_s).toInt(-1), 1);
    QCOMPARE(s.value(u"users"_s).toInt(-1), 1);
    QVERIFY2(checkedAfter < 2500, // the close flush grace is 5 s
             qPrintable(u"checks took until %1 ms after the decision"_s.arg(checkedAfter)));

    // The good client got every event, in order.
    QVERIFY2(waitUntil([&] { return good->count(u"event"_s) >= emitted + 2; }, 30000),
             qPrintable(u"good client got %1 of %2 events"_s.arg(good->count(u"event"_s))
                                .arg(emitted + 2)));
    qint64 last = 0;
    for (const WsFrame &e : good->take(u"event"_s)) {
        const qint64 id = qint64(e.object.value(u"id"_s).toDouble());
        QVERIFY(id > last);
        last = id;
    }
}

// 10. An empty --api-key (or SWITCHBOARD_API_KEY=) counts as not given: the file's key is used
// and the file is not rewritten.
void TestReviewFixes::emptyApiKey_fallsThroughToFile_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("emptyEnv");
    QTest::newRow("--api-key \"\"") << QStringList{u"--api-key"_s, QString()} << false;
    QTest::newRow("--api-key=") << QStringList{u"--api-key="_s} << false;
    QTest::newRow("SWITCHBOARD_API_KEY=") << QStringList{} << true;
    QTest::newRow("both empty") << QStringList{u"--api-key"_s, QString()} << true;
}

void TestReviewFixes::emptyApiKey_fallsThroughToFile()
{
    QFETCH(QStringList, args);
    QFETCH(bool, emptyEnv);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString ini = dir.filePath(u"switchboard.ini"_s);
    const QByteArray content = "api_key=abc\njwt_secret=file-secret-0123456789\n";
    QVERIFY(writeFile(ini, content));
    QVERIFY(QFile::setPermissions(ini, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    const QDateTime mtime = QFileInfo(ini).lastModified();

    m_extra = std::make_unique<ServerProcess>();
    ServerProcess::Options o;
    o.defaultSecrets = false;
    m_extra->setOptions(o);
    if (emptyEnv)
        m_extra->setEnv(u"SWITCHBOARD_API_KEY"_s, QString());
    QVERIFY2(m_extra->start(QStringList{u"--config"_s, ini} + args),
             qPrintable(m_extra->lastError()));

    auto statusWith = [&](const QByteArray &key) {
        Headers h;
        if (!key.isNull())
            h.emplaceBack("X-API-Key", key);
        return m_extra->client(false)->get("/api/stats", h).status;
    };
    QCOMPARE(statusWith("abc"), 200);
    QCOMPARE(statusWith(QByteArray()), 401);
    QCOMPARE(statusWith("abcd"), 401);
    m_extra->setApiKey("abc");
    QVERIFY(Jwt::verifyHs256(registerToken(*m_extra->client(), u"r"_s, u"u"_s, u"s"_s),
                             "file-secret-0123456789"));

    QCOMPARE(readFile(ini), content);
    QCOMPARE(QFileInfo(ini).lastModified(), mtime);
    const QString out = m_extra->output();
    QVERIFY2(!out.contains(u"generated"_s, Qt::CaseInsensitive), qPrintable(out));
    QVERIFY2(!out.contains(u"insecure"_s, Qt::CaseInsensitive), qPrintable(out));
    QCOMPARE(m_extra->stop(5000), 0);
    QCOMPARE(readFile(ini), content);
}

QTEST_MAIN(TestReviewFixes)
#include "tst_review_fixes.moc"
