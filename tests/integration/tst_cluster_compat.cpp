// The seed bridges' routes in a cluster (docs/API.md, "Cluster"): POST / and /api/broadcast
// accepted by one node reach the legacy WebSocket clients of every node, once, and their
// counts are the cluster's. A real redis-server and three switchboardd nodes (ClusterFixture).

#include "ClusterFixture.h"
#include "HttpClient.h"
#include "ServerProcess.h"
#include "WsClient.h"

#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestClusterCompat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void legacyPushReachesEveryNode();
    void broadcastReachesLegacyClientsOfEveryNode();

private:
    // A legacy client (any path but /ws and /admin) on every node.
    std::vector<std::unique_ptr<WsClient>> legacyClients();

    std::unique_ptr<ClusterFixture> m_cluster;
};

void TestClusterCompat::init()
{
    m_cluster = std::make_unique<ClusterFixture>();
    QString why;
    QVERIFY2(m_cluster->startRedis(false, &why), qPrintable(why));
    QVERIFY2(m_cluster->startNodes(3, &why), qPrintable(why));
}

void TestClusterCompat::cleanup()
{
    if (QTest::currentTestFailed() && m_cluster)
        m_cluster->printOutputs();
    m_cluster.reset();
}

std::vector<std::unique_ptr<WsClient>> TestClusterCompat::legacyClients()
{
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < m_cluster->size(); ++i) {
        auto client = std::make_unique<WsClient>();
        if (!client->open(m_cluster->node(i).wsUrl(u"/legacy"_s)))
            return {};
        clients.push_back(std::move(client));
    }
    return clients;
}

void TestClusterCompat::legacyPushReachesEveryNode()
{
    auto clients = legacyClients();
    QCOMPARE(int(clients.size()), 3);
    // "Send to N clients" counts the legacy clients of every node (each node tells Redis of
    // its legacy clients as they connect: the first tries may count fewer).
    QTRY_COMPARE_WITH_TIMEOUT(
            m_cluster->api(1).post("/", R"({"hello":"all"})", "application/json").body,
            QByteArray(R"({"message":"Send to 3 clients"})"), 5000);
    for (auto &client : clients) {
        // Every client got the pushes of the tries above, each the exact text sent.
        WsFrame frame;
        QVERIFY(client->waitForAny(&frame));
        QCOMPARE(frame.text, u"{\"hello\":\"all\"}"_s);
    }
    const HttpResponse r = m_cluster->api(2).post("/", "plain words", "text/plain");
    QCOMPARE(r.status, 200);
    for (auto &client : clients) {
        WsFrame frame;
        do {
            QVERIFY(client->waitForAny(&frame));
        } while (frame.text == u"{\"hello\":\"all\"}"_s); // the tries before the count settled
        QCOMPARE(frame.text, u"{\"message\":\"plain words\"}"_s);
        QVERIFY(client->noFrameWithin(200));
    }
}

void TestClusterCompat::broadcastReachesLegacyClientsOfEveryNode()
{
    auto clients = legacyClients();
    QCOMPARE(int(clients.size()), 3);
    const QJsonObject body{{u"channel"_s, u"orders"_s},
                           {u"eventName"_s, u"shipped"_s},
                           {u"payload"_s, QJsonObject{{u"n"_s, 7}}}};
    const HttpResponse r = m_cluster->api(0).postJson("/api/broadcast", body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray(R"({"ok":true})"));
    for (auto &client : clients) {
        WsFrame frame;
        QVERIFY(client->waitForAny(&frame));
        QCOMPARE(frame.text,
                 u"{\"channel\":\"orders\",\"eventName\":\"shipped\",\"payload\":{\"n\":7}}"_s);
        QVERIFY(client->noFrameWithin(200));
    }
    // In the log of every node once, with the node that accepted it.
    for (int i = 0; i < 3; ++i) {
        const QJsonArray records = allLogRecords(m_cluster->api(i));
        QCOMPARE(records.size(), 1);
        QCOMPARE(records[0].toObject().value(u"node"_s).toString(), ClusterFixture::nodeName(0));
    }
}

QTEST_GUILESS_MAIN(TestClusterCompat)
#include "tst_cluster_compat.moc"
