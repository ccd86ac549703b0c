// Bad input, one data row each: the answer's status and error code, a message naming the
// field, and then proof that nothing changed (stats counters, no event delivered to a joined
// client) and that the server is still healthy.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "TestSupport.h"

#include <QJsonDocument>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestBadInput : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();
    void badRequest_data();
    void badRequest();

private:
    QString m_connection;
};

void TestBadInput::initTestCase()
{
    QString why;
    QVERIFY2(startDaemon({}, &why), qPrintable(why));
    QVERIFY2(joinMember(u"bad:room"_s, u"baduser"_s, u"badsession"_s, &why), qPrintable(why));
    m_connection = connectionIdForPort(*m_api, m_member->localPort());
    QVERIFY(!m_connection.isEmpty());
}

void TestBadInput::cleanupTestCase()
{
    stopDaemon();
}

void TestBadInput::cleanup()
{
    // whatever a failed row delivered must not leak into the next one
    endCase();
}

void TestBadInput::badRequest_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QStringList>("codes"); // any of these
    QTest::addColumn<QString>("field");     // the message must contain it (empty: not checked)

    const QByteArray json = "application/json";
    const QByteArray form = "application/x-www-form-urlencoded";
    const QStringList badRequest{u"bad_request"_s};
    const QStringList badJson{u"bad_request"_s, u"invalid_json"_s};
    const QStringList invalidJson{u"invalid_json"_s};
    auto row = [&](const char *name, const char *path, const QByteArray &ct, const QByteArray &body,
                   int status, const QStringList &codes, const QString &field,
                   const char *method = "POST") {
        QTest::newRow(name) << QByteArray(method) << QByteArray(path) << ct << body << status
                            << codes << field;
    };
    const QByteArray longRoom = R"({"room":")" + QByteArray(4001, 'r') + R"(","event":"e"})";
    const QByteArray longEvent = R"({"room":"bad:room","event":")" + QByteArray(131, 'e') + R"("})";
    const QByteArray longUser = R"({"user":")" + QByteArray(256, 'u') + R"(","event":"e"})";
    const QByteArray longSession =
            R"({"room":"bad:room","user":"baduser","session":")" + QByteArray(256, 's') + R"("})";

    // wrong types
    row("room is a number", "/api/emit/room", json, R"({"room":5,"event":"e"})", 400, badRequest,
        u"room"_s);
    row("room is null", "/api/emit/room", json, R"({"room":null,"event":"e"})", 400, badRequest,
        u"room"_s);
    row("room is an array", "/api/emit/room", json, R"({"room":["bad:room"],"event":"e"})", 400,
        badRequest, u"room"_s);
    row("event is a number", "/api/emit/room", json, R"({"room":"bad:room","event":1})", 400,
        badRequest, u"event"_s);
    row("event is an object", "/api/emit/all", json, R"({"event":{"a":1}})", 400, badRequest,
        u"event"_s);
    row("user is a boolean", "/api/emit/user", json, R"({"user":true,"event":"e"})", 400,
        badRequest, u"user"_s);
    row("connection is a number", "/api/emit/connection", json, R"({"connection":1,"event":"e"})",
        400, badRequest, u"connection"_s);
    row("form data is invalid JSON", "/api/emit/room", form,
        "room=bad:room&event=e&data=%7Bnot+json", 400, badJson, u"data"_s);
    row("form data is bare text", "/api/emit/room", form, "room=bad:room&event=e&data=hello", 400,
        badJson, u"data"_s);
    row("ttl negative", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","ttl":-1})", 400, badRequest,
        u"ttl"_s);
    row("ttl zero", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","ttl":0})", 400, badRequest, u"ttl"_s);
    row("ttl float", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","ttl":1.5})", 400, badRequest,
        u"ttl"_s);
    row("ttl string", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","ttl":"60"})", 400, badRequest,
        u"ttl"_s);
    row("ttl over token_max_ttl", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","ttl":604801})", 400, badRequest,
        u"ttl"_s);
    row("ttl huge", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","ttl":1e300})", 400, badRequest,
        u"ttl"_s);
    row("ttl form not a number", "/api/register", form,
        "room=bad:room&user=baduser&session=s&ttl=abc", 400, badRequest, u"ttl"_s);
    row("publish is a string", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","publish":"yes"})", 400, badRequest,
        u"publish"_s);
    row("publish is a number", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":"s","publish":1})", 400, badRequest,
        u"publish"_s);
    // missing fields
    row("emit/room without room", "/api/emit/room", json, R"({"event":"e","data":1})", 400,
        badRequest, u"room"_s);
    row("emit/room without event", "/api/emit/room", json, R"({"room":"bad:room","data":1})", 400,
        badRequest, u"event"_s);
    row("emit/user without user", "/api/emit/user", json, R"({"event":"e"})", 400, badRequest,
        u"user"_s);
    row("emit/all without event", "/api/emit/all", json, R"({"data":1})", 400, badRequest,
        u"event"_s);
    row("emit/connection without connection", "/api/emit/connection", json, R"({"event":"e"})", 400,
        badRequest, u"connection"_s);
    row("register without room", "/api/register", json, R"({"user":"baduser","session":"s"})", 400,
        badRequest, u"room"_s);
    row("register without user", "/api/register", json, R"({"room":"bad:room","session":"s"})", 400,
        badRequest, u"user"_s);
    row("register without session", "/api/register", json,
        R"({"room":"bad:room","user":"baduser"})", 400, badRequest, u"session"_s);
    row("unregister without session", "/api/unregister", json,
        R"({"room":"bad:room","user":"baduser"})", 400, badRequest, u"session"_s);
    row("unregister room is a number", "/api/unregister", json,
        R"({"room":1,"user":"baduser","session":"badsession"})", 400, badRequest, u"room"_s);
    row("send without text", "/api/connections/{CONN}/send", json, R"({"txt":"x"})", 400,
        badRequest, u"text"_s);
    row("send text is a number", "/api/connections/{CONN}/send", json, R"({"text":5})", 400,
        badRequest, u"text"_s);
    row("form without event", "/api/emit/room", form, "room=bad:room&data=1", 400, badRequest,
        u"event"_s);
    // empty strings
    row("room empty", "/api/emit/room", json, R"({"room":"","event":"e"})", 400, badRequest,
        u"room"_s);
    row("event empty", "/api/emit/room", json, R"({"room":"bad:room","event":""})", 400, badRequest,
        u"event"_s);
    row("user empty", "/api/emit/user", json, R"({"user":"","event":"e"})", 400, badRequest,
        u"user"_s);
    row("session empty", "/api/register", json,
        R"({"room":"bad:room","user":"baduser","session":""})", 400, badRequest, u"session"_s);
    row("form room empty", "/api/emit/room", form, "room=&event=e", 400, badRequest, u"room"_s);
    // overlong names
    row("room 4001 chars", "/api/emit/room", json, longRoom, 400, badRequest, u"room"_s);
    row("event 131 chars", "/api/emit/room", json, longEvent, 400, badRequest, u"event"_s);
    row("user 256 chars", "/api/emit/user", json, longUser, 400, badRequest, u"user"_s);
    row("session 256 chars", "/api/register", json, longSession, 400, badRequest, u"session"_s);
    // bodies that are not an object
    row("invalid JSON", "/api/emit/room", json, R"({"room":"bad:room","event":)", 400, invalidJson,
        QString());
    row("trailing garbage", "/api/emit/room", json, R"({"room":"bad:room","event":"e"} x)", 400,
        invalidJson, QString());
    row("single quotes", "/api/emit/room", json, R"({'room':'bad:room','event':'e'})", 400,
        invalidJson, QString());
    row("JSON array body", "/api/emit/room", json, R"([{"room":"bad:room","event":"e"}])", 400,
        badJson, QString());
    row("JSON string body", "/api/emit/room", json, R"("bad:room")", 400, badJson, QString());
    row("JSON null body", "/api/emit/all", json, "null", 400, badJson, QString());
    row("empty JSON body", "/api/emit/room", json, "", 400, badJson, QString());
    row("empty body, no Content-Type", "/api/emit/room", QByteArray(), "", 400, badRequest,
        u"room"_s);
    // encoding
    row("bad percent-encoding", "/api/emit/room", form, "room=%ZZbad&event=e", 400, badRequest,
        u"room"_s);
    row("truncated percent-encoding", "/api/emit/room", form, "room=bad:room&event=e%4", 400,
        badRequest, u"event"_s);
    row("invalid UTF-8 at the end of a field", "/api/emit/room", form, "room=bad:room&event=e%E9",
        400, badJson, QString());
    row("invalid UTF-8 after percent-decoding", "/api/emit/room", form, "room=bad%C3%28&event=e",
        400, badJson, QString());
    row("raw invalid UTF-8", "/api/emit/room", json, "{\"room\":\"bad:room\",\"event\":\"\xFF\"}",
        400, badJson, QString());
    // routes and methods
    row("unknown route", "/api/emit/planet", json, R"({"event":"e"})", 404, {u"not_found"_s},
        QString());
    row("unknown top route", "/api/nothing-here", json, R"({})", 404, {u"not_found"_s}, QString());
    row("send to unknown connection", "/api/connections/no-such-conn/send", json, R"({"text":"x"})",
        404, {u"not_found"_s}, QString());
    row("wrong method GET emit", "/api/emit/room", QByteArray(), QByteArray(), 405,
        {u"method_not_allowed"_s}, QString(), "GET");
    row("wrong method DELETE register", "/api/register", QByteArray(), QByteArray(), 405,
        {u"method_not_allowed"_s}, QString(), "DELETE");
    row("wrong method PATCH emit", "/api/emit/all", json, R"({"event":"e"})", 405,
        {u"method_not_allowed"_s}, QString(), "PATCH");
    // query parameters
    // media types
    row("text/plain", "/api/emit/room", "text/plain", R"({"room":"bad:room","event":"e"})", 415,
        {u"unsupported_media_type"_s}, QString());
    row("unknown charset", "/api/emit/room", "application/json; charset=nope-42",
        R"({"room":"bad:room","event":"e"})", 415, {u"unsupported_media_type"_s}, QString());
    // compatibility routes with the REST error shape
    row("/socket without sessionId", "/socket", json, R"({"room":"bad:room","username":"baduser"})",
        400, badRequest, u"sessionId"_s);
    row("/socket/room without event", "/socket/room", json, R"({"room":"bad:room","data":1})", 400,
        badRequest, u"event"_s, "PUT");
    row("/socket/user without username", "/socket/user", json, R"({"event":"e","data":1})", 400,
        badRequest, u"username"_s, "PUT");
    // authentication
    row("no key on emit", "/api/emit/room?nokey", json, R"({"room":"bad:room","event":"e"})", 401,
        {u"unauthorized"_s}, QString());
}

void TestBadInput::badRequest()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QStringList, codes);
    QFETCH(QString, field);

    Headers headers;
    if (path.endsWith("?nokey")) {
        path.chop(6);
        headers.emplaceBack("X-API-Key", QByteArray()); // suppress the default key
    }
    path.replace("{CONN}", encodeSegment(m_connection));
    if (!contentType.isEmpty())
        headers.emplaceBack("Content-Type", contentType);

    const QJsonObject before = stats(*m_api);
    QVERIFY(!before.isEmpty());
    const HttpResponse r = m_api->request(method, path, body, headers);
    QVERIFY2(r.status == status, qPrintable(r.describe()));
    QVERIFY2(r.header("Content-Type").startsWith("application/json"), qPrintable(r.describe()));
    QVERIFY2(codes.contains(r.errorCode()),
             qPrintable(u"error code not one of "_s % codes.join(u'|') % u": "_s % r.describe()));
    QVERIFY2(!r.errorMessage().isEmpty(), qPrintable(r.describe()));
    if (!field.isEmpty())
        QVERIFY2(r.errorMessage().contains(field),
                 qPrintable(u"message does not name "_s % field % u": "_s % r.errorMessage()));

    // Nothing changed: counters, membership, deliveries.
    const QJsonObject after = stats(*m_api);
    QCOMPARE(stableStats(after), stableStats(before));
    const HttpResponse sentinel = m_api->postJson(
            "/api/emit/room", {{u"room"_s, u"bad:room"_s}, {u"event"_s, u"sentinel"_s}});
    QCOMPARE(sentinel.object().value(u"delivered"_s).toInt(-1), 1); // still a member
    WsFrame f;
    QVERIFY(m_member->waitForAny(&f));
    QVERIFY2(f.object.value(u"event"_s).toString() == u"sentinel",
             qPrintable(u"unexpected frame: "_s % f.text));
    QVERIFY(m_member->isConnected());
    QVERIFY2(m_member->count() == 0, "more frames than expected");

    const HttpResponse health = m_server->client(false)->get("/api/health");
    QCOMPARE(health.status, 200);
    QCOMPARE(health.object().value(u"status"_s).toString(), u"ok"_s);
}

QTEST_MAIN(TestBadInput)
#include "tst_bad_input.moc"
