// The cluster's Redis lost (docs/PROTOCOL.md, "Cluster: several nodes on Redis", "Redis lost"):
// stopped under load and restarted with its data, then killed and restarted empty.

#include "tst_cluster.h"

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QTest>

#include <algorithm>

using namespace Qt::StringLiterals;

void TestCluster::verifyDegraded(int i)
{
    auto anonymous = m_cluster->node(i).client(false);
    QTRY_COMPARE_WITH_TIMEOUT(anonymous->get("/api/health").status, 503, 5000);
    const QJsonObject health = anonymous->get("/api/health").object();
    QCOMPARE(health.value(u"status"_s).toString(), u"degraded"_s);
    QCOMPARE(health.value(u"cluster"_s)[u"redis"_s].toString(), u"down"_s);
    QCOMPARE(anonymous->get("/api/health/live").status, 200);
}

void TestCluster::redisDownUnderLoad()
{
    QVERIFY(startCluster(3, true));
    const QString room = uniqueName(u"outage"_s);
    std::vector<Receiver> receivers = joinMembers(room, 2);
    QCOMPARE(int(receivers.size()), 6);
    auto senders = emitters(room, 8);
    QCOMPARE(int(senders.size()), 3);
    const auto each = [&](const std::function<bool(const EmitStream &)> &pred) {
        return std::all_of(senders.begin(), senders.end(), [&](const auto &e) { return pred(*e); });
    };
    QVERIFY(drive(
            senders, receivers,
            [&] { return each([](const EmitStream &e) { return e.ids.size() >= 100; }); }, 20000));

    QVERIFY(m_cluster->redis().stop());
    QElapsedTimer down;
    down.start();
    // A sender whose whole window was ordered just before Redis went waits for those emits
    // to come back on the bus (answered once in the log, after Redis is back): it sends
    // nothing meanwhile. The others are answered 503 at once.
    const auto any = [&](const std::function<bool(const EmitStream &)> &pred) {
        return std::any_of(senders.begin(), senders.end(), [&](const auto &e) { return pred(*e); });
    };
    QVERIFY2(drive(
                     senders, receivers,
                     [&] { return any([](const EmitStream &e) { return e.unavailable > 0; }); },
                     10000),
             "emits were not answered 503 while Redis was down");
    for (int i = 0; i < 3; ++i)
        verifyDegraded(i);
    drive(
            senders, receivers, [&] { return down.elapsed() >= 5000; }, 10000);
    QVERIFY2(m_cluster->redis().start(), qPrintable(m_cluster->redis().lastError()));

    // Back: every node accepts emits again and answers health 200.
    QList<qsizetype> before;
    for (const auto &e : senders)
        before << e->ids.size();
    QVERIFY2(drive(
                     senders, receivers,
                     [&] {
                         for (size_t i = 0; i < senders.size(); ++i) {
                             if (senders[i]->ids.size() < before[qsizetype(i)] + 100)
                                 return false;
                         }
                         return true;
                     },
                     30000),
             "emits were not accepted again after Redis came back");
    for (auto &e : senders)
        e->stopSending();
    QVERIFY(drive(
            senders, receivers, [&] { return each(&EmitStream::finished); }, 20000));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(m_cluster->node(i).client(false)->get("/api/health").status, 200);

    for (const auto &e : senders) {
        QVERIFY2(e->unavailable == 0
                         || e->unavailableMessage.contains(u"redis"_s, Qt::CaseInsensitive),
                 qPrintable(e->unavailableMessage));
        QCOMPARE(e->unavailableNoRetry, 0);
        QCOMPARE(e->others + e->lost, 0);
    }
    const QList<qint64> accepted = acceptedIds(senders);
    QVERIFY(std::adjacent_find(accepted.begin(), accepted.end()) == accepted.end());
    const int total = int(accepted.size());
    QVERIFY(drive(
            senders, receivers, [&] { return allReceived(receivers, total); }, 30000));
    // An emit whose answer the lost connection took is "in doubt": it may have been ordered
    // and delivered; any such is delivered everywhere or nowhere, and logged where delivered.
    int inDoubt = 0;
    int refused = 0;
    for (const auto &e : senders) {
        inDoubt += e->inDoubt;
        refused += e->unavailable;
    }
    QList<qint64> delivered;
    verifyReceivedWithDoubt(receivers, accepted, inDoubt, &delivered);
    for (int i = 0; i < 3 && !QTest::currentTestFailed(); ++i) {
        QJsonArray records; // every 2xx emit is in every node's log, and what was delivered
        verifyLogIds(i, delivered, &records);
    }
    qInfo("%d emits accepted, %d answered 503 while Redis was down (%d in doubt, %lld of them "
          "delivered)",
          total, refused, inDoubt, qint64(delivered.size() - accepted.size()));
}

void TestCluster::redisRestartedEmpty()
{
    QVERIFY(startCluster(3, false));
    const QString room = uniqueName(u"empty"_s);
    std::vector<Receiver> receivers = joinMembers(room, 1);
    QCOMPARE(int(receivers.size()), 3);
    qint64 highest = 0;
    for (int k = 0; k < 30; ++k) {
        const HttpResponse r = m_cluster->api(k % 3).postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"before"_s}});
        QCOMPARE(r.status, 200);
        highest = std::max(highest, r.object().value(u"id"_s).toInteger());
    }
    QVERIFY(waitUntil([&] { return allReceived(receivers, 30); }, 10000));
    // QWebSocket (Qt 6.4) takes 1012 for an invalid close code and reports 1002: raw clients
    // read the code off the wire.
    RawWsClient watchers[3];
    for (int i = 0; i < 3; ++i) {
        QString why;
        QVERIFY2(openRawJoined(watchers[i], m_cluster->node(i), m_cluster->api(i), room,
                               u"w%1"_s.arg(i), u"S"_s, &why),
                 qPrintable(why));
    }

    m_cluster->redis().kill();
    QVERIFY2(m_cluster->redis().start(), qPrintable(m_cluster->redis().lastError()));
    for (RawWsClient &w : watchers) {
        RawWsClient::Frame close;
        QVERIFY(w.waitForOpcode(8, &close, 20000));
        QCOMPARE(close.closeCode(), 1012);
    }
    for (Receiver &r : receivers)
        QVERIFY2(r.client->waitForDisconnected(5000), qPrintable(r.where));

    // Every node accepts emits again, with ids above every id given before.
    QList<qint64> after;
    for (int i = 0; i < 3; ++i) {
        HttpResponse r;
        QVERIFY(waitUntil(
                [&] {
                    r = m_cluster->api(i).postJson("/api/emit/room",
                                                   {{u"room"_s, room}, {u"event"_s, u"after"_s}});
                    return r.status == 200;
                },
                20000));
        after << r.object().value(u"id"_s).toInteger();
        QVERIFY2(after.last() > highest,
                 qPrintable(u"id %1 after %2"_s.arg(after.last()).arg(highest)));
    }
    std::sort(after.begin(), after.end());
    // An emit is answered once its own node has it; the others read it from the bus a moment
    // later (their log has it then): a join's last_id is its node's view.
    for (int i = 0; i < 3; ++i)
        QVERIFY2(waitUntil(
                         [&] {
                             return idsOf(allLogRecords(m_cluster->api(i))).contains(after.last());
                         },
                         10000),
                 qPrintable(ClusterFixture::nodeName(i) + u" did not get the last emit"_s));

    // The clients rejoin with since and recover what they missed, then get new emits.
    for (int i = 0; i < 3; ++i) {
        Receiver &r = receivers[size_t(i)];
        r.collect();
        const QByteArray token = registerToken(m_cluster->api(i), room, u"u%1-0"_s.arg(i), u"S"_s);
        QVERIFY(r.client->open(m_cluster->node(i).wsUrl(u"/ws"_s)));
        const QJsonObject joined = r.client->join(token, r.ids.last());
        QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
        QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
        QCOMPARE(joined.value(u"last_id"_s).toInteger(), after.last());
        r.collect();
        QCOMPARE(r.ids.mid(30), after);
        QVERIFY2(r.problem.isEmpty(), qPrintable(r.problem));
    }
    // (delivered right after a join is deliveredCountsAMemberJustJoinedOnAnotherNode's case)
    const HttpResponse nextEmit = m_cluster->api(1).postJson(
            "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"next"_s}});
    QCOMPARE(nextEmit.status, 200);
    const qint64 next = nextEmit.object().value(u"id"_s).toInteger();
    QVERIFY(next > after.last());
    for (Receiver &r : receivers)
        QVERIFY(receivedId(*r.client, next));
}
