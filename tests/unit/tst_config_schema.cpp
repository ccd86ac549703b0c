// Unit tests of sb::configSchema (server/config/ConfigSchema): the one table of configuration
// keys that ConfigLoader and the console's settings dialog share. Every Integer key's range is
// proven against the loader from every source: min and max accepted, min-1 and max+1 refused
// with an error naming the key.

#include "config/ConfigLoader.h"
#include "config/ConfigSchema.h"

#include "ServerConfigFields.h"

#include <QCommandLineParser>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>
#include <limits>

using namespace Qt::StringLiterals;
using sb::ConfigKey;
using sb::ConfigLoader;
using sb::ConfigType;
using sb::ServerConfig;

namespace {

using Getter = sbtest::ConfigGetter;

// Where each Integer key lands; the test fails for a schema key missing here.
const QMap<QString, Getter> &getters()
{
    return sbtest::integerConfigFields();
}

// n + delta as text, also past the ends of qint64.
QString shifted(qint64 n, int delta)
{
    if (delta > 0 && n == std::numeric_limits<qint64>::max())
        return u"9223372036854775808"_s;
    if (delta < 0 && n == std::numeric_limits<qint64>::min())
        return u"-9223372036854775809"_s;
    return QString::number(n + delta);
}

} // namespace

class TestConfigSchema : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void tableIsConsistent();
    void defaultsAreTheServerConfigDefaults();
    void integerRanges_data();
    void integerRanges();
    void fileValuesAreCheckedLikeTheLoader();
    void helpShowsRangeAndDefault();

private:
    ConfigLoader::Result load(const QStringList &args, const QProcessEnvironment &env = {});
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestConfigSchema::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

ConfigLoader::Result TestConfigSchema::load(const QStringList &args, const QProcessEnvironment &env)
{
    QCommandLineParser parser;
    ConfigLoader::addOptions(parser);
    const QStringList all =
            QStringList{u"switchboardd"_s, u"--data-dir"_s, m_dir->path(), u"--api-key"_s, u"k"_s,
                        u"--jwt-secret"_s, u"s"_s}
            + args;
    if (!parser.parse(all))
        qWarning("parser: %s", qPrintable(parser.errorText()));
    return ConfigLoader::load(parser, env, false);
}

void TestConfigSchema::tableIsConsistent()
{
    QSet<QString> names;
    for (const ConfigKey &key : sb::configSchema()) {
        const QString name = QString::fromLatin1(key.name);
        QVERIFY2(!names.contains(name), key.name);
        names.insert(name);
        QCOMPARE(QString::fromLatin1(key.flag), QString(name).replace(u'_', u'-'));
        QCOMPARE(sb::findConfigKey(name), &key);
        QVERIFY2(key.help && *key.help && QByteArray(key.help).endsWith('.'), key.name);
        const QString fallback = QString::fromLatin1(key.defaultValue);
        if (key.type == ConfigType::Integer) {
            QVERIFY2(key.min <= key.max, key.name);
            QVERIFY2(getters().contains(name), key.name);
        }
        if (key.type == ConfigType::Choice)
            QVERIFY2(sb::configChoices(key).contains(fallback), key.name);
        // Every default passes the loader's own check.
        QString why;
        if (!fallback.isEmpty())
            QVERIFY2(ConfigLoader::checkValue(key, fallback, &why), qPrintable(name + why));
    }
    QVERIFY(sb::findConfigKey(u"no_such_key") == nullptr);
}

void TestConfigSchema::defaultsAreTheServerConfigDefaults()
{
    const ConfigLoader::Result r = load({});
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    const ServerConfig plain;
    for (const ConfigKey &key : sb::configSchema()) {
        if (key.type != ConfigType::Integer)
            continue;
        const Getter get = getters().value(QString::fromLatin1(key.name));
        QCOMPARE(get(r.config), get(plain));
        if (*key.defaultValue)
            QCOMPARE(get(r.config), QByteArray(key.defaultValue).toLongLong());
    }
    QCOMPARE(r.config.listen, plain.listen);
    QCOMPARE(r.config.logLevel, plain.logLevel);
    QCOMPARE(r.config.pgChannel, plain.pgChannel);
}

void TestConfigSchema::integerRanges_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("source");
    for (const ConfigKey &key : sb::configSchema()) {
        if (key.type != ConfigType::Integer)
            continue;
        for (const QString &source : {u"flag"_s, u"env"_s, u"ini"_s})
            QTest::addRow("%s %s", key.name, qPrintable(source))
                    << QString::fromLatin1(key.name) << source;
    }
}

void TestConfigSchema::integerRanges()
{
    QFETCH(QString, key);
    QFETCH(QString, source);
    const ConfigKey &def = *sb::findConfigKey(key);
    const Getter get = getters().value(key);
    const auto loadWith = [&](const QString &value) {
        QProcessEnvironment env;
        QStringList args;
        if (source == u"flag") {
            args << u"--"_s + QString::fromLatin1(def.flag) << value;
        } else if (source == u"env") {
            env.insert(sb::configEnvName(def), value);
        } else {
            const QString path = m_dir->filePath(u"range.ini"_s);
            QFile file(path);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
                qFatal("cannot write the test INI file");
            file.write((key + u'=' + value + u'\n').toUtf8());
            file.close();
            args << u"--config"_s << path;
        }
        return load(args, env);
    };
    // Accepted at both ends; the max_queue_bytes and max_request_buffer_bytes floors
    // (raised to fit max_body_bytes) are warnings, not refusals.
    for (const qint64 n : {def.min, def.max}) {
        const ConfigLoader::Result r = loadWith(QString::number(n));
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
        if (r.warnings.isEmpty() || n == def.max)
            QCOMPARE(get(r.config), n);
    }
    // Refused one past each end, with an error naming the key, its flag and its variable.
    for (const QString &text : {shifted(def.min, -1), shifted(def.max, +1)}) {
        const ConfigLoader::Result r = loadWith(text);
        QCOMPARE(r.errors.size(), 1);
        const QString error = r.errors.first();
        QVERIFY2(error.startsWith(u"invalid value for " + key + u" (--"), qPrintable(error));
        QVERIFY2(error.contains(sb::configEnvName(def)), qPrintable(error));
        QVERIFY2(error.contains(u'\'' + text + u'\''), qPrintable(error));
        // The same text for the same value checked as a settings file (the console's save).
        QString fileError;
        QVERIFY(!ConfigLoader::checkFileValues({{key, text}}, &fileError));
        QCOMPARE(fileError, error);
    }
}

void TestConfigSchema::fileValuesAreCheckedLikeTheLoader()
{
    QString error;
    QVERIFY2(ConfigLoader::checkFileValues({}, &error), qPrintable(error));
    QVERIFY2(ConfigLoader::checkFileValues({{u"listen"_s, u"0.0.0.0:9000"_s},
                                            {u"read_timeout_s"_s, u"86400"_s},
                                            {u"allowed_origins"_s, u"https://a.example"_s}},
                                           &error),
             qPrintable(error));
    QVERIFY(!ConfigLoader::checkFileValues(
            {{u"listen"_s, u"nowhere"_s}, {u"pg_channel"_s, u"a-b"_s}}, &error));
    QCOMPARE(error.split(u'\n').size(), 2);
    QVERIFY2(error.contains(u"invalid value for listen (--listen"), qPrintable(error));
    QVERIFY2(error.contains(u"invalid value for pg_channel (--pg-channel"), qPrintable(error));
    QVERIFY(!ConfigLoader::checkFileValues({{u"tls_cert"_s, u"/c.pem"_s}}, &error));
    QVERIFY2(error.contains(u"tls_key"), qPrintable(error));
}

void TestConfigSchema::helpShowsRangeAndDefault()
{
    QCOMPARE(sb::configHelpText(*sb::findConfigKey(u"read_timeout_s")),
             u"Cut off a client that stalls mid-request (1 to 86400, default 30)."_s);
    QCOMPARE(sb::configHelpText(*sb::findConfigKey(u"log_max_rows")),
             u"Keep at most this many log records (at least 1, default 10000000)."_s);
    QCOMPARE(sb::configHelpText(*sb::findConfigKey(u"insecure")),
             u"Run without an API key (development only)."_s);
}

QTEST_GUILESS_MAIN(TestConfigSchema)
#include "tst_config_schema.moc"
