// Endpoint sessions as connections (docs/API.md, "Endpoints", Sessions): token auth at the
// upgrade, /api/connections and its send and DELETE, /metrics, and bad input on a session.

#include "tst_endpoints.h"

#include "ApiHelpers.h"
#include "EndpointHelpers.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QTest>

using namespace Qt::StringLiterals;

void TestEndpoints::tokenAuthAndUnknownNames()
{
    QCOMPARE(upgradeStatus(*m_server, "/websockets/secure"), 401);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/secure?token=garbage"), 401);
    const QByteArray otherSecret = Jwt::mint("not-the-secret",
                                             {{u"room"_s, u"r"_s},
                                              {u"sub"_s, u"mallory"_s},
                                              {u"session"_s, u"s"_s},
                                              {u"exp"_s, nowSecs() + 600}});
    QCOMPARE(upgradeStatus(*m_server, "/websockets/v4/service/secure?token=" + otherSecret), 401);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/nope"), 404);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/v4/service/nope"), 404);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/v4/service/plain"), 101);
    QVERIFY(m_handler.requests("/secure").isEmpty());

    const QByteArray token = registerToken(*m_api, u"any-room"_s, u"alice"_s, u"s1"_s);
    QVERIFY(!token.isEmpty());
    QJsonObject claims = Jwt::claims(token);
    claims.insert(u"iat"_s, nowSecs() - 120);
    claims.insert(u"exp"_s, nowSecs() - 60);
    const QByteArray expired = Jwt::mint(m_server->jwtSecret(), claims);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/secure?token=" + expired), 401);
    const QByteArray revoked = registerToken(*m_api, u"any-room"_s, u"bob"_s, u"s2"_s);
    QCOMPARE(m_api->postJson("/api/unregister",
                             {{u"room"_s, u"any-room"_s},
                              {u"user"_s, u"bob"_s},
                              {u"session"_s, u"s2"_s}})
                     .status,
             200);
    QCOMPARE(upgradeStatus(*m_server, "/websockets/secure?token=" + revoked), 401);
    QString why;
    std::unique_ptr<WsClient> session = openSession(
            *m_server, u"/websockets/v4/service/secure?token="_s % QString::fromLatin1(token),
            &why);
    QVERIFY2(session, qPrintable(why));
    const QString id = sessionIdOf(*m_api, *session);
    session->sendText(u"hi"_s);
    QCOMPARE(nextTexts(*session, 1), QStringList{u"echo:hi"_s});
    const QList<QJsonObject> got = eventsOf("/secure", id);
    QCOMPARE(got.size(), 2);
    QCOMPARE(got[0], handlerEvent(u"onopen"_s, u"secure"_s, id, u"alice"_s));
    QCOMPARE(got[1], handlerEvent(u"onmessage"_s, u"secure"_s, id, u"alice"_s, u"hi"_s));
}

void TestEndpoints::sessionsAreConnections()
{
    QString why;
    std::unique_ptr<WsClient> session = openSession(*m_server, u"/websockets/admin"_s, &why);
    QVERIFY2(session, qPrintable(why));
    const QString id = sessionIdOf(*m_api, *session);
    QVERIFY(!id.isEmpty());
    QVERIFY(waitForEvents("/admin", id, 1));
    const HttpResponse one = m_api->get("/api/connections/" + id.toUtf8());
    QCOMPARE(one.status, 200);
    QCOMPARE(one.object().value(u"endpoint"_s).toString(), u"admin"_s);
    QCOMPARE(one.object().value(u"rooms"_s).toArray(), QJsonArray());
    QCOMPARE(one.object().value(u"connection"_s).toString(), id);

    const HttpResponse sent =
            m_api->postJson("/api/connections/" + id.toUtf8() + "/send", {{u"text"_s, u"hello"_s}});
    QCOMPARE(sent.status, 200);
    QCOMPARE(nextTexts(*session, 1), QStringList{u"hello"_s});
    QCOMPARE(metricValue(*m_api, R"(switchboard_endpoint_sessions{endpoint="admin"})"), 1.0);
    // Counted once the handler's answer is in: a little after the handler saw the request.
    QTRY_VERIFY_WITH_TIMEOUT(
            metricValue(*m_api, R"(switchboard_handler_calls_total{endpoint="admin"})") >= 1.0,
            3000);
    QCOMPARE(entryOf(*m_api, u"admin"_s).value(u"sessions"_s).toInteger(), 1);

    QCOMPARE(m_api->del("/api/connections/" + id.toUtf8()).status, 200);
    QVERIFY(session->waitForDisconnected(3000));
    QCOMPARE(session->closeCode(), 4000);
    QVERIFY(waitForEvents("/admin", id, 2));
    QCOMPARE(eventsOf("/admin", id).last(), handlerEvent(u"onclose"_s, u"admin"_s, id));
    QTRY_COMPARE_WITH_TIMEOUT(
            metricValue(*m_api, R"(switchboard_endpoint_sessions{endpoint="admin"})"), 0.0, 3000);
    QTRY_COMPARE_WITH_TIMEOUT(
            metricValue(*m_api, R"(switchboard_handler_calls_total{endpoint="admin"})"), 2.0, 3000);
    QCOMPARE(m_api->get("/api/connections/" + id.toUtf8()).status, 404);
}

void TestEndpoints::binaryIsAnErrorEventAndTheSessionStays()
{
    QString why;
    std::unique_ptr<WsClient> session = openSession(*m_server, u"/websockets/plain"_s, &why);
    QVERIFY2(session, qPrintable(why));
    const QString id = sessionIdOf(*m_api, *session);
    session->sendBinary(QByteArray("\x00\x01\xff", 3));
    session->sendText(u"after"_s);
    QVERIFY(waitForEvents("/plain", id, 3));
    const QList<QJsonObject> got = eventsOf("/plain", id);
    QCOMPARE(got[0], handlerEvent(u"onopen"_s, u"plain"_s, id));
    QCOMPARE(got[1].value(u"method"_s).toString(), u"onerror"_s);
    QCOMPARE(got[1].value(u"message"_s), QJsonValue(QJsonValue::Null));
    QVERIFY(!got[1].value(u"error"_s).toString().isEmpty());
    QCOMPARE(got[1].value(u"session"_s).toString(), id);
    QCOMPARE(got[2], handlerEvent(u"onmessage"_s, u"plain"_s, id, QJsonValue::Null, u"after"_s));
    QVERIFY(session->isConnected());
    QVERIFY(!sessionIdOf(*m_api, *session).isEmpty());
}

void TestEndpoints::oversizedMessageIsClosedWith1009()
{
    QString why;
    std::unique_ptr<WsClient> big = openSession(*m_server, u"/websockets/plain"_s, &why);
    QVERIFY2(big, qPrintable(why));
    std::unique_ptr<WsClient> other = openSession(*m_server, u"/websockets/plain"_s, &why);
    QVERIFY2(other, qPrintable(why));
    const QString id = sessionIdOf(*m_api, *big);
    big->sendText(QString(10 * 1024 * 1024, u'x'));
    QVERIFY(big->waitForDisconnected(10000));
    QCOMPARE(big->closeCode(), 1009);
    QVERIFY(waitForEvents("/plain", id, 2));
    for (const QJsonObject &e : eventsOf("/plain", id))
        QVERIFY2(e.value(u"method"_s).toString() != u"onmessage"_s, "the big message was handled");
    QVERIFY2(daemonHealthy(&why), qPrintable(why));
    const QString otherId = sessionIdOf(*m_api, *other);
    other->sendText(u"still here"_s);
    QVERIFY(waitUntil(
            [&] {
                return eventsOf("/plain", otherId).last().value(u"message"_s) == u"still here"_s;
            },
            5000));
}
