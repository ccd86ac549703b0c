// Endpoints under load (docs/API.md, "Endpoints", Handlers): a slow handler delays only its own
// endpoint, never rooms, REST or other endpoints; the events of one session reach the handler
// one at a time and in order while sessions run concurrently; an endpoint queues at most 1000
// events and a session whose event does not fit is closed with 1013.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "EndpointHelpers.h"
#include "HandlerServer.h"
#include "TestSupport.h"
#include "WsWire.h"

#include <QElapsedTimer>
#include <QTest>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

// What "at once" may take: AddressSanitizer slows the daemon and the test down.
#if defined(__SANITIZE_ADDRESS__)
constexpr qint64 kPromptMs = 250;
#else
constexpr qint64 kPromptMs = 50;
#endif
constexpr int kSlowMs = 3000;
constexpr int kOrderSlowMs = 700;

} // namespace

class TestEndpointsLoad : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase() { stopDaemon(); }
    void cleanup() { endCase(); }
    void slowHandlerDelaysNothingElse();
    void eventsOfASessionStayInOrder();
    void floodedSessionIsClosedWith1013();

private:
    static HandlerReply respond(const HandlerRequest &r);
    // A session of endpoint name whose open event reached the handler.
    std::unique_ptr<WsClient> session(const QString &name, QString *id);
    HandlerServer m_handler;
};

void TestEndpointsLoad::initTestCase()
{
    QVERIFY(m_handler.listen());
    m_handler.setResponder(&TestEndpointsLoad::respond);
    m_server = std::make_unique<ServerProcess>();
    for (const QString &name : {u"slow"_s, u"fast"_s, u"order"_s, u"flood"_s})
        QVERIFY(writeDescriptor(endpointsDir(*m_server), name % u".websocket"_s,
                                descriptor(name, m_handler.url(u"/"_s % name))));
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    m_api = m_server->client();
    QString why;
    QVERIFY2(joinMember(uniqueName(u"loadroom"_s), u"lu"_s, u"ls"_s, &why), qPrintable(why));
}

HandlerReply TestEndpointsLoad::respond(const HandlerRequest &r)
{
    if (r.kind() != u"onmessage"_s)
        return {};
    if (r.path == "/slow" || r.path == "/flood")
        return {200, {}, kSlowMs};
    if (r.path == "/fast")
        return {200, sendAnswer({u"pong:"_s % r.message()}), 0};
    if (r.path == "/order")
        return {200, sendAnswer({r.message()}), r.message() == u"slow"_s ? kOrderSlowMs : 0};
    return {};
}

std::unique_ptr<WsClient> TestEndpointsLoad::session(const QString &name, QString *id)
{
    QString why;
    std::unique_ptr<WsClient> s = openSession(*m_server, u"/websockets/"_s % name, &why);
    if (!s) {
        qWarning().noquote() << why;
        return nullptr;
    }
    *id = sessionIdOf(*m_api, *s);
    const QByteArray path = "/" + name.toUtf8();
    const bool opened = waitUntil(
            [&] {
                for (const HandlerRequest &r : m_handler.requests(path)) {
                    if (r.session() == *id && r.kind() == u"onopen"_s && r.answeredMs)
                        return true;
                }
                return false;
            },
            5000);
    return opened ? std::move(s) : nullptr;
}

void TestEndpointsLoad::slowHandlerDelaysNothingElse()
{
    QString fastId;
    QString slowId;
    std::unique_ptr<WsClient> fast = session(u"fast"_s, &fastId);
    std::unique_ptr<WsClient> slow = session(u"slow"_s, &slowId);
    QVERIFY(fast && slow);
    fast->sendText(u"warm"_s);
    QCOMPARE(nextTexts(*fast, 1), QStringList{u"pong:warm"_s});
    slow->sendText(u"s1"_s);
    const auto slowCallPending = [&] {
        for (const HandlerRequest &r : m_handler.requests("/slow")) {
            if (r.message() == u"s1"_s)
                return r.answeredMs == 0;
        }
        return false;
    };
    QVERIFY(waitUntil(slowCallPending, 3000));

    QElapsedTimer t;
    t.start();
    QCOMPARE(emitToRoom(*m_api, m_memberRoom, u"during-slow"_s), 1);
    QCOMPARE(m_member->waitForFrame(u"event"_s, 1000).value(u"event"_s).toString(),
             u"during-slow"_s);
    const qint64 emitMs = t.elapsed();
    t.restart();
    fast->sendText(u"p"_s);
    QCOMPARE(nextTexts(*fast, 1, 1000), QStringList{u"pong:p"_s});
    const qint64 fastMs = t.elapsed();
    QVERIFY2(slowCallPending(), "the slow call ended early: nothing was measured during it");
    QVERIFY2(emitMs <= kPromptMs, qPrintable(u"emit took %1 ms"_s.arg(emitMs)));
    QVERIFY2(fastMs <= kPromptMs, qPrintable(u"the other endpoint took %1 ms"_s.arg(fastMs)));
}

void TestEndpointsLoad::eventsOfASessionStayInOrder()
{
    QString ids[2];
    std::unique_ptr<WsClient> a = session(u"order"_s, &ids[0]);
    std::unique_ptr<WsClient> b = session(u"order"_s, &ids[1]);
    QVERIFY(a && b);
    for (WsClient *s : {a.get(), b.get()}) {
        s->sendText(u"slow"_s);
        s->sendText(u"fast"_s);
    }
    QCOMPARE(nextTexts(*a, 2), (QStringList{u"slow"_s, u"fast"_s}));
    QCOMPARE(nextTexts(*b, 2), (QStringList{u"slow"_s, u"fast"_s}));
    HandlerRequest slowOf[2];
    HandlerRequest fastOf[2];
    for (const HandlerRequest &r : m_handler.requests("/order")) {
        for (int i = 0; i < 2; ++i) {
            if (r.session() == ids[i] && r.message() == u"slow"_s)
                slowOf[i] = r;
            else if (r.session() == ids[i] && r.message() == u"fast"_s)
                fastOf[i] = r;
        }
    }
    for (int i = 0; i < 2; ++i) {
        QVERIFY(slowOf[i].answeredMs > 0 && fastOf[i].receivedMs > 0);
        QVERIFY2(fastOf[i].receivedMs >= slowOf[i].answeredMs,
                 "the second event of a session went before the first was answered");
    }
    // Both slow calls were in flight at once: the sessions ran concurrently.
    QVERIFY2(qMax(slowOf[0].receivedMs, slowOf[1].receivedMs)
                     < qMin(slowOf[0].answeredMs, slowOf[1].answeredMs),
             "the sessions' calls ran one after the other");
}

void TestEndpointsLoad::floodedSessionIsClosedWith1013()
{
    // Frames by hand: QWebSocket reports any close code from 1012 to 2999 as 1002.
    RawWsClient flood;
    QCOMPARE(flood.connectAndUpgrade(m_server->host(), m_server->port(), "/websockets/flood"), 101);
    QVERIFY(m_handler.waitForCount(1, "/flood"));
    QByteArray frames;
    for (int i = 0; i < 1100; ++i)
        frames += randomlyMaskedFrame(1, "m" + QByteArray::number(i));
    flood.socket()->write(frames);
    RawWsClient::Frame close;
    QVERIFY(flood.waitForOpcode(8, &close, 10000));
    QCOMPARE(close.closeCode(), 1013);
    QVERIFY(flood.waitForClosed(5000));
    QString why;
    QVERIFY2(daemonHealthy(&why), qPrintable(why));
    QString fastId;
    std::unique_ptr<WsClient> fast = session(u"fast"_s, &fastId);
    QVERIFY(fast);
    fast->sendText(u"after"_s);
    QCOMPARE(nextTexts(*fast, 1), QStringList{u"pong:after"_s});
    QCOMPARE(emitToRoom(*m_api, m_memberRoom, u"after-flood"_s), 1);
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"after-flood"_s);
    QTRY_COMPARE_WITH_TIMEOUT(entryOf(*m_api, u"flood"_s).value(u"sessions"_s).toInteger(), 0,
                              3000);
}

QTEST_GUILESS_MAIN(TestEndpointsLoad)
#include "tst_endpoints_load.moc"
