// The shapes real database callers use, on raw sockets: HTTP/1.0, Connection: close,
// keep-alive and pipelining, chunked bodies, 1 MiB bodies, Expect: 100-continue, duplicated
// Host, bodies over the limit (413 that can be read, no memory growth), stalled senders
// (408 or closed after --read-timeout-s while others are served, the timeout counted from
// the last byte), huge headers and more than 100 header fields (431), and no 100 Continue
// for HTTP/1.0.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "RawConn.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

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

// messages_in_total of GET /api/stats now, less its value in `before`.
int messagesInSince(HttpClient &api, const QJsonObject &before)
{
    return stats(api).value(u"messages_in_total"_s).toInt()
            - before.value(u"messages_in_total"_s).toInt();
}

// What a sender cut off by the read timeout may get: 408 timeout, or no answer (closed).
bool isTimeoutOrNothing(const HttpResponse &r)
{
    return !r.isValid() || (r.status == 408 && r.errorCode() == u"timeout");
}

// A body over the limit was refused with 413 too_large while the daemon's RSS (rss0 before,
// peak during the upload, in kB) grew by less than 10 MiB.
bool refusedTooLargeWithoutGrowth(const HttpResponse &r, qint64 rss0, qint64 peak, QString *why)
{
    if (r.status != 413 || r.errorCode() != u"too_large") {
        *why = u"not 413 too_large: "_s % r.describe();
        return false;
    }
    if (peak - rss0 >= 10 * 1024) {
        *why = u"RSS grew from %1 kB to %2 kB"_s.arg(rss0).arg(peak);
        return false;
    }
    return true;
}

} // namespace

class TestHttpEdge : public DaemonTest
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
    void headerFields_over100_431ThenServed();
    void headerFields_90WithBody_served();
    void readTimeout_isStallTimeout();
    void expectContinue_http10_noInterimAnswer();

private:
    // The head (with its blank line) of a JSON POST /api/emit/room of body, over HTTP/1.1.
    QByteArray jsonEmitHead(const QByteArray &body) const;
};

QByteArray TestHttpEdge::jsonEmitHead(const QByteArray &body) const
{
    return head("POST", "/api/emit/room", "HTTP/1.1",
                "Content-Type: application/json\r\nContent-Length: "
                        + QByteArray::number(body.size()) + "\r\n")
            + "\r\n";
}

void TestHttpEdge::initTestCase()
{
    QString why;
    QVERIFY2(startDaemon({u"--read-timeout-s"_s, u"2"_s, u"--max-message-bytes"_s, u"2097152"_s},
                         &why),
             qPrintable(why));
    QVERIFY2(joinMember(u"edge"_s, u"edgeuser"_s, u"s"_s, &why), qPrintable(why));
}

void TestHttpEdge::cleanupTestCase()
{
    stopDaemon();
}

void TestHttpEdge::cleanup()
{
    endCase();
    QString why;
    QVERIFY2(daemonHealthy(&why), qPrintable(why));
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
    QString why;
    QVERIFY2(refusedTooLargeWithoutGrowth(r, rss0, peak, &why), qPrintable(why));
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
    QString why;
    QVERIFY2(refusedTooLargeWithoutGrowth(r, rss0, peak, &why), qPrintable(why));
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
    stalled.write(jsonEmitHead(body) + body.left(body.size() / 2));
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
    QVERIFY2(isTimeoutOrNothing(r), qPrintable(r.describe()));
    // The call changed nothing: only the "other" emit was counted.
    QCOMPARE(messagesInSince(*m_api, before), 1);
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

// More than 100 header fields: 431 too_large (Qt's parser would drop them all and read the
// body as a request); the next connection is served.
void TestHttpEdge::headerFields_over100_431ThenServed()
{
    const QJsonObject before = stableStats(stats(*m_api));
    for (const int fields : {101, 150}) {
        const QByteArray body =
                R"({"room":"edge","event":"hdr","data":)" + QByteArray::number(fields) + '}';
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
        next.write(request("POST", "/api/emit/room", R"({"room":"edge","event":"after431"})"));
        QVERIFY2(next.read(&r, 5000), next.received().left(300).constData());
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.object().value(u"delivered"_s).toInt(-1), 1);
        QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"after431"_s);
    }
    QVERIFY(nothingDelivered());
    // Only the two after431 emits and the sentinel were counted.
    QCOMPARE(messagesInSince(*m_api, before), 3);
}

void TestHttpEdge::headerFields_90WithBody_served()
{
    for (const int fields : {90, 100}) {
        const QByteArray body = R"({"room":"edge","event":"hdr-ok","data":{"fields":)"
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

// read_timeout_s counts from the last byte received: a slow but steady sender is served,
// one that stops is cut off about read_timeout_s after its last byte.
void TestHttpEdge::readTimeout_isStallTimeout()
{
    const QJsonObject before = stats(*m_api);
    const QByteArray body = R"({"room":"edge","event":"drip"})";
    QCOMPARE(body.size(), 30);
    const QByteArray bodyHead = jsonEmitHead(body);

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
            R"({"room":"edge","event":"stalled","data":")" + QByteArray(40, 's') + R"("})";
    stalled.write(jsonEmitHead(stalledBody) + stalledBody.left(stalledBody.size() / 2));
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
    QVERIFY2(isTimeoutOrNothing(stalledAnswer), qPrintable(stalledAnswer.describe()));
    QVERIFY2(dripStallCutAt >= 0, "the sender that stopped after dripping was never cut off");
    const qint64 afterLast = dripStallCutAt - dripStallLastByteAt;
    QVERIFY2(
            afterLast >= 1500 && afterLast <= 4500,
            qPrintable(
                    u"dripping sender cut off %1 ms after its last byte (at %2 ms; read timeout 2 s)"_s
                            .arg(afterLast)
                            .arg(dripStallCutAt)));
    QVERIFY2(isTimeoutOrNothing(dripStallAnswer), qPrintable(dripStallAnswer.describe()));
    // Only the drip was counted; nothing of the cut-off calls was delivered.
    QCOMPARE(messagesInSince(*m_api, before), 1);
    QVERIFY(nothingDelivered());
}

// Expect: 100-continue on an HTTP/1.0 request gets no interim answer.
void TestHttpEdge::expectContinue_http10_noInterimAnswer()
{
    const QByteArray body = R"({"room":"edge","event":"expect10"})";
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

QTEST_MAIN(TestHttpEdge)
#include "tst_http_edge.moc"
