// Start-up and configuration of switchboardd: --help/--version, refusing to start on a busy
// port, bad values or unreadable certificates, first-run secret generation (mode 0600,
// path printed, flag/env secrets never written), precedence flag > env > INI, --insecure.

#include "ApiHelpers.h"
#include "TestFiles.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QSettings>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;
using namespace sbtest;

namespace {

QString normalized(const QString &text)
{
    QString t = text.toLower();
    t.replace(u'-', u'_');
    return t;
}

quint16 freePort()
{
    QTcpServer s;
    if (!s.listen(QHostAddress::LocalHost, 0))
        return 0;
    return s.serverPort();
}

// Value of a key in an INI file, in any section.
QString iniValue(const QString &path, const QString &key)
{
    QSettings s(path, QSettings::IniFormat);
    const QStringList keys = s.allKeys();
    for (const QString &k : keys) {
        if (k == key || k.endsWith(u'/' % key))
            return s.value(k).toString();
    }
    return {};
}

} // namespace

class TestConfigStartup : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanup();

    void help();
    void version();
    void portInUse_exitsWithMessage();
    void badValue_data();
    void badValue();
    void unreadableCertificate_data();
    void unreadableCertificate();
    void firstRun_generatesSecrets();
    void firstRun_explicitConfigPath();
    void givenSecrets_notWrittenToFile();
    void precedence_listen();
    void precedence_apiKey();
    void insecure_warnsAndAcceptsWithoutKey();
    void sigterm_exitsZero();
    void emptyApiKey_fallsThroughToFile_data();
    void emptyApiKey_fallsThroughToFile();

private:
    // m_server becomes a new ServerProcess that starts without the test's default secrets.
    void newServerWithoutDefaultSecrets();
    QTemporaryDir m_tmp;
    std::unique_ptr<ServerProcess> m_server;
};

void TestConfigStartup::newServerWithoutDefaultSecrets()
{
    m_server = std::make_unique<ServerProcess>();
    ServerProcess::Options o;
    o.defaultSecrets = false;
    m_server->setOptions(o);
}

void TestConfigStartup::cleanup()
{
    if (QTest::currentTestFailed() && m_server)
        qWarning().noquote() << "daemon output (tail):\n" << m_server->output().right(3000);
    m_server.reset();
}

void TestConfigStartup::help()
{
    const auto r = ServerProcess::run({u"--help"_s});
    QVERIFY2(!r.timedOut && !r.crashed, qPrintable(r.output));
    QCOMPARE(r.exitCode, 0);
    for (const QString &flag :
         {u"--listen"_s, u"--config"_s, u"--api-key"_s, u"--jwt-secret"_s, u"--data-dir"_s,
          u"--tls-cert"_s, u"--tls-key"_s, u"--insecure"_s, u"--log-level"_s, u"--max-body-bytes"_s,
          u"--max-queue-bytes"_s, u"--allowed-origins"_s, u"--trusted-networks"_s, u"--version"_s})
        QVERIFY2(r.output.contains(flag), qPrintable(u"--help does not mention "_s % flag));
}

void TestConfigStartup::version()
{
    const auto r = ServerProcess::run({u"--version"_s});
    QVERIFY2(!r.timedOut && !r.crashed, qPrintable(r.output));
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.output.contains(QStringLiteral(SWITCHBOARD_VERSION)), qPrintable(r.output));
}

void TestConfigStartup::portInUse_exitsWithMessage()
{
    QTcpServer blocker;
    QVERIFY(blocker.listen(QHostAddress::LocalHost, 0));
    const QString port = QString::number(blocker.serverPort());
    const auto r =
            ServerProcess::run({u"--listen"_s, u"127.0.0.1:"_s % port, u"--data-dir"_s,
                                m_tmp.path(), u"--api-key"_s, u"k"_s, u"--jwt-secret"_s, u"s"_s});
    QVERIFY2(!r.timedOut, "the daemon kept running on a busy port");
    QVERIFY2(!r.crashed, qPrintable(r.output));
    QVERIFY(r.exitCode != 0);
    const QString out = r.output.toLower();
    QVERIFY2(out.contains(port) || out.contains(u"in use"_s), qPrintable(r.output));
    QVERIFY(!out.contains(u"listening on"_s));
}

void TestConfigStartup::badValue_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("envName");
    QTest::addColumn<QString>("envValue");
    QTest::addColumn<QByteArray>("ini");
    QTest::addColumn<QString>("key"); // with underscores; the message must name it (- or _)

    auto flag = [](const char *name, const QStringList &args, const char *key) {
        QTest::newRow(name) << args << QString() << QString() << QByteArray()
                            << QString::fromLatin1(key);
    };
    flag("max-body-bytes abc", {u"--max-body-bytes"_s, u"abc"_s}, "max_body_bytes");
    flag("max-body-bytes negative", {u"--max-body-bytes"_s, u"-1"_s}, "max_body_bytes");
    flag("max-message-bytes 12x", {u"--max-message-bytes"_s, u"12x"_s}, "max_message_bytes");
    flag("max-queue-bytes abc", {u"--max-queue-bytes"_s, u"abc"_s}, "max_queue_bytes");
    flag("max-connections abc", {u"--max-connections"_s, u"abc"_s}, "max_connections");
    flag("token-max-ttl negative", {u"--token-max-ttl"_s, u"-5"_s}, "token_max_ttl");
    flag("read-timeout-s abc", {u"--read-timeout-s"_s, u"abc"_s}, "read_timeout_s");
    flag("ping-interval-s abc", {u"--ping-interval-s"_s, u"abc"_s}, "ping_interval_s");
    flag("listen without port", {u"--listen"_s, u"nonsense"_s}, "listen");
    flag("listen port out of range", {u"--listen"_s, u"127.0.0.1:99999"_s}, "listen");
    flag("trusted-networks bad prefix", {u"--trusted-networks"_s, u"10.0.0.0/99"_s},
         "trusted_networks");
    flag("trusted-networks not an address", {u"--trusted-networks"_s, u"not-a-net"_s},
         "trusted_networks");
    flag("log-level unknown", {u"--log-level"_s, u"loud"_s}, "log_level");
    flag("history-per-room zero", {u"--history-per-room"_s, u"0"_s}, "history_per_room");
    flag("log-max-rows abc", {u"--log-max-rows"_s, u"abc"_s}, "log_max_rows");
    flag("unknown flag", {u"--no-such-flag"_s, u"1"_s}, "no_such_flag");
    QTest::newRow("env SWITCHBOARD_MAX_BODY_BYTES=abc")
            << QStringList() << u"SWITCHBOARD_MAX_BODY_BYTES"_s << u"abc"_s << QByteArray()
            << u"max_body_bytes"_s;
    QTest::newRow("env SWITCHBOARD_READ_TIMEOUT_S=-3")
            << QStringList() << u"SWITCHBOARD_READ_TIMEOUT_S"_s << u"-3"_s << QByteArray()
            << u"read_timeout_s"_s;
    QTest::newRow("INI max_body_bytes=abc")
            << QStringList() << QString() << QString() << QByteArray("max_body_bytes=abc\n")
            << u"max_body_bytes"_s;
    QTest::newRow("INI ping_interval_s=soon")
            << QStringList() << QString() << QString() << QByteArray("ping_interval_s=soon\n")
            << u"ping_interval_s"_s;
}

void TestConfigStartup::badValue()
{
    QFETCH(QStringList, args);
    QFETCH(QString, envName);
    QFETCH(QString, envValue);
    QFETCH(QByteArray, ini);
    QFETCH(QString, key);
    QTemporaryDir dir;
    QStringList all{u"--listen"_s,  u"127.0.0.1:0"_s, u"--data-dir"_s,   dir.path(),
                    u"--api-key"_s, u"k"_s,           u"--jwt-secret"_s, u"s"_s};
    if (!ini.isEmpty()) {
        const QString path = dir.filePath(u"bad.ini"_s);
        QVERIFY(writeFile(path, ini));
        all << u"--config"_s << path;
    }
    all << args;
    QHash<QString, QString> env;
    if (!envName.isEmpty())
        env.insert(envName, envValue);
    const auto r = ServerProcess::run(all, env);
    QVERIFY2(!r.timedOut,
             qPrintable(u"the daemon started with a bad value; output: "_s % r.output));
    QVERIFY2(!r.crashed, qPrintable(r.output));
    QVERIFY2(r.exitCode != 0, qPrintable(r.output));
    QVERIFY2(normalized(r.output).contains(key),
             qPrintable(u"the message does not name "_s % key % u": "_s % r.output));
    QVERIFY(!r.output.contains(u"listening on"_s));
}

void TestConfigStartup::unreadableCertificate_data()
{
    QTest::addColumn<QString>("cert"); // relative names are created in the temporary dir
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("content");
    QTest::newRow("missing files")
            << u"/nonexistent/dir/cert.pem"_s << u"/nonexistent/dir/key.pem"_s << QByteArray();
    QTest::newRow("garbage files")
            << u"garbage-cert.pem"_s << u"garbage-key.pem"_s << QByteArray("this is not PEM\n");
    QTest::newRow("cert without key")
            << u"/nonexistent/dir/cert.pem"_s << QString() << QByteArray();
    QTest::newRow("directory as cert") << u"."_s << u"."_s << QByteArray();
}

void TestConfigStartup::unreadableCertificate()
{
    QFETCH(QString, cert);
    QFETCH(QString, key);
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    auto place = [&](const QString &name) {
        if (name.isEmpty() || name.startsWith(u'/'))
            return name;
        const QString path = dir.filePath(name);
        if (!content.isEmpty())
            writeFile(path, content);
        return name == u"." ? dir.path() : path;
    };
    QStringList args{u"--listen"_s,   u"127.0.0.1:0"_s, u"--data-dir"_s,   dir.path(),
                     u"--api-key"_s,  u"k"_s,           u"--jwt-secret"_s, u"s"_s,
                     u"--tls-cert"_s, place(cert)};
    if (!key.isEmpty())
        args << u"--tls-key"_s << place(key);
    const auto r = ServerProcess::run(args);
    QVERIFY2(!r.timedOut,
             qPrintable(u"the daemon started with an unreadable certificate: "_s % r.output));
    QVERIFY2(!r.crashed, qPrintable(r.output));
    QVERIFY(r.exitCode != 0);
    const QString out = normalized(r.output);
    QVERIFY2(out.contains(u"cert"_s) || out.contains(u"tls"_s) || out.contains(u"key"_s),
             qPrintable(r.output));
}

void TestConfigStartup::firstRun_generatesSecrets()
{
    newServerWithoutDefaultSecrets();
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    const QString path = QDir(m_server->dataDir()).filePath(u"switchboard.ini"_s);
    QVERIFY2(QFile::exists(path),
             qPrintable(u"no config file at "_s % path % u"\n"_s % m_server->output()));
    QVERIFY2(m_server->output().contains(path), "the config file's path is not printed");
    QCOMPARE(fileMode(path), 0600);
    const QString apiKey = iniValue(path, u"api_key"_s);
    const QString secret = iniValue(path, u"jwt_secret"_s);
    QVERIFY2(apiKey.size() >= 16, qPrintable(u"generated api_key too short: "_s % apiKey));
    QVERIFY2(secret.size() >= 16, qPrintable(u"generated jwt_secret too short: "_s % secret));
    QVERIFY(apiKey != secret);

    m_server->setApiKey(apiKey.toUtf8());
    auto api = m_server->client();
    QCOMPARE(api->get("/api/stats").status, 200);
    QCOMPARE(m_server->client(false)->get("/api/stats").status, 401);
    HttpResponse reg;
    const QByteArray token = registerToken(*api, u"r"_s, u"u"_s, u"s"_s, {}, &reg);
    QVERIFY2(!token.isEmpty(), qPrintable(reg.describe()));
    QVERIFY2(Jwt::verifyHs256(token, secret.toUtf8()),
             "tokens are not signed with the generated jwt_secret");

    // A restart keeps the generated secrets.
    const QByteArray before = readFile(path);
    api.reset();
    QCOMPARE(m_server->stop(), 0);
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    QCOMPARE(iniValue(path, u"api_key"_s), apiKey);
    QCOMPARE(iniValue(path, u"jwt_secret"_s), secret);
    QCOMPARE(m_server->client()->get("/api/stats").status, 200);
    QCOMPARE(readFile(path), before);
}

void TestConfigStartup::firstRun_explicitConfigPath()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"etc/switchboard-custom.ini"_s);
    QVERIFY(QDir().mkpath(dir.filePath(u"etc"_s)));
    newServerWithoutDefaultSecrets();
    QVERIFY2(m_server->start({u"--config"_s, path}), qPrintable(m_server->lastError()));
    QVERIFY(QFile::exists(path));
    QVERIFY(m_server->output().contains(path));
    QCOMPARE(fileMode(path), 0600);
    QVERIFY(!iniValue(path, u"api_key"_s).isEmpty());
    QVERIFY(!iniValue(path, u"jwt_secret"_s).isEmpty());
    QVERIFY2(!QFile::exists(QDir(m_server->dataDir()).filePath(u"switchboard.ini"_s)),
             "with --config the default file must not be written");
}

void TestConfigStartup::givenSecrets_notWrittenToFile()
{
    QTemporaryDir dir;
    // both by flag, existing file: left without them
    {
        const QString path = dir.filePath(u"a.ini"_s);
        QVERIFY(writeFile(path, "log_level=info\n"));
        m_server = std::make_unique<ServerProcess>();
        QVERIFY2(m_server->start({u"--config"_s, path}), qPrintable(m_server->lastError()));
        const QByteArray content = readFile(path);
        QVERIFY2(!content.contains(m_server->apiKey()),
                 "an API key given by flag was written to the file");
        QVERIFY2(!content.contains(m_server->jwtSecret()),
                 "a JWT secret given by flag was written to the file");
        QCOMPARE(m_server->client()->get("/api/stats").status, 200);
        m_server->kill();
    }
    // key by flag, secret missing: only the secret is generated
    {
        const QString path = dir.filePath(u"b.ini"_s);
        newServerWithoutDefaultSecrets();
        QVERIFY2(m_server->start({u"--config"_s, path, u"--api-key"_s, u"flag-key-1234567890"_s}),
                 qPrintable(m_server->lastError()));
        const QByteArray content = readFile(path);
        QVERIFY2(!content.contains("flag-key-1234567890"),
                 "an API key given by flag was written to the file");
        QVERIFY(!iniValue(path, u"jwt_secret"_s).isEmpty());
        m_server->setApiKey("flag-key-1234567890");
        QCOMPARE(m_server->client()->get("/api/stats").status, 200);
        m_server->kill();
    }
    // both by environment
    {
        const QString path = dir.filePath(u"c.ini"_s);
        newServerWithoutDefaultSecrets();
        m_server->setEnv(u"SWITCHBOARD_API_KEY"_s, u"env-key-1234567890"_s);
        m_server->setEnv(u"SWITCHBOARD_JWT_SECRET"_s, u"env-secret-1234567890"_s);
        QVERIFY2(m_server->start({u"--config"_s, path}), qPrintable(m_server->lastError()));
        const QByteArray content = readFile(path);
        QVERIFY(!content.contains("env-key-1234567890"));
        QVERIFY(!content.contains("env-secret-1234567890"));
        m_server->setApiKey("env-key-1234567890");
        auto api = m_server->client();
        QCOMPARE(api->get("/api/stats").status, 200);
        const QByteArray token = registerToken(*api, u"r"_s, u"u"_s, u"s"_s);
        QVERIFY(Jwt::verifyHs256(token, "env-secret-1234567890"));
    }
}

void TestConfigStartup::precedence_listen()
{
    QTemporaryDir dir;
    const quint16 p1 = freePort(), p2 = freePort(), p3 = freePort();
    QVERIFY(p1 && p2 && p3 && p1 != p2 && p2 != p3 && p1 != p3);
    const QString ini = dir.filePath(u"listen.ini"_s);
    QVERIFY(writeFile(ini, "listen=127.0.0.1:" + QByteArray::number(p1) + "\n"));
    ServerProcess::Options o;
    o.defaultListen = false;

    m_server = std::make_unique<ServerProcess>();
    m_server->setOptions(o);
    QVERIFY2(m_server->start({u"--config"_s, ini}), qPrintable(m_server->lastError()));
    QCOMPARE(m_server->port(), p1);
    QCOMPARE(m_server->client(false)->get("/api/health").status, 200);
    m_server->kill();

    m_server->setEnv(u"SWITCHBOARD_LISTEN"_s, u"127.0.0.1:"_s % QString::number(p2));
    QVERIFY2(m_server->start({u"--config"_s, ini}), qPrintable(m_server->lastError()));
    QCOMPARE(m_server->port(), p2);
    m_server->kill();

    QVERIFY2(m_server->start(
                     {u"--config"_s, ini, u"--listen"_s, u"127.0.0.1:"_s % QString::number(p3)}),
             qPrintable(m_server->lastError()));
    QCOMPARE(m_server->port(), p3);
    QCOMPARE(m_server->client(false)->get("/api/health").status, 200);
}

void TestConfigStartup::precedence_apiKey()
{
    QTemporaryDir dir;
    const QString ini = dir.filePath(u"keys.ini"_s);
    QVERIFY(writeFile(ini, "api_key=ini-key-0123456789\njwt_secret=ini-secret-0123456789\n"));
    newServerWithoutDefaultSecrets();

    auto statusWith = [&](const QByteArray &key) {
        return m_server->client(false)->get("/api/stats", {{"X-API-Key", key}}).status;
    };

    QVERIFY2(m_server->start({u"--config"_s, ini}), qPrintable(m_server->lastError()));
    QCOMPARE(statusWith("ini-key-0123456789"), 200);
    m_server->setApiKey("ini-key-0123456789");
    QVERIFY(Jwt::verifyHs256(registerToken(*m_server->client(), u"r"_s, u"u"_s, u"s"_s),
                             "ini-secret-0123456789"));
    m_server->kill();

    m_server->setEnv(u"SWITCHBOARD_API_KEY"_s, u"env-key-0123456789"_s);
    QVERIFY2(m_server->start({u"--config"_s, ini}), qPrintable(m_server->lastError()));
    QCOMPARE(statusWith("env-key-0123456789"), 200);
    QCOMPARE(statusWith("ini-key-0123456789"), 401);
    m_server->kill();

    QVERIFY2(m_server->start({u"--config"_s, ini, u"--api-key"_s, u"flag-key-0123456789"_s}),
             qPrintable(m_server->lastError()));
    QCOMPARE(statusWith("flag-key-0123456789"), 200);
    QCOMPARE(statusWith("env-key-0123456789"), 401);
    QCOMPARE(statusWith("ini-key-0123456789"), 401);
    // the file still holds its own values
    QCOMPARE(iniValue(ini, u"api_key"_s), u"ini-key-0123456789"_s);
}

void TestConfigStartup::insecure_warnsAndAcceptsWithoutKey()
{
    newServerWithoutDefaultSecrets();
    QVERIFY2(m_server->start({u"--insecure"_s, u"--jwt-secret"_s, u"insecure-secret-0123456789"_s}),
             qPrintable(m_server->lastError()));
    const QString out = m_server->output();
    QVERIFY2(out.contains(u"insecure"_s, Qt::CaseInsensitive), qPrintable(out));
    QVERIFY2(out.contains(u"warning"_s, Qt::CaseInsensitive)
                     || out.contains(u"WITHOUT"_s, Qt::CaseInsensitive),
             qPrintable(u"no loud warning for --insecure: "_s % out));
    auto anon = m_server->client(false);
    QCOMPARE(anon->get("/api/stats").status, 200);
    const HttpResponse r = anon->postJson("/api/emit/all", {{u"event"_s, u"e"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
}

void TestConfigStartup::sigterm_exitsZero()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    auto api = m_server->client();
    QCOMPARE(api->get("/api/health").status, 200); // an open keep-alive connection
    QCOMPARE(m_server->stop(5000), 0);
    QCOMPARE(m_server->exitStatus(), QProcess::NormalExit);
}

// An empty --api-key (or SWITCHBOARD_API_KEY=) counts as not given: the file's key is used
// and the file is not rewritten.
void TestConfigStartup::emptyApiKey_fallsThroughToFile_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("emptyEnv");
    QTest::newRow("--api-key \"\"") << QStringList{u"--api-key"_s, QString()} << false;
    QTest::newRow("--api-key=") << QStringList{u"--api-key="_s} << false;
    QTest::newRow("SWITCHBOARD_API_KEY=") << QStringList{} << true;
    QTest::newRow("both empty") << QStringList{u"--api-key"_s, QString()} << true;
}

void TestConfigStartup::emptyApiKey_fallsThroughToFile()
{
    QFETCH(QStringList, args);
    QFETCH(bool, emptyEnv);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString ini = dir.filePath(u"switchboard.ini"_s);
    const QByteArray content = "api_key=abc\njwt_secret=file-secret-0123456789\n";
    QVERIFY(writeFile(ini, content));
    QVERIFY(QFile::setPermissions(ini, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    const QDateTime mtime = QFileInfo(ini).lastModified();

    newServerWithoutDefaultSecrets();
    if (emptyEnv)
        m_server->setEnv(u"SWITCHBOARD_API_KEY"_s, QString());
    QVERIFY2(m_server->start(QStringList{u"--config"_s, ini} + args),
             qPrintable(m_server->lastError()));

    auto statusWith = [&](const QByteArray &key) {
        Headers h;
        if (!key.isNull())
            h.emplaceBack("X-API-Key", key);
        return m_server->client(false)->get("/api/stats", h).status;
    };
    QCOMPARE(statusWith("abc"), 200);
    QCOMPARE(statusWith(QByteArray()), 401);
    QCOMPARE(statusWith("abcd"), 401);
    m_server->setApiKey("abc");
    QVERIFY(Jwt::verifyHs256(registerToken(*m_server->client(), u"r"_s, u"u"_s, u"s"_s),
                             "file-secret-0123456789"));

    QCOMPARE(readFile(ini), content);
    QCOMPARE(QFileInfo(ini).lastModified(), mtime);
    const QString out = m_server->output();
    QVERIFY2(!out.contains(u"generated"_s, Qt::CaseInsensitive), qPrintable(out));
    QVERIFY2(!out.contains(u"insecure"_s, Qt::CaseInsensitive), qPrintable(out));
    QCOMPARE(m_server->stop(5000), 0);
    QCOMPARE(readFile(ini), content);
}

QTEST_MAIN(TestConfigStartup)
#include "tst_config_startup.moc"
