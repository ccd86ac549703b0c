// Endpoint descriptors (docs/API.md, "Endpoints", Descriptors): files added, changed or removed
// in endpoints_dir take effect within 2 s without a restart (a removed endpoint closes its
// sessions with 1001), subfolders included; bad files are listed with their error naming the
// field and change nothing else; POST and DELETE /api/endpoints.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "EndpointHelpers.h"
#include "HandlerServer.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTest>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

// The contract's 2 s, and what AddressSanitizer may add to it.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kTakesEffectMs = 2500;
#else
constexpr int kTakesEffectMs = 2000;
#endif

} // namespace

class TestEndpointsDir : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase() { stopDaemon(); }
    void cleanup() { endCase(); }
    void addedChangedRemovedWithoutRestart();
    void handlerChangeKeepsTheQueueBound();
    void handlerChangeLosesNoWaitingEvent();
    void descriptorInASubfolder();
    void badDescriptorsAreListedWithTheirField();
    void duplicateNameKeepsTheFirst();
    void addedDuplicateDoesNotTakeOver();
    void postCreatesADescriptor();
    void postRefusesBadBodiesNamingTheField_data();
    void postRefusesBadBodiesNamingTheField();
    void deleteRemovesIt();

private:
    static HandlerReply respond(const HandlerRequest &r);
    // Waits until an upgrade at /websockets/name answers status; the time it took, -1 if never.
    qint64 msUntilUpgrade(const QString &name, int status);
    // Opens a session of name and waits for its open event at path.
    std::unique_ptr<WsClient> session(const QString &name, const QByteArray &path, QString *id);
    HandlerServer m_handler;
    QString m_dir;
};

void TestEndpointsDir::initTestCase()
{
    QVERIFY(m_handler.listen());
    m_handler.setResponder(&TestEndpointsDir::respond);
    m_server = std::make_unique<ServerProcess>();
    m_dir = endpointsDir(*m_server);
    const QString url = m_handler.url(u"/x"_s);
    QVERIFY(writeDescriptor(m_dir, u"base.websocket"_s,
                            descriptor(u"base"_s, m_handler.url(u"/base"_s))));
    QVERIFY(writeFile(m_dir, u"broken.websocket"_s, "{\"endpoint\": \"broken\", \"handler\": "));
    QVERIFY(writeDescriptor(m_dir, u"nohandler.websocket"_s, {{u"endpoint"_s, u"nohandler"_s}}));
    QVERIFY(writeDescriptor(m_dir, u"badname.websocket"_s, descriptor(u"bad name!"_s, url)));
    QVERIFY(writeDescriptor(m_dir, u"noscript.websocket"_s,
                            descriptor(u"noscript"_s, u"scripts/missing"_s)));
    QVERIFY(writeDescriptor(m_dir, u"badauth.websocket"_s,
                            descriptor(u"badauth"_s, url, u"basic"_s)));
    QVERIFY(writeDescriptor(m_dir, u"dup-a.websocket"_s,
                            descriptor(u"dup"_s, m_handler.url(u"/dupA"_s))));
    QVERIFY(writeDescriptor(m_dir, u"dup-b.websocket"_s,
                            descriptor(u"dup"_s, m_handler.url(u"/dupB"_s))));
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    m_api = m_server->client();
}

HandlerReply TestEndpointsDir::respond(const HandlerRequest &r)
{
    if (r.message() == u"inflight"_s)
        return {200, {}, 1500};
    return {};
}

qint64 TestEndpointsDir::msUntilUpgrade(const QString &name, int status)
{
    QElapsedTimer t;
    t.start();
    const QByteArray path = "/websockets/" + name.toUtf8();
    if (!waitUntil([&] { return upgradeStatus(*m_server, path) == status; }, 5000))
        return -1;
    return t.elapsed();
}

std::unique_ptr<WsClient> TestEndpointsDir::session(const QString &name, const QByteArray &path,
                                                    QString *id)
{
    QString why;
    std::unique_ptr<WsClient> s = openSession(*m_server, u"/websockets/"_s % name, &why);
    if (!s) {
        qWarning().noquote() << why;
        return nullptr;
    }
    *id = sessionIdOf(*m_api, *s);
    const bool opened = waitUntil(
            [&] {
                for (const HandlerRequest &r : m_handler.requests(path)) {
                    if (r.session() == *id && r.kind() == u"onopen"_s)
                        return true;
                }
                return false;
            },
            5000);
    return opened ? std::move(s) : nullptr;
}

void TestEndpointsDir::addedChangedRemovedWithoutRestart()
{
    QCOMPARE(upgradeStatus(*m_server, "/websockets/dyn"), 404);
    QVERIFY(writeDescriptor(m_dir, u"dyn.websocket"_s,
                            descriptor(u"dyn"_s, m_handler.url(u"/dyn1"_s))));
    const qint64 addedMs = msUntilUpgrade(u"dyn"_s, 101);
    QVERIFY2(addedMs >= 0 && addedMs <= kTakesEffectMs,
             qPrintable(u"added after %1 ms"_s.arg(addedMs)));
    QString id;
    std::unique_ptr<WsClient> s = session(u"dyn"_s, "/dyn1", &id);
    QVERIFY(s);

    QVERIFY(writeDescriptor(m_dir, u"dyn.websocket"_s,
                            descriptor(u"dyn"_s, m_handler.url(u"/dyn2"_s))));
    QVERIFY(waitForEndpoint(*m_api, u"dyn"_s, m_handler.url(u"/dyn2"_s), kTakesEffectMs));
    s->sendText(u"next"_s);
    const QJsonObject next =
            handlerEvent(u"onmessage"_s, u"dyn"_s, id, QJsonValue::Null, u"next"_s);
    QVERIFY(waitUntil([&] { return m_handler.events("/dyn2").contains(next); }, 5000));
    QVERIFY2(!m_handler.events("/dyn1").contains(next), "the old handler got the event too");
    QElapsedTimer t;
    t.start();
    QVERIFY(QFile::remove(m_dir % u"/dyn.websocket"_s));
    QVERIFY(s->waitForDisconnected(kTakesEffectMs + 1000));
    QVERIFY2(t.elapsed() <= kTakesEffectMs, qPrintable(u"closed after %1 ms"_s.arg(t.elapsed())));
    QCOMPARE(s->closeCode(), 1001);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/dyn"), 404);
    QVERIFY(entryOfFile(*m_api, u"dyn.websocket"_s).isEmpty());
}

void TestEndpointsDir::handlerChangeKeepsTheQueueBound()
{
    // A call in flight when the handler changes must not hold one of the endpoint's 1000
    // places for good (switchboard_handler_queue_depth: events waiting for or in a call).
    QVERIFY(writeDescriptor(m_dir, u"chg.websocket"_s,
                            descriptor(u"chg"_s, m_handler.url(u"/chg1"_s))));
    QVERIFY(waitForEndpoint(*m_api, u"chg"_s, {}, kTakesEffectMs + 1000));
    QString id;
    std::unique_ptr<WsClient> s = session(u"chg"_s, "/chg1", &id);
    QVERIFY(s);
    s->sendText(u"inflight"_s); // answered after 1.5 s
    QVERIFY(m_handler.waitForCount(2, "/chg1"));
    QVERIFY(writeDescriptor(m_dir, u"chg.websocket"_s,
                            descriptor(u"chg"_s, m_handler.url(u"/chg2"_s))));
    QVERIFY(waitForEndpoint(*m_api, u"chg"_s, m_handler.url(u"/chg2"_s), kTakesEffectMs));
    s->sendText(u"after"_s);
    QVERIFY(m_handler.waitForCount(1, "/chg2"));
    spin(2000); // the old call's answer is due by now
    const QByteArray depth = R"(switchboard_handler_queue_depth{endpoint="chg"})";
    QTRY_COMPARE_WITH_TIMEOUT(metricValue(*m_api, depth), 0.0, 2000);
}

void TestEndpointsDir::handlerChangeLosesNoWaitingEvent()
{
    // An event waiting behind its session's call when the handler changes goes to the new
    // handler, before the session's later events (docs/API.md: a changed descriptor handles
    // the next event; events of one session reach its handler in order).
    QVERIFY(writeDescriptor(m_dir, u"wait.websocket"_s,
                            descriptor(u"wait"_s, m_handler.url(u"/wait1"_s))));
    QVERIFY(waitForEndpoint(*m_api, u"wait"_s, {}, kTakesEffectMs + 1000));
    QString id;
    std::unique_ptr<WsClient> s = session(u"wait"_s, "/wait1", &id);
    QVERIFY(s);
    s->sendText(u"inflight"_s); // answered after 1.5 s
    s->sendText(u"waiting"_s);  // behind it
    QVERIFY(m_handler.waitForCount(2, "/wait1"));
    QVERIFY(writeDescriptor(m_dir, u"wait.websocket"_s,
                            descriptor(u"wait"_s, m_handler.url(u"/wait2"_s))));
    QVERIFY(waitForEndpoint(*m_api, u"wait"_s, m_handler.url(u"/wait2"_s), kTakesEffectMs));
    s->sendText(u"after"_s);
    QVERIFY(waitUntil([&] { return m_handler.count("/wait2") >= 2; }, 3000)
            || (qWarning() << "/wait2 got" << m_handler.events("/wait2"), false));
    QStringList messages;
    for (const QJsonObject &e : m_handler.events("/wait2"))
        messages.append(e.value(u"message"_s).toString());
    QCOMPARE(messages, (QStringList{u"waiting"_s, u"after"_s}));
}

void TestEndpointsDir::descriptorInASubfolder()
{
    QVERIFY(writeDescriptor(m_dir, u"team/deep/nested.websocket"_s,
                            descriptor(u"nested"_s, m_handler.url(u"/nested"_s))));
    const qint64 ms = msUntilUpgrade(u"nested"_s, 101);
    QVERIFY2(ms >= 0 && ms <= kTakesEffectMs, qPrintable(u"added after %1 ms"_s.arg(ms)));
    QCOMPARE(entryOf(*m_api, u"nested"_s).value(u"file"_s).toString(),
             u"team/deep/nested.websocket"_s);
    QString id;
    std::unique_ptr<WsClient> s = session(u"nested"_s, "/nested", &id);
    QVERIFY(s);
    s->sendText(u"deep"_s);
    const QJsonObject want =
            handlerEvent(u"onmessage"_s, u"nested"_s, id, QJsonValue::Null, u"deep"_s);
    QVERIFY(waitUntil([&] { return m_handler.events("/nested").contains(want); }, 5000));
}

void TestEndpointsDir::badDescriptorsAreListedWithTheirField()
{
    const QList<QPair<QString, QStringList>> bad{
            {u"broken.websocket"_s, {u"JSON"_s}},
            {u"nohandler.websocket"_s, {u"handler"_s}},
            {u"badname.websocket"_s, {u"endpoint"_s}},
            {u"noscript.websocket"_s, {u"handler"_s, u"scripts/missing.js"_s}},
            {u"badauth.websocket"_s, {u"auth"_s}}};
    const QString output = m_server->output();
    for (const auto &[file, words] : bad) {
        const QJsonObject entry = entryOfFile(*m_api, file);
        QVERIFY2(!entry.isEmpty(), qPrintable(file % u" is not listed"_s));
        const QString error = entry.value(u"error"_s).toString();
        for (const QString &word : words)
            QVERIFY2(error.contains(word), qPrintable(file % u": "_s % error));
        QVERIFY2(output.contains(file), qPrintable(file % u" is not logged"_s));
    }
    for (const char *name : {"broken", "nohandler", "noscript", "badauth"})
        QCOMPARE(upgradeStatus(*m_server, QByteArray("/websockets/") + name), 404);
    QString id;
    std::unique_ptr<WsClient> s = session(u"base"_s, "/base", &id);
    QVERIFY2(s, "the good endpoint next to the bad ones does not work");
    QVERIFY(!entryOfFile(*m_api, u"base.websocket"_s).contains(u"error"_s));
}

void TestEndpointsDir::duplicateNameKeepsTheFirst()
{
    const QString error = entryOfFile(*m_api, u"dup-b.websocket"_s).value(u"error"_s).toString();
    QVERIFY2(error.contains(u"endpoint"_s) && error.contains(u"dup-a.websocket"_s),
             qPrintable(error));
    QVERIFY(!entryOfFile(*m_api, u"dup-a.websocket"_s).contains(u"error"_s));
    QString id;
    std::unique_ptr<WsClient> s = session(u"dup"_s, "/dupA", &id);
    QVERIFY2(s, "the first file of the name does not work");
    QCOMPARE(m_handler.count("/dupB"), 0);
}

void TestEndpointsDir::addedDuplicateDoesNotTakeOver()
{
    // A second file of a name in service is the bad one, even when its file name sorts first:
    // the endpoint in service keeps its handler and its sessions.
    QString id;
    std::unique_ptr<WsClient> s = session(u"dup"_s, "/dupA", &id);
    QVERIFY(s);
    QVERIFY(writeDescriptor(m_dir, u"0-dup.websocket"_s,
                            descriptor(u"dup"_s, m_handler.url(u"/dupZ"_s))));
    QVERIFY(waitUntil([&] { return !entryOfFile(*m_api, u"0-dup.websocket"_s).isEmpty(); },
                      kTakesEffectMs));
    const QString error = entryOfFile(*m_api, u"0-dup.websocket"_s).value(u"error"_s).toString();
    QVERIFY2(error.contains(u"endpoint"_s) && error.contains(u"dup-a.websocket"_s),
             qPrintable(u"0-dup.websocket: "_s % error));
    QVERIFY(!entryOfFile(*m_api, u"dup-a.websocket"_s).contains(u"error"_s));
    s->sendText(u"still-a"_s);
    const QJsonObject want =
            handlerEvent(u"onmessage"_s, u"dup"_s, id, QJsonValue::Null, u"still-a"_s);
    QVERIFY(waitUntil([&] { return m_handler.events("/dupA").contains(want); }, 5000));
    QCOMPARE(m_handler.count("/dupZ"), 0);
    QVERIFY(QFile::remove(m_dir % u"/0-dup.websocket"_s));
}

void TestEndpointsDir::postCreatesADescriptor()
{
    const QJsonObject body{{u"endpoint"_s, u"made"_s},
                           {u"handler"_s, m_handler.url(u"/made"_s)},
                           {u"description"_s, u"made by POST"_s}};
    const HttpResponse r = m_api->postJson("/api/endpoints", body);
    QCOMPARE(r.status, 201);
    const QJsonObject entry = r.object();
    QCOMPARE(entry.value(u"endpoint"_s).toString(), u"made"_s);
    QCOMPARE(entry.value(u"handler"_s).toString(), m_handler.url(u"/made"_s));
    QCOMPARE(entry.value(u"description"_s).toString(), u"made by POST"_s);
    QCOMPARE(entry.value(u"file"_s).toString(), u"made.websocket"_s);
    QCOMPARE(entry.value(u"auth"_s).toString(), u"none"_s);
    QCOMPARE(entry.value(u"sessions"_s).toInteger(), 0);
    QVERIFY(!entry.contains(u"error"_s));
    QVERIFY(QFile::exists(m_dir % u"/made.websocket"_s));
    QCOMPARE(upgradeStatus(*m_server, "/websockets/made"), 101);
    QCOMPARE(m_api->postJson("/api/endpoints", body).status, 409);
    QCOMPARE(
            m_api->postJson("/api/endpoints", descriptor(u"base"_s, m_handler.url(u"/b"_s))).status,
            409);
}

void TestEndpointsDir::postRefusesBadBodiesNamingTheField_data()
{
    QTest::addColumn<QJsonObject>("body");
    QTest::addColumn<QString>("field");
    const QString url = m_handler.url(u"/x"_s);
    QTest::newRow("no endpoint") << QJsonObject{{u"handler"_s, url}} << u"endpoint"_s;
    QTest::newRow("bad name") << descriptor(u"bad name"_s, url) << u"endpoint"_s;
    QTest::newRow("path name") << descriptor(u"../evil"_s, url) << u"endpoint"_s;
    QTest::newRow("long name") << descriptor(QString(101, u'n'), url) << u"endpoint"_s;
    QTest::newRow("no handler") << QJsonObject{{u"endpoint"_s, u"nh"_s}} << u"handler"_s;
    QTest::newRow("ftp handler") << descriptor(u"ftp"_s, u"ftp://h/x"_s) << u"handler"_s;
    QTest::newRow("missing script") << descriptor(u"ms"_s, u"nope/missing"_s) << u"handler"_s;
    QTest::newRow("bad auth") << descriptor(u"ba"_s, url, u"basic"_s) << u"auth"_s;
    QTest::newRow("bad description")
            << QJsonObject{{u"endpoint"_s, u"bd"_s}, {u"handler"_s, url}, {u"description"_s, 5}}
            << u"description"_s;
}

void TestEndpointsDir::postRefusesBadBodiesNamingTheField()
{
    QFETCH(QJsonObject, body);
    QFETCH(QString, field);
    const HttpResponse r = m_api->postJson("/api/endpoints", body);
    QCOMPARE(r.status, 400);
    QVERIFY2(r.errorMessage().contains(field), qPrintable(r.describe()));
    const QString name = body.value(u"endpoint"_s).toString();
    if (!name.isEmpty())
        QVERIFY(!QFile::exists(m_dir % u'/' % name % u".websocket"_s));
}

void TestEndpointsDir::deleteRemovesIt()
{
    QVERIFY(m_api->postJson("/api/endpoints", descriptor(u"gone"_s, m_handler.url(u"/gone"_s)))
                    .status
            == 201);
    QString id;
    std::unique_ptr<WsClient> s = session(u"gone"_s, "/gone", &id);
    QVERIFY(s);
    QCOMPARE(m_api->del("/api/endpoints/gone").status, 200);
    QVERIFY(!QFile::exists(m_dir % u"/gone.websocket"_s));
    QVERIFY(s->waitForDisconnected(kTakesEffectMs));
    QCOMPARE(s->closeCode(), 1001);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/gone"), 404);
    QCOMPARE(m_api->del("/api/endpoints/gone").status, 404);
    QCOMPARE(m_api->del("/api/endpoints/never-was").status, 404);
}

QTEST_GUILESS_MAIN(TestEndpointsDir)
#include "tst_endpoints_dir.moc"
