// The shapes real database callers use, on raw sockets: HTTP/1.0, Connection: close,
// keep-alive and pipelining, chunked bodies, 1 MiB bodies, Expect: 100-continue, duplicated
// Host, bodies over the limit (413 that can be read, no memory growth), stalled senders
// (408 or closed after --read-timeout-s while others are served) and huge headers (431).

#include "ApiHelpers.h"
#include "RawConn.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestHttpEdge : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void http10_answeredWithoutChunkingAndClosed();
    void connectionClose_closesAfterAnswer();
    void keepAlive_servesSeveralRequests();
    void pipelined_answeredInOrder();
    void pipelined_requestAheadOfARefusedOneIsAnswered();
    void chunkedBody_accepted();
    void oneMiBBody_accepted();
    void expect100Continue_answeredAtOnce();
    void expect100Continue_tooLargeRefusedAtOnce();
    void duplicatedHost_accepted();
    void bodyOverLimit_413ReadableAndNoMemoryGrowth();
    void chunkedOverLimit_413();
    void stalledBody_cutOffAfterReadTimeout();
    void stalledHead_cutOffAfterReadTimeout();
    void hugeHeaders_431();

private:
    QByteArray head(const QByteArray &method, const QByteArray &path,
                    const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {}) const;
    QByteArray request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                       const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {}) const;
    bool nothingDelivered();

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    std::unique_ptr<WsClient> m_member;
};

void TestHttpEdge::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start(
                     {u"--read-timeout-s"_s, u"2"_s, u"--max-message-bytes"_s, u"2097152"_s}),
             qPrintable(m_server->lastError()));
    m_api = m_server->client();
    QString why;
    m_member = openJoined(*m_server, *m_api, u"edge"_s, u"edgeuser"_s, u"s"_s, false, &why);
    QVERIFY2(m_member, qPrintable(why));
}

void TestHttpEdge::cleanupTestCase()
{
    m_member.reset();
    m_api.reset();
    if (m_server)
        m_server->kill();
}

void TestHttpEdge::cleanup()
{
    if (QTest::currentTestFailed())
        qWarning().noquote() << "daemon output (tail):\n" << m_server->output().right(3000);
    flushMember(*m_api, *m_member, u"edge"_s);
    const HttpResponse health = m_server->client(false)->get("/api/health");
    QVERIFY2(health.status == 200 && health.object().value(u"status"_s).toString() == u"ok",
             qPrintable(u"health after the case: "_s % health.describe()));
}

QByteArray TestHttpEdge::head(const QByteArray &method, const QByteArray &path,
                              const QByteArray &version, const QByteArray &extra) const
{
    return rawHead(*m_server, method, path, version, extra);
}

QByteArray TestHttpEdge::request(const QByteArray &method, const QByteArray &path,
                                 const QByteArray &body, const QByteArray &version,
                                 const QByteArray &extra) const
{
    return rawRequest(*m_server, method, path, body, version, extra);
}

bool TestHttpEdge::nothingDelivered()
{
    return nextEventIsSentinel(*m_api, *m_member, u"edge"_s);
}

void TestHttpEdge::http10_answeredWithoutChunkingAndClosed()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"h10","data":10})",
                    "HTTP/1.0"));
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000), c.received().constData());
    QCOMPARE(r.status, 200);
    QVERIFY2(!r.chunked && r.header("Transfer-Encoding").isNull(),
             "an HTTP/1.0 answer must not be chunked");
    QVERIFY2(r.object().value(u"id"_s).isDouble(), r.body.constData());
    QVERIFY2(c.waitClosed(3000), "the server must close an HTTP/1.0 connection after answering");
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"h10"_s);

    RawConn g;
    QVERIFY(g.connectTo(m_server->port()));
    g.write("GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    QVERIFY2(g.read(&r, 5000), g.received().constData());
    QCOMPARE(r.status, 200);
    QVERIFY(!r.chunked);
    QCOMPARE(r.object().value(u"status"_s).toString(), u"ok"_s);
    QVERIFY(g.waitClosed(3000));
}

void TestHttpEdge::connectionClose_closesAfterAnswer()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"cc"})", "HTTP/1.1",
                    "Connection: close\r\n"));
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000), c.received().constData());
    QCOMPARE(r.status, 200);
    QVERIFY2(c.waitClosed(3000),
             "the server must close after answering a Connection: close request");
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"cc"_s);
}

void TestHttpEdge::keepAlive_servesSeveralRequests()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    HttpResponse r;
    c.write(request("GET", "/api/health", {}));
    QVERIFY(c.read(&r, 5000));
    QCOMPARE(r.status, 200);
    c.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"ka"})"));
    QVERIFY(c.read(&r, 5000));
    QCOMPARE(r.status, 200);
    c.write(request("GET", "/api/stats", {}));
    QVERIFY(c.read(&r, 5000));
    QCOMPARE(r.status, 200);
    QVERIFY(r.object().contains(u"connections"_s));
    c.write(request("POST", "/api/register", R"({"room":"edge","user":"u","session":"s"})"));
    QVERIFY(c.read(&r, 5000));
    QCOMPARE(r.status, 200);
    spin(200);
    QVERIFY2(!c.closed(), "a keep-alive connection must stay open");
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"ka"_s);
}

void TestHttpEdge::pipelined_answeredInOrder()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"p","data":1})")
            + request("GET", "/api/health", {})
            + request("POST", "/api/emit/room", R"({"room":"edge","event":"p","data":2})")
            + request("POST", "/api/register", R"({"room":"edge","user":"u","session":"s"})"));
    HttpResponse r1, r2, r3, r4;
    QVERIFY2(c.read(&r1, 5000), c.received().constData());
    QVERIFY2(c.read(&r2, 5000), c.received().constData());
    QVERIFY2(c.read(&r3, 5000), c.received().constData());
    QVERIFY2(c.read(&r4, 5000), c.received().constData());
    QCOMPARE(r1.status, 200);
    QVERIFY2(r1.object().contains(u"id"_s), r1.body.constData());
    QCOMPARE(r2.object().value(u"status"_s).toString(), u"ok"_s);
    QVERIFY2(r3.object().contains(u"id"_s), r3.body.constData());
    QVERIFY(r3.object().value(u"id"_s).toDouble() > r1.object().value(u"id"_s).toDouble());
    QVERIFY2(r4.object().contains(u"token"_s), r4.body.constData());
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"data"_s).toInt(), 1);
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"data"_s).toInt(), 2);
}

void TestHttpEdge::pipelined_requestAheadOfARefusedOneIsAnswered()
{
    // An emit and a request over the body limit in one packet: the emit is answered (and
    // delivered) before the 413, nothing of the refused one is delivered.
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"ahead","data":7})")
            + head("POST", "/api/emit/room", "HTTP/1.1",
                   "Content-Type: application/json\r\nContent-Length: 99999999\r\n")
            + "\r\n" + QByteArray(64 * 1024, ' '));
    HttpResponse first, second;
    QVERIFY2(c.read(&first, 5000), c.received().constData());
    QVERIFY2(c.read(&second, 5000), c.received().constData());
    QCOMPARE(first.status, 200);
    QVERIFY2(first.object().contains(u"id"_s), first.body.constData());
    QCOMPARE(second.status, 413);
    QCOMPARE(second.object().value(u"error"_s).toObject().value(u"code"_s).toString(),
             u"too_large"_s);
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"data"_s).toInt(), 7);
    QVERIFY(nothingDelivered());
}

void TestHttpEdge::chunkedBody_accepted()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(head("POST", "/api/emit/room", "HTTP/1.1",
                 "Content-Type: application/json; charset=UTF-8\r\nTransfer-Encoding: chunked\r\n")
            + "\r\n");
    const QList<QByteArray> parts{R"({"room":"edge",)", R"("event":"chunked",)",
                                  R"("data":{"n":12345678901234567890,)",
                                  R"("s":"caf)"
                                  "\xC3\xA9"
                                  R"("}})"};
    for (const QByteArray &p : parts) {
        c.write(QByteArray::number(p.size(), 16).toUpper() + "\r\n" + p + "\r\n");
        spin(30);
    }
    c.write("0\r\n\r\n");
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000), c.received().constData());
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    WsFrame f;
    QVERIFY(m_member->waitForFrame(u"event"_s, &f));
    QCOMPARE(f.object.value(u"event"_s).toString(), u"chunked"_s);
    QCOMPARE(rawJsonValue(f.text.toUtf8(), "data"),
             QByteArray("{\"n\":12345678901234567890,\"s\":\"caf\xC3\xA9\"}"));

    // The connection stays usable for the next request.
    c.write(request("GET", "/api/health", {}));
    QVERIFY(c.read(&r, 5000));
    QCOMPARE(r.status, 200);
}

void TestHttpEdge::oneMiBBody_accepted()
{
    // register with a padding field: exactly 1 MiB of body
    {
        const QByteArray prefix = R"({"room":"edge","user":"big","session":"s","pad":")";
        const QByteArray suffix = R"("})";
        const QByteArray body =
                prefix + QByteArray(1048576 - prefix.size() - suffix.size(), 'p') + suffix;
        QCOMPARE(body.size(), 1048576);
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(request("POST", "/api/register", body));
        HttpResponse r;
        QVERIFY2(c.read(&r, 10000), c.received().left(300).constData());
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.object().contains(u"token"_s));
    }
    // an emit whose data is a 1,000,000-byte string reaches the member intact
    {
        const QByteArray big(1000000, 'd');
        const QByteArray body = R"({"room":"edge","event":"big","data":")" + big + R"("})";
        QVERIFY(body.size() <= 1048576);
        const HttpResponse r = m_api->post("/api/emit/room", body, "application/json");
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.object().value(u"delivered"_s).toInt(-1), 1);
        const QJsonObject ev = m_member->waitForFrame(u"event"_s, 10000);
        QCOMPARE(ev.value(u"event"_s).toString(), u"big"_s);
        QCOMPARE(ev.value(u"data"_s).toString().size(), qsizetype(1000000));
    }
}

void TestHttpEdge::expect100Continue_answeredAtOnce()
{
    const QByteArray body = R"({"room":"edge","event":"expect","data":100})";
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    QElapsedTimer t;
    t.start();
    c.write(head("POST", "/api/emit/room", "HTTP/1.1",
                 "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
                         + QByteArray::number(body.size()) + "\r\n")
            + "\r\n");
    HttpResponse interim;
    QVERIFY2(c.read(&interim, 2000, true), "no 100 Continue");
    const qint64 elapsed = t.elapsed();
    QCOMPARE(interim.status, 100);
    QVERIFY2(c.received().startsWith("HTTP/1.1 100 Continue\r\n"), c.received().constData());
    QVERIFY2(elapsed < 500, qPrintable(u"100 Continue after %1 ms"_s.arg(elapsed)));
    c.write(body);
    HttpResponse r;
    QVERIFY(c.read(&r, 5000));
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"expect"_s);
}

void TestHttpEdge::expect100Continue_tooLargeRefusedAtOnce()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(head("POST", "/api/emit/room", "HTTP/1.1",
                 "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
                 "20971520\r\n")
            + "\r\n");
    HttpResponse r;
    QVERIFY2(c.read(&r, 2000), c.received().constData()); // without sending the body
    QCOMPARE(r.status, 413);
    QCOMPARE(r.errorCode(), u"too_large"_s);
}

void TestHttpEdge::duplicatedHost_accepted()
{
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    const QByteArray host = "Host: 127.0.0.1:" + QByteArray::number(m_server->port()) + "\r\n";
    const QByteArray body = R"({"room":"edge","event":"dup"})";
    c.write("POST /api/emit/room HTTP/1.1\r\n" + host + host + "X-API-Key: " + m_server->apiKey()
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000), c.received().constData());
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"dup"_s);
}

void TestHttpEdge::bodyOverLimit_413ReadableAndNoMemoryGrowth()
{
    const QJsonObject before = stableStats(stats(*m_api));
    const qint64 rss0 = m_server->rssKb();
    QVERIFY(rss0 > 0);
    qint64 peak = rss0;

    const qint64 total = 20 * 1024 * 1024;
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(head("POST", "/api/emit/room", "HTTP/1.1",
                 "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(total)
                         + "\r\n")
            + "\r\n");
    const QByteArray chunk(64 * 1024, 'x');
    qint64 sent = 0;
    QElapsedTimer t;
    t.start();
    while (sent < total && !c.closed() && t.elapsed() < 30000) {
        if (c.socket().bytesToWrite() < 256 * 1024) {
            c.write(chunk);
            sent += chunk.size();
        } else if (!waitUntil([&] { return c.socket().bytesToWrite() < 256 * 1024 || c.closed(); },
                              3000)) {
            break; // the server stopped reading (it answered and lingers): fine
        }
        c.pump();
        peak = qMax(peak, m_server->rssKb());
    }
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000),
             qPrintable(u"no readable answer after %1 bytes; received: "_s.arg(sent)
                        % QString::fromLatin1(c.received().left(300))));
    peak = qMax(peak, m_server->rssKb());
    qInfo("sent %lld of %lld body bytes; RSS %lld kB -> peak %lld kB", sent, total, rss0, peak);
    QCOMPARE(r.status, 413);
    QCOMPARE(r.errorCode(), u"too_large"_s);
    QVERIFY2(peak - rss0 < 10 * 1024,
             qPrintable(u"RSS grew from %1 kB to %2 kB"_s.arg(rss0).arg(peak)));
    QCOMPARE(stableStats(stats(*m_api)), before);
    QVERIFY(nothingDelivered());
}

void TestHttpEdge::chunkedOverLimit_413()
{
    const QJsonObject before = stableStats(stats(*m_api));
    const qint64 rss0 = m_server->rssKb();
    qint64 peak = rss0;
    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(head("POST", "/api/emit/room", "HTTP/1.1",
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
            + "\r\n");
    const QByteArray payload(64 * 1024, 'y');
    const QByteArray chunk = QByteArray::number(payload.size(), 16) + "\r\n" + payload + "\r\n";
    HttpResponse r;
    bool answered = false;
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < 64 && !c.closed() && t.elapsed() < 20000; ++i) { // up to 4 MiB
        if (!waitUntil([&] { return c.socket().bytesToWrite() < 256 * 1024 || c.closed(); }, 3000))
            break;
        c.write(chunk);
        if (c.read(&r, 1)) {
            answered = true;
            break;
        }
        peak = qMax(peak, m_server->rssKb());
    }
    if (!answered) {
        if (!c.closed())
            c.write("0\r\n\r\n");
        answered = c.read(&r, 5000);
    }
    QVERIFY2(answered, c.received().left(300).constData());
    QCOMPARE(r.status, 413);
    QCOMPARE(r.errorCode(), u"too_large"_s);
    QVERIFY2(peak - rss0 < 10 * 1024,
             qPrintable(u"RSS grew from %1 kB to %2 kB"_s.arg(rss0).arg(peak)));
    QCOMPARE(stableStats(stats(*m_api)), before);
    QVERIFY(nothingDelivered());
}

void TestHttpEdge::stalledBody_cutOffAfterReadTimeout()
{
    const QJsonObject before = stats(*m_api);
    const QByteArray body =
            R"({"room":"edge","event":"stalled","data":")" + QByteArray(60, 's') + R"("})";
    RawConn stalled;
    QVERIFY(stalled.connectTo(m_server->port()));
    stalled.write(head("POST", "/api/emit/room", "HTTP/1.1",
                       "Content-Type: application/json\r\nContent-Length: "
                               + QByteArray::number(body.size()) + "\r\n")
                  + "\r\n" + body.left(body.size() / 2));
    QElapsedTimer t;
    t.start();

    // Meanwhile others are served normally.
    QElapsedTimer served;
    served.start();
    auto other = m_server->client();
    QCOMPARE(other->get("/api/health").status, 200);
    const HttpResponse emitted =
            other->postJson("/api/emit/room", {{u"room"_s, u"edge"_s}, {u"event"_s, u"other"_s}});
    QCOMPARE(emitted.status, 200);
    QVERIFY2(served.elapsed() < 1000,
             qPrintable(u"other clients waited %1 ms"_s.arg(served.elapsed())));
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"other"_s);

    // The stalled one is answered 408 or closed within the read timeout (2 s) + slack.
    HttpResponse r;
    const bool cut = waitUntil(
            [&] {
                if (stalled.read(&r, 1))
                    return true;
                return stalled.closed();
            },
            4500);
    const qint64 elapsed = t.elapsed();
    QVERIFY2(cut, qPrintable(u"stalled client still connected after %1 ms"_s.arg(elapsed)));
    QVERIFY2(elapsed >= 1000,
             qPrintable(u"cut off after only %1 ms (read timeout is 2 s)"_s.arg(elapsed)));
    if (r.isValid()) {
        QCOMPARE(r.status, 408);
        QCOMPARE(r.errorCode(), u"timeout"_s);
    }
    // The call changed nothing: only the "other" emit was counted.
    const QJsonObject after = stats(*m_api);
    QCOMPARE(after.value(u"messages_in_total"_s).toInt(),
             before.value(u"messages_in_total"_s).toInt() + 1);
    QVERIFY(nothingDelivered());
}

void TestHttpEdge::stalledHead_cutOffAfterReadTimeout()
{
    RawConn stalled;
    QVERIFY(stalled.connectTo(m_server->port()));
    stalled.write("POST /api/emit/room HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: "
                  + m_server->apiKey() + "\r\n");
    QElapsedTimer t;
    t.start();
    QCOMPARE(m_server->client(false)->get("/api/health").status, 200);
    HttpResponse r;
    const bool cut = waitUntil([&] { return stalled.read(&r, 1) || stalled.closed(); }, 4500);
    QVERIFY2(cut,
             qPrintable(u"client with an unfinished head still connected after %1 ms"_s.arg(
                     t.elapsed())));
    if (r.isValid())
        QCOMPARE(r.status, 408);
}

void TestHttpEdge::hugeHeaders_431()
{
    // many headers, 70 KiB in all
    {
        QByteArray extra;
        for (int i = 0; i < 70; ++i)
            extra += "X-Pad-" + QByteArray::number(i) + ": " + QByteArray(1024, 'h') + "\r\n";
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"huge"})", "HTTP/1.1",
                        extra));
        HttpResponse r;
        QVERIFY2(c.read(&r, 5000), c.received().left(300).constData());
        QCOMPARE(r.status, 431);
        QCOMPARE(r.errorCode(), u"too_large"_s);
    }
    // one header line of 80 KiB
    {
        RawConn c;
        QVERIFY(c.connectTo(m_server->port()));
        c.write(request("GET", "/api/stats", {}, "HTTP/1.1",
                        "X-Long: " + QByteArray(80 * 1024, 'l') + "\r\n"));
        HttpResponse r;
        QVERIFY2(c.read(&r, 5000), c.received().left(300).constData());
        QCOMPARE(r.status, 431);
    }
    QVERIFY(nothingDelivered());
}

QTEST_MAIN(TestHttpEdge)
#include "tst_http_edge.moc"
