// The console's command line as docs/API.md, "Configuration" gives it: --help,
// --headless (no display needed), --attach, --lang; and the daemon linking no GUI library.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

class TstConsoleCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpListsTheFlags();
    void headlessServesWithoutADisplay_data();
    void headlessServesWithoutADisplay();
    void badLanguageIsRefused();
    void attachNeedsAKey();
    void daemonLinksNoGui();
};

namespace {

QProcessEnvironment noDisplay()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    env.insert(QStringLiteral("QT_NO_GLIB"), QStringLiteral("1"));
    return env;
}

struct Run
{
    int code = -1;
    QString out;
};

Run run(const QStringList &args, const QProcessEnvironment &env, int timeoutMs = 20000)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(SWITCHBOARD_PATH), args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.out = QStringLiteral("timed out: ") + QString::fromUtf8(p.readAll());
        return r;
    }
    r.code = p.exitCode();
    r.out = QString::fromUtf8(p.readAll());
    return r;
}

QByteArray httpGet(quint16 port, const QByteArray &path)
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray answer;
    while (socket.waitForReadyRead(5000))
        answer += socket.readAll();
    return answer;
}

} // namespace

void TstConsoleCli::helpListsTheFlags()
{
    const Run r = run({QStringLiteral("--help")}, noDisplay());
    QCOMPARE(r.code, 0);
    for (const char *flag :
         {"--attach", "--headless", "--lang", "--listen", "--config", "--api-key", "--jwt-secret",
          "--data-dir", "--tls-cert", "--tls-key", "--insecure", "--log-level", "--pg-listen",
          "--pg-channel", "--version"}) {
        QVERIFY2(r.out.contains(QLatin1String(flag)), flag);
    }
    const Run v = run({QStringLiteral("--version")}, noDisplay());
    QCOMPARE(v.code, 0);
    QVERIFY(v.out.contains(QStringLiteral(SWITCHBOARD_VERSION)));
}

void TstConsoleCli::headlessServesWithoutADisplay_data()
{
    QTest::addColumn<bool>("flag");
    QTest::newRow("--headless") << true;
    QTest::newRow("no display") << false;
}

void TstConsoleCli::headlessServesWithoutADisplay()
{
    QFETCH(bool, flag);
    QTemporaryDir dir;
    QStringList args{QStringLiteral("--listen"),     QStringLiteral("127.0.0.1:0"),
                     QStringLiteral("--data-dir"),   dir.path(),
                     QStringLiteral("--api-key"),    QStringLiteral("k"),
                     QStringLiteral("--jwt-secret"), QStringLiteral("s")};
    if (flag)
        args.prepend(QStringLiteral("--headless"));
    QProcess p;
    p.setProcessEnvironment(noDisplay());
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(SWITCHBOARD_PATH), args);
    QVERIFY(p.waitForStarted());
    const QRegularExpression listening(
            QStringLiteral("switchboard: listening on http://127.0.0.1:(\\d+)"));
    QString out;
    quint16 port = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                out += QString::fromUtf8(p.readAll());
                const auto m = listening.match(out);
                if (m.hasMatch())
                    port = quint16(m.captured(1).toUInt());
                return port != 0 || p.state() == QProcess::NotRunning;
            }(),
            20000);
    QVERIFY2(port != 0, qPrintable(out));
    if (!flag)
        QVERIFY2(out.contains(u"no display found"), qPrintable(out));
    const QByteArray health = httpGet(port, "/api/health");
    QVERIFY2(health.startsWith("HTTP/1.1 200"), health.constData());
    QVERIFY(health.contains("\"status\":\"ok\""));
    ::kill(pid_t(p.processId()), SIGTERM);
    QVERIFY(p.waitForFinished(15000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
}

void TstConsoleCli::badLanguageIsRefused()
{
    QProcessEnvironment env = noDisplay();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    const Run r = run({QStringLiteral("--lang"), QStringLiteral("fr"), QStringLiteral("--attach"),
                       QStringLiteral("http://127.0.0.1:1"), QStringLiteral("--api-key"),
                       QStringLiteral("k")},
                      env);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.out.contains(u"--lang") && r.out.contains(u"en, de, nl"), qPrintable(r.out));
}

void TstConsoleCli::attachNeedsAKey()
{
    QProcessEnvironment env = noDisplay();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.remove(QStringLiteral("SWITCHBOARD_API_KEY"));
    Run r = run({QStringLiteral("--attach"), QStringLiteral("http://127.0.0.1:1")}, env);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.out.contains(u"--api-key"), qPrintable(r.out));
    r = run({QStringLiteral("--attach"), QStringLiteral("ftp://x"), QStringLiteral("--api-key"),
             QStringLiteral("k")},
            env);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.out.contains(u"http://"), qPrintable(r.out));
}

void TstConsoleCli::daemonLinksNoGui()
{
    QProcess ldd;
    ldd.start(QStringLiteral("ldd"), {QStringLiteral(SWITCHBOARDD_PATH)});
    QVERIFY(ldd.waitForFinished());
    const QString libs = QString::fromUtf8(ldd.readAll());
    QVERIFY2(libs.contains(u"libQt6Core"), qPrintable(libs));
    QVERIFY2(!libs.contains(u"libQt6Gui") && !libs.contains(u"libQt6Widgets"), qPrintable(libs));
}

QTEST_GUILESS_MAIN(TstConsoleCli)
#include "tst_console_cli.moc"
