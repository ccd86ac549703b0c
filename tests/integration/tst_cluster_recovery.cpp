// `join` with `since` in a cluster (docs/API.md, "Recovery and history"; the cluster's
// "Recovery" row): a client that saw events on one node and rejoins on another gets exactly
// what it missed, in order, then `joined` with recovered and last_id, also from a node that
// started after the events were emitted (its memory and its own log hold none of them: they
// come from the room's history in Redis).

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "RedisServerProcess.h"
#include "ServerProcess.h"
#include "TestSupport.h"
#include "WsClient.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

#include <memory>

using namespace sbit;
using namespace Qt::StringLiterals;

class TestClusterRecovery : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void rejoinOnAnotherNode();
    void nodeStartedAfterTheEvents();

private:
    // A node of the cluster on m_redis with the shared secrets; false with a warning.
    bool startNode(ServerProcess &node, const QString &name);
    static QList<qint64> emitMany(HttpClient &api, const QString &room, int n);
    // Joins `room` on `node` with `since` (-1: none): the ids replayed before `joined`.
    static std::unique_ptr<WsClient> joinSince(const ServerProcess &node, HttpClient &api,
                                               const QString &room, qint64 since,
                                               QList<qint64> *replayed, QJsonObject *joined);

    RedisServerProcess m_redis;
    const QByteArray m_apiKey = "cluster-key-" + uniqueName(u"k"_s).toLatin1();
    const QByteArray m_secret = "cluster-secret-" + uniqueName(u"s"_s).toLatin1();
};

void TestClusterRecovery::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.lastError()));
}

bool TestClusterRecovery::startNode(ServerProcess &node, const QString &name)
{
    ServerProcess::Options options;
    options.defaultSecrets = false;
    node.setOptions(options);
    node.setApiKey(m_apiKey);
    const QStringList args{u"--log-level"_s,  u"warning"_s,
                           u"--api-key"_s,    QString::fromLatin1(m_apiKey),
                           u"--jwt-secret"_s, QString::fromLatin1(m_secret),
                           u"--redis"_s,      m_redis.url(),
                           u"--node-name"_s,  name};
    if (!node.start(args)) {
        qWarning("node %s: %s", qPrintable(name), qPrintable(node.lastError()));
        return false;
    }
    // Emits are refused until the node has joined the cluster.
    auto api = node.client();
    const bool joined = waitUntil([&] { return api->get("/api/health").status == 200; }, 10000);
    if (!joined)
        qWarning("node %s did not join: %s", qPrintable(name), qPrintable(node.output()));
    return joined;
}

QList<qint64> TestClusterRecovery::emitMany(HttpClient &api, const QString &room, int n)
{
    QList<qint64> ids;
    for (int i = 0; i < n; ++i) {
        const HttpResponse r = api.postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"E"_s}, {u"data"_s, i}});
        if (r.status != 200) {
            qWarning("emit: %d %s", r.status, r.body.constData());
            return {};
        }
        ids << r.object().value(u"id"_s).toInteger();
    }
    return ids;
}

std::unique_ptr<WsClient> TestClusterRecovery::joinSince(const ServerProcess &node, HttpClient &api,
                                                         const QString &room, qint64 since,
                                                         QList<qint64> *replayed,
                                                         QJsonObject *joined)
{
    const QByteArray token = registerToken(api, room, uniqueName(u"u"_s), u"s1"_s);
    if (token.isEmpty())
        return nullptr;
    auto client = std::make_unique<WsClient>();
    if (!client->open(node.wsUrl(u"/ws"_s)))
        return nullptr;
    *joined = client->join(token, since, 15000);
    const qint64 lastId = joined->value(u"last_id"_s).toInteger();
    replayed->clear();
    for (const WsFrame &f : client->frames()) {
        const qint64 id = f.object.value(u"id"_s).toInteger();
        if (f.type() == u"event" && id <= lastId)
            replayed->append(id);
    }
    return client;
}

void TestClusterRecovery::rejoinOnAnotherNode()
{
    ServerProcess a;
    ServerProcess b;
    QVERIFY(startNode(a, u"a"_s));
    QVERIFY(startNode(b, u"b"_s));
    auto apiA = a.client();
    auto apiB = b.client();
    const QString room = uniqueName(u"crec:rejoin"_s);

    // A client on A sees events 1..N, then goes.
    QList<qint64> none;
    QJsonObject joined;
    auto client = joinSince(a, *apiA, room, -1, &none, &joined);
    QVERIFY(client);
    QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
    const QList<qint64> seen = emitMany(*apiA, room, 5);
    QCOMPARE(seen.size(), 5);
    QVERIFY(waitUntil([&] { return client->count(u"event"_s) == 5; }, 5000));
    const qint64 lastSeen = client->take(u"event"_s).last().object.value(u"id"_s).toInteger();
    QCOMPARE(lastSeen, seen.last());
    client->close();
    client.reset();

    // More events, accepted by both nodes and another room in between.
    QList<qint64> missed = emitMany(*apiB, room, 3);
    QCOMPARE(emitMany(*apiA, uniqueName(u"crec:other"_s), 2).size(), 2);
    missed += emitMany(*apiA, room, 3);
    QCOMPARE(missed.size(), 6);

    // It rejoins on B: exactly what it missed, in order, then joined.
    QList<qint64> replayed;
    auto again = joinSince(b, *apiB, room, lastSeen, &replayed, &joined);
    QVERIFY(again);
    QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
    QCOMPARE(joined.value(u"last_id"_s).toInteger(), missed.last());
    QCOMPARE(replayed, missed);
    const QList<WsFrame> events = again->take(u"event"_s);
    QCOMPARE(events.size(), missed.size());
    QCOMPARE(events.first().object.value(u"room"_s).toString(), room);
    QCOMPARE(events.first().object.value(u"data"_s).toInteger(), 0);
    QCOMPARE(events.last().object.value(u"data"_s).toInteger(), 2);

    // Live events follow on B.
    const QList<qint64> live = emitMany(*apiA, room, 1);
    QCOMPARE(live.size(), 1);
    QCOMPARE(again->waitForFrame(u"event"_s).value(u"id"_s).toInteger(), live.first());
    QCOMPARE(b.stop(), 0);
    QCOMPARE(a.stop(), 0);
}

void TestClusterRecovery::nodeStartedAfterTheEvents()
{
    ServerProcess a;
    QVERIFY(startNode(a, u"a2"_s));
    auto apiA = a.client();
    const QString room = uniqueName(u"crec:later"_s);
    const QList<qint64> ids = emitMany(*apiA, room, 6);
    QCOMPARE(ids.size(), 6);

    // C starts now: its memory and its own (SQLite) log hold none of these events.
    ServerProcess c;
    QVERIFY(startNode(c, u"c2"_s));
    auto apiC = c.client();
    QList<qint64> replayed;
    QJsonObject joined;
    auto client = joinSince(c, *apiC, room, ids.at(1), &replayed, &joined);
    QVERIFY(client);
    QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
    QCOMPARE(joined.value(u"last_id"_s).toInteger(), ids.last());
    QCOMPARE(replayed, ids.mid(2));

    // A join with no since learns the room's latest id from Redis too.
    QList<qint64> none;
    QJsonObject plain;
    auto other = joinSince(c, *apiC, room, -1, &none, &plain);
    QVERIFY(other);
    QCOMPARE(plain.value(u"last_id"_s).toInteger(), ids.last());
    QVERIFY(none.isEmpty());

    QCOMPARE(c.stop(), 0);
    QCOMPARE(a.stop(), 0);
}

QTEST_GUILESS_MAIN(TestClusterRecovery)
#include "tst_cluster_recovery.moc"
