// Cluster mode from outside (docs/PROTOCOL.md, "Cluster: several nodes on Redis"): a real
// redis-server and several switchboardd nodes on it (ClusterFixture), real sockets on loopback.
// Emits accepted by any node reach every member on every node exactly once and in id order,
// `delivered` counts members on all nodes, every node's log holds every event, nodes list each
// other and forget a killed one, a wrong name or secret refuses to start, a Redis outage answers
// 503 and loses nothing, a Redis restarted empty continues ids and sends clients to recover.
//
// The load case sends SB_CLUSTER_EMITS emits in all (default 3000). The acceptance run:
//   cd build/release/tests/integration && SB_CLUSTER_EMITS=100000 QT_QPA_PLATFORM=offscreen
//   QT_NO_GLIB=1 ./tst_integration_cluster emitsReachEveryNodeExactlyOnceInOrder
// (one command line; 9 members receive 900,000 frames: about 13 s on 2 cores).

#include "tst_cluster.h"

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace Qt::StringLiterals;

void TestCluster::init()
{
    m_cluster = std::make_unique<ClusterFixture>();
}

void TestCluster::cleanup()
{
    if (QTest::currentTestFailed())
        m_cluster->printOutputs();
    m_cluster.reset();
}

bool TestCluster::startCluster(int nodes, bool persistentRedis)
{
    QString why;
    if (!m_cluster->startRedis(persistentRedis, &why) || !m_cluster->startNodes(nodes, &why)) {
        qWarning().noquote() << "cannot start the cluster:" << why;
        return false;
    }
    return true;
}

std::vector<Receiver> TestCluster::joinMembers(const QString &room, int perNode)
{
    std::vector<Receiver> out;
    for (int i = 0; i < m_cluster->size(); ++i) {
        for (int k = 0; k < perNode; ++k) {
            QString why;
            Receiver r;
            r.where = u"%1 member %2"_s.arg(ClusterFixture::nodeName(i)).arg(k);
            r.client = m_cluster->member(i, room, u"u%1-%2"_s.arg(i).arg(k), u"S"_s, false, &why);
            if (!r.client) {
                qWarning().noquote() << r.where << why;
                return {};
            }
            out.push_back(std::move(r));
        }
    }
    return out;
}

void TestCluster::verifyReceivedExactly(std::vector<Receiver> &receivers,
                                        const QList<qint64> &accepted)
{
    for (Receiver &r : receivers) {
        r.collect();
        QVERIFY2(r.problem.isEmpty(), qPrintable(r.problem));
        QVERIFY2(r.ids == accepted,
                 qPrintable(r.where % u" received "_s % describeIds(r.ids) % u"; accepted "_s
                            % describeIds(accepted)));
    }
}

void TestCluster::verifyReceivedWithDoubt(std::vector<Receiver> &receivers,
                                          const QList<qint64> &accepted, int inDoubt,
                                          QList<qint64> *delivered)
{
    const QSet<qint64> acceptedSet(accepted.cbegin(), accepted.cend());
    for (Receiver &r : receivers) {
        r.collect();
        QVERIFY2(r.problem.isEmpty(), qPrintable(r.problem));
        QVERIFY2(std::is_sorted(r.ids.cbegin(), r.ids.cend())
                         && std::adjacent_find(r.ids.cbegin(), r.ids.cend()) == r.ids.cend(),
                 qPrintable(r.where % u" received out of order or twice: "_s % describeIds(r.ids)));
        const QSet<qint64> got(r.ids.cbegin(), r.ids.cend());
        QVERIFY2(got.contains(acceptedSet),
                 qPrintable(r.where % u" lost accepted emits: received "_s % describeIds(r.ids)
                            % u"; accepted "_s % describeIds(accepted)));
        QVERIFY2(r.ids.size() - accepted.size() <= inDoubt,
                 qPrintable(r.where % u" received "_s % describeIds(r.ids) % u"; accepted "_s
                            % describeIds(accepted) % u" and %1 in doubt"_s.arg(inDoubt)));
        if (&r != &receivers.front())
            QVERIFY2(r.ids == receivers.front().ids,
                     qPrintable(r.where % u" received "_s % describeIds(r.ids) % u", "_s
                                % receivers.front().where % u" "_s
                                % describeIds(receivers.front().ids)));
    }
    *delivered = receivers.empty() ? accepted : receivers.front().ids;
}

qint64 TestCluster::emitExpecting(int on, const QByteArray &path, const QJsonObject &body,
                                  int delivered)
{
    const HttpResponse r = m_cluster->api(on).postJson(path, body);
    const int got = r.object().value(u"delivered"_s).toInt(-1);
    if (r.status != 200 || got != delivered) {
        qWarning().noquote() << path << "on" << ClusterFixture::nodeName(on) << "answered"
                             << r.describe() << "; expected delivered" << delivered;
        return -1;
    }
    return r.object().value(u"id"_s).toInteger();
}

bool TestCluster::receivedId(WsClient &client, qint64 id)
{
    const QJsonObject e = client.waitForFrame(u"event"_s);
    if (e.value(u"id"_s).toInteger() == id)
        return true;
    qWarning().noquote() << "expected event" << id << "got" << compact(e);
    return false;
}

QList<qint64> TestCluster::acceptedIds(const std::vector<std::unique_ptr<EmitStream>> &emitters)
{
    QList<qint64> all;
    for (const auto &e : emitters)
        all += e->ids;
    std::sort(all.begin(), all.end());
    if (std::adjacent_find(all.begin(), all.end()) != all.end())
        qWarning() << "an id was given twice";
    return all;
}

std::vector<std::unique_ptr<EmitStream>> TestCluster::emitters(const QString &room, int window)
{
    std::vector<std::unique_ptr<EmitStream>> out;
    for (int i = 0; i < m_cluster->size(); ++i) {
        out.push_back(std::make_unique<EmitStream>(m_cluster->node(i), room,
                                                   ClusterFixture::nodeName(i), window));
        if (!out.back()->connectTo())
            return {};
    }
    return out;
}

bool TestCluster::drive(std::vector<std::unique_ptr<EmitStream>> &emitters,
                        std::vector<Receiver> &receivers, const std::function<bool()> &pred,
                        int timeoutMs)
{
    return waitUntil(
            [&] {
                for (auto &e : emitters)
                    e->pump();
                allReceived(receivers, 0);
                return pred();
            },
            timeoutMs);
}

void TestCluster::emitsReachEveryNodeExactlyOnceInOrder()
{
    const int total = qEnvironmentVariableIsSet("SB_CLUSTER_EMITS")
            ? qEnvironmentVariableIntValue("SB_CLUSTER_EMITS")
            : 3000;
    QVERIFY(total > 0);
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"load"_s);
    std::vector<Receiver> receivers = joinMembers(room, 3);
    QCOMPARE(int(receivers.size()), 9);
    auto senders = emitters(room, 32);
    QCOMPARE(int(senders.size()), 3);
    for (int i = 0; i < 3; ++i)
        senders[size_t(i)]->setTotal(total / 3 + (i < total % 3 ? 1 : 0));

    QElapsedTimer timer;
    timer.start();
    const int timeoutMs = 60000 + total * 3;
    const auto allAnswered = [&] {
        return std::all_of(senders.begin(), senders.end(),
                           [](const auto &e) { return e->finished(); });
    };
    QVERIFY2(drive(senders, receivers, allAnswered, timeoutMs), "not every emit was answered");
    const qint64 answeredMs = timer.elapsed();
    for (const auto &e : senders) {
        QCOMPARE(e->others + e->unavailable + e->lost, 0);
    }
    const QList<qint64> accepted = acceptedIds(senders);
    QCOMPARE(accepted.size(), total);
    QVERIFY(std::adjacent_find(accepted.begin(), accepted.end()) == accepted.end());

    QVERIFY(drive(
            senders, receivers, [&] { return allReceived(receivers, total); }, timeoutMs));
    verifyReceivedExactly(receivers, accepted);
    qInfo("%d emits from 3 nodes to 9 members on 3 nodes: answered in %lld ms, all received in "
          "%lld ms",
          total, answeredMs, timer.elapsed());
}

void TestCluster::deliveredCountsMembersOnAllNodes()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"count"_s);
    const QString other = uniqueName(u"other"_s);
    // room: a1, a2 (user A) on n1, b on n2, the publisher p on n3; other: a3 (user A) on n2.
    auto a1 = m_cluster->member(0, room, u"A"_s, u"s1"_s);
    auto a2 = m_cluster->member(0, room, u"A"_s, u"s2"_s);
    auto b = m_cluster->member(1, room, u"B"_s, u"s"_s);
    auto p = m_cluster->member(2, room, u"P"_s, u"s"_s, true);
    auto a3 = m_cluster->member(1, other, u"A"_s, u"s3"_s);
    QVERIFY(a1 && a2 && b && p && a3);

    const qint64 toRoom =
            emitExpecting(2, "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"R"_s}}, 4);
    QVERIFY(toRoom > 0);
    for (WsClient *c : {a1.get(), a2.get(), b.get(), p.get()})
        QVERIFY(receivedId(*c, toRoom));

    const qint64 toUser =
            emitExpecting(1, "/api/emit/user", {{u"user"_s, u"A"_s}, {u"event"_s, u"U"_s}}, 3);
    QVERIFY(toUser > toRoom);
    for (WsClient *c : {a1.get(), a2.get(), a3.get()})
        QVERIFY(receivedId(*c, toUser));

    const qint64 toAll = emitExpecting(0, "/api/emit/all", {{u"event"_s, u"A"_s}}, 5);
    QVERIFY(toAll > toUser);
    for (WsClient *c : {a1.get(), a2.get(), b.get(), p.get(), a3.get()})
        QVERIFY(receivedId(*c, toAll));

    const QString bId = connectionIdForPort(m_cluster->api(1), b->localPort());
    QVERIFY(!bId.isEmpty());
    const qint64 toConn = emitExpecting(2, "/api/emit/connection",
                                        {{u"connection"_s, bId}, {u"event"_s, u"C"_s}}, 1);
    QVERIFY(toConn > toAll);
    QVERIFY(receivedId(*b, toConn));

    // A client emit frame reaches the other members (3), not its sender.
    p->send({{u"type"_s, u"emit"_s}, {u"room"_s, room}, {u"event"_s, u"fromP"_s}});
    const QJsonObject fromP = a1->waitForFrame(u"event"_s);
    QCOMPARE(fromP.value(u"event"_s).toString(), u"fromP"_s);
    const qint64 fromPId = fromP.value(u"id"_s).toInteger();
    QVERIFY(receivedId(*a2, fromPId) && receivedId(*b, fromPId));
    QVERIFY(nextEventIsSentinel(m_cluster->api(2), *p, room));
    QVERIFY(a3->noFrameWithin(200, u"event"_s));
    for (int i = 0; i < 3; ++i) {
        QJsonArray records;
        QVERIFY(waitUntil(
                [&] {
                    records = m_cluster->api(i)
                                      .get("/api/log?event=fromP")
                                      .object()
                                      .value(u"records"_s)
                                      .toArray();
                    return !records.isEmpty();
                },
                5000));
        const QJsonObject rec = records.first().toObject();
        QCOMPARE(rec.value(u"id"_s).toInteger(), fromPId);
        QCOMPARE(rec.value(u"delivered"_s).toInt(), 3);
    }
}

// A member whose `joined` came before an emit was sent is counted by that emit, whichever node
// the member and the emit are on (as on one server).
void TestCluster::deliveredCountsAMemberJustJoinedOnAnotherNode()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"justjoined"_s);
    std::vector<std::unique_ptr<WsClient>> members;
    QStringList miscounted;
    for (int k = 0; k < 30; ++k) {
        members.push_back(m_cluster->member(k % 3, room, u"U%1"_s.arg(k), u"S"_s));
        QVERIFY(members.back());
        const HttpResponse r =
                m_cluster->api((k + 1) % 3)
                        .postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"J"_s}});
        QCOMPARE(r.status, 200);
        if (r.object().value(u"delivered"_s).toInt() != k + 1)
            miscounted << u"member %1 joined on n%2, emit on n%3: delivered %4"_s.arg(k + 1)
                                  .arg(k % 3 + 1)
                                  .arg((k + 1) % 3 + 1)
                                  .arg(r.object().value(u"delivered"_s).toInt());
        for (auto &m : members)
            QCOMPARE(m->waitForFrame(u"event"_s).value(u"id"_s).toInteger(),
                     r.object().value(u"id"_s).toInteger());
    }
    QVERIFY2(miscounted.isEmpty(), qPrintable(miscounted.join(u"; "_s)));
}

void TestCluster::connectionIdsNameTheNode()
{
    QVERIFY(startCluster(3, false));
    QHash<QString, int> numbers;
    for (const QJsonValue &v : nodesList(m_cluster->api(0)))
        numbers.insert(v[u"node"_s].toString(), v[u"number"_s].toInt());
    QCOMPARE(numbers.size(), 3);
    const QList<int> distinct = numbers.values();
    QCOMPARE(QSet<int>(distinct.begin(), distinct.end()).size(), 3);

    static const QRegularExpression shape(u"^n(\\d+)\\.c(\\d+)$"_s);
    for (int i = 0; i < 3; ++i) {
        const QString room = uniqueName(u"ids"_s);
        auto first = m_cluster->member(i, room, u"U"_s, u"s1"_s);
        auto second = m_cluster->member(i, room, u"U"_s, u"s2"_s);
        QVERIFY(first && second);
        QStringList ids;
        for (WsClient *c : {first.get(), second.get()}) {
            const QString id = connectionIdForPort(m_cluster->api(i), c->localPort());
            const auto m = shape.match(id);
            QVERIFY2(m.hasMatch(), qPrintable(u"connection id "_s % id));
            QCOMPARE(m.captured(1).toInt(), numbers.value(ClusterFixture::nodeName(i)));
            ids << id;
        }
        QVERIFY(ids[0] != ids[1]);
    }
}

void TestCluster::emitToConnectionOnAnotherNode()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"conn"_s);
    auto onA = m_cluster->member(0, room, u"A"_s, u"s"_s);
    auto alsoA = m_cluster->member(0, room, u"A2"_s, u"s"_s);
    QVERIFY(onA && alsoA);
    const QString id = connectionIdForPort(m_cluster->api(0), onA->localPort());
    QVERIFY(!id.isEmpty());

    const qint64 sent =
            emitExpecting(2, "/api/emit/connection",
                          {{u"connection"_s, id}, {u"event"_s, u"direct"_s}, {u"data"_s, 7}}, 1);
    QVERIFY(sent > 0);
    const QJsonObject e = onA->waitForFrame(u"event"_s);
    QCOMPARE(e.value(u"id"_s).toInteger(), sent);
    QCOMPARE(e.value(u"event"_s).toString(), u"direct"_s);
    QCOMPARE(e.value(u"data"_s).toInt(), 7);
    QVERIFY(!e.contains(u"room"_s));
    QVERIFY(nextEventIsSentinel(m_cluster->api(1), *alsoA, room)); // not to the other member

    for (const QString &unknown : {u"n1.c999999"_s, u"n99.c1"_s, u"c1"_s}) {
        QVERIFY(emitExpecting(2, "/api/emit/connection",
                              {{u"connection"_s, unknown}, {u"event"_s, u"nobody"_s}}, 0)
                > sent);
    }
    QVERIFY(nextEventIsSentinel(m_cluster->api(1), *onA, room));
}

void TestCluster::emitThirty(const QString &room, QHash<qint64, QJsonObject> *answers)
{
    for (int k = 0; k < 30; ++k) {
        const int on = k % 3;
        const QJsonObject body = on == 0 ? QJsonObject{{u"room"_s, room}, {u"event"_s, u"L"_s}}
                : on == 1                ? QJsonObject{{u"user"_s, u"u0-0"_s}, {u"event"_s, u"L"_s}}
                                         : QJsonObject{{u"event"_s, u"L"_s}};
        const QByteArray path = on == 0 ? "/api/emit/room"
                : on == 1               ? "/api/emit/user"
                                        : "/api/emit/all";
        const HttpResponse r = m_cluster->api(on).postJson(path, body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.object().value(u"delivered"_s).toInt(), on == 1 ? 1 : 3);
        answers->insert(r.object().value(u"id"_s).toInteger(),
                        {{u"node"_s, ClusterFixture::nodeName(on)},
                         {u"target"_s, QString::fromLatin1(path.mid(10))},
                         {u"delivered"_s, r.object().value(u"delivered"_s)}});
    }
}

void TestCluster::verifyLogIds(int i, const QList<qint64> &expected, QJsonArray *records)
{
    QVERIFY2(waitUntil(
                     [&] {
                         *records = allLogRecords(m_cluster->api(i));
                         return idsOf(*records) == expected;
                     },
                     10000),
             qPrintable(ClusterFixture::nodeName(i) % u" logged "_s % describeIds(idsOf(*records))
                        % u"; expected "_s % describeIds(expected)));
}

void TestCluster::logOnEveryNodeHoldsEveryEvent()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"log"_s);
    std::vector<Receiver> members = joinMembers(room, 1);
    QCOMPARE(int(members.size()), 3);
    QHash<qint64, QJsonObject> answers;
    emitThirty(room, &answers);
    if (QTest::currentTestFailed())
        return;
    QList<qint64> expected = answers.keys();
    std::sort(expected.begin(), expected.end());
    for (int i = 0; i < 3; ++i) {
        QJsonArray records;
        verifyLogIds(i, expected, &records);
        if (QTest::currentTestFailed())
            return;
        for (const QJsonValue &v : records) {
            const QJsonObject answer = answers.value(v[u"id"_s].toInteger());
            QCOMPARE(v[u"target"_s].toString(), answer.value(u"target"_s).toString());
            QCOMPARE(v[u"delivered"_s].toInt(), answer.value(u"delivered"_s).toInt());
            QCOMPARE(v[u"source"_s].toString(), u"rest"_s);
            QCOMPARE(v[u"event"_s].toString(), u"L"_s);
        }
    }
}

void TestCluster::logRecordsNameTheAcceptingNode()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"lognode"_s);
    std::vector<Receiver> members = joinMembers(room, 1);
    QCOMPARE(int(members.size()), 3);
    QHash<qint64, QJsonObject> answers;
    emitThirty(room, &answers);
    if (QTest::currentTestFailed())
        return;
    QList<qint64> expected = answers.keys();
    std::sort(expected.begin(), expected.end());
    for (int i = 0; i < 3; ++i) {
        QJsonArray records;
        verifyLogIds(i, expected, &records);
        if (QTest::currentTestFailed())
            return;
        for (const QJsonValue &v : records) {
            QVERIFY2(v[u"node"_s].toString()
                             == answers.value(v[u"id"_s].toInteger()).value(u"node"_s).toString(),
                     qPrintable(ClusterFixture::nodeName(i) % u" logged "_s
                                % compact(v.toObject())));
        }
    }
}

void TestCluster::nodesListAndKillMinus9()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"kill"_s);
    std::vector<Receiver> members = joinMembers(room, 1);
    QCOMPARE(int(members.size()), 3);
    const QString version = m_cluster->node(0)
                                    .client(false)
                                    ->get("/api/health")
                                    .object()
                                    .value(u"version"_s)
                                    .toString();
    const QJsonArray nodes = nodesList(m_cluster->api(1));
    QCOMPARE(nodes.size(), 3);
    for (int i = 0; i < 3; ++i) {
        const auto it = std::find_if(nodes.begin(), nodes.end(), [&](const QJsonValue &v) {
            return v[u"node"_s].toString() == ClusterFixture::nodeName(i);
        });
        QVERIFY(it != nodes.end());
        const QJsonObject n = (*it).toObject();
        QCOMPARE(n.value(u"address"_s).toString(),
                 u"127.0.0.1:%1"_s.arg(m_cluster->node(i).port()));
        QCOMPARE(n.value(u"version"_s).toString(), version);
        QVERIFY(n.value(u"number"_s).toInt() > 0);
        for (const QString &key : {u"connections"_s, u"rooms"_s, u"uptime_s"_s, u"last_seen_ms"_s})
            QVERIFY2(n.value(key).isDouble(), qPrintable(key));
    }
    QCOMPARE(stats(m_cluster->api(2)).value(u"nodes"_s).toInt(), 3);
    const QJsonObject health = m_cluster->node(0).client(false)->get("/api/health").object();
    QCOMPARE(health.value(u"cluster"_s)[u"nodes"_s].toInt(), 3);
    QCOMPARE(health.value(u"cluster"_s)[u"redis"_s].toString(), u"up"_s);
    QCOMPARE(emitToRoom(m_cluster->api(0), room, u"before"_s), 3);

    m_cluster->killNode(2);
    QElapsedTimer sinceKill;
    sinceKill.start();
    // Each node sees it at its own next heartbeat (every second): within 10 s on both.
    for (int i : {0, 1}) {
        QTRY_COMPARE_WITH_TIMEOUT(nodesList(m_cluster->api(i)).size(), 2,
                                  10000 - int(sinceKill.elapsed()));
        for (const QJsonValue &v : nodesList(m_cluster->api(i)))
            QVERIFY(v[u"node"_s].toString() != u"n3");
    }
    const int gone = int(sinceKill.elapsed());
    QTRY_COMPARE_WITH_TIMEOUT(emitToRoom(m_cluster->api(1), room, u"after"_s), 2,
                              10000 - int(sinceKill.elapsed()));
    QCOMPARE(stats(m_cluster->api(0)).value(u"nodes"_s).toInt(), 2);
    qInfo("n3 gone from /api/nodes %d ms after kill -9, from delivered after %lld ms", gone,
          sinceKill.elapsed());
}

void TestCluster::sameNameOrOtherSecretRefusesToStart_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("otherSecret");
    QTest::addColumn<QString>("named");
    QTest::newRow("same name") << u"n1"_s << false << u"node_name"_s;
    QTest::newRow("other secret") << u"n9"_s << true << u"jwt_secret"_s;
}

void TestCluster::sameNameOrOtherSecretRefusesToStart()
{
    QFETCH(QString, name);
    QFETCH(bool, otherSecret);
    QFETCH(QString, named);
    QVERIFY(startCluster(1, false));
    QTemporaryDir dataDir;
    const QByteArray secret = otherSecret ? "another-secret-entirely" : m_cluster->jwtSecret();
    const QStringList args =
            QStringList{u"--listen"_s,     u"127.0.0.1:0"_s,
                        u"--data-dir"_s,   dataDir.path(),
                        u"--api-key"_s,    QString::fromLatin1(m_cluster->apiKey()),
                        u"--jwt-secret"_s, QString::fromLatin1(secret)}
            + m_cluster->nodeArgs(name);
    const ServerProcess::RunResult run = ServerProcess::run(args, {}, 20000);
    QVERIFY2(!run.timedOut && !run.crashed, qPrintable(run.output));
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.output.contains(named), qPrintable(run.output));
    // The refused node never joined: the cluster is still the one node.
    const QJsonArray nodes = nodesList(m_cluster->api(0));
    QCOMPARE(nodes.size(), 1);
    QCOMPARE(nodes.first()[u"node"_s].toString(), u"n1"_s);
}

QTEST_GUILESS_MAIN(TestCluster)
