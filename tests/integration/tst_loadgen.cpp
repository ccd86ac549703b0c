// The benchmark kit's load generator (bench/loadgen, `sb-loadgen`) against the real daemon:
// its figures are only worth something if it counts every delivery, notices what is missing
// and reports the server's CPU and memory. Small counts: this checks the tool, it measures
// nothing (bench/run.sh does).

#include "ServerProcess.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

using namespace sbit;

class TestLoadgen : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void closedLoopCountsEveryDelivery();
    void fixedRateKeepsItsSchedule();
    void restOnly();
    void idleClientsReceiveNothing();
    void refusedEmitsAreReported();
    void usageErrorNamesTheOption();

private:
    struct Run
    {
        int exitCode = -1;
        QJsonObject result;
        QByteArray stderrText;
    };
    Run runLoadgen(const QStringList &args, const QByteArray &apiKey = {});

    std::unique_ptr<ServerProcess> m_server;
};

void TestLoadgen::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start({QStringLiteral("--log-level"), QStringLiteral("warning")}),
             qPrintable(m_server->lastError()));
}

TestLoadgen::Run TestLoadgen::runLoadgen(const QStringList &args, const QByteArray &apiKey)
{
    QStringList all{QStringLiteral("--protocol"),
                    QStringLiteral("switchboard"),
                    QStringLiteral("--port"),
                    QString::number(m_server->port()),
                    QStringLiteral("--api-key"),
                    QString::fromLatin1(apiKey.isNull() ? m_server->apiKey() : apiKey),
                    QStringLiteral("--pid"),
                    QString::number(m_server->pid()),
                    QStringLiteral("--warmup"),
                    QStringLiteral("0"),
                    QStringLiteral("--settle"),
                    QStringLiteral("0.2")};
    all += args;
    QProcess process;
    process.start(QStringLiteral(SB_LOADGEN_PATH), all);
    Run run;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        qWarning("sb-loadgen did not finish");
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.stderrText = process.readAllStandardError();
    const QList<QByteArray> lines = process.readAllStandardOutput().trimmed().split('\n');
    if (!lines.isEmpty())
        run.result = QJsonDocument::fromJson(lines.last()).object();
    return run;
}

void TestLoadgen::closedLoopCountsEveryDelivery()
{
    const Run run = runLoadgen({QStringLiteral("--clients"), QStringLiteral("300"),
                                QStringLiteral("--emits"), QStringLiteral("40"),
                                QStringLiteral("--window"), QStringLiteral("4")});
    QVERIFY2(run.exitCode == 0, run.stderrText.constData());
    const QJsonObject r = run.result;
    QCOMPARE(r.value(u"clients_ready").toInt(), 300);
    QCOMPARE(r.value(u"emits_ok").toInt(), 40);
    QCOMPARE(r.value(u"emit_errors").toInt(), 0);
    QCOMPARE(r.value(u"expected").toDouble(), 40.0 * 300);
    QCOMPARE(r.value(u"delivered").toDouble(), 40.0 * 300);
    QCOMPARE(r.value(u"lost").toDouble(), 0.0);
    const QJsonObject latency = r.value(u"latency_us").toObject();
    QCOMPARE(latency.value(u"samples").toDouble(), 40.0 * 300);
    QVERIFY(latency.value(u"p50").toDouble() > 0);
    QVERIFY(latency.value(u"p99").toDouble() >= latency.value(u"p50").toDouble());
    QVERIFY(latency.value(u"max").toDouble() >= latency.value(u"p99").toDouble());
    const QJsonObject server = r.value(u"server").toObject();
    QCOMPARE(server.value(u"pid").toInteger(), m_server->pid());
    QVERIFY(server.value(u"cpu_s").toDouble() >= 0);
    // 300 connections cost the server memory: the generator must see it in /proc.
    QVERIFY(server.value(u"rss_connected_kb").toDouble() > server.value(u"rss_before_kb").toDouble());
    QVERIFY(server.value(u"rss_per_conn_bytes").toDouble() > 0);
}

void TestLoadgen::fixedRateKeepsItsSchedule()
{
    const Run run = runLoadgen({QStringLiteral("--clients"), QStringLiteral("50"),
                                QStringLiteral("--rate"), QStringLiteral("20"),
                                QStringLiteral("--duration"), QStringLiteral("2")});
    QVERIFY2(run.exitCode == 0, run.stderrText.constData());
    const QJsonObject r = run.result;
    QCOMPARE(r.value(u"mode").toString(), QStringLiteral("open"));
    const int sent = r.value(u"emits_ok").toInt();
    QVERIFY2(sent >= 36 && sent <= 44, qPrintable(QString::number(sent)));
    QCOMPARE(r.value(u"delivered").toDouble(), sent * 50.0);
    QCOMPARE(r.value(u"lost").toDouble(), 0.0);
}

void TestLoadgen::restOnly()
{
    const Run run = runLoadgen({QStringLiteral("--clients"), QStringLiteral("0"),
                                QStringLiteral("--emitters"), QStringLiteral("4"),
                                QStringLiteral("--duration"), QStringLiteral("1")});
    QVERIFY2(run.exitCode == 0, run.stderrText.constData());
    const QJsonObject r = run.result;
    QVERIFY(r.value(u"emits_ok").toInt() > 100);
    QCOMPARE(r.value(u"emit_errors").toInt(), 0);
    QVERIFY(r.value(u"emits_per_s").toDouble() > 100);
    QVERIFY(r.value(u"rest_latency_us").toObject().value(u"p99").toDouble() > 0);
}

void TestLoadgen::idleClientsReceiveNothing()
{
    const Run run = runLoadgen({QStringLiteral("--clients"), QStringLiteral("100"),
                                QStringLiteral("--idle"), QStringLiteral("--duration"),
                                QStringLiteral("1")});
    QVERIFY2(run.exitCode == 0, run.stderrText.constData());
    const QJsonObject r = run.result;
    QCOMPARE(r.value(u"clients_ready").toInt(), 100);
    QVERIFY(r.value(u"emits_ok").toInt() > 0);
    QCOMPARE(r.value(u"delivered").toDouble(), 0.0);
    QCOMPARE(r.value(u"lost").toDouble(), 0.0);
}

void TestLoadgen::refusedEmitsAreReported()
{
    // A wrong key: register and every emit are refused; the generator must say so and fail.
    const Run run = runLoadgen({QStringLiteral("--clients"), QStringLiteral("0"),
                                QStringLiteral("--duration"), QStringLiteral("1")},
                               QByteArrayLiteral("not-the-key"));
    QCOMPARE(run.exitCode, 1);
    QVERIFY(run.result.value(u"emit_errors").toInt() > 0);
    QVERIFY2(run.result.value(u"first_error").toString().contains(u"401"),
             qPrintable(run.result.value(u"first_error").toString()));
}

void TestLoadgen::usageErrorNamesTheOption()
{
    QProcess process;
    process.start(QStringLiteral(SB_LOADGEN_PATH), {QStringLiteral("--clients"), QStringLiteral("many")});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAllStandardError().contains("--clients"));
}

QTEST_MAIN(TestLoadgen)
#include "tst_loadgen.moc"
