// Revocation, presence and the admin stream of a cluster (see tst_cluster_views.cpp).

#include "tst_cluster_views.h"

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QTest>

using namespace Qt::StringLiterals;

// Members of (room, U, S) on n1 and n3, unregister on n2: both leave, the old token is refused
// on every node (also on n4, started after the unregister), a token registered afterwards works.
void TestClusterViews::unregisterRevokesOnEveryNode()
{
    QVERIFY(startCluster(3));
    const QString room = uniqueName(u"revoke"_s);
    const QByteArray old = registerToken(m_cluster->api(1), room, u"U"_s, u"S"_s);
    QVERIFY(!old.isEmpty());
    QJsonObject answer;
    auto onA = joinWith(0, old, &answer);
    QVERIFY2(onA && answer.value(u"type"_s).toString() == u"joined", qPrintable(compact(answer)));
    auto onC = joinWith(2, old, &answer);
    QVERIFY2(onC && answer.value(u"type"_s).toString() == u"joined", qPrintable(compact(answer)));
    // Another session of the same user stays.
    auto bystander = m_cluster->member(1, room, u"U"_s, u"S2"_s);
    QVERIFY(bystander);

    const HttpResponse r = m_cluster->api(1).postJson(
            "/api/unregister", {{u"room"_s, room}, {u"user"_s, u"U"_s}, {u"session"_s, u"S"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"removed"_s).toInt(), 2);
    // At once, most likely in the second of the unregister, on another node.
    const QByteArray fresh = registerToken(m_cluster->api(0), room, u"U"_s, u"S"_s);
    QVERIFY(!fresh.isEmpty());

    for (WsClient *c : {onA.get(), onC.get()}) {
        const QJsonObject left = c->waitForFrame(u"left"_s);
        QCOMPARE(left.value(u"room"_s).toString(), room);
        QCOMPARE(left.value(u"reason"_s).toString(), u"revoked"_s);
    }
    QVERIFY(nextEventIsSentinel(m_cluster->api(2), *bystander, room));
    QVERIFY(onA->noFrameWithin(100, u"event"_s) && onC->noFrameWithin(0, u"event"_s));

    // The old token: refused on the connections it was on, and on a new one on every node.
    for (WsClient *c : {onA.get(), onC.get()}) {
        const QJsonObject again = c->join(old);
        QVERIFY2(again.value(u"code"_s).toString() == u"revoked", qPrintable(compact(again)));
    }
    for (int i = 0; i < 3; ++i) {
        auto c = joinWith(i, old, &answer);
        QVERIFY(c);
        QVERIFY2(answer.value(u"code"_s).toString() == u"revoked",
                 qPrintable(ClusterFixture::nodeName(i) % u": "_s % compact(answer)));
    }
    // n4 starts after the unregister: it knows the revocation too.
    QString why;
    QVERIFY2(m_cluster->startNodes(1, &why), qPrintable(why));
    auto onD = joinWith(3, old, &answer);
    QVERIFY(onD);
    QVERIFY2(answer.value(u"code"_s).toString() == u"revoked",
             qPrintable(u"n4: "_s % compact(answer)));

    // Tokens registered after the unregister work, on every node.
    const QByteArray later = registerToken(m_cluster->api(3), room, u"U"_s, u"S"_s);
    QVERIFY(!later.isEmpty());
    std::vector<std::unique_ptr<WsClient>> rejoined;
    for (int i = 0; i < 4; ++i) {
        for (const QByteArray &token : {fresh, later}) {
            rejoined.push_back(joinWith(i, token, &answer));
            QVERIFY2(answer.value(u"type"_s).toString() == u"joined",
                     qPrintable(ClusterFixture::nodeName(i) % u": "_s % compact(answer)));
        }
    }
    QCOMPARE(emitToRoom(m_cluster->api(3), room, u"back"_s), 9); // 8 rejoined + the bystander
}

QStringList TestClusterViews::presencePairs(WsClient &member, const QString &room)
{
    member.send({{u"type"_s, u"presence"_s}, {u"room"_s, room}});
    const QJsonObject p = member.waitForFrame(u"presence"_s);
    if (p.value(u"room"_s).toString() != room)
        return {u"<no presence frame>"_s};
    return pairsOf(p.value(u"members"_s).toArray());
}

void TestClusterViews::presenceIsClusterWide()
{
    QVERIFY(startCluster(3));
    const QString room = uniqueName(u"presence"_s);
    // n1: U1/S1, U4/S9 (a tab); n2: U2/S1, U1/S2; n3: U3/S1, U4/S9 (the same session's other
    // tab). Another room's member on n3 is no member of room.
    auto a = m_cluster->member(0, room, u"U1"_s, u"S1"_s);
    auto tab1 = m_cluster->member(0, room, u"U4"_s, u"S9"_s);
    auto b1 = m_cluster->member(1, room, u"U2"_s, u"S1"_s);
    auto b2 = m_cluster->member(1, room, u"U1"_s, u"S2"_s);
    auto c = m_cluster->member(2, room, u"U3"_s, u"S1"_s);
    auto tab2 = m_cluster->member(2, room, u"U4"_s, u"S9"_s);
    auto elsewhere = m_cluster->member(2, uniqueName(u"presence-other"_s), u"U5"_s, u"S1"_s);
    QVERIFY(a && tab1 && b1 && b2 && c && tab2 && elsewhere);

    const QStringList all{u"U1/S1"_s, u"U1/S2"_s, u"U2/S1"_s, u"U3/S1"_s, u"U4/S9"_s};
    for (WsClient *asking : {a.get(), b2.get(), tab2.get()})
        QCOMPARE(presencePairs(*asking, room), all);

    // Both tabs of U4/S9 gone from n1's side: n3's tab still holds the pair.
    tab1->close();
    QVERIFY(tab1->waitForDisconnected());
    spin(300);
    QCOMPARE(presencePairs(*a, room), all);

    m_cluster->killNode(2);
    QElapsedTimer sinceKill;
    sinceKill.start();
    const QStringList withoutN3{u"U1/S1"_s, u"U1/S2"_s, u"U2/S1"_s};
    QStringList seen;
    const bool dropped = waitUntil(
            [&] {
                seen = presencePairs(*a, room);
                return seen == withoutN3;
            },
            10000);
    QVERIFY2(dropped,
             qPrintable(u"10 s after kill -9 of n3, presence on n1: "_s % seen.join(u' ')));
    qInfo("n3's pairs gone from presence %lld ms after kill -9", sinceKill.elapsed());
    QCOMPARE(presencePairs(*b1, room), withoutN3);
}

bool TestClusterViews::readRecords(WsClient &admin, const QList<qint64> &ids,
                                   QHash<qint64, QString> *nodeOf)
{
    return waitUntil(
            [&] {
                for (const WsFrame &f : admin.take(u"messages"_s)) {
                    for (const QJsonValue &rec : f.object.value(u"records"_s).toArray())
                        nodeOf->insert(rec[u"id"_s].toInteger(),
                                       rec.toObject().contains(u"node"_s)
                                               ? rec[u"node"_s].toString()
                                               : u"<none>"_s);
                }
                return std::all_of(ids.begin(), ids.end(),
                                   [&](qint64 id) { return nodeOf->contains(id); });
            },
            5000);
}

void TestClusterViews::adminStreamShowsTheNodes()
{
    QVERIFY(startCluster(3));
    auto admin = std::make_unique<WsClient>();
    QVERIFY(admin->open(m_cluster->node(0).wsUrl(u"/admin"_s), 5000,
                        {{"X-API-Key", m_cluster->apiKey()}}));
    const QJsonObject snapshot = admin->waitForFrame(u"snapshot"_s);
    QVERIFY2(snapshot.value(u"nodes"_s).isArray(), qPrintable(compact(snapshot)));
    const QJsonArray nodes = snapshot.value(u"nodes"_s).toArray();
    QCOMPARE(valuesOf(nodes, u"node"_s), (QSet<QString>{u"n1"_s, u"n2"_s, u"n3"_s}));
    QCOMPARE(nodes.size(), 3);
    for (const QJsonValue &n : nodes) {
        QVERIFY2(n[u"number"_s].toInt() > 0, qPrintable(compact(n.toObject())));
        QVERIFY2(n[u"address"_s].toString().startsWith(u"127.0.0.1:"_s),
                 qPrintable(compact(n.toObject())));
        for (const QString &key : {u"connections"_s, u"rooms"_s, u"uptime_s"_s, u"last_seen_ms"_s})
            QVERIFY2(n[key].isDouble(), qPrintable(key));
    }

    QElapsedTimer timer;
    timer.start();
    const QJsonObject frame = admin->waitForFrame(u"nodes"_s, 2000);
    QVERIFY2(!frame.isEmpty(), "no nodes frame within 2 s of the snapshot");
    qInfo("nodes frame %lld ms after the snapshot", timer.elapsed());
    QCOMPARE(valuesOf(frame.value(u"nodes"_s).toArray(), u"node"_s),
             (QSet<QString>{u"n1"_s, u"n2"_s, u"n3"_s}));

    // Records carry the accepting node, whichever node that was.
    const QString room = uniqueName(u"adminnodes"_s);
    QHash<qint64, QString> expected;
    for (int i : {1, 0, 2}) {
        const HttpResponse r = m_cluster->api(i).postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"A"_s}});
        QCOMPARE(r.status, 200);
        expected.insert(r.object().value(u"id"_s).toInteger(), ClusterFixture::nodeName(i));
    }
    QHash<qint64, QString> got;
    QVERIFY2(readRecords(*admin, expected.keys(), &got), "not every record came in messages");
    for (auto it = expected.begin(); it != expected.end(); ++it)
        QCOMPARE(got.value(it.key()), it.value());
    // And another nodes frame keeps coming.
    QVERIFY(!admin->waitForFrame(u"nodes"_s, 2000).isEmpty());
}
