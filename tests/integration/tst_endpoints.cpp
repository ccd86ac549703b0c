// Endpoints with HTTP handlers from outside the process (docs/API.md, "Endpoints"): a real
// daemon, a real HTTP handler server in the test (HandlerServer) and real WebSocket sessions.
// The events a handler gets (exact JSON, headers), its answer applied in order, retries,
// token auth, sessions as connections (REST, metrics) and bad input on sessions.

#include "tst_endpoints.h"

#include "ApiHelpers.h"
#include "EndpointHelpers.h"
#include "TestSupport.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;

void TestEndpoints::initTestCase()
{
    QVERIFY(m_handler.listen());
    m_handler.setResponder([this](const HandlerRequest &r) { return respond(r); });
    m_server = std::make_unique<ServerProcess>();
    const QString dir = endpointsDir(*m_server);
    for (const QString &name : {u"plain"_s, u"answers"_s, u"flaky"_s, u"admin"_s})
        QVERIFY(writeDescriptor(dir, name % u".websocket"_s,
                                descriptor(name, m_handler.url(u"/"_s % name))));
    QVERIFY(writeDescriptor(dir, u"secure.websocket"_s,
                            descriptor(u"secure"_s, m_handler.url(u"/secure"_s), u"token"_s)));
    QVERIFY2(m_server->start({u"--handler-key"_s, QString::fromLatin1(kHandlerKey)}),
             qPrintable(m_server->lastError()));
    m_api = m_server->client();
    m_room = uniqueName(u"eproom"_s);
    QString why;
    QVERIFY2(joinMember(m_room, u"hu"_s, u"hs"_s, &why), qPrintable(why));
}

void TestEndpoints::cleanupTestCase()
{
    stopDaemon();
}

HandlerReply TestEndpoints::respond(const HandlerRequest &r)
{
    if (r.path == "/flaky")
        return respondFlaky(r);
    if (r.path == "/answers" && r.message() == u"go"_s) {
        const QJsonArray emits{
                QJsonObject{{u"room"_s, m_room}, {u"event"_s, u"h1"_s}, {u"data"_s, 1}},
                QJsonObject{{u"user"_s, u"hu"_s}, {u"event"_s, u"h2"_s}, {u"data"_s, u"two"_s}},
                QJsonObject{{u"all"_s, true},
                            {u"event"_s, u"h3"_s},
                            {u"data"_s, QJsonObject{{u"n"_s, 3}}}}};
        const QJsonObject answer{{u"send"_s, QJsonArray{u"one"_s, u"two"_s}},
                                 {u"emit"_s, emits},
                                 {u"close"_s, 4000}};
        return {200, QJsonDocument(answer).toJson(QJsonDocument::Compact), 0};
    }
    if (r.path == "/secure" && r.kind() == u"onmessage"_s)
        return {200, sendAnswer({u"echo:"_s % r.message()}), 0};
    return {};
}

HandlerReply TestEndpoints::respondFlaky(const HandlerRequest &r)
{
    const QString message = r.message();
    const int attempt = ++m_attempts[message];
    if (message == u"m1"_s)
        return attempt <= 2 ? HandlerReply{500, {}, 0}
                            : HandlerReply{200, sendAnswer({u"ok-m1"_s}), 0};
    if (message == u"m2"_s)
        return {500, "{\"send\":[\"never\"]}", 0};
    if (message == u"m3"_s)
        return {200, sendAnswer({u"ok-m3"_s}), 0};
    return {};
}

QList<QJsonObject> TestEndpoints::eventsOf(const QByteArray &path, const QString &session) const
{
    QList<QJsonObject> out;
    for (const QJsonObject &o : m_handler.events(path)) {
        if (o.value(u"session"_s).toString() == session)
            out.append(o);
    }
    return out;
}

bool TestEndpoints::waitForEvents(const QByteArray &path, const QString &session, int n) const
{
    return waitUntil([&] { return eventsOf(path, session).size() >= n; }, 5000);
}

void TestEndpoints::handlerGetsTheContractsEvents_data()
{
    QTest::addColumn<QString>("path");
    QTest::newRow("platform path") << u"/websockets/v4/service/plain"_s;
    QTest::newRow("short path") << u"/websockets/plain"_s;
}

void TestEndpoints::handlerGetsTheContractsEvents()
{
    QFETCH(QString, path);
    QString why;
    std::unique_ptr<WsClient> session = openSession(*m_server, path, &why);
    QVERIFY2(session, qPrintable(why));
    const QString id = sessionIdOf(*m_api, *session);
    QVERIFY2(!id.isEmpty(), "the session is not in GET /api/connections");
    const QStringList texts{u"one"_s, u"two \"quoted\" \u00fc\u20ac"_s, u"{\"not\":\"parsed\"}"_s};
    for (const QString &t : texts)
        session->sendText(t);
    QVERIFY(waitForEvents("/plain", id, 4));
    session->close();
    QVERIFY(waitForEvents("/plain", id, 5));
    spin(100); // nothing after the close
    const QList<QJsonObject> got = eventsOf("/plain", id);
    const QList<QJsonObject> want{
            handlerEvent(u"onopen"_s, u"plain"_s, id),
            handlerEvent(u"onmessage"_s, u"plain"_s, id, QJsonValue::Null, texts[0]),
            handlerEvent(u"onmessage"_s, u"plain"_s, id, QJsonValue::Null, texts[1]),
            handlerEvent(u"onmessage"_s, u"plain"_s, id, QJsonValue::Null, texts[2]),
            handlerEvent(u"onclose"_s, u"plain"_s, id)};
    QCOMPARE(got.size(), want.size());
    for (qsizetype i = 0; i < want.size(); ++i)
        QVERIFY2(got[i] == want[i], qPrintable(compact(got[i]) % u" != "_s % compact(want[i])));
    for (const HandlerRequest &r : m_handler.requests("/plain")) {
        if (r.session() != id)
            continue;
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(r.headerCount("X-Switchboard-Key"), 1);
        QCOMPARE(r.header("X-Switchboard-Key"), kHandlerKey);
    }
}

void TestEndpoints::noKeyHeaderWithoutHandlerKey()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY(writeDescriptor(endpointsDir(*m_extra), u"plain.websocket"_s,
                            descriptor(u"plain"_s, m_handler.url(u"/nokey"_s))));
    QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
    QString why;
    std::unique_ptr<WsClient> session = openSession(*m_extra, u"/websockets/plain"_s, &why);
    QVERIFY2(session, qPrintable(why));
    session->sendText(u"x"_s);
    QVERIFY(m_handler.waitForCount(2, "/nokey"));
    for (const HandlerRequest &r : m_handler.requests("/nokey")) {
        QCOMPARE(r.headerCount("X-Switchboard-Key"), 0);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    }
}

void TestEndpoints::answerIsAppliedInOrder()
{
    QString why;
    std::unique_ptr<WsClient> session = openSession(*m_server, u"/websockets/answers"_s, &why);
    QVERIFY2(session, qPrintable(why));
    session->sendText(u"go"_s);
    QVERIFY(session->waitForDisconnected(5000));
    QCOMPARE(session->closeCode(), 4000);
    // The sends came before the close, and nothing else (no event frame of the "all" emit).
    QStringList texts;
    for (const WsFrame &f : session->frames())
        texts.append(f.text);
    QCOMPARE(texts, (QStringList{u"one"_s, u"two"_s}));
    QStringList events;
    for (int i = 0; i < 3; ++i)
        events.append(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString());
    QCOMPARE(events, (QStringList{u"h1"_s, u"h2"_s, u"h3"_s}));
    for (const QString &event : std::as_const(events)) {
        const QJsonArray records = logRecordsOf(*m_api, event);
        QCOMPARE(records.size(), 1);
        QCOMPARE(records[0].toObject().value(u"source"_s).toString(), u"handler"_s);
    }
}

void TestEndpoints::failingHandlerIsRetriedThenDropped()
{
    QString why;
    std::unique_ptr<WsClient> session = openSession(*m_server, u"/websockets/flaky"_s, &why);
    QVERIFY2(session, qPrintable(why));
    session->sendText(u"m1"_s);
    QCOMPARE(nextTexts(*session, 1, 5000), QStringList{u"ok-m1"_s});
    QCOMPARE(m_attempts.value(u"m1"_s), 3);
    session->sendText(u"m2"_s); // always 500: 4 calls, then dropped
    session->sendText(u"m3"_s); // still handled after it
    QCOMPARE(nextTexts(*session, 1, 8000), QStringList{u"ok-m3"_s});
    QCOMPARE(m_attempts.value(u"m2"_s), 4);
    QList<qint64> at;
    for (const HandlerRequest &r : m_handler.requests("/flaky")) {
        if (r.message() == u"m2"_s)
            at.append(r.receivedMs);
    }
    QCOMPARE(at.size(), 4);
    QVERIFY2(at[1] - at[0] >= 150 && at[2] - at[1] >= at[1] - at[0]
                     && at[3] - at[2] >= at[2] - at[1],
             "the retries do not back off");
    QVERIFY(session->isConnected());
    const QJsonObject entry = entryOf(*m_api, u"flaky"_s);
    QCOMPARE(entry.value(u"failures"_s).toInteger(), 1);
    QVERIFY2(entry.value(u"last_error"_s).toString().contains(u"500"_s),
             qPrintable(compact(entry)));
    spin(300);
    QCOMPARE(m_attempts.value(u"m2"_s), 4);
}

QTEST_GUILESS_MAIN(TestEndpoints)
