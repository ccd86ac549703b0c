// Unit tests of sb::ConfigLoader (docs/API.md, "Configuration"): precedence, validation of
// every key, and first-run secret generation.

#include "config/ConfigLoader.h"

#include "ServerConfigFields.h"
#include "TestFiles.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>

using namespace Qt::StringLiterals;
using sb::ConfigLoader;
using sb::ServerConfig;
using sbtest::fileMode;
using sbtest::readFile;

namespace {

QString flagOf(const QString &key)
{
    return u"--"_s + QString(key).replace(u'_', u'-');
}

QString envOf(const QString &key)
{
    return u"SWITCHBOARD_"_s + key.toUpper();
}

using Getter = sbtest::ConfigGetter;

// Every positive-integer key tested here, and where it lands.
const QList<QPair<QString, Getter>> &positiveKeys()
{
    static const QList<QPair<QString, Getter>> keys = [] {
        QList<QPair<QString, Getter>> list;
        for (const QString &key :
             {u"max_body_bytes"_s, u"max_message_bytes"_s, u"max_queue_bytes"_s,
              u"max_connections"_s, u"token_max_ttl"_s, u"read_timeout_s"_s, u"ping_interval_s"_s,
              u"log_retention_days"_s, u"log_max_rows"_s, u"history_per_room"_s, u"io_threads"_s})
            list.append({key, sbtest::integerConfigFields().value(key)});
        return list;
    }();
    return keys;
}

Getter getterOf(const QString &key)
{
    for (const auto &[k, g] : positiveKeys()) {
        if (k == key)
            return g;
    }
    return {};
}

QString textValue(const ServerConfig &c, const QString &key)
{
    if (const auto field = sbtest::textConfigFields().value(key))
        return c.*field;
    if (const Getter g = getterOf(key))
        return QString::number(g(c));
    qFatal("textValue: unknown key");
}

bool anyContains(const QStringList &list, const QString &needle)
{
    for (const QString &s : list) {
        if (s.contains(needle))
            return true;
    }
    return false;
}

} // namespace

class TestConfigLoader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void defaults();
    void precedence_data();
    void precedence();
    void positiveIntegersRejectNonPositive_data();
    void positiveIntegersRejectNonPositive();
    void positiveIntegersAccepted_data();
    void positiveIntegersAccepted();
    void anyPositiveIntegerForLogRowsAndHistory_data();
    void anyPositiveIntegerForLogRowsAndHistory();
    void queueNeverBelowTheLargestEmit();
    void listen_data();
    void listen();
    void trustedNetworks_data();
    void trustedNetworks();
    void allowedOrigins();
    void invalidOrigin();
    void tlsCertAndKeyGoTogether_data();
    void tlsCertAndKeyGoTogether();
    void logLevel();
    void firstRunGeneratesSecrets();
    void firstRunKeepsOtherSettings();
    void secretsFromFlagOrEnvAreNotWritten_data();
    void secretsFromFlagOrEnvAreNotWritten();
    void insecureGeneratesOnlyTheJwtSecret_data();
    void insecureGeneratesOnlyTheJwtSecret();
    void secretsFromTheFileAreUsed();
    void noGenerationWhenNotAllowed();
    void typedIniValuesAreRefused_data();
    void typedIniValuesAreRefused();
    void atSignsThatAreText_data();
    void atSignsThatAreText();

private:
    // Loads with argv = switchboardd <args>, after --data-dir <tmp>.
    ConfigLoader::Result load(QStringList args,
                              const QProcessEnvironment &env = QProcessEnvironment(),
                              bool generateSecrets = true);
    // Same, with an API key and JWT secret on the command line (nothing is generated).
    ConfigLoader::Result loadWithSecrets(QStringList args,
                                         const QProcessEnvironment &env = QProcessEnvironment())
    {
        return load(args << u"--api-key"_s << u"test-key"_s << u"--jwt-secret"_s
                         << u"test-secret"_s,
                    env);
    }
    QString writeIni(const QString &name, const QByteArray &content);
    QString defaultIniPath() const { return m_dir->filePath(u"switchboard.ini"_s); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestConfigLoader::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

ConfigLoader::Result TestConfigLoader::load(QStringList args, const QProcessEnvironment &env,
                                            bool generateSecrets)
{
    QCommandLineParser parser;
    ConfigLoader::addOptions(parser);
    args.prepend(m_dir->path());
    args.prepend(u"--data-dir"_s);
    args.prepend(u"switchboardd"_s);
    if (!parser.parse(args))
        qWarning("parser: %s", qPrintable(parser.errorText()));
    return ConfigLoader::load(parser, env, generateSecrets);
}

QString TestConfigLoader::writeIni(const QString &name, const QByteArray &content)
{
    const QString path = m_dir->filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write the test INI file");
    f.write(content);
    return path;
}

void TestConfigLoader::defaults()
{
    const ConfigLoader::Result r = loadWithSecrets({});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    const ServerConfig &c = r.config;
    QCOMPARE(c.listen, u"127.0.0.1:8080"_s);
    QCOMPARE(c.listenAddress, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(c.listenPort, quint16(8080));
    QCOMPARE(c.maxBodyBytes, 1048576);
    QCOMPARE(c.maxMessageBytes, 65536);
    QCOMPARE(c.maxQueueBytes, 8388608);
    QCOMPARE(c.maxConnections, 100000);
    QCOMPARE(c.tokenMaxTtl, 604800);
    QCOMPARE(c.tokenDefaultTtl, 86400);
    QCOMPARE(c.readTimeoutS, 30);
    QCOMPARE(c.pingIntervalS, 30);
    QCOMPARE(c.logRetentionDays, 30);
    QCOMPARE(c.logMaxRows, 10000000);
    QCOMPARE(c.historyPerRoom, 1000);
    QCOMPARE(c.pgChannel, u"switchboard"_s);
    QVERIFY(c.allowedOrigins.isEmpty());
    QVERIFY(c.trustedNetworks.isEmpty());
    QVERIFY(!c.insecure);
    QVERIFY(!c.tlsEnabled());
    QCOMPARE(c.dataDir, m_dir->path());
    QCOMPARE(QFileInfo(c.configPath).absoluteFilePath(),
             QFileInfo(defaultIniPath()).absoluteFilePath());
    QCOMPARE(c.apiKey, u"test-key"_s);
    QCOMPARE(c.jwtSecret, u"test-secret"_s);
}

void TestConfigLoader::precedence_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("flag");
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("ini");
    QTest::addColumn<QString>("fallback"); // empty: no default to check (secrets)
    QTest::newRow("listen") << u"listen"_s << u"127.0.0.1:1111"_s << u"127.0.0.1:2222"_s
                            << u"127.0.0.1:3333"_s << u"127.0.0.1:8080"_s;
    QTest::newRow("max_connections")
            << u"max_connections"_s << u"111"_s << u"222"_s << u"333"_s << u"100000"_s;
    QTest::newRow("history_per_room")
            << u"history_per_room"_s << u"11"_s << u"22"_s << u"33"_s << u"1000"_s;
    QTest::newRow("token_max_ttl")
            << u"token_max_ttl"_s << u"1111"_s << u"2222"_s << u"3333"_s << u"604800"_s;
    QTest::newRow("read_timeout_s") << u"read_timeout_s"_s << u"5"_s << u"6"_s << u"7"_s << u"30"_s;
    QTest::newRow("log_level") << u"log_level"_s << u"debug"_s << u"warning"_s << u"error"_s
                               << u"info"_s;
    QTest::newRow("pg_channel") << u"pg_channel"_s << u"chan_a"_s << u"chan_b"_s << u"chan_c"_s
                                << u"switchboard"_s;
    QTest::newRow("api_key") << u"api_key"_s << u"flag-key"_s << u"env-key"_s << u"ini-key"_s
                             << QString();
    QTest::newRow("jwt_secret") << u"jwt_secret"_s << u"flag-secret"_s << u"env-secret"_s
                                << u"ini-secret"_s << QString();
}

void TestConfigLoader::precedence()
{
    QFETCH(QString, key);
    QFETCH(QString, flag);
    QFETCH(QString, env);
    QFETCH(QString, ini);
    QFETCH(QString, fallback);

    const QString iniPath = writeIni(u"precedence.ini"_s, (key + u'=' + ini + u'\n').toUtf8());
    // Secrets other than the key under test come from the command line.
    QStringList base{u"--config"_s, iniPath};
    if (key != u"api_key")
        base << u"--api-key"_s << u"k"_s;
    if (key != u"jwt_secret")
        base << u"--jwt-secret"_s << u"s"_s;
    QProcessEnvironment environment;
    environment.insert(envOf(key), env);

    // flag > env > file
    ConfigLoader::Result r = load(QStringList(base) << flagOf(key) << flag, environment);
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(textValue(r.config, key), flag);

    // env > file
    r = load(base, environment);
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(textValue(r.config, key), env);

    // file > default
    r = load(base, QProcessEnvironment());
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(textValue(r.config, key), ini);

    // An unrelated variable does not count.
    QProcessEnvironment unrelated;
    unrelated.insert(u"SWITCHBOARD_OTHER"_s, env);
    unrelated.insert(key.toUpper(), env);
    r = load(base, unrelated);
    QCOMPARE(textValue(r.config, key), ini);

    if (fallback.isEmpty())
        return;
    base[1] = m_dir->filePath(u"does-not-exist.ini"_s);
    r = load(base, QProcessEnvironment());
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(textValue(r.config, key), fallback);
}

void TestConfigLoader::positiveIntegersRejectNonPositive_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("source");
    for (const auto &[key, getter] : positiveKeys()) {
        for (const QString &value : {u"0"_s, u"-1"_s, u"abc"_s, u"1.5"_s, u"12abc"_s}) {
            for (const QString &source : {u"flag"_s, u"env"_s, u"ini"_s})
                QTest::addRow("%s=%s (%s)", qPrintable(key), qPrintable(value), qPrintable(source))
                        << key << value << source;
        }
    }
}

void TestConfigLoader::positiveIntegersRejectNonPositive()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, source);
    QStringList args;
    QProcessEnvironment env;
    if (source == u"flag")
        args << flagOf(key) + u'=' + value; // "--key -1" would read -1 as an option
    else if (source == u"env")
        env.insert(envOf(key), value);
    else
        writeIni(u"switchboard.ini"_s, (key + u'=' + value + u'\n').toUtf8());
    const ConfigLoader::Result r = loadWithSecrets(args, env);
    QVERIFY2(!r.errors.isEmpty(), qPrintable(key + u" accepted " + value));
    QVERIFY2(anyContains(r.errors, key), qPrintable(r.errors.join(u'\n')));
}

void TestConfigLoader::positiveIntegersAccepted_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<qint64>("value");
    for (const auto &[key, getter] : positiveKeys()) {
        const qint64 value = key == u"max_queue_bytes" ? 9000000
                : key == u"max_body_bytes"             ? 2048
                                                       : 7;
        QTest::addRow("%s", qPrintable(key)) << key << value;
    }
}

void TestConfigLoader::positiveIntegersAccepted()
{
    QFETCH(QString, key);
    QFETCH(qint64, value);
    for (const QString &text : {QString::number(value), u" %1 "_s.arg(value)}) {
        const ConfigLoader::Result r = loadWithSecrets({flagOf(key), text});
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
        QCOMPARE(getterOf(key)(r.config), value);
    }
}

void TestConfigLoader::anyPositiveIntegerForLogRowsAndHistory_data()
{
    // Any positive integer is valid for log_max_rows and history_per_room (docs/API.md,
    // "Configuration").
    QTest::addColumn<QString>("key");
    QTest::addColumn<qint64>("value");
    QTest::newRow("log_max_rows 1") << u"log_max_rows"_s << qint64(1);
    QTest::newRow("log_max_rows 10^12") << u"log_max_rows"_s << qint64(1000000000000);
    QTest::newRow("log_max_rows int64 max")
            << u"log_max_rows"_s << std::numeric_limits<qint64>::max();
    QTest::newRow("history_per_room 1") << u"history_per_room"_s << qint64(1);
    QTest::newRow("history_per_room 10^8") << u"history_per_room"_s << qint64(100000000);
    QTest::newRow("history_per_room 10^9") << u"history_per_room"_s << qint64(1000000000);
    QTest::newRow("history_per_room 2^31") << u"history_per_room"_s << qint64(2147483648);
}

void TestConfigLoader::anyPositiveIntegerForLogRowsAndHistory()
{
    QFETCH(QString, key);
    QFETCH(qint64, value);
    const ConfigLoader::Result r = loadWithSecrets({flagOf(key), QString::number(value)});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(getterOf(key)(r.config), value);
}

void TestConfigLoader::queueNeverBelowTheLargestEmit()
{
    // max_queue_bytes is never below the largest frame an accepted emit can make
    // (docs/API.md, "Configuration").
    ConfigLoader::Result r = loadWithSecrets({u"--max-queue-bytes=1000"_s});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QVERIFY(r.config.maxQueueBytes > r.config.maxBodyBytes);
    QVERIFY(!r.warnings.isEmpty());

    r = loadWithSecrets({u"--max-queue-bytes=1000"_s, u"--max-body-bytes=4000000"_s});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.config.maxBodyBytes, 4000000);
    QVERIFY(r.config.maxQueueBytes > 4000000);

    r = loadWithSecrets({u"--max-queue-bytes=20000000"_s});
    QCOMPARE(r.config.maxQueueBytes, 20000000);
    QVERIFY(r.warnings.isEmpty());
}

void TestConfigLoader::listen_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QHostAddress>("address");
    QTest::addColumn<int>("port");
    QTest::newRow("0.0.0.0:9000") << u"0.0.0.0:9000"_s << true << QHostAddress(u"0.0.0.0"_s)
                                  << 9000;
    QTest::newRow("127.0.0.1:8080")
            << u"127.0.0.1:8080"_s << true << QHostAddress(u"127.0.0.1"_s) << 8080;
    QTest::newRow("[::1]:8080") << u"[::1]:8080"_s << true << QHostAddress(u"::1"_s) << 8080;
    QTest::newRow("[::]:443") << u"[::]:443"_s << true << QHostAddress(u"::"_s) << 443;
    QTest::newRow("port 65535") << u"10.1.2.3:65535"_s << true << QHostAddress(u"10.1.2.3"_s)
                                << 65535;
    QTest::newRow("port 0") << u"127.0.0.1:0"_s << true << QHostAddress(u"127.0.0.1"_s) << 0;
    QTest::newRow("port 65536") << u"127.0.0.1:65536"_s << false << QHostAddress() << 0;
    QTest::newRow("port 99999") << u"127.0.0.1:99999"_s << false << QHostAddress() << 0;
    QTest::newRow("port abc") << u"127.0.0.1:abc"_s << false << QHostAddress() << 0;
    QTest::newRow("port -1") << u"127.0.0.1:-1"_s << false << QHostAddress() << 0;
    QTest::newRow("empty port") << u"127.0.0.1:"_s << false << QHostAddress() << 0;
    QTest::newRow("no port") << u"127.0.0.1"_s << false << QHostAddress() << 0;
    QTest::newRow("bad ipv4") << u"999.1.1.1:80"_s << false << QHostAddress() << 0;
    QTest::newRow("bracketed, bad port") << u"[::1]:x"_s << false << QHostAddress() << 0;
}

void TestConfigLoader::listen()
{
    QFETCH(QString, value);
    QFETCH(bool, valid);
    QFETCH(QHostAddress, address);
    QFETCH(int, port);

    QHostAddress parsedAddress;
    quint16 parsedPort = 1;
    QString why;
    QCOMPARE(ConfigLoader::parseListen(value, &parsedAddress, &parsedPort, &why), valid);
    QCOMPARE(why.isEmpty(), valid);

    const ConfigLoader::Result r = loadWithSecrets({u"--listen"_s, value});
    if (valid) {
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
        QCOMPARE(parsedAddress, address);
        QCOMPARE(int(parsedPort), port);
        QCOMPARE(r.config.listenAddress, address);
        QCOMPARE(int(r.config.listenPort), port);
    } else {
        QVERIFY(!r.errors.isEmpty());
        QVERIFY2(anyContains(r.errors, u"listen"_s), qPrintable(r.errors.join(u'\n')));
    }
}

void TestConfigLoader::trustedNetworks_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("count");
    QTest::newRow("list") << u"10.0.0.0/8, 192.168.1.0/24,::1/128, 127.0.0.1"_s << true << 4;
    QTest::newRow("single v6 address") << u"fd00::1"_s << true << 1;
    QTest::newRow("empty") << QString() << true << 0;
    QTest::newRow("prefix too long") << u"10.0.0.0/33"_s << false << 0;
    QTest::newRow("not an address") << u"bogus"_s << false << 0;
    QTest::newRow("one bad in a list") << u"10.0.0.0/8,nonsense"_s << false << 0;
    QTest::newRow("bad prefix") << u"10.0.0.0/x"_s << false << 0;
}

void TestConfigLoader::trustedNetworks()
{
    QFETCH(QString, value);
    QFETCH(bool, valid);
    QFETCH(int, count);
    const ConfigLoader::Result r = loadWithSecrets({u"--trusted-networks"_s, value});
    if (!valid) {
        QVERIFY2(anyContains(r.errors, u"trusted_networks"_s), qPrintable(r.errors.join(u'\n')));
        QString why;
        QVERIFY(!ConfigLoader::parseNetworks(value, &why));
        QVERIFY(!why.isEmpty());
        return;
    }
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.config.trustedNetworks.size(), count);
    if (count == 4) {
        const ServerConfig &c = r.config;
        QVERIFY(c.isTrusted(QHostAddress(u"10.1.2.3"_s)));
        QVERIFY(c.isTrusted(QHostAddress(u"192.168.1.77"_s)));
        QVERIFY(c.isTrusted(QHostAddress(u"::1"_s)));
        QVERIFY(c.isTrusted(QHostAddress(u"127.0.0.1"_s)));
        QVERIFY(c.isTrusted(QHostAddress(u"::ffff:10.0.0.5"_s))); // v4-mapped
        QVERIFY(!c.isTrusted(QHostAddress(u"11.0.0.1"_s)));
        QVERIFY(!c.isTrusted(QHostAddress(u"192.168.2.1"_s)));
        QVERIFY(!c.isTrusted(QHostAddress(u"127.0.0.2"_s)));
        QVERIFY(!c.isTrusted(QHostAddress(u"::2"_s)));
    }
    if (count == 0) // default: nobody is trusted
        QVERIFY(!r.config.isTrusted(QHostAddress(u"127.0.0.1"_s)));
}

void TestConfigLoader::allowedOrigins()
{
    ConfigLoader::Result r = loadWithSecrets({});
    QVERIFY(r.config.allowedOrigins.isEmpty());
    QVERIFY(r.config.isOriginAllowed(u"https://anything.example"_s));

    r = loadWithSecrets(
            {u"--allowed-origins"_s, u"https://app.example.com, http://localhost:3000"_s});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.config.allowedOrigins.size(), 2);
    QVERIFY(r.config.isOriginAllowed(u"https://app.example.com"_s));
    QVERIFY(r.config.isOriginAllowed(u"http://localhost:3000"_s));
    QVERIFY(!r.config.isOriginAllowed(u"https://evil.example.com"_s));
    QVERIFY(!r.config.isOriginAllowed(u"http://app.example.com"_s));
    QVERIFY(!r.config.isOriginAllowed(u"http://localhost:3001"_s));

    // From the INI file, where QSettings splits the comma list.
    writeIni(u"switchboard.ini"_s,
             "allowed_origins=https://a.example.com, https://b.example.com\n");
    r = loadWithSecrets({});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.config.allowedOrigins.size(), 2);
    QVERIFY(r.config.isOriginAllowed(u"https://b.example.com"_s));
    QVERIFY(!r.config.isOriginAllowed(u"https://c.example.com"_s));
}

void TestConfigLoader::invalidOrigin()
{
    const ConfigLoader::Result r =
            loadWithSecrets({u"--allowed-origins"_s, u"https://ok.example.com,not an origin"_s});
    QVERIFY2(anyContains(r.errors, u"allowed_origins"_s), qPrintable(r.errors.join(u'\n')));
}

void TestConfigLoader::tlsCertAndKeyGoTogether_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("valid");
    QTest::newRow("cert only") << QStringList{u"--tls-cert"_s, u"/etc/ssl/cert.pem"_s} << false;
    QTest::newRow("key only") << QStringList{u"--tls-key"_s, u"/etc/ssl/key.pem"_s} << false;
    QTest::newRow("both") << QStringList{u"--tls-cert"_s, u"/etc/ssl/cert.pem"_s, u"--tls-key"_s,
                                         u"/etc/ssl/key.pem"_s}
                          << true;
    QTest::newRow("neither") << QStringList() << true;
}

void TestConfigLoader::tlsCertAndKeyGoTogether()
{
    QFETCH(QStringList, args);
    QFETCH(bool, valid);
    const ConfigLoader::Result r = loadWithSecrets(args);
    if (valid) {
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
        QCOMPARE(r.config.tlsEnabled(), !args.isEmpty());
        if (!args.isEmpty()) {
            QCOMPARE(r.config.tlsCert, u"/etc/ssl/cert.pem"_s);
            QCOMPARE(r.config.tlsKey, u"/etc/ssl/key.pem"_s);
        }
    } else {
        QVERIFY(!r.errors.isEmpty());
        QVERIFY2(anyContains(r.errors, u"tls_key"_s) && anyContains(r.errors, u"tls_cert"_s),
                 qPrintable(r.errors.join(u'\n')));
    }
}

void TestConfigLoader::logLevel()
{
    for (const QString &level : {u"error"_s, u"warning"_s, u"info"_s, u"debug"_s}) {
        const ConfigLoader::Result r = loadWithSecrets({u"--log-level"_s, level});
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
        QCOMPARE(r.config.logLevel, level);
    }
    const ConfigLoader::Result r = loadWithSecrets({u"--log-level"_s, u"verbose"_s});
    QVERIFY2(anyContains(r.errors, u"log_level"_s), qPrintable(r.errors.join(u'\n')));
}

void TestConfigLoader::firstRunGeneratesSecrets()
{
    const QString iniPath = defaultIniPath();
    QVERIFY(!QFile::exists(iniPath));
    const ConfigLoader::Result r = load({});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    const QString apiKey = r.config.apiKey;
    const QString secret = r.config.jwtSecret;
    QVERIFY(apiKey.size() >= 32);
    QVERIFY(secret.size() >= 32);
    QVERIFY(apiKey != secret);

    QVERIFY(QFile::exists(iniPath));
    QCOMPARE(fileMode(iniPath), 0600);
    const QByteArray content = readFile(iniPath);
    QVERIFY2(content.contains(QByteArray("api_key=" + apiKey.toUtf8())), content.constData());
    QVERIFY2(content.contains(QByteArray("jwt_secret=" + secret.toUtf8())), content.constData());
    // The notices say where they were written.
    QVERIFY2(anyContains(r.notices, QFileInfo(iniPath).absoluteFilePath()),
             qPrintable(r.notices.join(u'\n')));

    // The next start reads them back and generates nothing.
    const ConfigLoader::Result again = load({});
    QVERIFY2(again.errors.isEmpty(), qPrintable(again.errors.join(u'\n')));
    QCOMPARE(again.config.apiKey, apiKey);
    QCOMPARE(again.config.jwtSecret, secret);
    QVERIFY2(again.notices.isEmpty(), qPrintable(again.notices.join(u'\n')));

    // Another data dir gets other secrets.
    QTemporaryDir other;
    QCommandLineParser parser;
    ConfigLoader::addOptions(parser);
    QVERIFY(parser.parse({u"switchboardd"_s, u"--data-dir"_s, other.path()}));
    const ConfigLoader::Result fresh = ConfigLoader::load(parser, QProcessEnvironment());
    QVERIFY(fresh.errors.isEmpty());
    QVERIFY(fresh.config.apiKey != apiKey);
    QVERIFY(fresh.config.jwtSecret != secret);
}

void TestConfigLoader::firstRunKeepsOtherSettings()
{
    const QString iniPath = m_dir->filePath(u"conf/sub/my.ini"_s); // directory does not exist yet
    ConfigLoader::Result r = load({u"--config"_s, iniPath});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(fileMode(iniPath), 0600);
    QVERIFY(anyContains(r.notices, QFileInfo(iniPath).absoluteFilePath()));

    const QString existing =
            writeIni(u"existing.ini"_s, "max_connections=5\nlisten=0.0.0.0:9001\n");
    r = load({u"--config"_s, existing});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.config.maxConnections, 5);
    QCOMPARE(fileMode(existing), 0600);
    const ConfigLoader::Result again = load({u"--config"_s, existing});
    QCOMPARE(again.config.maxConnections, 5);
    QCOMPARE(again.config.listenPort, quint16(9001));
    QCOMPARE(again.config.apiKey, r.config.apiKey);
    QCOMPARE(again.config.jwtSecret, r.config.jwtSecret);
}

void TestConfigLoader::secretsFromFlagOrEnvAreNotWritten_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env"); // NAME=value
    QTest::addColumn<QString>("givenKey");
    QTest::addColumn<QString>("givenSecret");
    QTest::newRow("key by flag") << QStringList{u"--api-key"_s, u"FLAG-KEY-123"_s} << QStringList()
                                 << u"FLAG-KEY-123"_s << QString();
    QTest::newRow("key by env") << QStringList()
                                << QStringList{u"SWITCHBOARD_API_KEY=ENV-KEY-456"_s}
                                << u"ENV-KEY-456"_s << QString();
    QTest::newRow("secret by flag") << QStringList{u"--jwt-secret"_s, u"FLAG-SECRET-789"_s}
                                    << QStringList() << QString() << u"FLAG-SECRET-789"_s;
    QTest::newRow("secret by env")
            << QStringList() << QStringList{u"SWITCHBOARD_JWT_SECRET=ENV-SECRET-000"_s} << QString()
            << u"ENV-SECRET-000"_s;
    QTest::newRow("both given") << QStringList{u"--api-key"_s, u"FLAG-KEY-123"_s}
                                << QStringList{u"SWITCHBOARD_JWT_SECRET=ENV-SECRET-000"_s}
                                << u"FLAG-KEY-123"_s << u"ENV-SECRET-000"_s;
}

void TestConfigLoader::secretsFromFlagOrEnvAreNotWritten()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, givenKey);
    QFETCH(QString, givenSecret);
    QProcessEnvironment environment;
    for (const QString &pair : env)
        environment.insert(pair.section(u'=', 0, 0), pair.section(u'=', 1));

    const ConfigLoader::Result r = load(args, environment);
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    const QByteArray content = readFile(defaultIniPath());
    if (!givenKey.isEmpty()) {
        QCOMPARE(r.config.apiKey, givenKey);
        QVERIFY2(!content.contains("api_key"), content.constData());
        QVERIFY(!content.contains(givenKey.toUtf8()));
    } else {
        QVERIFY(content.contains(QByteArray("api_key=" + r.config.apiKey.toUtf8())));
    }
    if (!givenSecret.isEmpty()) {
        QCOMPARE(r.config.jwtSecret, givenSecret);
        QVERIFY2(!content.contains("jwt_secret"), content.constData());
        QVERIFY(!content.contains(givenSecret.toUtf8()));
    } else {
        QVERIFY(content.contains(QByteArray("jwt_secret=" + r.config.jwtSecret.toUtf8())));
    }
    if (!givenKey.isEmpty() && !givenSecret.isEmpty())
        QVERIFY(r.notices.isEmpty());
    else
        QCOMPARE(fileMode(defaultIniPath()), 0600);
}

void TestConfigLoader::insecureGeneratesOnlyTheJwtSecret_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("envInsecure");
    QTest::newRow("--insecure") << QStringList{u"--insecure"_s} << QString();
    QTest::newRow("SWITCHBOARD_INSECURE=true") << QStringList() << u"true"_s;
}

void TestConfigLoader::insecureGeneratesOnlyTheJwtSecret()
{
    QFETCH(QStringList, args);
    QFETCH(QString, envInsecure);
    QProcessEnvironment env;
    if (!envInsecure.isNull())
        env.insert(u"SWITCHBOARD_INSECURE"_s, envInsecure);
    const ConfigLoader::Result r = load(args, env);
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QVERIFY(r.config.insecure);
    QVERIFY(r.config.apiKey.isEmpty());
    QVERIFY(r.config.jwtSecret.size() >= 32);
    const QByteArray content = readFile(defaultIniPath());
    QVERIFY2(content.contains(QByteArray("jwt_secret=" + r.config.jwtSecret.toUtf8())),
             content.constData());
    QVERIFY2(!content.contains("api_key"), content.constData());
    QCOMPARE(fileMode(defaultIniPath()), 0600);
    QVERIFY(anyContains(r.notices, QFileInfo(defaultIniPath()).absoluteFilePath()));
}

void TestConfigLoader::secretsFromTheFileAreUsed()
{
    writeIni(u"switchboard.ini"_s, "api_key=file-key\njwt_secret=file-secret\n");
    const ConfigLoader::Result r = load({});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.config.apiKey, u"file-key"_s);
    QCOMPARE(r.config.jwtSecret, u"file-secret"_s);
    QVERIFY(r.notices.isEmpty());
}

void TestConfigLoader::noGenerationWhenNotAllowed()
{
    const ConfigLoader::Result r = load({}, QProcessEnvironment(), false);
    QVERIFY(!r.errors.isEmpty());
    QVERIFY(!QFile::exists(defaultIniPath()));
}

void TestConfigLoader::typedIniValuesAreRefused_data()
{
    // QSettings deserializes @Variant(...) with QDataStream: fuzz_config_loader found a value
    // that made it allocate 58 GB (docs/fuzzing.md). Refused before QSettings reads the file.
    QTest::addColumn<QByteArray>("ini");
    QTest::addColumn<QString>("expected");
    QTest::newRow("fuzz_config_loader crash input") << QByteArray::fromBase64(
            "YSpfawAAAAAAAAAAAAAAAAAAAAAAdF9zZWNyZXQ9QFZhcmlhbnQoXDBcMFwwXH"
            "g3ZlxrZXk9QEJBcnJheShrKQpqd3Rfc2VjcmV0PUBWYXJpYW50KFwwXDBc"
            "MFx0bHNfY2VydHg3ZlwwXDBcQnl080FycmF5CGluaSkK")
                                                    << u"line 1: the value of"_s;
    QTest::newRow("@Variant QByteArray of 4 GiB")
            << "api_key=k\njwt_secret=@Variant(\\0\\0\\0\\f\\xff\\xff\\xff\\xf0)\n"_ba
            << u"line 2: the value of 'jwt_secret' starts with '@'"_s;
    QTest::newRow("@DateTime") << "[General]\nlisten=@DateTime(\\0)\n"_ba
                               << u"line 2: the value of 'listen'"_s;
    QTest::newRow("@Rect") << "api_key=@Rect(1 2 3 4)\n"_ba << u"'api_key' starts with '@'"_s;
    QTest::newRow("quoted, after spaces")
            << "jwt_secret=  \"@Variant(x)\"\n"_ba << u"'jwt_secret' starts with '@'"_s;
    QTest::newRow("a list element") << "allowed_origins=https://a.example, @Variant(x)\n"_ba
                                    << u"'allowed_origins' starts with '@'"_s;
    QTest::newRow("continued line")
            << "jwt_secret=\\\n@Variant(x)\n"_ba << u"'jwt_secret' starts with '@'"_s;
    QTest::newRow("after an escape that produces nothing")
            << "jwt_secret=\\z@Variant(x)\n"_ba << u"starts with '@'"_s;
    QTest::newRow("\\x40") << "jwt_secret=\\x40Variant(x)\n"_ba
                           << u"line 1: the value of 'jwt_secret' has a \\x or octal escape"_s;
    QTest::newRow("octal \\100") << "a=1\r\njwt_secret=ok\\100Variant(x)\r\n"_ba
                                 << u"line 2: the value of 'jwt_secret' has a \\x"_s;
}

void TestConfigLoader::typedIniValuesAreRefused()
{
    QFETCH(QByteArray, ini);
    QFETCH(QString, expected);
    const QString path = writeIni(u"typed.ini"_s, ini);
    for (const bool generate : {false, true}) {
        const ConfigLoader::Result r = load({u"--config"_s, path}, QProcessEnvironment(), generate);
        QVERIFY2(anyContains(r.errors, expected), qPrintable(r.errors.join(u" | ")));
        QVERIFY(anyContains(r.errors, path));
    }
    QCOMPARE(readFile(path), ini); // never rewritten
}

void TestConfigLoader::atSignsThatAreText_data()
{
    QTest::addColumn<QByteArray>("ini");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::newRow("inside a URL") << "log_database=postgresql://app:pw@db:5432/log\n"_ba
                                  << u"log_database"_s << u"postgresql://app:pw@db:5432/log"_s;
    QTest::newRow("@@ is a literal @")
            << "jwt_secret=@@secret\n"_ba << u"jwt_secret"_s << u"@secret"_s;
    QTest::newRow("in the middle")
            << "api_key=a@Variant(x)\n"_ba << u"api_key"_s << u"a@Variant(x)"_s;
    QTest::newRow("comments and sections")
            << "; @Variant(x)\n# key=@Variant(y)\n[General]\napi_key=k@\n"_ba << u"api_key"_s
            << u"k@"_s;
    QTest::newRow("other escapes")
            << "jwt_secret=a\\tb\\\\c\n"_ba << u"jwt_secret"_s << u"a\tb\\c"_s;
}

void TestConfigLoader::atSignsThatAreText()
{
    QFETCH(QByteArray, ini);
    QFETCH(QString, key);
    QFETCH(QString, value);
    QByteArray text = ini;
    if (key != u"api_key")
        text += "api_key=k\n";
    if (key != u"jwt_secret")
        text += "jwt_secret=s\n";
    const QString path = writeIni(u"text.ini"_s, text);
    const ConfigLoader::Result r = load({u"--config"_s, path}, QProcessEnvironment(), false);
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u" | ")));
    QCOMPARE(textValue(r.config, key), value);
}

QTEST_GUILESS_MAIN(TestConfigLoader)
#include "tst_config_loader.moc"
