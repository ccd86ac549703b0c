// The drop-in compatibility routes (docs/API.md, "Drop-in compatibility routes"): /api/broadcast,
// POST /, /socket, /socket/room, /socket/user, and their key rule (key, trusted_networks,
// --insecure).

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "TestSupport.h"

#include <QJsonDocument>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestCompat : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void broadcast_roomEventAndLegacyText();
    void broadcast_missingChannel();
    void broadcast_missingEventName_data();
    void broadcast_missingEventName();
    void postRoot_json();
    void postRoot_plainText_data();
    void postRoot_plainText();
    void postRoot_noLegacyClients();
    void socket_register();
    void socket_registerWithoutUsername();
    void socketRoom_emits();
    void socketUser_emits();
    void withoutKey_401_data();
    void withoutKey_401();
    void trustedNetworks_allowWithoutKey();
    void insecure_allowsWithoutKey();

private:
    std::unique_ptr<WsClient> legacyClient();
};

void TestCompat::initTestCase()
{
    QString why;
    QVERIFY2(startDaemon({}, &why), qPrintable(why));
}

void TestCompat::cleanupTestCase()
{
    stopDaemon();
}

void TestCompat::cleanup()
{
    endCase();
    // let closed legacy clients of this case disappear before the next counts them
    QVERIFY(waitUntil([&] { return legacyPush(*m_api, "{}") == u"Send to 0 clients"; }, 3000));
    // and the /ws clients of this case too: the next case compares connection counts (a
    // close can reach a slow server, e.g. under ASan, after the case has ended)
    QVERIFY(waitUntil([&] { return stats(*m_api).value(u"connections"_s).toInt(-1) == 0; }, 10000));
}

std::unique_ptr<WsClient> TestCompat::legacyClient()
{
    auto c = std::make_unique<WsClient>();
    if (!c->open(m_server->wsUrl(u"/"_s)))
        return nullptr;
    return c;
}

void TestCompat::broadcast_roomEventAndLegacyText()
{
    const QString room = uniqueName(u"channel"_s);
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    auto legacy = legacyClient();
    QVERIFY(legacy);

    const QByteArray body = R"({"channel":")" + room.toUtf8()
            + R"(","eventName":"RefreshEmployees","payload":{"dept":10,"f":1.0}})";
    const HttpResponse r = m_api->post("/api/broadcast", body, "application/json");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object(), (QJsonObject{{u"ok"_s, true}}));

    WsFrame ev;
    QVERIFY(member->waitForFrame(u"event"_s, &ev));
    QCOMPARE(ev.object.value(u"event"_s).toString(), u"RefreshEmployees"_s);
    QCOMPARE(ev.object.value(u"room"_s).toString(), room);
    QCOMPARE(rawJsonValue(ev.text.toUtf8(), "data"), QByteArray(R"({"dept":10,"f":1.0})"));
    QVERIFY(ev.object.value(u"id"_s).toDouble() >= 1);

    WsFrame text;
    QVERIFY(legacy->waitForAny(&text));
    QVERIFY2(text.isObject, qPrintable(text.text));
    QCOMPARE(text.object.keys().size(), 3);
    QCOMPARE(text.object.value(u"channel"_s).toString(), room);
    QCOMPARE(text.object.value(u"eventName"_s).toString(), u"RefreshEmployees"_s);
    QCOMPARE(rawJsonValue(text.text.toUtf8(), "payload"), QByteArray(R"({"dept":10,"f":1.0})"));
    QVERIFY(legacy->noFrameWithin(100));
    QCOMPARE(member->count(), 0);

    // form-encoded, as the seed callers may send it
    const HttpResponse f = m_api->post(
            "/api/broadcast",
            "channel=" + QUrl::toPercentEncoding(room)
                    + "&eventName=websocket%3A%3Arefresh&payload=%7B%22region%22%3A%22emp%22%7D",
            "application/x-www-form-urlencoded");
    QVERIFY2(f.status == 200, qPrintable(f.describe()));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"data"_s),
             QJsonValue(QJsonObject{{u"region"_s, u"emp"_s}}));
    QVERIFY(legacy->waitForAny(&text));
    QCOMPARE(text.object.value(u"eventName"_s).toString(), u"websocket::refresh"_s);
}

void TestCompat::broadcast_missingChannel()
{
    auto legacy = legacyClient();
    QVERIFY(legacy);
    const QJsonObject before = stableStats(stats(*m_api));
    for (const QJsonObject &body : {QJsonObject{{u"eventName"_s, u"E"_s}, {u"payload"_s, 1}},
                                    QJsonObject{{u"channel"_s, u""_s}, {u"eventName"_s, u"E"_s}}}) {
        const HttpResponse r = m_api->postJson("/api/broadcast", body);
        QVERIFY2(r.status == 400, qPrintable(r.describe()));
        QCOMPARE(r.object(),
                 (QJsonObject{{u"ok"_s, false}, {u"message"_s, u"channel is required"_s}}));
    }
    QCOMPARE(stableStats(stats(*m_api)), before);
    QVERIFY(legacy->noFrameWithin(150));
}

void TestCompat::broadcast_missingEventName_data()
{
    QTest::addColumn<QJsonObject>("body");
    QTest::newRow("missing") << QJsonObject{{u"channel"_s, u"c"_s}, {u"payload"_s, 1}};
    QTest::newRow("empty") << QJsonObject{
            {u"channel"_s, u"c"_s}, {u"eventName"_s, u""_s}, {u"payload"_s, 1}};
}

void TestCompat::broadcast_missingEventName()
{
    QFETCH(QJsonObject, body);
    auto legacy = legacyClient();
    QVERIFY(legacy);
    const QJsonObject before = stableStats(stats(*m_api));
    const HttpResponse r = m_api->postJson("/api/broadcast", body);
    QVERIFY2(r.status == 400, qPrintable(r.describe()));
    QCOMPARE(r.object(),
             (QJsonObject{{u"ok"_s, false}, {u"message"_s, u"eventName is required"_s}}));
    QCOMPARE(stableStats(stats(*m_api)), before);
    QVERIFY(legacy->noFrameWithin(150));
}

void TestCompat::postRoot_json()
{
    auto l1 = legacyClient();
    auto l2 = legacyClient();
    QVERIFY(l1 && l2);
    QString why;
    auto member = openJoined(*m_server, *m_api, uniqueName(u"r"_s), u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));

    const QByteArray body = R"({"type":"refresh","big":123456789012345678901234567890,"f":1.0})";
    const HttpResponse r = m_api->post("/", body, "application/json");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object(), (QJsonObject{{u"message"_s, u"Send to 2 clients"_s}}));
    for (WsClient *l : {l1.get(), l2.get()}) {
        WsFrame f;
        QVERIFY(l->waitForAny(&f));
        QCOMPARE(minifyJson(f.text.toUtf8()), body);
    }
    QVERIFY(member->noFrameWithin(150));

    // no Content-Type, JSON body: pushed as is (never form-decoded)
    const HttpResponse r2 = m_api->post("/", R"({"a":"x+y%20z"})", QByteArray());
    QVERIFY2(r2.status == 200, qPrintable(r2.describe()));
    WsFrame f;
    QVERIFY(l1->waitForAny(&f));
    QCOMPARE(f.object.value(u"a"_s).toString(), u"x+y%20z"_s);
}

void TestCompat::postRoot_plainText_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("text/plain") << QByteArray("text/plain") << QByteArray("hello world");
    QTest::newRow("no content type") << QByteArray() << QByteArray("plain message");
    QTest::newRow("form-looking text is not decoded")
            << QByteArray("application/x-www-form-urlencoded") << QByteArray("a=b+c&d=%41");
    QTest::newRow("text with quotes")
            << QByteArray("text/plain; charset=utf-8") << QByteArray("say \"hi\" \xC3\xA9");
}

void TestCompat::postRoot_plainText()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    auto l1 = legacyClient();
    QVERIFY(l1);
    const HttpResponse r = m_api->post("/", body, contentType);
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    WsFrame f;
    QVERIFY(l1->waitForAny(&f));
    QVERIFY2(f.isObject, qPrintable(f.text));
    QCOMPARE(f.object, (QJsonObject{{u"message"_s, QString::fromUtf8(body)}}));
}

void TestCompat::postRoot_noLegacyClients()
{
    QString why;
    auto member = openJoined(*m_server, *m_api, uniqueName(u"r"_s), u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    const HttpResponse r = m_api->post("/", R"({"x":1})", "application/json");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 0 clients"_s);
    QVERIFY(member->noFrameWithin(150));
}

void TestCompat::socket_register()
{
    const QString room = uniqueName(u"hr:emp"_s);
    const HttpResponse r = m_api->postJson(
            "/socket",
            {{u"room"_s, room}, {u"username"_s, u"SCOTT"_s}, {u"sessionId"_s, u"777"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    const QByteArray token = r.object().value(u"token"_s).toString().toLatin1();
    QVERIFY(!token.isEmpty());
    const QJsonObject claims = Jwt::claims(token);
    QCOMPARE(claims.value(u"sub"_s).toString(), u"SCOTT"_s);
    QCOMPARE(claims.value(u"sid"_s).toString(), u"777"_s);
    QCOMPARE(claims.value(u"room"_s).toString(), room);
    QVERIFY(Jwt::verifyHs256(token, m_server->jwtSecret()));

    WsClient c;
    QVERIFY(c.open(m_server->wsUrl(u"/ws"_s)));
    QCOMPARE(c.join(token).value(u"type"_s).toString(), u"joined"_s);
}

void TestCompat::socket_registerWithoutUsername()
{
    const QString room = uniqueName(u"r"_s);
    const HttpResponse r =
            m_api->postJson("/socket", {{u"room"_s, room}, {u"sessionId"_s, u"SESSION42"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    const QJsonObject claims = Jwt::claims(r.object().value(u"token"_s).toString().toLatin1());
    QCOMPARE(claims.value(u"sub"_s).toString(), u"SESSION42"_s);
    QCOMPARE(claims.value(u"sid"_s).toString(), u"SESSION42"_s);
}

void TestCompat::socketRoom_emits()
{
    const QString room = uniqueName(u"r"_s);
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    const int in0 = stats(*m_api).value(u"messages_in_total"_s).toInt();
    const HttpResponse r = m_api->putJson("/socket/room",
                                          {{u"room"_s, room},
                                           {u"event"_s, u"websocket::message"_s},
                                           {u"data"_s, QJsonObject{{u"text"_s, u"hi"_s}}}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object(), (QJsonObject{{u"result"_s, true}}));
    const QJsonObject ev = member->waitForFrame(u"event"_s);
    QCOMPARE(ev.value(u"event"_s).toString(), u"websocket::message"_s);
    QCOMPARE(ev.value(u"room"_s).toString(), room);
    QCOMPARE(ev.value(u"data"_s), QJsonValue(QJsonObject{{u"text"_s, u"hi"_s}}));
    QVERIFY(waitUntil(
            [&] { return stats(*m_api).value(u"messages_in_total"_s).toInt() == in0 + 1; }, 3000));

    // a missing field uses the REST error shape
    const HttpResponse bad = m_api->putJson("/socket/room", {{u"event"_s, u"e"_s}});
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.errorCode(), u"bad_request"_s);
    QVERIFY(bad.errorMessage().contains(u"room"_s));
}

void TestCompat::socketUser_emits()
{
    const QString user = uniqueName(u"USER"_s);
    QString why;
    auto a = openJoined(*m_server, *m_api, uniqueName(u"r1"_s), user, u"S1"_s, false, &why);
    auto b = openJoined(*m_server, *m_api, uniqueName(u"r2"_s), user, u"S2"_s, false, &why);
    auto other =
            openJoined(*m_server, *m_api, uniqueName(u"r3"_s), u"OTHER"_s, u"S3"_s, false, &why);
    QVERIFY2(a && b && other, qPrintable(why));
    const HttpResponse r = m_api->putJson("/socket/user",
                                          {{u"username"_s, user},
                                           {u"event"_s, u"websocket::refresh"_s},
                                           {u"data"_s, QJsonObject{{u"region"_s, u"R1"_s}}}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object(), (QJsonObject{{u"result"_s, true}}));
    for (WsClient *c : {a.get(), b.get()}) {
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QCOMPARE(ev.value(u"event"_s).toString(), u"websocket::refresh"_s);
        QVERIFY(!ev.contains(u"room"_s));
    }
    QVERIFY(other->noFrameWithin(150));

    const HttpResponse bad = m_api->putJson("/socket/user", {{u"event"_s, u"e"_s}});
    QCOMPARE(bad.status, 400);
    QVERIFY(bad.errorMessage().contains(u"username"_s));
}

void TestCompat::withoutKey_401_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("POST /api/broadcast")
            << QByteArray("POST") << QByteArray("/api/broadcast")
            << QByteArray(R"({"channel":"c","eventName":"e","payload":1})");
    QTest::newRow("POST /") << QByteArray("POST") << QByteArray("/") << QByteArray(R"({"x":1})");
    QTest::newRow("POST /socket") << QByteArray("POST") << QByteArray("/socket")
                                  << QByteArray(R"({"room":"r","username":"u","sessionId":"s"})");
    QTest::newRow("PUT /socket/room") << QByteArray("PUT") << QByteArray("/socket/room")
                                      << QByteArray(R"({"room":"r","event":"e","data":1})");
    QTest::newRow("PUT /socket/user") << QByteArray("PUT") << QByteArray("/socket/user")
                                      << QByteArray(R"({"username":"u","event":"e","data":1})");
}

void TestCompat::withoutKey_401()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    auto legacy = legacyClient();
    QVERIFY(legacy);
    const QJsonObject before = stableStats(stats(*m_api));
    auto anon = m_server->client(false);
    HttpResponse r = anon->request(method, path, body, {{"Content-Type", "application/json"}});
    QVERIFY2(r.status == 401, qPrintable(r.describe()));
    if (path.startsWith("/socket"))
        QCOMPARE(r.errorCode(), u"unauthorized"_s);
    r = anon->request(method, path, body,
                      {{"Content-Type", "application/json"}, {"X-API-Key", "wrong"}});
    QVERIFY2(r.status == 401, qPrintable(r.describe()));
    QCOMPARE(stableStats(stats(*m_api)), before);
    QVERIFY(legacy->noFrameWithin(100));
}

void TestCompat::trustedNetworks_allowWithoutKey()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start({u"--trusted-networks"_s, u"10.0.0.0/8,127.0.0.0/8"_s}),
             qPrintable(m_extra->lastError()));
    auto anon = m_extra->client(false);
    auto legacy = std::make_unique<WsClient>();
    QVERIFY(legacy->open(m_extra->wsUrl(u"/"_s)));

    HttpResponse r = anon->postJson(
            "/socket", {{u"room"_s, u"r"_s}, {u"username"_s, u"u"_s}, {u"sessionId"_s, u"s"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    const QByteArray token = r.object().value(u"token"_s).toString().toLatin1();
    WsClient member;
    QVERIFY(member.open(m_extra->wsUrl(u"/ws"_s)));
    QCOMPARE(member.join(token).value(u"type"_s).toString(), u"joined"_s);

    r = anon->putJson("/socket/room", {{u"room"_s, u"r"_s}, {u"event"_s, u"e1"_s}, {u"data"_s, 1}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(member.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"e1"_s);
    r = anon->putJson("/socket/user",
                      {{u"username"_s, u"u"_s}, {u"event"_s, u"e2"_s}, {u"data"_s, 2}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(member.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"e2"_s);
    r = anon->postJson("/api/broadcast",
                       {{u"channel"_s, u"r"_s}, {u"eventName"_s, u"e3"_s}, {u"payload"_s, 3}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(member.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"e3"_s);
    WsFrame f;
    QVERIFY(legacy->waitForAny(&f));
    r = anon->post("/", "hello", "text/plain");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    QVERIFY(legacy->waitForAny(&f));
    QCOMPARE(f.object.value(u"message"_s).toString(), u"hello"_s);

    // A list that does not contain the caller does not let it in.
    auto other = std::make_unique<ServerProcess>();
    QVERIFY2(other->start({u"--trusted-networks"_s, u"10.0.0.0/8"_s}),
             qPrintable(other->lastError()));
    r = other->client(false)->postJson(
            "/socket", {{u"room"_s, u"r"_s}, {u"username"_s, u"u"_s}, {u"sessionId"_s, u"s"_s}});
    QCOMPARE(r.status, 401);
}

void TestCompat::insecure_allowsWithoutKey()
{
    m_extra = std::make_unique<ServerProcess>();
    ServerProcess::Options o;
    o.defaultSecrets = false;
    m_extra->setOptions(o);
    QVERIFY2(m_extra->start({u"--insecure"_s, u"--jwt-secret"_s,
                             QString::fromLatin1(m_extra->jwtSecret())}),
             qPrintable(m_extra->lastError()));
    auto anon = m_extra->client(false);
    HttpResponse r = anon->postJson(
            "/socket", {{u"room"_s, u"r"_s}, {u"username"_s, u"u"_s}, {u"sessionId"_s, u"s"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    WsClient member;
    QVERIFY(member.open(m_extra->wsUrl(u"/ws"_s)));
    QCOMPARE(member.join(r.object().value(u"token"_s).toString().toLatin1())
                     .value(u"type"_s)
                     .toString(),
             u"joined"_s);
    r = anon->putJson("/socket/room", {{u"room"_s, u"r"_s}, {u"event"_s, u"e"_s}, {u"data"_s, 1}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QVERIFY(!member.waitForFrame(u"event"_s).isEmpty());
    r = anon->postJson("/api/broadcast",
                       {{u"channel"_s, u"r"_s}, {u"eventName"_s, u"b"_s}, {u"payload"_s, 1}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    r = anon->post("/", "x", "text/plain");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    r = anon->postJson("/api/emit/room", {{u"room"_s, u"r"_s}, {u"event"_s, u"rest"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
}

QTEST_MAIN(TestCompat)
#include "tst_compat.moc"
