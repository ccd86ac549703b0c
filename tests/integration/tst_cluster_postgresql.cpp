// A cluster on one PostgreSQL (docs/PROTOCOL.md, "Cluster: several nodes on Redis", "The
// message log"): two nodes on a real redis-server (ClusterFixture) with the same
// --log-database and --pg-listen, a database of the pg_cluster_start fixture's server
// (tests/common/PgTestDatabase.h). Each emit is written once, by the node that accepted it;
// a signed notification is emitted once, by the one node that listens; when that node dies
// (kill -9) the other takes over within 10 s, and emits each notification once.

#include "ApiHelpers.h"
#include "ClusterFixture.h"
#include "PgTestDatabase.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QTest>

#include <memory>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

// The envelope of switchboard.notify() (docs/postgresql.md, "How notifications are signed"):
// sb1.<ts>.<nonce>.<sig>.<payload>, sig the hex HMAC-SHA256 with the API key over
// sb1|<channel>|<ts>|<nonce>|<payload>.
QByteArray signNotification(const QByteArray &key, const QByteArray &payload)
{
    quint32 random[4];
    QRandomGenerator::global()->fillRange(random);
    const QByteArray nonce =
            QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex();
    const QByteArray ts = QByteArray::number(nowMs());
    const QByteArray sig =
            QMessageAuthenticationCode::hash("sb1|switchboard|" + ts + '|' + nonce + '|' + payload,
                                             key, QCryptographicHash::Sha256)
                    .toHex();
    return "sb1." + ts + '.' + nonce + '.' + sig + '.' + payload;
}

} // namespace

class TestClusterPostgresql : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void sharedLogWritesEachEmitOnce();
    void oneNodeListensAndAnotherTakesOver();

private:
    bool notify(const QString &room, const QString &event);
    // The records of event in node i's /api/log.
    QJsonArray recordsOf(int i, const QString &event);
    // Waits until exactly one record of event is logged (on every live node's /api/log), by
    // node `by`, and checks that no second one follows.
    void verifyLoggedOnce(const QString &event, const QString &by, const QList<int> &live);
    // The index of the node whose output says it listens for the cluster, -1 when none (yet).
    int listener();

    QString m_server;
    sbtest::PgTestDatabase m_pg;
    std::unique_ptr<ClusterFixture> m_cluster;
};

void TestClusterPostgresql::initTestCase()
{
    if (sbtest::postgresqlDisabled())
        QSKIP(sbtest::kPostgresqlSkipped);
    QVERIFY2(QSqlDatabase::isDriverAvailable(u"QPSQL"_s), "the QPSQL driver is not installed");
    QString error;
    m_server = sbtest::postgresqlServerUrl(&error);
    QVERIFY2(!m_server.isEmpty(), qPrintable(error));
}

void TestClusterPostgresql::init()
{
    QString why;
    QVERIFY2(m_pg.create(m_server, &why), qPrintable(why));
    m_cluster = std::make_unique<ClusterFixture>();
    m_cluster->setExtraNodeArgs({u"--log-database"_s, m_pg.url(), u"--pg-listen"_s, m_pg.url()});
    QVERIFY2(m_cluster->startRedis(false, &why), qPrintable(why));
    QVERIFY2(m_cluster->startNodes(2, &why), qPrintable(why));
}

void TestClusterPostgresql::cleanup()
{
    if (QTest::currentTestFailed() && m_cluster)
        m_cluster->printOutputs();
    // A clean exit of every node that is still up, without a sanitizer report (ASan build).
    QString problems;
    const bool clean = !m_cluster || m_cluster->stopNodes(&problems);
    m_cluster.reset();
    m_pg.drop();
    QVERIFY2(clean, qPrintable(problems));
}

bool TestClusterPostgresql::notify(const QString &room, const QString &event)
{
    const QByteArray payload = R"({"room":")" + room.toUtf8() + R"(","event":")" + event.toUtf8()
            + R"(","data":{"n":1}})";
    QString error;
    const bool ok =
            m_pg.scalar(u"SELECT pg_notify('switchboard', ?)"_s,
                        {QString::fromUtf8(signNotification(m_cluster->apiKey(), payload))}, &error)
                    .isValid();
    if (!ok)
        qWarning().noquote() << "pg_notify:" << error;
    return ok;
}

QJsonArray TestClusterPostgresql::recordsOf(int i, const QString &event)
{
    return m_cluster->api(i)
            .get("/api/log?event=" + QUrl::toPercentEncoding(event))
            .object()
            .value(u"records"_s)
            .toArray();
}

void TestClusterPostgresql::verifyLoggedOnce(const QString &event, const QString &by,
                                             const QList<int> &live)
{
    for (int i : live) {
        QJsonArray records;
        QVERIFY2(waitUntil(
                         [&] {
                             records = recordsOf(i, event);
                             return !records.isEmpty();
                         },
                         5000),
                 qPrintable(u"no record of "_s % event % u" on "_s % ClusterFixture::nodeName(i)));
        spin(300);
        records = recordsOf(i, event);
        QVERIFY2(records.size() == 1,
                 qPrintable(u"%1 records of %2 on %3"_s.arg(records.size())
                                    .arg(event, ClusterFixture::nodeName(i))));
        const QJsonObject rec = records.first().toObject();
        QCOMPARE(rec.value(u"source"_s).toString(), u"notify"_s);
        QCOMPARE(rec.value(u"node"_s).toString(), by);
    }
}

int TestClusterPostgresql::listener()
{
    int found = -1;
    for (int i = 0; i < m_cluster->size(); ++i) {
        if (!m_cluster->node(i).isRunning())
            continue;
        const QString out = m_cluster->node(i).output();
        const qsizetype at = out.lastIndexOf(u"listening on"_s);
        if (at >= 0 && out.indexOf(u"(for the cluster)"_s, at) > at) {
            if (found >= 0)
                qWarning("both n%d and n%d say they listen for the cluster", found + 1, i + 1);
            found = i;
        }
    }
    return found;
}

void TestClusterPostgresql::sharedLogWritesEachEmitOnce()
{
    const QString room = uniqueName(u"pglog"_s);
    auto a = m_cluster->member(0, room, u"A"_s, u"s"_s);
    auto b = m_cluster->member(1, room, u"B"_s, u"s"_s);
    QVERIFY(a && b);
    QHash<qint64, QString> nodeOf;
    for (int k = 0; k < 20; ++k) {
        const HttpResponse r = m_cluster->api(k % 2).postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"L"_s}, {u"data"_s, k}});
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.object().value(u"delivered"_s).toInt(), 2);
        nodeOf.insert(r.object().value(u"id"_s).toInteger(), ClusterFixture::nodeName(k % 2));
    }
    QList<qint64> expected = nodeOf.keys();
    std::sort(expected.begin(), expected.end());
    for (WsClient *c : {a.get(), b.get()}) {
        QVERIFY(waitUntil([&] { return c->count(u"event"_s) >= 20; }, 5000));
        QList<qint64> got;
        for (const WsFrame &f : c->take(u"event"_s))
            got << f.object.value(u"id"_s).toInteger();
        QCOMPARE(got, expected);
    }
    for (int i = 0; i < 2; ++i) {
        QJsonArray records;
        QVERIFY2(waitUntil(
                         [&] {
                             records = allLogRecords(m_cluster->api(i));
                             return idsOf(records).size() >= expected.size();
                         },
                         5000),
                 qPrintable(describeIds(idsOf(records))));
        spin(300); // a second writer would have written its copy by now
        records = allLogRecords(m_cluster->api(i));
        QVERIFY2(idsOf(records) == expected,
                 qPrintable(ClusterFixture::nodeName(i) % u" logged "_s
                            % describeIds(idsOf(records)) % u"; expected "_s
                            % describeIds(expected)));
        for (const QJsonValue &v : records)
            QVERIFY2(v[u"node"_s].toString() == nodeOf.value(v[u"id"_s].toInteger()),
                     qPrintable(compact(v.toObject())));
    }
    // In the database itself: one row per emit.
    QString error;
    const QVariant rows = m_pg.scalar(u"SELECT count(*) FROM messages"_s, {}, &error);
    QVERIFY2(rows.isValid(), qPrintable(error));
    QCOMPARE(rows.toInt(), 20);
}

void TestClusterPostgresql::oneNodeListensAndAnotherTakesOver()
{
    QVERIFY2(waitUntil([&] { return listener() >= 0; }, 10000), "no node listens");
    const int first = listener();
    const int other = 1 - first;
    QVERIFY2(waitUntil(
                     [&] {
                         return m_cluster->node(other).output().contains(
                                 u"standing by to take over"_s);
                     },
                     5000),
             "the other node does not stand by");

    const QString room = uniqueName(u"pgnotify"_s);
    auto onFirst = m_cluster->member(first, room, u"A"_s, u"s"_s);
    auto onOther = m_cluster->member(other, room, u"B"_s, u"s"_s);
    QVERIFY(onFirst && onOther);
    QVERIFY(notify(room, u"first"_s));
    for (WsClient *c : {onFirst.get(), onOther.get()}) {
        const QJsonObject e = c->waitForFrame(u"event"_s);
        QCOMPARE(e.value(u"event"_s).toString(), u"first"_s);
        QVERIFY(c->noFrameWithin(500, u"event"_s));
    }
    verifyLoggedOnce(u"first"_s, ClusterFixture::nodeName(first), {0, 1});
    if (QTest::currentTestFailed())
        return;

    m_cluster->killNode(first);
    QElapsedTimer sinceKill;
    sinceKill.start();
    QVERIFY2(waitUntil([&] { return listener() == other; }, 10000),
             "the other node did not take over within 10 s");
    const qint64 tookOver = sinceKill.elapsed();
    QVERIFY(notify(room, u"second"_s));
    const QJsonObject e = onOther->waitForFrame(u"event"_s, 10000 - int(sinceKill.elapsed()));
    QCOMPARE(e.value(u"event"_s).toString(), u"second"_s);
    const qint64 delivered = sinceKill.elapsed();
    QVERIFY(onOther->noFrameWithin(500, u"event"_s));
    verifyLoggedOnce(u"second"_s, ClusterFixture::nodeName(other), {other});
    qInfo("n%d listens %lld ms after kill -9 of n%d; a notification delivered at %lld ms",
          other + 1, tookOver, first + 1, delivered);
}

QTEST_GUILESS_MAIN(TestClusterPostgresql)
#include "tst_cluster_postgresql.moc"
