// The cluster as one server from outside (docs/PROTOCOL.md, "Cluster: several nodes on Redis":
// "Presence, tokens, revocation", "Emits", "Admin stream and console", "Metrics"): a real
// redis-server and three switchboardd nodes (ClusterFixture).
//  - tst_cluster_views.cpp: /api/connections/{id} (GET, send, DELETE) on any node for a
//    connection on another; /api/connections, /api/rooms, /api/rooms/{room}, /api/stats,
//    /api/health and /metrics answer for the whole cluster.
//  - tst_cluster_presence.cpp: unregister on one node revokes on every node (also one started
//    later); the presence frame lists the pairs of every node and forgets a killed node's;
//    the admin stream shows the nodes and the accepting node of each record.

#include "tst_cluster_views.h"

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QJsonDocument>
#include <QTest>
#include <QUrl>

using namespace Qt::StringLiterals;

QStringList pairsOf(const QJsonArray &members)
{
    QStringList out;
    for (const QJsonValue &v : members)
        out << v[u"user"_s].toString() % u'/' % v[u"session"_s].toString();
    out.sort();
    return out;
}

QSet<QString> valuesOf(const QJsonArray &array, const QString &key)
{
    QSet<QString> out;
    for (const QJsonValue &v : array)
        out.insert(v[key].toString());
    return out;
}

void TestClusterViews::init()
{
    m_cluster = std::make_unique<ClusterFixture>();
}

void TestClusterViews::cleanup()
{
    if (QTest::currentTestFailed())
        m_cluster->printOutputs();
    // A clean exit of every node that is still up, without a sanitizer report (ASan build).
    QString problems;
    const bool clean = m_cluster->stopNodes(&problems);
    m_cluster.reset();
    QVERIFY2(clean, qPrintable(problems));
}

bool TestClusterViews::startCluster(int nodes)
{
    QString why;
    if (!m_cluster->startRedis(false, &why) || !m_cluster->startNodes(nodes, &why)) {
        qWarning().noquote() << "cannot start the cluster:" << why;
        return false;
    }
    return true;
}

std::unique_ptr<WsClient> TestClusterViews::joinWith(int on, const QByteArray &token,
                                                     QJsonObject *answer)
{
    auto client = std::make_unique<WsClient>();
    if (!client->open(m_cluster->node(on).wsUrl(u"/ws"_s))) {
        qWarning().noquote() << "cannot open /ws on" << ClusterFixture::nodeName(on)
                             << client->errorString();
        return nullptr;
    }
    *answer = client->join(token);
    return client;
}

QString TestClusterViews::connectionOf(int on, const WsClient &client)
{
    const QString suffix = u":"_s % QString::number(client.localPort());
    const QJsonArray list = m_cluster->api(on).get("/api/connections").array();
    for (const QJsonValue &v : list) {
        if (v[u"node"_s].toString() == ClusterFixture::nodeName(on)
            && v[u"remote"_s].toString().endsWith(suffix))
            return v[u"connection"_s].toString();
    }
    return {};
}

QJsonDocument TestClusterViews::getOk(int i, const QByteArray &path)
{
    const HttpResponse r = m_cluster->api(i).get(path);
    if (r.status != 200) {
        qWarning().noquote() << "GET" << path << "on" << ClusterFixture::nodeName(i)
                             << r.describe();
        return {};
    }
    return r.json();
}

void TestClusterViews::connectionCallsRouteToTheNode()
{
    QVERIFY(startCluster(3));
    const QString room = uniqueName(u"route"_s);
    // Five connections on each node, so that a plain c1..c5 would name one on every node.
    std::vector<std::unique_ptr<WsClient>> members;
    for (int k = 0; k < 15; ++k) {
        members.push_back(m_cluster->member(k % 3, room, u"U%1"_s.arg(k), u"S"_s));
        QVERIFY(members.back());
    }
    WsClient &onA = *members[0];
    const QString id = connectionOf(0, onA);
    QVERIFY2(id.startsWith(u"n"_s), qPrintable(id));
    const QByteArray path = "/api/connections/" + id.toUtf8();

    for (int i : {1, 2}) {
        const HttpResponse r = m_cluster->api(i).get(path);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const QJsonObject c = r.object();
        QCOMPARE(c.value(u"connection"_s).toString(), id);
        QCOMPARE(c.value(u"node"_s).toString(), u"n1"_s);
        QCOMPARE(c.value(u"user"_s).toString(), u"U0"_s);
        QCOMPARE(c.value(u"session"_s).toString(), u"S"_s);
        QVERIFY2(c.value(u"rooms"_s).toArray().contains(room), qPrintable(compact(c)));
    }

    // send on C: the text as one text frame, exactly, to the client on A.
    const QString raw = u"operator says {not json} \u00e9"_s;
    HttpResponse r = m_cluster->api(2).postJson(path + "/send", {{u"text"_s, raw}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"sent"_s).toBool(), true);
    WsFrame frame;
    QVERIFY2(onA.waitForAny(&frame), "the sent text did not arrive");
    QCOMPARE(frame.text, raw);
    QVERIFY(!frame.isBinary);

    // DELETE on C closes it on A with 4000; then it is gone everywhere.
    r = m_cluster->api(2).del(path);
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"closed"_s).toBool(), true);
    QVERIFY(onA.waitForDisconnected(5000));
    QCOMPARE(onA.closeCode(), 4000);
    QTRY_COMPARE_WITH_TIMEOUT(m_cluster->api(1).get(path).status, 404, 3000);
    QCOMPARE(m_cluster->api(0).get(path).status, 404);
    QVERIFY(members[1]->isConnected()); // only that one was closed

    QStringList unknown{u"n1.c999999"_s, u"n99.c1"_s, u"c1"_s, u"c5"_s, id};
    for (const QString &bad : unknown) {
        const QByteArray p = "/api/connections/" + bad.toUtf8();
        for (int i = 0; i < 3; ++i) {
            QVERIFY2(m_cluster->api(i).get(p).status == 404,
                     qPrintable(u"GET "_s % bad % u" on n"_s % QString::number(i + 1)));
            QVERIFY2(m_cluster->api(i).postJson(p + "/send", {{u"text"_s, u"x"_s}}).status == 404,
                     qPrintable(u"send "_s % bad % u" on n"_s % QString::number(i + 1)));
            QVERIFY2(m_cluster->api(i).del(p).status == 404,
                     qPrintable(u"DELETE "_s % bad % u" on n"_s % QString::number(i + 1)));
        }
    }
    for (size_t k = 1; k < members.size(); ++k)
        QVERIFY2(members[k]->isConnected() && members[k]->count() == 0,
                 qPrintable(u"member %1"_s.arg(k)));
}

void TestClusterViews::verifyConnections(int i, const QString &room, const QString &other)
{
    const QJsonArray all = getOk(i, "/api/connections").array();
    QCOMPARE(all.size(), 5);
    QHash<QString, int> perNode;
    QHash<QString, int> numbers;
    for (const QJsonValue &n : nodesList(m_cluster->api(i)))
        numbers.insert(n[u"node"_s].toString(), n[u"number"_s].toInt());
    for (const QJsonValue &v : all) {
        const QString node = v[u"node"_s].toString();
        ++perNode[node];
        QVERIFY2(v[u"connection"_s].toString().startsWith(u"n%1.c"_s.arg(numbers.value(node))),
                 qPrintable(compact(v.toObject())));
    }
    QCOMPARE(perNode, (QHash<QString, int>{{u"n1"_s, 2}, {u"n2"_s, 1}, {u"n3"_s, 2}}));

    const QJsonArray inRoom =
            getOk(i, "/api/connections?room=" + QUrl::toPercentEncoding(room)).array();
    QCOMPARE(inRoom.size(), 4);
    for (const QJsonValue &v : inRoom)
        QVERIFY(v[u"rooms"_s].toArray().contains(room));
    const QJsonArray ofU1 = getOk(i, "/api/connections?user=U1").array();
    QCOMPARE(valuesOf(ofU1, u"node"_s), (QSet<QString>{u"n1"_s, u"n2"_s, u"n3"_s}));
    QCOMPARE(ofU1.size(), 3);
    const QJsonArray both =
            getOk(i, "/api/connections?user=U1&room=" + QUrl::toPercentEncoding(other)).array();
    QCOMPARE(both.size(), 1);
    QCOMPARE(both[0][u"node"_s].toString(), u"n3"_s);
}

void TestClusterViews::verifyRooms(int i, const QString &room, const QString &other)
{
    const QJsonArray rooms = getOk(i, "/api/rooms").array();
    QCOMPARE(rooms.size(), 2);
    for (const QJsonValue &v : rooms) {
        const bool isRoom = v[u"room"_s].toString() == room;
        QVERIFY(isRoom || v[u"room"_s].toString() == other);
        QVERIFY2(v[u"connections"_s].toInt() == (isRoom ? 4 : 1),
                 qPrintable(compact(v.toObject())));
        // U1 is in room on n1 and n2: one user.
        QVERIFY2(v[u"users"_s].toInt() == (isRoom ? 3 : 1), qPrintable(compact(v.toObject())));
    }
    const QJsonObject members = getOk(i, "/api/rooms/" + QUrl::toPercentEncoding(room)).object();
    QCOMPARE(members.value(u"room"_s).toString(), room);
    QStringList seen;
    for (const QJsonValue &m : members.value(u"members"_s).toArray()) {
        QVERIFY(m[u"connection"_s].toString().startsWith(u"n"_s));
        seen << m[u"node"_s].toString() % u':' % m[u"user"_s].toString() % u'/'
                        % m[u"session"_s].toString();
    }
    seen.sort();
    QCOMPARE(seen, (QStringList{u"n1:U1/S1"_s, u"n1:U2/S1"_s, u"n2:U1/S2"_s, u"n3:U3/S1"_s}));
    QCOMPARE(m_cluster->api(i)
                     .get("/api/rooms/" + QUrl::toPercentEncoding(room + u"-none"_s))
                     .status,
             404);
}

void TestClusterViews::verifyStatsAndHealth(int i)
{
    const QJsonObject s = stats(m_cluster->api(i));
    QVERIFY2(s.value(u"connections"_s).toInt() == 5, qPrintable(compact(s)));
    QVERIFY2(s.value(u"rooms"_s).toInt() == 2, qPrintable(compact(s)));
    QVERIFY2(s.value(u"users"_s).toInt() == 3, qPrintable(compact(s)));
    QVERIFY2(s.value(u"nodes"_s).toInt() == 3, qPrintable(compact(s)));
    const HttpResponse h = m_cluster->node(i).client(false)->get("/api/health");
    QCOMPARE(h.status, 200);
    const QJsonObject cluster = h.object().value(u"cluster"_s).toObject();
    QVERIFY2(cluster.value(u"redis"_s).toString() == u"up", qPrintable(compact(h.object())));
    QVERIFY2(cluster.value(u"nodes"_s).toInt() == 3, qPrintable(compact(h.object())));
    QCOMPARE(cluster.value(u"node"_s).toString(), ClusterFixture::nodeName(i));
}

// One emit was accepted by each node: here one local and two remote bus events.
void TestClusterViews::verifyMetrics(int i)
{
    HttpClient &api = m_cluster->api(i);
    QCOMPARE(metricValue(api, "switchboard_cluster_nodes"), 3.0);
    QCOMPARE(metricValue(api, "switchboard_redis_up"), 1.0);
    QVERIFY(metricValue(api, "switchboard_redis_command_seconds_count") > 0);
    QVERIFY(metricValue(api, "switchboard_redis_command_seconds_sum") >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(
            metricValue(api, "switchboard_cluster_events_total{origin=\"local\"}"), 1.0, 3000);
    QTRY_COMPARE_WITH_TIMEOUT(
            metricValue(api, "switchboard_cluster_events_total{origin=\"remote\"}"), 2.0, 3000);
}

void TestClusterViews::viewsAnswerForTheCluster()
{
    QVERIFY(startCluster(3));
    const QString room = uniqueName(u"views:room"_s);
    const QString other = uniqueName(u"views:other"_s);
    // room: U1/S1, U2/S1 on n1; U1/S2 on n2; U3/S1 on n3. other: U1/S3 on n3.
    auto a1 = m_cluster->member(0, room, u"U1"_s, u"S1"_s);
    auto a2 = m_cluster->member(0, room, u"U2"_s, u"S1"_s);
    auto b1 = m_cluster->member(1, room, u"U1"_s, u"S2"_s);
    auto c1 = m_cluster->member(2, room, u"U3"_s, u"S1"_s);
    auto c2 = m_cluster->member(2, other, u"U1"_s, u"S3"_s);
    QVERIFY(a1 && a2 && b1 && c1 && c2);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(emitToRoom(m_cluster->api(i), room, u"E%1"_s.arg(i)), 4);
        for (WsClient *c : {a1.get(), a2.get(), b1.get(), c1.get()})
            QVERIFY(!c->waitForFrame(u"event"_s).isEmpty());
    }
    for (int i = 0; i < 3; ++i) {
        verifyConnections(i, room, other);
        verifyRooms(i, room, other);
        verifyStatsAndHealth(i);
        verifyMetrics(i);
        if (QTest::currentTestFailed()) {
            qWarning().noquote() << "as node" << ClusterFixture::nodeName(i) << "sees it";
            return;
        }
    }
}

QTEST_GUILESS_MAIN(TestClusterViews)
