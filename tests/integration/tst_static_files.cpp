// Pages and scripts (docs/API.md, "Pages and the browser client"): the landing page, the browser
// client as a classic script and as an ES module, its types and the examples are served with no API
// key and a proper Content-Type; ETag revalidation answers 304 with no body; HEAD gives the
// head only; unknown files are 404; the metrics labels of these routes stay bounded. (What
// the files do in a browser is tests/e2e.)

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QTcpSocket>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestStaticFiles : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void servedWithoutKey_data();
    void servedWithoutKey();
    void clientScripts();
    void etagRevalidation();
    void headOnly();
    void unknownFilesAndMethods();
    void http10ClosesAfterAnswer();
    void metricsLabelsBounded();

private:
    // Sends raw request bytes on a fresh connection and reads until the server closes it.
    QByteArray exchange(const QByteArray &request);

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_anon; // no API key
    std::unique_ptr<HttpClient> m_api;
};

void TestStaticFiles::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    m_anon = m_server->client(false);
    m_api = m_server->client();
}

void TestStaticFiles::cleanupTestCase()
{
    m_anon.reset();
    m_api.reset();
    if (m_server)
        m_server->kill();
}

QByteArray TestStaticFiles::exchange(const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(u"127.0.0.1"_s, m_server->port());
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(request);
    QByteArray received;
    waitUntil(
            [&] {
                received += socket.readAll();
                return socket.state() == QAbstractSocket::UnconnectedState;
            },
            10000);
    received += socket.readAll();
    return received;
}

void TestStaticFiles::servedWithoutKey_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("contains");
    QTest::newRow("/") << QByteArray("/") << QByteArray("text/html; charset=utf-8")
                       << QByteArray("<script src=\"/switchboard.js\"");
    QTest::newRow("/switchboard.js")
            << QByteArray("/switchboard.js") << QByteArray("text/javascript; charset=utf-8")
            << QByteArray("globalThis.Switchboard = Switchboard;");
    QTest::newRow("/switchboard.mjs")
            << QByteArray("/switchboard.mjs") << QByteArray("text/javascript; charset=utf-8")
            << QByteArray("export default Switchboard;");
    QTest::newRow("/switchboard.d.ts") << QByteArray("/switchboard.d.ts")
                                       << QByteArray("application/typescript; charset=utf-8")
                                       << QByteArray("export default Switchboard;");
    QTest::newRow("/examples") << QByteArray("/examples") << QByteArray("text/html; charset=utf-8")
                               << QByteArray("/examples/apex.html");
    QTest::newRow("/examples/") << QByteArray("/examples/")
                                << QByteArray("text/html; charset=utf-8")
                                << QByteArray("/examples/rtm-listener.html");
    for (const char *page : {"apex.html", "database-chat.html", "rtm-listener.html", "module.html",
                             "playground.html"}) {
        const QByteArray path = "/examples/" + QByteArray(page);
        QTest::newRow(path.constData())
                << path << QByteArray("text/html; charset=utf-8") << QByteArray("<!doctype html>");
    }
    QTest::newRow("/examples/examples.css")
            << QByteArray("/examples/examples.css") << QByteArray("text/css; charset=utf-8")
            << QByteArray("--accent");
    QTest::newRow("/assets/landing.js")
            << QByteArray("/assets/landing.js") << QByteArray("text/javascript; charset=utf-8")
            << QByteArray("Switchboard.connect");
    QTest::newRow("/assets/favicon.svg") << QByteArray("/assets/favicon.svg")
                                         << QByteArray("image/svg+xml") << QByteArray("<svg");
}

void TestStaticFiles::servedWithoutKey()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, contains);
    const HttpResponse r = m_anon->get(path);
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.header("content-type"), contentType);
    QVERIFY2(r.body.contains(contains), r.body.left(300).constData());
    QCOMPARE(r.header("content-length").toLongLong(), r.body.size());
    QVERIFY(r.header("etag").startsWith('"'));
    QCOMPARE(r.header("cache-control"), QByteArray("no-cache"));
    QCOMPARE(r.headerCount("cache-control"), 1);
    QCOMPARE(r.header("x-content-type-options"), QByteArray("nosniff"));
    // Even with a wrong key: these routes do not look at it.
    const HttpResponse wrongKey = m_anon->get(path, {{"X-API-Key", "wrong"}});
    QCOMPARE(wrongKey.status, 200);
}

void TestStaticFiles::clientScripts()
{
    const HttpResponse js = m_anon->get("/switchboard.js");
    const HttpResponse mjs = m_anon->get("/switchboard.mjs");
    QCOMPARE(js.status, 200);
    QCOMPARE(mjs.status, 200);
    // One source, two wrappings: the classic script exports nothing, the module sets no global.
    QVERIFY(!js.body.contains("\nexport "));
    QVERIFY(!mjs.body.contains("globalThis.Switchboard ="));
    const QByteArray start = "// Switchboard browser client: the one source";
    const qsizetype jsFrom = js.body.indexOf(start);
    const qsizetype mjsFrom = mjs.body.indexOf(start);
    const qsizetype jsTo = js.body.indexOf("\nglobalThis.Switchboard = Switchboard;");
    const qsizetype mjsTo = mjs.body.indexOf("\nexport { Switchboard };");
    QVERIFY(jsFrom > 0 && jsTo > jsFrom && mjsFrom > 0 && mjsTo > mjsFrom);
    QCOMPARE(js.body.mid(jsFrom, jsTo - jsFrom), mjs.body.mid(mjsFrom, mjsTo - mjsFrom));
    // The version is filled in.
    QVERIFY(!js.body.contains("@SWITCHBOARD_VERSION@"));
    QVERIFY(js.body.contains("var SWITCHBOARD_VERSION = '" SWITCHBOARD_VERSION "';"));
    // Pages on other hosts may load them.
    QCOMPARE(js.header("access-control-allow-origin"), QByteArray("*"));
    QCOMPARE(mjs.header("access-control-allow-origin"), QByteArray("*"));
    QCOMPARE(mjs.header("x-typescript-types"), QByteArray("/switchboard.d.ts"));
    // The landing page may only load its own files.
    const HttpResponse page = m_anon->get("/");
    QVERIFY(page.header("content-security-policy").contains("default-src 'self'"));
}

void TestStaticFiles::etagRevalidation()
{
    const HttpResponse first = m_anon->get("/switchboard.js");
    const QByteArray etag = first.header("etag");
    QVERIFY(!etag.isEmpty());
    QCOMPARE(m_anon->get("/switchboard.js").header("etag"), etag); // stable

    const QByteArrayList matching{etag, QByteArray("W/" + etag), QByteArray("\"other\", " + etag),
                                  QByteArray("*")};
    for (const QByteArray &ifNoneMatch : matching) {
        const HttpResponse r = m_anon->get("/switchboard.js", {{"If-None-Match", ifNoneMatch}});
        QVERIFY2(r.status == 304,
                 qPrintable(r.describe() + u" for "_s + QString::fromLatin1(ifNoneMatch)));
        QVERIFY(r.body.isEmpty());
        QCOMPARE(r.headerCount("content-length"), 0);
        QCOMPARE(r.header("etag"), etag);
        QCOMPARE(r.header("cache-control"), QByteArray("no-cache"));
    }
    const HttpResponse other = m_anon->get("/switchboard.js", {{"If-None-Match", "\"nope\""}});
    QCOMPARE(other.status, 200);
    QCOMPARE(other.body, first.body);
    // Another file has another tag; the connection still works after the 304s.
    const HttpResponse mjs = m_anon->get("/switchboard.mjs", {{"If-None-Match", etag}});
    QCOMPARE(mjs.status, 200);
    QVERIFY(mjs.header("etag") != etag);
    // REST answers are never cached.
    QCOMPARE(m_anon->get("/api/health").header("cache-control"), QByteArray("no-store"));
}

void TestStaticFiles::headOnly()
{
    const HttpResponse full = m_anon->get("/switchboard.mjs");
    const QByteArray answer = exchange("HEAD /switchboard.mjs HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 200 "), answer.left(200).constData());
    QVERIFY(answer.contains("\r\nContent-Type: text/javascript; charset=utf-8\r\n"));
    QByteArray length("\r\nContent-Length: ");
    length.append(QByteArray::number(full.body.size())).append("\r\n");
    QVERIFY(answer.contains(length));
    QVERIFY2(answer.endsWith("\r\n\r\n"), "no body after the head");
}

void TestStaticFiles::unknownFilesAndMethods()
{
    for (const QByteArray &path :
         {QByteArray("/examples/nothing.html"), QByteArray("/assets/nothing.css"),
          QByteArray("/examples/..%2Findex.html"), QByteArray("/examples/%2E%2E"),
          QByteArray("/switchboard.ts"), QByteArray("/index.html"), QByteArray("/examples/a/b")}) {
        const HttpResponse r = m_anon->get(path);
        QVERIFY2(r.status == 404,
                 qPrintable(r.describe() + u" for "_s + QString::fromLatin1(path)));
        QCOMPARE(r.errorCode(), u"not_found"_s);
    }
    const HttpResponse post = m_anon->post("/switchboard.js", "{}", "application/json");
    QCOMPARE(post.status, 405);
    QCOMPARE(post.header("allow"), QByteArray("GET, HEAD"));
    // POST / is the compatibility push, still behind the key.
    QCOMPARE(m_anon->post("/", R"({"message":"x"})", "application/json").status, 401);
    const HttpResponse pushed = m_api->post("/", R"({"message":"x"})", "application/json");
    QCOMPARE(pushed.status, 200);
    QVERIFY(pushed.body.startsWith("{\"message\":\"Send to "));
}

void TestStaticFiles::http10ClosesAfterAnswer()
{
    const QByteArray answer = exchange("GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 200 "), answer.left(200).constData());
    QVERIFY(answer.contains("\r\nConnection: close\r\n"));
    QVERIFY(!answer.contains("Transfer-Encoding"));
    QVERIFY(answer.contains("</html>"));
}

void TestStaticFiles::metricsLabelsBounded()
{
    for (const QByteArray &path :
         {QByteArray("/switchboard.js"), QByteArray("/examples/apex.html"),
          QByteArray("/examples/module.html"), QByteArray("/examples/unknown-1.html"),
          QByteArray("/assets/landing.css"), QByteArray("/")})
        QVERIFY(m_anon->get(path).isValid());
    const HttpResponse metrics = m_api->get("/metrics");
    QCOMPARE(metrics.status, 200);
    const QByteArray text = metrics.body;
    QVERIFY(text.contains(
            R"(switchboard_http_requests_total{route="/switchboard.js",status="200"})"));
    QVERIFY(text.contains(
            R"(switchboard_http_requests_total{route="/examples/{example}",status="200"})"));
    QVERIFY(text.contains(
            R"(switchboard_http_requests_total{route="/examples/{example}",status="404"})"));
    QVERIFY(text.contains(
            R"(switchboard_http_requests_total{route="/assets/{asset}",status="200"})"));
    QVERIFY(text.contains(R"(switchboard_http_requests_total{route="/",status="200"})"));
    // File names never become labels.
    QVERIFY(!text.contains("apex.html"));
    QVERIFY(!text.contains("unknown-1"));
    QVERIFY(!text.contains("landing.css"));
}

QTEST_MAIN(TestStaticFiles)
#include "tst_static_files.moc"
