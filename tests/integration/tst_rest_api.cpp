// The REST calls (docs/API.md, "REST calls"): register/unregister, emits, health, stats,
// connections, rooms, 404/405 and authentication. A fresh daemon per test: counters and connection
// lists start from zero.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

QJsonObject findByKey(const QJsonArray &list, const QString &key, const QString &value)
{
    for (const QJsonValue &v : list) {
        if (v.toObject().value(key).toString() == value)
            return v.toObject();
    }
    return {};
}

} // namespace

class TestRestApi : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void register_tokenIsJwtWithClaims();
    void register_ttlOverridesLifetime();
    void register_publishClaim();
    void unregister_removesRevokesAndNotifies();
    void unregister_tokenOfLaterSecondWorks();
    void emit_targetsAndDeliveredCounts();
    void emit_idsStrictlyIncreasing();
    void health_needsNoKey();
    void stats_fieldsAndCounters();
    void connections_listFilterAndGet();
    void connections_delete();
    void connections_send();
    void rooms_listAndGet();
    void unknownRoute_data();
    void unknownRoute();
    void wrongMethod_data();
    void wrongMethod();
    void auth_data();
    void auth();
    void unregisterManyTriples_fastAndDurable();
};

void TestRestApi::init()
{
    QString why;
    QVERIFY2(startDaemon({}, &why), qPrintable(why));
}

void TestRestApi::cleanup()
{
    endCase();
    stopDaemon();
}

void TestRestApi::register_tokenIsJwtWithClaims()
{
    const qint64 before = nowSecs();
    const HttpResponse r = m_api->postJson(
            "/api/register",
            {{u"room"_s, u"hr:emp:1234"_s}, {u"user"_s, u"SCOTT"_s}, {u"session"_s, u"1234567"_s}});
    const qint64 after = nowSecs();
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    const QJsonObject body = r.object();
    QVERIFY(body.value(u"token"_s).isString());
    QVERIFY2(body.value(u"expires"_s).isDouble(), qPrintable(r.describe()));
    const QByteArray token = body.value(u"token"_s).toString().toLatin1();
    QCOMPARE(token.count('.'), 2);

    const QJsonObject header = Jwt::header(token);
    QCOMPARE(header.value(u"alg"_s).toString(), u"HS256"_s);
    QVERIFY2(Jwt::verifyHs256(token, m_server->jwtSecret()),
             "signature is not HMAC-SHA256 over the secret's UTF-8 bytes");

    const QJsonObject claims = Jwt::claims(token);
    QCOMPARE(claims.value(u"sub"_s).toString(), u"SCOTT"_s);
    QCOMPARE(claims.value(u"room"_s).toString(), u"hr:emp:1234"_s);
    QCOMPARE(claims.value(u"sid"_s).toString(), u"1234567"_s);
    QVERIFY(claims.value(u"iat"_s).isDouble());
    QVERIFY(claims.value(u"exp"_s).isDouble());
    const qint64 iat = qint64(claims.value(u"iat"_s).toDouble());
    const qint64 exp = qint64(claims.value(u"exp"_s).toDouble());
    QVERIFY2(iat >= before && iat <= after + 1,
             qPrintable(u"iat %1 not near now %2"_s.arg(iat).arg(before)));
    QCOMPARE(exp - iat, qint64(86400)); // default lifetime 24 h
    QCOMPARE(qint64(body.value(u"expires"_s).toDouble()), exp);
    QVERIFY2(!claims.value(u"pub"_s).toBool(), "pub must not be set without publish");
}

void TestRestApi::register_ttlOverridesLifetime()
{
    for (const int ttl : {1, 60, 3600, 604800}) {
        const HttpResponse r = m_api->postJson("/api/register",
                                               {{u"room"_s, u"r"_s},
                                                {u"user"_s, u"u"_s},
                                                {u"session"_s, u"s"_s},
                                                {u"ttl"_s, ttl}});
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const QJsonObject claims = Jwt::claims(r.object().value(u"token"_s).toString().toLatin1());
        const qint64 iat = qint64(claims.value(u"iat"_s).toDouble());
        const qint64 exp = qint64(claims.value(u"exp"_s).toDouble());
        QCOMPARE(exp - iat, qint64(ttl));
        QCOMPARE(qint64(r.object().value(u"expires"_s).toDouble()), exp);
    }
}

void TestRestApi::register_publishClaim()
{
    const HttpResponse yes = m_api->postJson("/api/register",
                                             {{u"room"_s, u"r"_s},
                                              {u"user"_s, u"u"_s},
                                              {u"session"_s, u"s"_s},
                                              {u"publish"_s, true}});
    QVERIFY2(yes.status == 200, qPrintable(yes.describe()));
    QCOMPARE(Jwt::claims(yes.object().value(u"token"_s).toString().toLatin1()).value(u"pub"_s),
             QJsonValue(true));

    const HttpResponse no = m_api->postJson("/api/register",
                                            {{u"room"_s, u"r"_s},
                                             {u"user"_s, u"u"_s},
                                             {u"session"_s, u"s"_s},
                                             {u"publish"_s, false}});
    QVERIFY2(no.status == 200, qPrintable(no.describe()));
    QVERIFY(!Jwt::claims(no.object().value(u"token"_s).toString().toLatin1())
                     .value(u"pub"_s)
                     .toBool());
}

void TestRestApi::unregister_removesRevokesAndNotifies()
{
    const QString room = u"hr:emp:1"_s;
    auto a = joined(room, u"SCOTT"_s, u"S1"_s); // the one unregistered
    auto b = joined(room, u"KING"_s, u"S2"_s);  // other user
    auto c = joined(room, u"SCOTT"_s, u"S3"_s); // same user, other session
    QVERIFY(a && b && c);
    const QByteArray oldToken = registerToken(*m_api, room, u"SCOTT"_s, u"S1"_s);
    QVERIFY(!oldToken.isEmpty());

    const qint64 t0 = nowSecs();
    const HttpResponse r =
            m_api->postJson("/api/unregister",
                            {{u"room"_s, room}, {u"user"_s, u"SCOTT"_s}, {u"session"_s, u"S1"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"removed"_s).toInt(-1), 1);

    const QJsonObject left = a->waitForFrame(u"left"_s);
    QVERIFY2(!left.isEmpty(), "the unregistered connection got no left frame");
    QCOMPARE(left,
             (QJsonObject{{u"type"_s, u"left"_s}, {u"room"_s, room}, {u"reason"_s, u"revoked"_s}}));
    QVERIFY(a->isConnected()); // leaves the room, not the server

    const HttpResponse e =
            m_api->postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"after"_s}});
    QVERIFY2(e.status == 200, qPrintable(e.describe()));
    QCOMPARE(e.object().value(u"delivered"_s).toInt(-1), 2);
    QVERIFY(!b->waitForFrame(u"event"_s).isEmpty());
    QVERIFY(!c->waitForFrame(u"event"_s).isEmpty());
    QCOMPARE(b->count(u"left"_s), 0);
    QCOMPARE(c->count(u"left"_s), 0);
    QVERIFY(a->noFrameWithin(100, u"event"_s));

    // A token issued before the unregister is refused, on a new connection and on the old one.
    WsClient fresh;
    QVERIFY(fresh.open(m_server->wsUrl(u"/ws"_s)));
    QJsonObject answer = fresh.join(oldToken);
    QCOMPARE(answer.value(u"type"_s).toString(), u"error"_s);
    QCOMPARE(answer.value(u"code"_s).toString(), u"revoked"_s);
    answer = a->join(oldToken);
    QCOMPARE(answer.value(u"code"_s).toString(), u"revoked"_s);

    // So is one minted by the database with an iat before the unregister's second.
    const QByteArray mintedBefore = Jwt::mint(m_server->jwtSecret(),
                                              {{u"sub"_s, u"SCOTT"_s},
                                               {u"room"_s, room},
                                               {u"sid"_s, u"S1"_s},
                                               {u"iat"_s, t0 - 1},
                                               {u"exp"_s, t0 + 3600}});
    answer = fresh.join(mintedBefore);
    QCOMPARE(answer.value(u"code"_s).toString(), u"revoked"_s);

    // A token registered right after (same second possible: iat + 1) works.
    HttpResponse reg;
    const QByteArray newToken = registerToken(*m_api, room, u"SCOTT"_s, u"S1"_s, {}, &reg);
    QVERIFY2(!newToken.isEmpty(), qPrintable(reg.describe()));
    QVERIFY2(qint64(Jwt::claims(newToken).value(u"iat"_s).toDouble()) >= t0 + 1,
             "a token registered after an unregister must have an iat after the unregister's "
             "second");
    answer = fresh.join(newToken);
    QVERIFY2(answer.value(u"type"_s).toString() == u"joined", qPrintable(compact(answer)));
    QCOMPARE(answer.value(u"room"_s).toString(), room);

    // An unregister that matches nothing removes nothing.
    const HttpResponse none =
            m_api->postJson("/api/unregister",
                            {{u"room"_s, room}, {u"user"_s, u"NOBODY"_s}, {u"session"_s, u"S9"_s}});
    QVERIFY2(none.status == 200, qPrintable(none.describe()));
    QCOMPARE(none.object().value(u"removed"_s).toInt(-1), 0);
}

void TestRestApi::unregister_tokenOfLaterSecondWorks()
{
    const QString room = u"hr:emp:2"_s;
    const HttpResponse r =
            m_api->postJson("/api/unregister",
                            {{u"room"_s, room}, {u"user"_s, u"ALLEN"_s}, {u"session"_s, u"S1"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"removed"_s).toInt(-1), 0);
    const qint64 t1 = nowSecs();
    QVERIFY(waitUntil([&] { return nowSecs() > t1; }, 2000));

    const QByteArray registered = registerToken(*m_api, room, u"ALLEN"_s, u"S1"_s);
    QVERIFY(!registered.isEmpty());
    const qint64 now = nowSecs();
    const QByteArray minted = Jwt::mint(m_server->jwtSecret(),
                                        {{u"sub"_s, u"ALLEN"_s},
                                         {u"room"_s, room},
                                         {u"sid"_s, u"S1"_s},
                                         {u"iat"_s, now},
                                         {u"exp"_s, now + 600}});
    for (const QByteArray &token : {registered, minted}) {
        WsClient c;
        QVERIFY(c.open(m_server->wsUrl(u"/ws"_s)));
        const QJsonObject answer = c.join(token);
        QVERIFY2(answer.value(u"type"_s).toString() == u"joined", qPrintable(compact(answer)));
    }
}

void TestRestApi::emit_targetsAndDeliveredCounts()
{
    auto c1 = joined(u"R1"_s, u"U1"_s, u"S1"_s);
    auto c2 = joined(u"R2"_s, u"U1"_s, u"S2"_s);
    auto c3 = joined(u"R1"_s, u"U2"_s, u"S3"_s);
    QVERIFY(c1 && c2 && c3);
    WsClient never; // connected, never joined
    QVERIFY(never.open(m_server->wsUrl(u"/ws"_s)));
    WsClient legacy;
    QVERIFY(legacy.open(m_server->wsUrl(u"/"_s)));

    QList<qint64> ids;
    auto emitTo = [&](const QByteArray &path, const QJsonObject &body,
                      int expectDelivered) -> QJsonObject {
        const HttpResponse r = m_api->postJson(path, body);
        if (r.status != 200 || !r.object().value(u"id"_s).isDouble()) {
            qWarning().noquote() << path << r.describe();
            return {};
        }
        ids.append(qint64(r.object().value(u"id"_s).toDouble()));
        if (r.object().value(u"delivered"_s).toInt(-1) != expectDelivered) {
            qWarning().noquote() << path << "delivered" << r.object().value(u"delivered"_s)
                                 << "expected" << expectDelivered;
            return {};
        }
        return r.object();
    };

    // room
    QVERIFY(!emitTo("/api/emit/room",
                    {{u"room"_s, u"R1"_s}, {u"event"_s, u"toRoom"_s}, {u"data"_s, 1}}, 2)
                     .isEmpty());
    for (WsClient *c : {c1.get(), c3.get()}) {
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QCOMPARE(ev.value(u"event"_s).toString(), u"toRoom"_s);
        QCOMPARE(ev.value(u"room"_s).toString(), u"R1"_s);
        QCOMPARE(qint64(ev.value(u"id"_s).toDouble()), ids.last());
        QCOMPARE(ev.value(u"data"_s), QJsonValue(1));
    }
    // user
    QVERIFY(!emitTo("/api/emit/user",
                    {{u"user"_s, u"U1"_s}, {u"event"_s, u"toUser"_s}, {u"data"_s, u"x"_s}}, 2)
                     .isEmpty());
    for (WsClient *c : {c1.get(), c2.get()}) {
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QCOMPARE(ev.value(u"event"_s).toString(), u"toUser"_s);
        QVERIFY2(!ev.contains(u"room"_s), "a user emit has no room key");
        QCOMPARE(qint64(ev.value(u"id"_s).toDouble()), ids.last());
    }
    // all: joined /ws connections only
    QVERIFY(!emitTo("/api/emit/all", {{u"event"_s, u"toAll"_s}}, 3).isEmpty());
    for (WsClient *c : {c1.get(), c2.get(), c3.get()}) {
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QCOMPARE(ev.value(u"event"_s).toString(), u"toAll"_s);
        QVERIFY(!ev.contains(u"room"_s));
        QCOMPARE(ev.value(u"data"_s), QJsonValue(QJsonValue::Null));
    }
    // connection
    const QString c2id = connectionIdForPort(*m_api, c2->localPort());
    QVERIFY(!c2id.isEmpty());
    QVERIFY(!emitTo("/api/emit/connection", {{u"connection"_s, c2id}, {u"event"_s, u"toConn"_s}}, 1)
                     .isEmpty());
    const QJsonObject ev = c2->waitForFrame(u"event"_s);
    QCOMPARE(ev.value(u"event"_s).toString(), u"toConn"_s);
    QVERIFY(!ev.contains(u"room"_s));
    QCOMPARE(qint64(ev.value(u"id"_s).toDouble()), ids.last());
    // unknown connection: 200 with delivered 0
    QVERIFY(!emitTo("/api/emit/connection",
                    {{u"connection"_s, u"no-such-connection"_s}, {u"event"_s, u"x"_s}}, 0)
                     .isEmpty());
    // a room without members
    QVERIFY(!emitTo("/api/emit/room", {{u"room"_s, u"empty-room"_s}, {u"event"_s, u"x"_s}}, 0)
                     .isEmpty());

    for (qsizetype i = 1; i < ids.size(); ++i)
        QVERIFY2(ids.at(i) > ids.at(i - 1), "message ids must be strictly increasing");

    QVERIFY(c1->noFrameWithin(100, u"event"_s));
    QCOMPARE(c2->count(u"event"_s), 0);
    QCOMPARE(c3->count(u"event"_s), 0);
    QCOMPARE(never.count(u"event"_s), 0);
    QCOMPARE(legacy.count(), 0);
}

void TestRestApi::emit_idsStrictlyIncreasing()
{
    auto c = joined(u"ids"_s, u"U"_s, u"S"_s);
    QVERIFY(c);
    qint64 last = 0;
    for (int i = 0; i < 50; ++i) {
        const QByteArray path = (i % 3 == 0) ? "/api/emit/room"
                : (i % 3 == 1)               ? "/api/emit/user"
                                             : "/api/emit/all";
        const QJsonObject body = (i % 3 == 0)
                ? QJsonObject{{u"room"_s, u"ids"_s}, {u"event"_s, u"e"_s}, {u"data"_s, i}}
                : (i % 3 == 1)
                ? QJsonObject{{u"user"_s, u"U"_s}, {u"event"_s, u"e"_s}, {u"data"_s, i}}
                : QJsonObject{{u"event"_s, u"e"_s}, {u"data"_s, i}};
        const HttpResponse r = m_api->postJson(path, body);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const qint64 id = qint64(r.object().value(u"id"_s).toDouble());
        QVERIFY2(id > last, qPrintable(u"id %1 after %2"_s.arg(id).arg(last)));
        if (i == 0)
            QVERIFY2(id >= 1, "ids start at 1");
        last = id;
    }
    qint64 seen = 0;
    for (int i = 0; i < 50; ++i) {
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QVERIFY2(!ev.isEmpty(), qPrintable(u"event %1 of 50 missing"_s.arg(i + 1)));
        QCOMPARE(ev.value(u"data"_s).toInt(), i);
        const qint64 id = qint64(ev.value(u"id"_s).toDouble());
        QVERIFY(id > seen);
        seen = id;
    }
    QCOMPARE(seen, last);
}

void TestRestApi::health_needsNoKey()
{
    auto anon = m_server->client(false);
    const HttpResponse r = anon->get("/api/health");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    const QJsonObject o = r.object();
    QCOMPARE(o.value(u"status"_s).toString(), u"ok"_s);
    QVERIFY(o.value(u"version"_s).isString());
    QVERIFY(!o.value(u"version"_s).toString().isEmpty());
    QVERIFY(o.value(u"uptime_s"_s).isDouble());
    QVERIFY(o.value(u"uptime_s"_s).toDouble() >= 0);
    QVERIFY(r.header("Content-Type").startsWith("application/json"));

    // A wrong key does not matter for health either.
    const HttpResponse wrong = anon->get("/api/health", {{"X-API-Key", "wrong"}});
    QCOMPARE(wrong.status, 200);
}

void TestRestApi::stats_fieldsAndCounters()
{
    auto expectStats = [&](int connections, int rooms, int users, int in, int out) -> bool {
        QJsonObject s;
        const bool ok = waitUntil(
                [&] {
                    s = stats(*m_api);
                    return s.value(u"connections"_s).toInt(-1) == connections
                            && s.value(u"rooms"_s).toInt(-1) == rooms
                            && s.value(u"users"_s).toInt(-1) == users
                            && s.value(u"messages_in_total"_s).toInt(-1) == in
                            && s.value(u"messages_out_total"_s).toInt(-1) == out;
                },
                3000);
        if (!ok)
            qWarning().noquote() << "stats" << compact(s) << "expected connections" << connections
                                 << "rooms" << rooms << "users" << users << "in" << in << "out"
                                 << out;
        return ok;
    };

    const QJsonObject s0 = stats(*m_api);
    for (const QString &k :
         {u"connections"_s, u"rooms"_s, u"users"_s, u"messages_in_total"_s, u"messages_out_total"_s,
          u"messages_in_per_s"_s, u"messages_out_per_s"_s, u"uptime_s"_s})
        QVERIFY2(s0.value(k).isDouble(),
                 qPrintable(u"stats field "_s % k % u" missing or not a number: "_s % compact(s0)));
    QVERIFY(expectStats(0, 0, 0, 0, 0));

    auto c1 = joined(u"R1"_s, u"U1"_s, u"S1"_s);
    auto c2 = joined(u"R1"_s, u"U2"_s, u"S2"_s);
    auto c3 = joined(u"R2"_s, u"U1"_s, u"S3"_s);
    QVERIFY(c1 && c2 && c3);
    WsClient never;
    QVERIFY(never.open(m_server->wsUrl(u"/ws"_s)));
    WsClient legacy; // not a /ws connection: not counted
    QVERIFY(legacy.open(m_server->wsUrl(u"/"_s)));
    QVERIFY(expectStats(4, 2, 2, 0, 0));

    QCOMPARE(m_api->postJson("/api/emit/room", {{u"room"_s, u"R1"_s}, {u"event"_s, u"e"_s}}).status,
             200);
    QVERIFY(expectStats(4, 2, 2, 1, 2));
    QCOMPARE(m_api->postJson("/api/emit/all", {{u"event"_s, u"e"_s}}).status, 200);
    QVERIFY(expectStats(4, 2, 2, 2, 5));

    // Rejected calls, pings and error frames change nothing.
    QCOMPARE(m_api->postJson("/api/emit/room", {{u"room"_s, u"R1"_s}}).status, 400);
    c1->send({{u"type"_s, u"ping"_s}});
    QVERIFY(!c1->waitForFrame(u"pong"_s).isEmpty());
    c1->send({{u"type"_s, u"no-such-type"_s}});
    QVERIFY(!c1->waitForFrame(u"error"_s).isEmpty());
    QVERIFY(expectStats(4, 2, 2, 2, 5));

    // Leaving R2 empties it; U1 still has c1.
    c3->send({{u"type"_s, u"leave"_s}, {u"room"_s, u"R2"_s}});
    QVERIFY(!c3->waitForFrame(u"left"_s).isEmpty());
    QVERIFY(expectStats(4, 1, 2, 2, 5));
    // Closing c1 and c3: U1 has no connection any more.
    c1->close();
    c3->close();
    QVERIFY(expectStats(2, 1, 1, 2, 5));
    never.close();
    QVERIFY(expectStats(1, 1, 1, 2, 5));

    const QJsonObject s1 = stats(*m_api);
    QVERIFY(s1.value(u"uptime_s"_s).toDouble() >= s0.value(u"uptime_s"_s).toDouble());
    QVERIFY(s1.value(u"messages_in_per_s"_s).toDouble() >= 0);
    QVERIFY(s1.value(u"messages_out_per_s"_s).toDouble() >= 0);
}

void TestRestApi::connections_listFilterAndGet()
{
    const qint64 before = nowMs();
    auto c1 = std::make_unique<WsClient>(u"http://app.example"_s);
    QVERIFY(c1->open(m_server->wsUrl(u"/ws"_s)));
    const QByteArray token = registerToken(*m_api, u"R1"_s, u"U1"_s, u"S1"_s);
    QCOMPARE(c1->join(token).value(u"type"_s).toString(), u"joined"_s);
    WsClient c2; // never joined
    QVERIFY(c2.open(m_server->wsUrl(u"/ws"_s)));
    WsClient legacy;
    QVERIFY(legacy.open(m_server->wsUrl(u"/"_s)));

    HttpResponse r = m_api->get("/api/connections");
    QVERIFY2(r.status == 200 && r.json().isArray(), qPrintable(r.describe()));
    const QJsonArray all = r.array();
    QCOMPARE(all.size(), 2); // legacy connections are not listed

    const QString id1 = connectionIdForPort(*m_api, c1->localPort());
    const QString id2 = connectionIdForPort(*m_api, c2.localPort());
    QVERIFY(!id1.isEmpty() && !id2.isEmpty());
    QVERIFY(id1 != id2);

    const QJsonObject e1 = findByKey(all, u"connection"_s, id1);
    for (const QString &k : {u"connection"_s, u"user"_s, u"session"_s, u"rooms"_s, u"remote"_s,
                             u"origin"_s, u"since"_s, u"sent"_s, u"received"_s})
        QVERIFY2(e1.contains(k),
                 qPrintable(u"connection field "_s % k % u" missing: "_s % compact(e1)));
    QVERIFY(e1.value(u"connection"_s).isString());
    QCOMPARE(e1.value(u"user"_s).toString(), u"U1"_s);
    QCOMPARE(e1.value(u"session"_s).toString(), u"S1"_s);
    QCOMPARE(e1.value(u"rooms"_s).toArray(), QJsonArray{u"R1"_s});
    QCOMPARE(e1.value(u"remote"_s).toString(), u"127.0.0.1:%1"_s.arg(c1->localPort()));
    QCOMPARE(e1.value(u"origin"_s).toString(), u"http://app.example"_s);
    const qint64 since = qint64(e1.value(u"since"_s).toDouble());
    QVERIFY2(since >= before - 1000 && since <= nowMs() + 1000,
             qPrintable(u"since %1 is not unix ms"_s.arg(since)));
    QVERIFY(e1.value(u"sent"_s).isDouble());
    QVERIFY(e1.value(u"received"_s).isDouble());

    const QJsonObject e2 = findByKey(all, u"connection"_s, id2);
    QVERIFY(e2.value(u"user"_s).isNull());
    QVERIFY(e2.value(u"session"_s).isNull());
    QCOMPARE(e2.value(u"rooms"_s).toArray(), QJsonArray());

    // filters
    r = m_api->get("/api/connections?room=R1");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.array().size(), 1);
    QCOMPARE(r.array().at(0).toObject().value(u"connection"_s).toString(), id1);
    r = m_api->get("/api/connections?user=U1");
    QCOMPARE(r.array().size(), 1);
    QCOMPARE(r.array().at(0).toObject().value(u"connection"_s).toString(), id1);
    r = m_api->get("/api/connections?room=R1&user=U2");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.array().size(), 0);
    r = m_api->get("/api/connections?room=nothing");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.array().size(), 0);

    // one connection; sent grows with an emit, received with a client frame
    r = m_api->get("/api/connections/" + encodeSegment(id1));
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"connection"_s).toString(), id1);
    QCOMPARE(r.object().value(u"user"_s).toString(), u"U1"_s);
    const double sent0 = r.object().value(u"sent"_s).toDouble();
    const double received0 = r.object().value(u"received"_s).toDouble();
    QCOMPARE(m_api->postJson("/api/emit/room", {{u"room"_s, u"R1"_s}, {u"event"_s, u"e"_s}}).status,
             200);
    QVERIFY(!c1->waitForFrame(u"event"_s).isEmpty());
    c1->send({{u"type"_s, u"ping"_s}});
    QVERIFY(!c1->waitForFrame(u"pong"_s).isEmpty());
    QVERIFY(waitUntil(
            [&] {
                const QJsonObject o = m_api->get("/api/connections/" + encodeSegment(id1)).object();
                return o.value(u"sent"_s).toDouble() > sent0
                        && o.value(u"received"_s).toDouble() > received0;
            },
            3000));

    r = m_api->get("/api/connections/no-such-connection");
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), u"not_found"_s);
}

void TestRestApi::connections_delete()
{
    auto c1 = joined(u"R"_s, u"U1"_s, u"S1"_s);
    auto c2 = joined(u"R"_s, u"U2"_s, u"S2"_s);
    QVERIFY(c1 && c2);
    const QString id1 = connectionIdForPort(*m_api, c1->localPort());
    QVERIFY(!id1.isEmpty());

    HttpResponse r = m_api->del("/api/connections/" + encodeSegment(id1));
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object(), (QJsonObject{{u"closed"_s, true}}));
    QVERIFY2(c1->waitForDisconnected(), "DELETE did not close the connection");
    QCOMPARE(c1->closeCode(), 4000);
    QVERIFY(c2->isConnected());

    QVERIFY(waitUntil(
            [&] { return m_api->get("/api/connections/" + encodeSegment(id1)).status == 404; },
            3000));
    r = m_api->del("/api/connections/" + encodeSegment(id1));
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), u"not_found"_s);
    r = m_api->del("/api/connections/no-such-connection");
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), u"not_found"_s);

    r = m_api->postJson("/api/emit/room", {{u"room"_s, u"R"_s}, {u"event"_s, u"e"_s}});
    QCOMPARE(r.object().value(u"delivered"_s).toInt(-1), 1);
}

void TestRestApi::connections_send()
{
    auto c1 = joined(u"R"_s, u"U1"_s, u"S1"_s);
    QVERIFY(c1);
    const QString id1 = connectionIdForPort(*m_api, c1->localPort());
    QVERIFY(!id1.isEmpty());
    const QJsonObject s0 = stableStats(stats(*m_api));

    const QStringList texts{
            u"hello \"raw\" text \u00e9\u2713"_s, u"not json {"_s,
            u"{\"type\":\"custom\",\"n\":1.0,\"big\":123456789012345678901234567890}"_s};
    for (const QString &text : texts) {
        const HttpResponse r = m_api->postJson("/api/connections/" + encodeSegment(id1) + "/send",
                                               {{u"text"_s, text}});
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.object(), (QJsonObject{{u"sent"_s, true}}));
        WsFrame f;
        QVERIFY(c1->waitForAny(&f));
        QCOMPARE(f.text, text);
    }
    // not an emit: no message counted
    QCOMPARE(stableStats(stats(*m_api)), s0);

    const HttpResponse r =
            m_api->postJson("/api/connections/no-such-connection/send", {{u"text"_s, u"x"_s}});
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), u"not_found"_s);
}

void TestRestApi::rooms_listAndGet()
{
    const QString hr = u"hr:emp:1"_s;
    const QString slashed = u"dept/10 sales"_s;
    const QString unicode = u"z\u00fcrich:\u6771\u4eac"_s;
    auto a = joined(hr, u"U1"_s, u"S1"_s);
    auto b = joined(hr, u"U2"_s, u"S2"_s);
    auto c = joined(hr, u"U1"_s, u"S1"_s); // second connection of the same (user, session)
    auto d = joined(slashed, u"U3"_s, u"S3"_s);
    auto e = joined(unicode, u"U4"_s, u"S4"_s);
    QVERIFY(a && b && c && d && e);

    HttpResponse r = m_api->get("/api/rooms");
    QVERIFY2(r.status == 200 && r.json().isArray(), qPrintable(r.describe()));
    QCOMPARE(r.array().size(), 3);
    const QJsonObject hrEntry = findByKey(r.array(), u"room"_s, hr);
    QCOMPARE(hrEntry.value(u"connections"_s).toInt(-1), 3);
    QCOMPARE(hrEntry.value(u"users"_s).toInt(-1), 2);
    const QJsonObject slashEntry = findByKey(r.array(), u"room"_s, slashed);
    QCOMPARE(slashEntry.value(u"connections"_s).toInt(-1), 1);
    QCOMPARE(slashEntry.value(u"users"_s).toInt(-1), 1);
    QVERIFY(!findByKey(r.array(), u"room"_s, unicode).isEmpty());

    r = m_api->get("/api/rooms/hr%3Aemp%3A1");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"room"_s).toString(), hr);
    const QJsonArray members = r.object().value(u"members"_s).toArray();
    QCOMPARE(members.size(), 3);
    const QString idA = connectionIdForPort(*m_api, a->localPort());
    const QJsonObject ma = findByKey(members, u"connection"_s, idA);
    QCOMPARE(ma.value(u"user"_s).toString(), u"U1"_s);
    QCOMPARE(ma.value(u"session"_s).toString(), u"S1"_s);
    const qint64 since = qint64(ma.value(u"since"_s).toDouble());
    QVERIFY2(qAbs(since - nowMs()) < 60000,
             qPrintable(u"member since %1 is not unix ms"_s.arg(since)));

    r = m_api->get("/api/rooms/dept%2F10%20sales");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"room"_s).toString(), slashed);
    QCOMPARE(r.object().value(u"members"_s).toArray().size(), 1);

    r = m_api->get("/api/rooms/" + encodeSegment(unicode));
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"room"_s).toString(), unicode);

    // unknown, and empty after the last member left
    r = m_api->get("/api/rooms/no%3Asuch%3Aroom");
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), u"not_found"_s);
    d->send({{u"type"_s, u"leave"_s}, {u"room"_s, slashed}});
    QVERIFY(!d->waitForFrame(u"left"_s).isEmpty());
    r = m_api->get("/api/rooms/dept%2F10%20sales");
    QCOMPARE(r.status, 404);
    r = m_api->get("/api/rooms");
    QCOMPARE(r.array().size(), 2);
}

void TestRestApi::unknownRoute_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::newRow("GET /api/nothing") << QByteArray("GET") << QByteArray("/api/nothing");
    QTest::newRow("POST /api/emit/planet") << QByteArray("POST") << QByteArray("/api/emit/planet");
    QTest::newRow("GET /api/health/extra") << QByteArray("GET") << QByteArray("/api/health/extra");
    QTest::newRow("POST /api/registerx") << QByteArray("POST") << QByteArray("/api/registerx");
    QTest::newRow("GET /api/connections/x/y")
            << QByteArray("GET") << QByteArray("/api/connections/x/y");
}

void TestRestApi::unknownRoute()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    const HttpResponse r =
            m_api->request(method, path, method == "POST" ? QByteArray("{}") : QByteArray(),
                           {{"Content-Type", "application/json"}});
    QVERIFY2(r.status == 404, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"not_found"_s);
    QVERIFY(!r.errorMessage().isEmpty());
}

void TestRestApi::wrongMethod_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::newRow("GET register") << QByteArray("GET") << QByteArray("/api/register");
    QTest::newRow("GET unregister") << QByteArray("GET") << QByteArray("/api/unregister");
    QTest::newRow("GET emit/room") << QByteArray("GET") << QByteArray("/api/emit/room");
    QTest::newRow("PUT emit/all") << QByteArray("PUT") << QByteArray("/api/emit/all");
    QTest::newRow("DELETE health") << QByteArray("DELETE") << QByteArray("/api/health");
    QTest::newRow("POST stats") << QByteArray("POST") << QByteArray("/api/stats");
    QTest::newRow("POST rooms") << QByteArray("POST") << QByteArray("/api/rooms");
}

void TestRestApi::wrongMethod()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    const bool hasBody = method == "POST" || method == "PUT";
    const HttpResponse r =
            m_api->request(method, path, hasBody ? QByteArray("{}") : QByteArray(),
                           hasBody ? Headers{{"Content-Type", "application/json"}} : Headers{});
    QVERIFY2(r.status == 405, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"method_not_allowed"_s);
    QCOMPARE(m_api->get("/api/health").status, 200);
}

void TestRestApi::auth_data()
{
    QTest::addColumn<QByteArray>("headerName");
    QTest::addColumn<QByteArray>("headerValue"); // "KEY" is replaced by the daemon's key
    QTest::addColumn<int>("status");
    QTest::newRow("X-API-Key") << QByteArray("X-API-Key") << QByteArray("KEY") << 200;
    QTest::newRow("x-api-key lower case") << QByteArray("x-api-key") << QByteArray("KEY") << 200;
    QTest::newRow("Bearer") << QByteArray("Authorization") << QByteArray("Bearer KEY") << 200;
    QTest::newRow("Basic any user")
            << QByteArray("Authorization") << QByteArray("Basic anyone:KEY") << 200;
    QTest::newRow("Basic APEX user")
            << QByteArray("Authorization") << QByteArray("Basic APEX_PUBLIC_USER:KEY") << 200;
    QTest::newRow("Basic empty user")
            << QByteArray("Authorization") << QByteArray("Basic :KEY") << 200;
    QTest::newRow("missing") << QByteArray() << QByteArray() << 401;
    QTest::newRow("X-API-Key wrong") << QByteArray("X-API-Key") << QByteArray("wrong") << 401;
    QTest::newRow("X-API-Key prefix") << QByteArray("X-API-Key") << QByteArray("KEY-PREFIX") << 401;
    QTest::newRow("X-API-Key empty") << QByteArray("X-API-Key") << QByteArray("") << 401;
    QTest::newRow("Bearer wrong") << QByteArray("Authorization") << QByteArray("Bearer wrong")
                                  << 401;
    QTest::newRow("Basic wrong password")
            << QByteArray("Authorization") << QByteArray("Basic anyone:wrong") << 401;
    QTest::newRow("Basic key as user")
            << QByteArray("Authorization") << QByteArray("Basic KEY:") << 401;
    QTest::newRow("Basic not base64")
            << QByteArray("Authorization") << QByteArray("Basic !!!") << 401;
    QTest::newRow("unknown scheme")
            << QByteArray("Authorization") << QByteArray("Token KEY") << 401;
}

void TestRestApi::auth()
{
    QFETCH(QByteArray, headerName);
    QFETCH(QByteArray, headerValue);
    QFETCH(int, status);
    const QByteArray key = m_server->apiKey();
    QByteArray value = headerValue;
    if (value == "KEY-PREFIX")
        value = key.left(key.size() - 1);
    else if (value.startsWith("Basic ") && value != "Basic !!!")
        value = "Basic " + value.mid(6).replace("KEY", key).toBase64();
    else
        value.replace("KEY", key);

    auto anon = m_server->client(false);
    Headers headers;
    if (!headerName.isEmpty())
        headers.emplaceBack(headerName, value.isNull() ? QByteArray("") : value);

    HttpResponse r = anon->get("/api/stats", headers);
    QVERIFY2(r.status == status, qPrintable(r.describe()));
    if (status == 401) {
        QCOMPARE(r.errorCode(), u"unauthorized"_s);
        QVERIFY(!r.errorMessage().isEmpty());
    } else {
        QVERIFY(r.object().contains(u"connections"_s));
    }

    // A POST behaves the same, and a refused one delivers nothing.
    Headers postHeaders = headers;
    postHeaders.emplaceBack("Content-Type", "application/json");
    r = anon->request("POST", "/api/emit/all", R"({"event":"auth-check"})", postHeaders);
    QVERIFY2(r.status == status, qPrintable(r.describe()));
    const QJsonObject s = stats(*m_api);
    QCOMPARE(s.value(u"messages_in_total"_s).toInt(-1), status == 200 ? 1 : 0);
}

// Unregister of many distinct triples stays fast, and the revocations survive a restart.
void TestRestApi::unregisterManyTriples_fastAndDurable()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    auto api = m_server->client();

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
        const QJsonObject a = joinAnswer(*m_server, before.value(i));
        QVERIFY2(a.value(u"code"_s).toString() == u"revoked",
                 qPrintable(u"triple %1 before the restart: "_s.arg(i) % compact(a)));
    }

    // restart on the same data dir
    api.reset();
    QCOMPARE(m_server->stop(10000), 0);
    QElapsedTimer restart;
    restart.start();
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    qInfo("restart with %d revocations took %lld ms", total, restart.elapsed());
    api = m_server->client();
    for (const int i : probes) {
        const QJsonObject a = joinAnswer(*m_server, before.value(i));
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
    const QJsonObject a = joinAnswer(*m_server, fresh);
    QVERIFY2(a.value(u"type"_s).toString() == u"joined", qPrintable(compact(a)));
}

QTEST_MAIN(TestRestApi)
#include "tst_rest_api.moc"
