// The WebSocket protocol (docs/API.md, "WebSocket protocol") with real clients: join (frame and
// ?token=, since), leave, presence, ping, client emits, error frames, token checks, limits, event
// order and shape, legacy connections, origins, shutdown, slow clients and server pings.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "RawConn.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTcpSocket>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

QSet<QString> keysOf(const QJsonObject &o)
{
    const QStringList keys = o.keys();
    return QSet<QString>(keys.begin(), keys.end());
}

bool hasNullValue(const QJsonObject &o)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.value().isNull() && it.key() != u"data")
            return true;
    }
    return false;
}

} // namespace

class TestWebSocket : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void joinByFrame();
    void joinByQueryToken();
    void joinRightAfterUpgrade_neverLost();
    void joinWithSince_replaysMissedInOrder();
    void refEchoed();
    void leave();
    void presence();
    void pingPong();
    void clientEmit_withPubReachesOthersNotSender();
    void clientEmit_withoutPubForbidden();
    void badFrames_data();
    void badFrames();
    void binaryFrame_badRequest();
    void invalidUtf8_close1007();
    void tokenErrors_data();
    void tokenErrors();
    void badTokenInQuery_connectionStays();
    void tokenOfOtherUser_forbidden();
    void messageOverLimit();
    void eventsInIdOrderUnderConcurrentEmits();
    void eventFrameShape();
    void legacyConnection_getsOnlyCompatPushes();
    void websocketsPath_isNotLegacy();
    void disallowedOrigin_refused403();
    void maxConnections_refused503();
    void shutdown_closeCode1001();
    void slowClient_closedOthersKeepReceiving();
    void serverPings_silentPeerClosed();
    void socketBuffersReleased_connectionKeepsWorking();
    void malformedUpgrade_400Named_data();
    void malformedUpgrade_400Named();
    void joined_meansInAtLeastOneRoom();
    void rejoinWithSince_noReplayNoDuplicates();
    void slowClient_leavesHubAtOnce();

private:
    std::unique_ptr<WsClient> opened(const QString &path = u"/ws"_s);
    QJsonObject emitRoom(const QString &room, const QString &event,
                         const QJsonValue &data = QJsonValue());
    // startExtraWithMember at --ping-interval-s 1: pings every second, a sweep every 250 ms.
    bool startExtraPingingEverySecond(const QString &room, std::unique_ptr<HttpClient> *api,
                                      std::unique_ptr<WsClient> *member, QString *why);
};

void TestWebSocket::initTestCase()
{
    QString why;
    QVERIFY2(startDaemon({u"--max-message-bytes"_s, u"8192"_s}, &why), qPrintable(why));
}

void TestWebSocket::cleanupTestCase()
{
    stopDaemon();
}

void TestWebSocket::cleanup()
{
    endCase();
    QCOMPARE(m_server->client(false)->get("/api/health").status, 200);
}

std::unique_ptr<WsClient> TestWebSocket::opened(const QString &path)
{
    auto c = std::make_unique<WsClient>();
    if (!c->open(m_server->wsUrl(path)))
        return nullptr;
    return c;
}

QJsonObject TestWebSocket::emitRoom(const QString &room, const QString &event,
                                    const QJsonValue &data)
{
    QJsonObject body{{u"room"_s, room}, {u"event"_s, event}};
    if (!data.isUndefined())
        body.insert(u"data"_s, data);
    const HttpResponse r = m_api->postJson("/api/emit/room", body);
    if (r.status != 200)
        qWarning().noquote() << "emit failed:" << r.describe();
    return r.object();
}

void TestWebSocket::joinByFrame()
{
    const QString room = uniqueName(u"ws:join"_s);
    const QByteArray token = registerToken(*m_api, room, u"U1"_s, u"S1"_s);
    QVERIFY(!token.isEmpty());
    auto c = opened();
    QVERIFY(c);
    c->send({{u"type"_s, u"join"_s},
             {u"token"_s, QString::fromLatin1(token)},
             {u"ref"_s, u"r1"_s}});
    const QJsonObject j = c->waitForFrame(u"joined"_s);
    QVERIFY2(!j.isEmpty(), "no joined frame");
    QCOMPARE(j.value(u"room"_s).toString(), room);
    QVERIFY(j.value(u"recovered"_s).isBool());
    QVERIFY(j.value(u"last_id"_s).isDouble());
    QCOMPARE(j.value(u"ref"_s).toString(), u"r1"_s);
    QVERIFY2(keysOf(j)
                     .subtract({u"type"_s, u"room"_s, u"recovered"_s, u"last_id"_s, u"ref"_s})
                     .isEmpty(),
             qPrintable(compact(j)));
    QVERIFY2(!hasNullValue(j), qPrintable(compact(j)));

    const QJsonObject e = emitRoom(room, u"hello"_s, 1);
    QCOMPARE(c->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"hello"_s);

    // A second member's joined frame carries the room's latest id.
    auto c2 = opened();
    QVERIFY(c2);
    const QJsonObject j2 = c2->join(registerToken(*m_api, room, u"U2"_s, u"S2"_s));
    QCOMPARE(j2.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(qint64(j2.value(u"last_id"_s).toDouble()), qint64(e.value(u"id"_s).toDouble()));
}

void TestWebSocket::joinByQueryToken()
{
    const QString room = uniqueName(u"ws:query"_s);
    const QJsonObject e = emitRoom(room, u"before"_s);
    const QByteArray token = registerToken(*m_api, room, u"U1"_s, u"S1"_s);
    auto c = opened(u"/ws?token="_s % QString::fromLatin1(token));
    QVERIFY(c);
    WsFrame first;
    QVERIFY2(c->waitForAny(&first), "no frame after a ?token= connect");
    QCOMPARE(first.type(), u"joined"_s);
    QCOMPARE(first.object.value(u"room"_s).toString(), room);
    QVERIFY(first.object.value(u"recovered"_s).isBool());
    QCOMPARE(qint64(first.object.value(u"last_id"_s).toDouble()),
             qint64(e.value(u"id"_s).toDouble()));
    QVERIFY2(c->noFrameWithin(150, u"event"_s), "no replay without since");
    emitRoom(room, u"live"_s);
    QCOMPARE(c->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"live"_s);
}

void TestWebSocket::joinRightAfterUpgrade_neverLost()
{
    // A client may send its first frame the moment it has read the 101: the server must not
    // lose frames that arrive while it is still setting the connection up.
    const QString room = uniqueName(u"ws:fast"_s);
    const QByteArray token = registerToken(*m_api, room, u"U1"_s, u"S1"_s);
    QVERIFY(!token.isEmpty());
    const QByteArray join = R"({"type":"join","token":")" + token + "\"}";
    int lost = 0;
    int attempts = 0;
    for (; attempts < 40 && lost < 3; ++attempts) {
        RawWsClient raw;
        QCOMPARE(raw.connectAndUpgrade(m_server->host(), m_server->port(), "/ws"), 101);
        raw.sendText(join);
        raw.socket()->flush();
        RawWsClient::Frame f;
        if (!raw.waitForOpcode(1, &f, 1500) || !f.payload.contains("\"joined\""))
            ++lost;
    }
    QVERIFY2(lost == 0,
             qPrintable(
                     u"%1 of %2 join frames sent right after the upgrade got no answer"_s.arg(lost)
                             .arg(attempts)));

    // The same with QWebSocket, legacy pushes included: a push right after the open arrives.
    for (int i = 0; i < 10; ++i) {
        auto legacy = opened(u"/"_s);
        QVERIFY(legacy);
        const HttpResponse r = m_api->post("/", R"({"n":1})", "application/json");
        QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
        WsFrame pushed;
        QVERIFY(legacy->waitForAny(&pushed, 2000));
        legacy->close();
        QVERIFY(waitUntil([&] { return legacyPush(*m_api, "{}") == u"Send to 0 clients"; }, 3000));
    }
}

void TestWebSocket::joinWithSince_replaysMissedInOrder()
{
    const QString room = uniqueName(u"ws:since"_s);
    QList<qint64> ids;
    for (int i = 0; i < 4; ++i)
        ids.append(qint64(emitRoom(room, u"missed"_s, i).value(u"id"_s).toDouble()));
    emitRoom(uniqueName(u"ws:other"_s), u"elsewhere"_s); // another room's event is not replayed
    const QByteArray token = registerToken(*m_api, room, u"U1"_s, u"S1"_s);

    auto check = [&](WsClient &c, const QJsonObject &j) {
        QCOMPARE(j.value(u"type"_s).toString(), u"joined"_s);
        QCOMPARE(j.value(u"recovered"_s), QJsonValue(true));
        QCOMPARE(qint64(j.value(u"last_id"_s).toDouble()), ids.last());
        for (int i = 2; i < 4; ++i) {
            const QJsonObject ev = c.waitForFrame(u"event"_s);
            QVERIFY2(!ev.isEmpty(), "missed event not replayed");
            QCOMPARE(qint64(ev.value(u"id"_s).toDouble()), ids.at(i));
            QCOMPARE(ev.value(u"data"_s).toInt(), i);
            QCOMPARE(ev.value(u"room"_s).toString(), room);
        }
        const qint64 live = qint64(emitRoom(room, u"live"_s).value(u"id"_s).toDouble());
        const QJsonObject ev = c.waitForFrame(u"event"_s);
        QCOMPARE(qint64(ev.value(u"id"_s).toDouble()), live);
        ids.append(live);
        QCOMPARE(c.count(u"event"_s), 0);
    };

    // by frame
    {
        auto c = opened();
        QVERIFY(c);
        const QJsonObject j = c->join(token, ids.at(1));
        check(*c, j);
        if (QTest::currentTestFailed())
            return;
    }
    // by query: since = the latest id (nothing missed), then an older since (replay)
    {
        const qint64 since = ids.at(ids.size() - 1); // nothing missed
        auto c = opened(u"/ws?token="_s % QString::fromLatin1(token) % u"&since="_s
                        % QString::number(since));
        QVERIFY(c);
        WsFrame first;
        QVERIFY(c->waitForAny(&first));
        QCOMPARE(first.type(), u"joined"_s);
        QCOMPARE(first.object.value(u"recovered"_s), QJsonValue(true));
        QCOMPARE(qint64(first.object.value(u"last_id"_s).toDouble()), since);
        QVERIFY(c->noFrameWithin(150, u"event"_s));

        auto c2 = opened(u"/ws?token="_s % QString::fromLatin1(token) % u"&since="_s
                         % QString::number(ids.at(1)));
        QVERIFY(c2);
        const QJsonObject j2 = c2->waitForFrame(u"joined"_s);
        QCOMPARE(j2.value(u"recovered"_s), QJsonValue(true));
        QList<qint64> replayed;
        for (const qint64 id : ids) {
            if (id > ids.at(1))
                replayed.append(id);
        }
        for (const qint64 id : replayed)
            QCOMPARE(qint64(c2->waitForFrame(u"event"_s).value(u"id"_s).toDouble()), id);
        QVERIFY(c2->noFrameWithin(100, u"event"_s));
    }
}

void TestWebSocket::refEchoed()
{
    const QString room = uniqueName(u"ws:ref"_s);
    auto c = joined(room, u"U1"_s, u"S1"_s);
    QVERIFY(c);
    const QList<QJsonValue> refs{QJsonValue(u"abc"_s), QJsonValue(42),
                                 QJsonValue(QJsonObject{{u"k"_s, 1}})};
    for (const QJsonValue &ref : refs) {
        c->send({{u"type"_s, u"ping"_s}, {u"ref"_s, ref}});
        QCOMPARE(c->waitForFrame(u"pong"_s).value(u"ref"_s), ref);
        c->send({{u"type"_s, u"bogus"_s}, {u"ref"_s, ref}});
        const QJsonObject err = c->waitForFrame(u"error"_s);
        QCOMPARE(err.value(u"code"_s).toString(), u"bad_request"_s);
        QCOMPARE(err.value(u"ref"_s), ref);
    }
    c->send({{u"type"_s, u"join"_s}, {u"token"_s, u"bad.token.here"_s}, {u"ref"_s, u"j"_s}});
    QCOMPARE(c->waitForFrame(u"error"_s).value(u"ref"_s).toString(), u"j"_s);
    c->send({{u"type"_s, u"presence"_s}, {u"room"_s, room}, {u"ref"_s, u"p"_s}});
    QCOMPARE(c->waitForFrame(u"presence"_s).value(u"ref"_s).toString(), u"p"_s);
    c->send({{u"type"_s, u"leave"_s}, {u"room"_s, room}, {u"ref"_s, u"l"_s}});
    QCOMPARE(c->waitForFrame(u"left"_s).value(u"ref"_s).toString(), u"l"_s);
    // Without ref there is no ref key.
    c->send({{u"type"_s, u"ping"_s}});
    QVERIFY(!c->waitForFrame(u"pong"_s).contains(u"ref"_s));

    // Answers come in the order of the frames.
    for (int i = 0; i < 20; ++i)
        c->send({{u"type"_s, (i % 2) ? u"ping"_s : u"bogus"_s}, {u"ref"_s, i}});
    for (int i = 0; i < 20; ++i) {
        WsFrame f;
        QVERIFY(c->waitForAny(&f));
        QCOMPARE(f.object.value(u"ref"_s).toInt(-1), i);
        QCOMPARE(f.type(), (i % 2) ? u"pong"_s : u"error"_s);
    }
}

void TestWebSocket::leave()
{
    const QString room = uniqueName(u"ws:leave"_s);
    auto c = joined(room, u"U1"_s, u"S1"_s);
    QVERIFY(c);
    c->send({{u"type"_s, u"leave"_s}, {u"room"_s, room}});
    const QJsonObject left = c->waitForFrame(u"left"_s);
    QCOMPARE(left, (QJsonObject{{u"type"_s, u"left"_s}, {u"room"_s, room}}));
    const QJsonObject e = emitRoom(room, u"after-leave"_s);
    QCOMPARE(e.value(u"delivered"_s).toInt(-1), 0);
    QVERIFY(c->noFrameWithin(150, u"event"_s));
    QVERIFY(c->isConnected());
}

void TestWebSocket::presence()
{
    const QString room = uniqueName(u"ws:presence"_s);
    auto c1 = joined(room, u"U1"_s, u"S1"_s);
    auto c2 = joined(room, u"U1"_s, u"S1"_s); // same (user, session) twice: one entry
    auto c3 = joined(room, u"U2"_s, u"S2"_s);
    auto c4 = joined(room, u"U1"_s, u"S9"_s); // same user, other session: own entry
    const QString other = uniqueName(u"ws:presence-other"_s);
    auto c5 = joined(other, u"U3"_s, u"S3"_s);
    QVERIFY(c1 && c2 && c3 && c4 && c5);

    c1->send({{u"type"_s, u"presence"_s}, {u"room"_s, room}});
    const QJsonObject p = c1->waitForFrame(u"presence"_s);
    QVERIFY2(!p.isEmpty(), "no presence answer");
    QCOMPARE(p.value(u"room"_s).toString(), room);
    const QJsonArray members = p.value(u"members"_s).toArray();
    QSet<QString> seen;
    for (const QJsonValue &m : members) {
        const QJsonObject o = m.toObject();
        QVERIFY2(keysOf(o) == (QSet<QString>{u"user"_s, u"session"_s}), qPrintable(compact(o)));
        seen.insert(o.value(u"user"_s).toString() % u'/' % o.value(u"session"_s).toString());
    }
    QCOMPARE(members.size(), 3);
    QCOMPARE(seen, (QSet<QString>{u"U1/S1"_s, u"U2/S2"_s, u"U1/S9"_s}));

    // a room not joined is forbidden
    c1->send({{u"type"_s, u"presence"_s}, {u"room"_s, other}});
    QCOMPARE(c1->waitForFrame(u"error"_s).value(u"code"_s).toString(), u"forbidden"_s);
    auto never = opened();
    QVERIFY(never);
    never->send({{u"type"_s, u"presence"_s}, {u"room"_s, room}});
    QCOMPARE(never->waitForFrame(u"error"_s).value(u"code"_s).toString(), u"forbidden"_s);
}

void TestWebSocket::pingPong()
{
    auto c = opened();
    QVERIFY(c);
    c->send({{u"type"_s, u"ping"_s}});
    QCOMPARE(c->waitForFrame(u"pong"_s), (QJsonObject{{u"type"_s, u"pong"_s}}));
}

void TestWebSocket::clientEmit_withPubReachesOthersNotSender()
{
    const QString room = uniqueName(u"ws:pub"_s);
    auto sender = joined(room, u"U1"_s, u"S1"_s, true);
    auto other = joined(room, u"U2"_s, u"S2"_s);
    auto elsewhere = joined(uniqueName(u"ws:pub-other"_s), u"U3"_s, u"S3"_s);
    QVERIFY(sender && other && elsewhere);
    const int in0 = stats(*m_api).value(u"messages_in_total"_s).toInt();

    const QString frame = u"{\"type\":\"emit\",\"room\":\""_s % room
            % u"\",\"event\":\"chat\",\"data\":{\"b\":1.0,\"a\":12345678901234567890123}}"_s;
    sender->sendText(frame);
    WsFrame f;
    QVERIFY2(other->waitForFrame(u"event"_s, &f),
             "the other member did not receive the client emit");
    QCOMPARE(f.object.value(u"event"_s).toString(), u"chat"_s);
    QCOMPARE(f.object.value(u"room"_s).toString(), room);
    QVERIFY(f.object.value(u"id"_s).toDouble() >= 1);
    QCOMPARE(rawJsonValue(f.text.toUtf8(), "data"),
             QByteArray(R"({"b":1.0,"a":12345678901234567890123})"));
    QVERIFY2(sender->noFrameWithin(300, u"event"_s), "the sender must not receive its own emit");
    QCOMPARE(sender->count(u"error"_s), 0);
    QCOMPARE(elsewhere->count(u"event"_s), 0);
    QVERIFY(waitUntil(
            [&] { return stats(*m_api).value(u"messages_in_total"_s).toInt() == in0 + 1; }, 3000));
}

void TestWebSocket::clientEmit_withoutPubForbidden()
{
    const QString room = uniqueName(u"ws:nopub"_s);
    auto sender = joined(room, u"U1"_s, u"S1"_s, false);
    auto other = joined(room, u"U2"_s, u"S2"_s);
    QVERIFY(sender && other);
    sender->send({{u"type"_s, u"emit"_s},
                  {u"room"_s, room},
                  {u"event"_s, u"chat"_s},
                  {u"data"_s, 1},
                  {u"ref"_s, u"x"_s}});
    const QJsonObject err = sender->waitForFrame(u"error"_s);
    QCOMPARE(err.value(u"code"_s).toString(), u"forbidden"_s);
    QCOMPARE(err.value(u"ref"_s).toString(), u"x"_s);

    // a pub token for another room does not allow this one
    auto publisher = joined(uniqueName(u"ws:pubroom"_s), u"U1"_s, u"S1"_s, true);
    QVERIFY(publisher);
    publisher->send({{u"type"_s, u"emit"_s}, {u"room"_s, room}, {u"event"_s, u"chat"_s}});
    QCOMPARE(publisher->waitForFrame(u"error"_s).value(u"code"_s).toString(), u"forbidden"_s);

    emitRoom(room, u"sentinel"_s);
    QCOMPARE(other->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"sentinel"_s);
    QCOMPARE(other->count(u"event"_s), 0);
}

void TestWebSocket::badFrames_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("unknown type") << u"{\"type\":\"bogus\"}"_s;
    QTest::newRow("non-JSON") << u"hello there"_s;
    QTest::newRow("truncated JSON") << u"{\"type\":\"ping\""_s;
    QTest::newRow("array") << u"[1,2,3]"_s;
    QTest::newRow("array of frame") << u"[{\"type\":\"ping\"}]"_s;
    QTest::newRow("missing type") << u"{\"room\":\"x\"}"_s;
    QTest::newRow("type not a string") << u"{\"type\":5}"_s;
    QTest::newRow("type null") << u"{\"type\":null}"_s;
    QTest::newRow("JSON string") << u"\"ping\""_s;
    QTest::newRow("JSON number") << u"123"_s;
    QTest::newRow("empty text") << QString();
    QTest::newRow("join without token") << u"{\"type\":\"join\"}"_s;
    QTest::newRow("leave without room") << u"{\"type\":\"leave\"}"_s;
    QTest::newRow("emit without event") << u"{\"type\":\"emit\",\"room\":\"r\"}"_s;
}

void TestWebSocket::badFrames()
{
    QFETCH(QString, text);
    auto c = opened();
    QVERIFY(c);
    c->sendText(text);
    const QJsonObject err = c->waitForFrame(u"error"_s);
    QVERIFY2(!err.isEmpty(), "no error frame");
    QCOMPARE(err.value(u"code"_s).toString(), u"bad_request"_s);
    QVERIFY(err.value(u"message"_s).isString());
    QVERIFY(c->isConnected());
    c->send({{u"type"_s, u"ping"_s}});
    QVERIFY2(!c->waitForFrame(u"pong"_s).isEmpty(), "connection unusable after an error frame");
}

void TestWebSocket::binaryFrame_badRequest()
{
    auto c = opened();
    QVERIFY(c);
    c->sendBinary(QByteArray("\x01\x02\x03", 3));
    QCOMPARE(c->waitForFrame(u"error"_s).value(u"code"_s).toString(), u"bad_request"_s);
    c->sendBinary(QByteArray(R"({"type":"ping"})"));
    QCOMPARE(c->waitForFrame(u"error"_s).value(u"code"_s).toString(), u"bad_request"_s);
    QVERIFY(c->isConnected());
    c->send({{u"type"_s, u"ping"_s}});
    QVERIFY(!c->waitForFrame(u"pong"_s).isEmpty());
}

void TestWebSocket::invalidUtf8_close1007()
{
    RawWsClient raw;
    QCOMPARE(raw.connectAndUpgrade(m_server->host(), m_server->port(), "/ws"), 101);
    raw.sendText(QByteArray("{\"type\":\"ping\",\"x\":\"\xC3\x28\"}"));
    RawWsClient::Frame f;
    const bool gotClose = raw.waitForOpcode(8, &f, 3000);
    QVERIFY2(gotClose, "no close frame after invalid UTF-8");
    QCOMPARE(f.closeCode(), 1007);
}

void TestWebSocket::tokenErrors_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("code");
    QTest::newRow("garbage") << u"garbage"_s << u"invalid_token"_s;
    QTest::newRow("three garbage parts") << u"parts"_s << u"invalid_token"_s;
    QTest::newRow("empty") << u"empty"_s << u"invalid_token"_s;
    QTest::newRow("wrong secret") << u"wrong-secret"_s << u"invalid_token"_s;
    QTest::newRow("tampered payload") << u"tampered"_s << u"invalid_token"_s;
    QTest::newRow("expired") << u"expired"_s << u"expired_token"_s;
    QTest::newRow("alg none") << u"none"_s << u"invalid_token"_s;
    QTest::newRow("alg HS512") << u"hs512"_s << u"invalid_token"_s;
    QTest::newRow("alg RS256") << u"rs256"_s << u"invalid_token"_s;
    QTest::newRow("missing sub") << u"no-sub"_s << u"invalid_token"_s;
    QTest::newRow("missing room") << u"no-room"_s << u"invalid_token"_s;
    QTest::newRow("missing sid") << u"no-sid"_s << u"invalid_token"_s;
    QTest::newRow("missing exp") << u"no-exp"_s << u"invalid_token"_s;
    QTest::newRow("secret hex-decoded") << u"hex-secret"_s << u"invalid_token"_s;
    QTest::newRow("valid minted (control)") << u"valid"_s << QString();
}

void TestWebSocket::tokenErrors()
{
    QFETCH(QString, kind);
    QFETCH(QString, code);
    const QString room = uniqueName(u"ws:tok"_s);
    const qint64 now = nowSecs();
    QJsonObject claims{{u"sub"_s, u"U1"_s},
                       {u"room"_s, room},
                       {u"sid"_s, u"S1"_s},
                       {u"iat"_s, now},
                       {u"exp"_s, now + 600}};
    const QByteArray secret = m_server->jwtSecret();
    QByteArray token;
    if (kind == u"garbage") {
        token = "not-a-jwt";
    } else if (kind == u"parts") {
        token = "abc.def.ghi";
    } else if (kind == u"empty") {
        token = "";
    } else if (kind == u"wrong-secret") {
        token = Jwt::mint("another-secret", claims);
    } else if (kind == u"tampered") {
        const QByteArray good = Jwt::mint(secret, claims);
        QJsonObject evil = claims;
        evil.insert(u"sub"_s, u"ADMIN"_s);
        const QList<QByteArray> parts = good.split('.');
        token = parts.at(0) + '.'
                + Jwt::base64Url(QJsonDocument(evil).toJson(QJsonDocument::Compact)) + '.'
                + parts.at(2);
    } else if (kind == u"expired") {
        claims.insert(u"iat"_s, now - 3600);
        claims.insert(u"exp"_s, now - 60);
        token = Jwt::mint(secret, claims);
    } else if (kind == u"none") {
        token = Jwt::mint(secret, claims, "none");
    } else if (kind == u"hs512") {
        token = Jwt::mint(secret, claims, "HS512");
    } else if (kind == u"rs256") {
        token = Jwt::mint(secret, claims, "RS256");
    } else if (kind == u"no-sub" || kind == u"no-room" || kind == u"no-sid" || kind == u"no-exp") {
        claims.remove(kind.mid(3));
        token = Jwt::mint(secret, claims);
    } else if (kind == u"hex-secret") {
        token = Jwt::mint(QByteArray::fromHex(secret.mid(secret.lastIndexOf('-') + 1)), claims);
    } else {
        token = Jwt::mint(secret, claims);
    }
    auto c = opened();
    QVERIFY(c);
    const QJsonObject answer = c->join(token);
    if (code.isEmpty()) {
        QVERIFY2(answer.value(u"type"_s).toString() == u"joined", qPrintable(compact(answer)));
        return;
    }
    QVERIFY2(answer.value(u"type"_s).toString() == u"error", qPrintable(compact(answer)));
    QCOMPARE(answer.value(u"code"_s).toString(), code);
    QVERIFY(!answer.value(u"message"_s).toString().isEmpty());
    QVERIFY(c->isConnected());
    c->send({{u"type"_s, u"ping"_s}});
    QVERIFY(!c->waitForFrame(u"pong"_s).isEmpty());
    // nothing joined
    QCOMPARE(emitRoom(room, u"x"_s).value(u"delivered"_s).toInt(-1), 0);
}

void TestWebSocket::badTokenInQuery_connectionStays()
{
    auto c = opened(u"/ws?token=garbage"_s);
    QVERIFY2(c, "a bad ?token= must not refuse the connection");
    const QJsonObject err = c->waitForFrame(u"error"_s);
    QCOMPARE(err.value(u"code"_s).toString(), u"invalid_token"_s);
    QVERIFY(c->isConnected());
    const QString room = uniqueName(u"ws:q"_s);
    const QJsonObject j = c->join(registerToken(*m_api, room, u"U1"_s, u"S1"_s));
    QCOMPARE(j.value(u"type"_s).toString(), u"joined"_s);

    const qint64 now = nowSecs();
    const QByteArray expired = Jwt::mint(m_server->jwtSecret(),
                                         {{u"sub"_s, u"U1"_s},
                                          {u"room"_s, room},
                                          {u"sid"_s, u"S1"_s},
                                          {u"iat"_s, now - 100},
                                          {u"exp"_s, now - 10}});
    auto c2 = opened(u"/ws?token="_s % QString::fromLatin1(expired));
    QVERIFY(c2);
    QCOMPARE(c2->waitForFrame(u"error"_s).value(u"code"_s).toString(), u"expired_token"_s);
    QVERIFY(c2->isConnected());
}

void TestWebSocket::tokenOfOtherUser_forbidden()
{
    const QString r1 = uniqueName(u"ws:u1"_s);
    const QString r2 = uniqueName(u"ws:u2"_s);
    auto c = joined(r1, u"U1"_s, u"S1"_s);
    QVERIFY(c);
    QJsonObject answer = c->join(registerToken(*m_api, r2, u"U2"_s, u"S2"_s));
    QCOMPARE(answer.value(u"type"_s).toString(), u"error"_s);
    QCOMPARE(answer.value(u"code"_s).toString(), u"forbidden"_s);
    QCOMPARE(emitRoom(r2, u"x"_s).value(u"delivered"_s).toInt(-1), 0);
    // the same user may join a second room on the same connection
    answer = c->join(registerToken(*m_api, r2, u"U1"_s, u"S1"_s));
    QCOMPARE(answer.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(emitRoom(r2, u"y"_s).value(u"delivered"_s).toInt(-1), 1);
}

void TestWebSocket::messageOverLimit()
{
    auto c = opened();
    QVERIFY(c);
    const QString big =
            u"{\"type\":\"ping\",\"pad\":\""_s % QString(10000, u'x') % u"\"}"_s; // limit is 8192
    c->sendText(big);
    QJsonObject err;
    QVERIFY2(waitUntil(
                     [&] {
                         if (c->count(u"error"_s) > 0)
                             err = c->waitForFrame(u"error"_s, 0);
                         return !err.isEmpty() || c->wasDisconnected();
                     },
                     5000),
             "no answer to a message over --max-message-bytes");
    if (c->wasDisconnected())
        QCOMPARE(c->closeCode(), 1009);
    else
        QCOMPARE(err.value(u"code"_s).toString(), u"too_large"_s);
    QCOMPARE(c->count(u"pong"_s), 0);

    // A message under the limit is fine.
    auto d = opened();
    QVERIFY(d);
    d->sendText(u"{\"type\":\"ping\",\"pad\":\""_s % QString(6000, u'x') % u"\"}"_s);
    QVERIFY(!d->waitForFrame(u"pong"_s).isEmpty());
}

void TestWebSocket::eventsInIdOrderUnderConcurrentEmits()
{
    const QString room = uniqueName(u"ws:order"_s);
    auto c = joined(room, u"U1"_s, u"S1"_s);
    auto u = joined(uniqueName(u"ws:order-u"_s), u"U1"_s, u"S2"_s); // also gets the user emits
    QVERIFY(c && u);
    const int senders = 4;
    const int perSender = 25;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    std::vector<HttpResponseParser> parsers(senders);
    for (int s = 0; s < senders; ++s) {
        auto sock = std::make_unique<QTcpSocket>();
        sock->connectToHost(m_server->host(), m_server->port());
        QVERIFY(waitUntil([&] { return sock->state() == QAbstractSocket::ConnectedState; }, 5000));
        sockets.push_back(std::move(sock));
    }
    for (int s = 0; s < senders; ++s) {
        QByteArray batch;
        for (int i = 0; i < perSender; ++i) {
            const bool toUser = (i % 5 == 4);
            const QByteArray tag = QByteArray::number(s) + '-' + QByteArray::number(i);
            const QByteArray body = toUser
                    ? QByteArray(R"({"user":"U1","event":"o","data":")" + tag + "\"}")
                    : QByteArray(R"({"room":")" + room.toUtf8() + R"(","event":"o","data":")" + tag
                                 + "\"}");
            batch += request("POST", toUser ? "/api/emit/user" : "/api/emit/room", body);
        }
        sockets[s]->write(batch);
    }
    QSet<qint64> restIds;
    int answered = 0;
    QVERIFY(waitUntil(
            [&] {
                for (int s = 0; s < senders; ++s) {
                    parsers[s].feed(sockets[s]->readAll());
                    HttpResponse r;
                    while (parsers[s].take(&r)) {
                        if (r.status == 200)
                            restIds.insert(qint64(r.object().value(u"id"_s).toDouble()));
                        ++answered;
                    }
                }
                return answered == senders * perSender;
            },
            20000));
    QCOMPARE(restIds.size(), senders * perSender);

    QSet<qint64> received;
    qint64 last = 0;
    for (int n = 0; n < senders * perSender; ++n) {
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QVERIFY2(!ev.isEmpty(), qPrintable(u"only %1 events arrived"_s.arg(n)));
        const qint64 id = qint64(ev.value(u"id"_s).toDouble());
        QVERIFY2(id > last, qPrintable(u"event id %1 after %2"_s.arg(id).arg(last)));
        last = id;
        received.insert(id);
    }
    QCOMPARE(received, restIds);
    // the second connection of U1 got only the user emits, in order as well
    last = 0;
    for (int n = 0; n < senders * perSender / 5; ++n) {
        const qint64 id = qint64(u->waitForFrame(u"event"_s).value(u"id"_s).toDouble());
        QVERIFY(id > last);
        last = id;
    }
}

void TestWebSocket::eventFrameShape()
{
    const QString room = uniqueName(u"ws:shape"_s);
    auto c = joined(room, u"shapeuser"_s, u"S1"_s);
    QVERIFY(c);
    const QString id = connectionIdForPort(*m_api, c->localPort());
    QVERIFY(!id.isEmpty());
    const QSet<QString> roomKeys{u"type"_s, u"id"_s, u"event"_s, u"room"_s, u"data"_s, u"ts"_s};
    const QSet<QString> otherKeys{u"type"_s, u"id"_s, u"event"_s, u"data"_s, u"ts"_s};

    struct Case
    {
        QByteArray path;
        QJsonObject body;
        QSet<QString> keys;
    };
    const QList<Case> cases{
            {"/api/emit/room",
             {{u"room"_s, room},
              {u"event"_s, u"websocket::refresh"_s},
              {u"data"_s, QJsonObject{{u"region"_s, u"emp"_s}}}},
             roomKeys},
            {"/api/emit/user",
             {{u"user"_s, u"shapeuser"_s},
              {u"event"_s, u"websocket::message"_s},
              {u"data"_s, u"hi"_s}},
             otherKeys},
            {"/api/emit/all", {{u"event"_s, u"RefreshEmployees"_s}}, otherKeys},
            {"/api/emit/connection",
             {{u"connection"_s, id}, {u"event"_s, u"direct"_s}, {u"data"_s, 5}},
             otherKeys},
    };
    for (const Case &k : cases) {
        const qint64 before = nowMs();
        const HttpResponse r = m_api->postJson(k.path, k.body);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const QJsonObject ev = c->waitForFrame(u"event"_s);
        QVERIFY2(keysOf(ev) == k.keys,
                 qPrintable(QString::fromLatin1(k.path) % u": "_s % compact(ev)));
        QCOMPARE(ev.value(u"id"_s).toDouble(), r.object().value(u"id"_s).toDouble());
        QCOMPARE(ev.value(u"event"_s).toString(), k.body.value(u"event"_s).toString());
        QCOMPARE(ev.value(u"data"_s),
                 k.body.contains(u"data"_s) ? k.body.value(u"data"_s)
                                            : QJsonValue(QJsonValue::Null));
        const qint64 ts = qint64(ev.value(u"ts"_s).toDouble());
        QVERIFY2(ts >= before - 2000 && ts <= nowMs() + 2000,
                 qPrintable(u"ts %1 is not unix ms"_s.arg(ts)));
        if (k.keys.contains(u"room"_s))
            QCOMPARE(ev.value(u"room"_s).toString(), room);
    }
}

void TestWebSocket::legacyConnection_getsOnlyCompatPushes()
{
    const QString room = uniqueName(u"ws:legacy"_s);
    auto member = joined(room, u"U1"_s, u"S1"_s);
    QVERIFY(member);
    auto legacy = opened(u"/"_s);
    auto legacy2 = opened(u"/some/old/path"_s);
    QVERIFY(legacy && legacy2);

    HttpResponse r = m_api->post("/", R"({"hello":1,"n":1.0})", "application/json");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 2 clients"_s);
    for (WsClient *l : {legacy.get(), legacy2.get()}) {
        WsFrame f;
        QVERIFY(l->waitForAny(&f));
        QCOMPARE(minifyJson(f.text.toUtf8()), QByteArray(R"({"hello":1,"n":1.0})"));
    }

    r = m_api->postJson("/api/broadcast",
                        {{u"channel"_s, room},
                         {u"eventName"_s, u"E"_s},
                         {u"payload"_s, QJsonObject{{u"p"_s, 1}}}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    WsFrame f;
    QVERIFY(legacy->waitForAny(&f));
    QCOMPARE(f.object,
             (QJsonObject{{u"channel"_s, room},
                          {u"eventName"_s, u"E"_s},
                          {u"payload"_s, QJsonObject{{u"p"_s, 1}}}}));
    QVERIFY(legacy2->waitForAny(&f));
    const QJsonObject ev = member->waitForFrame(u"event"_s);
    QCOMPARE(ev.value(u"event"_s).toString(), u"E"_s);
    QCOMPARE(ev.value(u"room"_s).toString(), room);

    // room, user and all emits never reach legacy connections
    emitRoom(room, u"r"_s);
    QCOMPARE(m_api->postJson("/api/emit/all", {{u"event"_s, u"a"_s}}).status, 200);
    QCOMPARE(m_api->postJson("/api/emit/user", {{u"user"_s, u"U1"_s}, {u"event"_s, u"u"_s}}).status,
             200);
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"r"_s);
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"a"_s);
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"u"_s);
    QVERIFY(legacy->noFrameWithin(150));
    QCOMPARE(legacy2->count(), 0);
    QCOMPARE(member->count(), 0); // and the POST / push did not reach the /ws member
}

void TestWebSocket::websocketsPath_isNotLegacy()
{
    auto legacy = opened(u"/"_s);
    QVERIFY(legacy);
    auto reserved = std::make_unique<WsClient>();
    const bool opened = reserved->open(m_server->wsUrl(u"/websockets/x"_s));
    const HttpResponse r = m_api->post("/", R"({"x":1})", "application/json");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    WsFrame pushed;
    QVERIFY(legacy->waitForAny(&pushed, 5000));
    QCOMPARE(pushed.object, (QJsonObject{{u"x"_s, 1}}));
    if (opened)
        QVERIFY2(reserved->noFrameWithin(200), "a /websockets/ connection received a legacy push");
}

void TestWebSocket::maxConnections_refused503()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start({u"--max-connections"_s, u"2"_s}), qPrintable(m_extra->lastError()));
    RawWsClient first, second, third;
    QCOMPARE(first.connectAndUpgrade(m_extra->host(), m_extra->port(), "/ws", {}), 101);
    QCOMPARE(second.connectAndUpgrade(m_extra->host(), m_extra->port(), "/", {}), 101);
    // Legacy and native connections both count; the third is refused at the upgrade.
    QCOMPARE(third.connectAndUpgrade(m_extra->host(), m_extra->port(), "/ws", {}), 503);
    auto api = m_extra->client();
    QCOMPARE(api->get("/api/health").status, 200);
}

void TestWebSocket::disallowedOrigin_refused403()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start({u"--allowed-origins"_s, u"https://good.example"_s}),
             qPrintable(m_extra->lastError()));

    for (const QByteArray &path : {QByteArray("/ws"), QByteArray("/")}) {
        RawWsClient evil;
        QCOMPARE(evil.connectAndUpgrade(m_extra->host(), m_extra->port(), path,
                                        {{"Origin", "https://evil.example"}}),
                 403);
        RawWsClient good;
        QCOMPARE(good.connectAndUpgrade(m_extra->host(), m_extra->port(), path,
                                        {{"Origin", "https://good.example"}}),
                 101);
    }

    WsClient evil(u"https://evil.example"_s);
    QVERIFY2(!evil.open(m_extra->wsUrl(u"/ws"_s)), "a disallowed Origin was accepted");
    WsClient good(u"https://good.example"_s);
    QVERIFY(good.open(m_extra->wsUrl(u"/ws"_s)));
    auto api = m_extra->client();
    const QJsonObject j = good.join(registerToken(*api, u"o"_s, u"U"_s, u"S"_s));
    QCOMPARE(j.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(api->postJson("/api/emit/room", {{u"room"_s, u"o"_s}, {u"event"_s, u"e"_s}})
                     .object()
                     .value(u"delivered"_s)
                     .toInt(-1),
             1);
    QVERIFY(!good.waitForFrame(u"event"_s).isEmpty());
}

void TestWebSocket::shutdown_closeCode1001()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
    auto api = m_extra->client();
    QString why;
    auto member = openJoined(*m_extra, *api, u"bye"_s, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    WsClient idle;
    QVERIFY(idle.open(m_extra->wsUrl(u"/ws"_s)));
    WsClient legacy;
    QVERIFY(legacy.open(m_extra->wsUrl(u"/"_s)));
    api.reset();

    const int code = m_extra->stop(10000);
    QCOMPARE(code, 0);
    for (WsClient *c : {member.get(), &idle, &legacy}) {
        QVERIFY(c->waitForDisconnected(3000));
        QCOMPARE(c->closeCode(), 1001);
    }
}

void TestWebSocket::slowClient_closedOthersKeepReceiving()
{
    SlowRoom slowRoom;
    QString why;
    QVERIFY2(startSlowRoom(m_extra, {}, &slowRoom, &why), qPrintable(why));
    auto slowListed = [&] { return slowRoom.slowListed(); };
    QVERIFY(slowListed());
    std::unique_ptr<WsClient> &good = slowRoom.good;

    // Emit 10 KB events (pipelined batches on one raw connection) until the slow client is gone.
    // 2000 events of 10 KB are 20 MB: far more than the kernel buffers and any queue limit
    // (the daemon raises max_queue_bytes to the largest emit it accepts, about 1 MiB).
    int emitted = 0;
    bool closed = false;
    QElapsedTimer t;
    t.start();
    while (emitted < 2000 && t.elapsed() < 40000) {
        const int batch = 25;
        QVERIFY2(slowRoom.rest.sendBatch(slowRoom.flood, batch),
                 "emits not answered while a client is slow");
        emitted += batch;
        if (emitted % 200 == 0 && !slowListed()) {
            closed = true;
            break;
        }
    }
    // Closed at once or after a short flush grace: well within 10 s.
    closed = closed || waitUntil([&] { return !slowListed(); }, 10000);
    QVERIFY2(closed,
             qPrintable(u"the slow client was not closed after %1 events of 10 KB"_s.arg(emitted)));

    // The good client receives every event.
    QVERIFY2(waitUntil([&] { return good->count(u"event"_s) >= emitted; }, 30000),
             qPrintable(u"good client got %1 of %2 events"_s.arg(good->count(u"event"_s))
                                .arg(emitted)));
    QVERIFY(good->isConnected());
    const QList<WsFrame> events = good->take(u"event"_s);
    qint64 last = 0;
    for (const WsFrame &e : events) {
        const qint64 id = qint64(e.object.value(u"id"_s).toDouble());
        QVERIFY(id > last);
        last = id;
    }
    QCOMPARE(events.size(), qsizetype(emitted));
}

bool TestWebSocket::startExtraPingingEverySecond(const QString &room,
                                                 std::unique_ptr<HttpClient> *api,
                                                 std::unique_ptr<WsClient> *member, QString *why)
{
    return startExtraWithMember({u"--ping-interval-s"_s, u"1"_s}, room, api, member, why);
}

void TestWebSocket::serverPings_silentPeerClosed()
{
    std::unique_ptr<HttpClient> api;
    std::unique_ptr<WsClient> answering;
    QString why;
    QVERIFY2(startExtraPingingEverySecond(u"ping"_s, &api, &answering, &why), qPrintable(why));

    RawWsClient silent;
    QElapsedTimer t;
    t.start();
    QCOMPARE(silent.connectAndUpgrade(m_extra->host(), m_extra->port(), "/ws"), 101);
    RawWsClient::Frame ping;
    QVERIFY2(silent.waitForOpcode(9, &ping, 2500),
             "no server ping within 2.5 s at --ping-interval-s 1");
    // never answer: closed within about two intervals (+ slack)
    QVERIFY2(silent.waitForClosed(int(qMax<qint64>(0, 5500 - t.elapsed()))),
             qPrintable(u"silent peer still connected after %1 ms"_s.arg(t.elapsed())));
    const qint64 closedAfter = t.elapsed();
    QVERIFY2(closedAfter >= 1500,
             qPrintable(u"silent peer closed after only %1 ms"_s.arg(closedAfter)));

    // The QWebSocket client answers pings automatically and stays.
    spin(int(qMax<qint64>(0, 3500 - t.elapsed())));
    QVERIFY(answering->isConnected());
    answering->send({{u"type"_s, u"ping"_s}});
    QVERIFY(!answering->waitForFrame(u"pong"_s).isEmpty());
    QCOMPARE(emitToRoom(*api, u"ping"_s, u"e"_s), 1);
    QCOMPARE(answering->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"e"_s);
}

void TestWebSocket::socketBuffersReleased_connectionKeepsWorking()
{
    // Every sweep (250 ms at --ping-interval-s 1) re-wraps the sockets of clients that sent
    // something (their pongs) to free Qt's buffers: nothing may be lost or reordered by it.
    std::unique_ptr<HttpClient> api;
    std::unique_ptr<WsClient> client;
    QString why;
    QVERIFY2(startExtraPingingEverySecond(u"release"_s, &api, &client, &why), qPrintable(why));
    for (int round = 0; round < 3; ++round) {
        spin(1100); // a ping, its pong, and a sweep that releases the buffers
        QVERIFY(client->isConnected());
        for (int i = 0; i < 3; ++i)
            client->send({{u"type"_s, u"ping"_s}, {u"ref"_s, QString::number(round * 10 + i)}});
        for (int i = 0; i < 3; ++i) {
            const QJsonObject pong = client->waitForFrame(u"pong"_s);
            QCOMPARE(pong.value(u"ref"_s).toString(), QString::number(round * 10 + i));
        }
        const QString event = u"e%1"_s.arg(round);
        QCOMPARE(emitToRoom(*api, u"release"_s, event), 1);
        QCOMPARE(client->waitForFrame(u"event"_s).value(u"event"_s).toString(), event);
    }
}

// Malformed upgrades get a 400 naming the problem instead of a silent close.
void TestWebSocket::malformedUpgrade_400Named_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("version");
    QTest::addColumn<bool>("withKey");
    QTest::addColumn<QByteArray>("wsVersion");
    QTest::addColumn<QString>("named");
    QTest::newRow("no Sec-WebSocket-Key")
            << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.1") << false
            << QByteArray("13") << u"Sec-WebSocket-Key"_s;
    QTest::newRow("no Sec-WebSocket-Key, legacy path")
            << QByteArray("GET") << QByteArray("/") << QByteArray("HTTP/1.1") << false
            << QByteArray("13") << u"Sec-WebSocket-Key"_s;
    QTest::newRow("Sec-WebSocket-Version 8")
            << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.1") << true
            << QByteArray("8") << u"Sec-WebSocket-Version"_s;
    QTest::newRow("no Sec-WebSocket-Version")
            << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.1") << true
            << QByteArray() << u"Sec-WebSocket-Version"_s;
    QTest::newRow("POST /ws") << QByteArray("POST") << QByteArray("/ws") << QByteArray("HTTP/1.1")
                              << true << QByteArray("13") << u"GET"_s;
    QTest::newRow("HTTP/1.0") << QByteArray("GET") << QByteArray("/ws") << QByteArray("HTTP/1.0")
                              << true << QByteArray("13") << u"HTTP/1.1"_s;
}

void TestWebSocket::malformedUpgrade_400Named()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, version);
    QFETCH(bool, withKey);
    QFETCH(QByteArray, wsVersion);
    QFETCH(QString, named);

    const int connectionsBefore = stats(*m_api).value(u"connections"_s).toInt(-1);
    QByteArray req = method + ' ' + path + ' ' + version
            + "\r\nHost: 127.0.0.1:" + QByteArray::number(m_server->port())
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    if (withKey)
        req += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (!wsVersion.isEmpty())
        req += "Sec-WebSocket-Version: " + wsVersion + "\r\n";
    if (method == "POST")
        req += "Content-Length: 0\r\n";
    req += "\r\n";

    RawConn c;
    QVERIFY(c.connectTo(m_server->port()));
    c.write(req);
    HttpResponse r;
    QVERIFY2(c.read(&r, 5000),
             qPrintable(u"no answer to the upgrade (silent close?); received: "_s
                        % QString::fromLatin1(c.received().left(300))));
    QVERIFY2(r.status == 400, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"bad_request"_s);
    QVERIFY2(r.errorMessage().contains(named, Qt::CaseInsensitive),
             qPrintable(u"the message does not name "_s % named % u": "_s % r.describe()));
    QVERIFY(r.header("Sec-WebSocket-Accept").isNull());
    QVERIFY2(c.waitClosed(3000), "the connection stays open after a refused upgrade");
    // no WebSocket connection was made (earlier rows' connections may still be going away)
    QVERIFY(stats(*m_api).value(u"connections"_s).toInt(-1) <= connectionsBefore);

    // A well-formed upgrade to the same path still works.
    RawWsClient good;
    QCOMPARE(good.connectAndUpgrade(m_server->host(), m_server->port(), path), 101);
}

// Joined = in at least one room: emit/all, emit/user and the users count follow the rooms.
void TestWebSocket::joined_meansInAtLeastOneRoom()
{
    m_extra = std::make_unique<ServerProcess>();
    QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
    auto api = m_extra->client();
    const QString r1 = u"j:one"_s, r2 = u"j:two"_s;

    auto deliveredAll = [&] {
        const HttpResponse r = api->postJson("/api/emit/all", {{u"event"_s, u"all"_s}});
        return r.status == 200 ? r.object().value(u"delivered"_s).toInt(-1) : -2;
    };
    auto deliveredUser = [&](const QString &user) {
        const HttpResponse r =
                api->postJson("/api/emit/user", {{u"user"_s, user}, {u"event"_s, u"user"_s}});
        return r.status == 200 ? r.object().value(u"delivered"_s).toInt(-1) : -2;
    };
    auto users = [&] { return stats(*api).value(u"users"_s).toInt(-1); };
    auto usersBecomes = [&](int n) { return waitUntil([&] { return users() == n; }, 2000); };

    WsClient c;
    QVERIFY(c.open(m_extra->wsUrl(u"/ws"_s)));
    // Joined as U: counted in users, reached by emit/all and emit/user (both frames arrive).
    // QTest checks: a failure ends the lambda, the caller tests QTest::currentTestFailed().
    auto verifyJoinedAsU = [&] {
        QCOMPARE(users(), 1);
        QCOMPARE(deliveredAll(), 1);
        QCOMPARE(deliveredUser(u"U"_s), 1);
        QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"all"_s);
        QCOMPARE(c.waitForFrame(u"event"_s).value(u"event"_s).toString(), u"user"_s);
    };
    const QByteArray t1 = registerToken(*api, r1, u"U"_s, u"S"_s);
    QCOMPARE(c.join(t1).value(u"type"_s).toString(), u"joined"_s);
    verifyJoinedAsU();
    if (QTest::currentTestFailed())
        return;

    // leave its only room: no longer joined
    c.send({{u"type"_s, u"leave"_s}, {u"room"_s, r1}});
    QCOMPARE(c.waitForFrame(u"left"_s).value(u"room"_s).toString(), r1);
    QVERIFY2(usersBecomes(0), qPrintable(u"users after leave: %1"_s.arg(users())));
    QCOMPARE(deliveredAll(), 0);
    QCOMPARE(deliveredUser(u"U"_s), 0);
    QVERIFY2(c.noFrameWithin(200, u"event"_s), qPrintable(c.frames().value(0).text));
    QCOMPARE(stats(*api).value(u"connections"_s).toInt(-1), 1); // still open, just not joined

    // a connection keeps its user, in a room or not
    QJsonObject answer = c.join(registerToken(*api, r2, u"V"_s, u"S2"_s));
    QCOMPARE(answer.value(u"type"_s).toString(), u"error"_s);
    QCOMPARE(answer.value(u"code"_s).toString(), u"forbidden"_s);
    QCOMPARE(deliveredUser(u"V"_s), 0);
    QCOMPARE(users(), 0);

    // joining again restores it
    QCOMPARE(c.join(registerToken(*api, r2, u"U"_s, u"S"_s)).value(u"type"_s).toString(),
             u"joined"_s);
    verifyJoinedAsU();
    if (QTest::currentTestFailed())
        return;

    // unregister takes it out of its only room: no longer joined either
    const HttpResponse un = api->postJson(
            "/api/unregister", {{u"room"_s, r2}, {u"user"_s, u"U"_s}, {u"session"_s, u"S"_s}});
    QVERIFY2(un.status == 200, qPrintable(un.describe()));
    QCOMPARE(un.object().value(u"removed"_s).toInt(-1), 1);
    const QJsonObject left = c.waitForFrame(u"left"_s);
    QCOMPARE(left.value(u"room"_s).toString(), r2);
    QCOMPARE(left.value(u"reason"_s).toString(), u"revoked"_s);
    QVERIFY2(usersBecomes(0), qPrintable(u"users after unregister: %1"_s.arg(users())));
    QCOMPARE(deliveredAll(), 0);
    QCOMPARE(deliveredUser(u"U"_s), 0);
    QVERIFY(c.noFrameWithin(200, u"event"_s));

    answer = c.join(registerToken(*api, r2, u"V"_s, u"S2"_s));
    QCOMPARE(answer.value(u"code"_s).toString(), u"forbidden"_s);

    // and joining again (a room not revoked) restores it
    QCOMPARE(c.join(t1).value(u"type"_s).toString(), u"joined"_s);
    verifyJoinedAsU();
    if (QTest::currentTestFailed())
        return;
    QVERIFY(c.isConnected());
}

// A member re-joining its room with since gets no replay: under a stream of emits, every
// event arrives exactly once and in increasing id order.
void TestWebSocket::rejoinWithSince_noReplayNoDuplicates()
{
    const QString room = uniqueName(u"rf:rejoin"_s);
    const QByteArray token = registerToken(*m_api, room, u"RJ"_s, u"S"_s);
    QVERIFY(!token.isEmpty());
    // some history before the member joins
    qint64 firstId = 0;
    for (int i = 0; i < 5; ++i) {
        const HttpResponse r = m_api->postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"old"_s}, {u"data"_s, i}});
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        if (i == 0)
            firstId = qint64(r.object().value(u"id"_s).toDouble());
    }
    WsClient c;
    QVERIFY(c.open(m_server->wsUrl(u"/ws"_s)));
    QCOMPARE(c.join(token).value(u"type"_s).toString(), u"joined"_s);
    QVERIFY(c.noFrameWithin(100, u"event"_s));

    QTcpSocket emitter;
    emitter.connectToHost(m_server->host(), m_server->port());
    QVERIFY(waitUntil([&] { return emitter.state() == QAbstractSocket::ConnectedState; }, 5000));
    HttpResponseParser parser;
    QList<qint64> restIds;
    int answered = 0;
    int failed = 0;
    auto pumpAnswers = [&] {
        parser.feed(emitter.readAll());
        HttpResponse r;
        while (parser.take(&r)) {
            ++answered;
            if (r.status == 200)
                restIds.append(qint64(r.object().value(u"id"_s).toDouble()));
            else if (++failed < 5)
                qWarning().noquote() << "emit answered" << r.describe();
        }
    };
    auto lastSeen = [&] {
        qint64 last = 0;
        for (const WsFrame &f : c.frames()) {
            if (f.type() == u"event")
                last = qMax(last, qint64(f.object.value(u"id"_s).toDouble()));
        }
        return last;
    };

    const int total = 200;
    int joins = 0;
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < total; ++i) {
        const QByteArray body = R"({"room":")" + room.toUtf8() + R"(","event":"stream","data":)"
                + QByteArray::number(i) + '}';
        emitter.write(request("POST", "/api/emit/room", body));
        emitter.flush();
        if (i % 2 == 0) {
            // since: the last id seen (what a client would send), a few back, or before all
            const qint64 seen = lastSeen();
            qint64 since = seen;
            if (joins % 3 == 1)
                since = qMax<qint64>(0, seen - 5);
            else if (joins % 3 == 2)
                since = firstId - 1;
            c.send({{u"type"_s, u"join"_s},
                    {u"token"_s, QString::fromLatin1(token)},
                    {u"since"_s, since},
                    {u"ref"_s, joins}});
            ++joins;
        }
        waitUntil([] { return false; }, 2); // about 2 ms (spin() may sleep up to 20 ms)
        pumpAnswers();
    }
    QVERIFY2(waitUntil(
                     [&] {
                         pumpAnswers();
                         return answered == total;
                     },
                     15000),
             qPrintable(u"%1 of %2 emits answered"_s.arg(answered).arg(total)));
    QCOMPARE(failed, 0);
    QVERIFY2(waitUntil(
                     [&] {
                         return c.count(u"event"_s) >= total
                                 && c.count(u"joined"_s) + c.count(u"error"_s) >= joins;
                     },
                     10000),
             qPrintable(u"%1 events of %2, %3 answers to %4 joins"_s.arg(c.count(u"event"_s))
                                .arg(total)
                                .arg(c.count(u"joined"_s) + c.count(u"error"_s))
                                .arg(joins)));
    spin(300); // late duplicates would arrive now
    qInfo("%d emits and %d re-joins in %lld ms", total, joins, t.elapsed());

    const QList<WsFrame> errors = c.take(u"error"_s);
    QVERIFY2(errors.isEmpty(), qPrintable(errors.value(0).text));
    const QList<WsFrame> joinedFrames = c.take(u"joined"_s);
    QCOMPARE(joinedFrames.size(), qsizetype(joins));
    for (qsizetype i = 0; i < joinedFrames.size(); ++i) {
        const QJsonObject j = joinedFrames.at(i).object;
        QCOMPARE(j.value(u"ref"_s).toInt(-1), int(i)); // in the order of the frames
        QCOMPARE(j.value(u"room"_s).toString(), room);
        QVERIFY2(j.value(u"recovered"_s) == QJsonValue(true), qPrintable(compact(j)));
    }
    const QList<WsFrame> events = c.take(u"event"_s);
    QList<qint64> got;
    for (const WsFrame &e : events)
        got.append(qint64(e.object.value(u"id"_s).toDouble()));
    for (qsizetype i = 1; i < got.size(); ++i) {
        QVERIFY2(got.at(i) > got.at(i - 1),
                 qPrintable(u"event %1 has id %2 after id %3 (a replayed duplicate?)"_s.arg(i)
                                    .arg(got.at(i))
                                    .arg(got.at(i - 1))));
    }
    std::sort(restIds.begin(), restIds.end());
    QCOMPARE(got, restIds);
    QCOMPARE(c.count(), 0);
}

// A slow client closed with 1013 leaves the hub at once: it is no longer listed or counted
// in delivered while its close is still flushing.
void TestWebSocket::slowClient_leavesHubAtOnce()
{
    SlowRoom slowRoom;
    QString why;
    QVERIFY2(startSlowRoom(m_extra, {u"--log-level"_s, u"info"_s}, &slowRoom, &why),
             qPrintable(why));
    auto slowListed = [&] { return slowRoom.slowListed(); };
    QVERIFY(slowListed());
    auto decided = [&] { return m_extra->output().contains(u"closing slow client"_s); };
    QVERIFY(!decided());
    HttpClient *api = slowRoom.api.get();
    std::unique_ptr<WsClient> &good = slowRoom.good;

    // Flood the room with 10 KB events until the server decides to close the slow client.
    int emitted = 0;
    QElapsedTimer sinceDecision;
    QElapsedTimer t;
    t.start();
    while (emitted < 3000 && t.elapsed() < 40000 && !sinceDecision.isValid()) {
        const int batch = 10;
        QVERIFY2(slowRoom.rest.sendBatch(slowRoom.flood, batch, 10000,
                                         [&] {
                                             if (!sinceDecision.isValid() && decided())
                                                 sinceDecision.start();
                                         }),
                 "emits not answered while a client is slow");
        emitted += batch;
    }
    QVERIFY2(sinceDecision.isValid() || waitUntil(decided, 5000),
             qPrintable(u"the slow client was not closed after %1 events of 10 KB"_s.arg(emitted)));
    if (!sinceDecision.isValid())
        sinceDecision.start();

    // Gone from the listing and from delivered counts within 1 s of the close decision.
    QVERIFY2(waitUntil([&] { return !slowListed(); }, 1000),
             qPrintable(u"the slow client is still listed %1 ms after the close decision"_s.arg(
                     sinceDecision.elapsed())));
    const HttpResponse room =
            api->postJson("/api/emit/room", {{u"room"_s, u"slow"_s}, {u"event"_s, u"after"_s}});
    const HttpResponse all = api->postJson("/api/emit/all", {{u"event"_s, u"after-all"_s}});
    const HttpResponse user = api->postJson(
            "/api/emit/user", {{u"user"_s, u"slowuser"_s}, {u"event"_s, u"after-user"_s}});
    const QJsonObject s = stats(*api);
    const qint64 checkedAfter = sinceDecision.elapsed();
    qInfo("close decision after %d emits; listing, delivered and stats checked %lld ms after it "
          "(slow TCP %s)",
          emitted, checkedAfter, slowRoom.slow.isClosed() ? "closed" : "still open");
    QVERIFY2(room.status == 200 && all.status == 200 && user.status == 200,
             qPrintable(room.describe()));
    QVERIFY2(room.object().value(u"delivered"_s).toInt(-1) == 1, qPrintable(room.describe()));
    QVERIFY2(all.object().value(u"delivered"_s).toInt(-1) == 1, qPrintable(all.describe()));
    QVERIFY2(user.object().value(u"delivered"_s).toInt(-1) == 0, qPrintable(user.describe()));
    QCOMPARE(s.value(u"connections"_s).toInt(-1), 1);
    QCOMPARE(s.value(u"users"_s).toInt(-1), 1);
    QVERIFY2(checkedAfter < 2500, // the close flush grace is 5 s
             qPrintable(u"checks took until %1 ms after the decision"_s.arg(checkedAfter)));

    // The good client got every event, in order.
    QVERIFY2(waitUntil([&] { return good->count(u"event"_s) >= emitted + 2; }, 30000),
             qPrintable(u"good client got %1 of %2 events"_s.arg(good->count(u"event"_s))
                                .arg(emitted + 2)));
    qint64 last = 0;
    for (const WsFrame &e : good->take(u"event"_s)) {
        const qint64 id = qint64(e.object.value(u"id"_s).toDouble());
        QVERIFY(id > last);
        last = id;
    }
}

QTEST_MAIN(TestWebSocket)
#include "tst_websocket.moc"
