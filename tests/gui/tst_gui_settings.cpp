// The settings dialog: its fields come from the server's configuration schema (ranges,
// defaults), it reads and writes through the backend, and what it saves loads back through
// ConfigLoader exactly as the dialog showed it.
#include "GuiTestSupport.h"
#include "backend/RemoteBackend.h"
#include "config/ConfigLoader.h"
#include "widgets/SettingsDialog.h"

#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QStandardPaths>
#include <QTest>

#include <functional>
#include <limits>

using namespace Qt::StringLiterals;
using sb::ConfigKey;
using sb::ConfigLoader;
using sb::ServerConfig;
using sb::ui::SettingsDialog;
using sb::ui::SettingsNumberField;

namespace {

// What a loaded configuration holds for each key the dialog shows, as text.
const QMap<QString, std::function<QString(const ServerConfig &)>> &loaded()
{
    using C = const ServerConfig &;
    static const QMap<QString, std::function<QString(const ServerConfig &)>> map = {
            {u"listen"_s, [](C c) { return c.listen; }},
            {u"tls_cert"_s, [](C c) { return c.tlsCert; }},
            {u"tls_key"_s, [](C c) { return c.tlsKey; }},
            {u"allowed_origins"_s, [](C c) { return c.allowedOrigins.join(u','); }},
            {u"trusted_networks"_s,
             [](C c) {
                 QStringList out;
                 for (const auto &[address, prefix] : c.trustedNetworks)
                     out << address.toString() + u'/' + QString::number(prefix);
                 return out.join(u',');
             }},
            {u"api_key"_s, [](C c) { return c.apiKey; }},
            {u"jwt_secret"_s, [](C c) { return c.jwtSecret; }},
            {u"token_max_ttl"_s, [](C c) { return QString::number(c.tokenMaxTtl); }},
            {u"max_body_bytes"_s, [](C c) { return QString::number(c.maxBodyBytes); }},
            {u"max_message_bytes"_s, [](C c) { return QString::number(c.maxMessageBytes); }},
            {u"max_queue_bytes"_s, [](C c) { return QString::number(c.maxQueueBytes); }},
            {u"max_connections"_s, [](C c) { return QString::number(c.maxConnections); }},
            {u"read_timeout_s"_s, [](C c) { return QString::number(c.readTimeoutS); }},
            {u"ping_interval_s"_s, [](C c) { return QString::number(c.pingIntervalS); }},
            {u"log_database"_s, [](C c) { return c.logDatabase; }},
            {u"log_retention_days"_s, [](C c) { return QString::number(c.logRetentionDays); }},
            {u"log_max_rows"_s, [](C c) { return QString::number(c.logMaxRows); }},
            {u"history_per_room"_s, [](C c) { return QString::number(c.historyPerRoom); }},
            {u"pg_listen"_s, [](C c) { return c.pgListen; }},
            {u"pg_channel"_s, [](C c) { return c.pgChannel; }},
    };
    return map;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TstGuiSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void fieldsHaveTheSchemasRanges();
    void outOfRangeCannotBeEntered();
    void savedValuesLoadBackIdentically_data();
    void savedValuesLoadBackIdentically();
    void refusedWithTheLoadersMessage();
    void remoteSettingsAreNotEditable();
};

void TstGuiSettings::fieldsHaveTheSchemasRanges()
{
    sbgui::HostedServer server; // not started: the settings are the file's
    SettingsDialog dialog(server.backend(), {});
    const QStringList keys = dialog.keys();
    QCOMPARE(QSet<QString>(keys.cbegin(), keys.cend()),
             QSet<QString>(loaded().keyBegin(), loaded().keyEnd()));
    int numbers = 0;
    for (const QString &key : dialog.keys()) {
        const ConfigKey *def = sb::findConfigKey(key);
        QVERIFY2(def, qPrintable(key));
        auto *number = qobject_cast<SettingsNumberField *>(dialog.field(key));
        QCOMPARE(number != nullptr, def->type == sb::ConfigType::Integer);
        if (!number) {
            QVERIFY(qobject_cast<QLineEdit *>(dialog.field(key)));
            QCOMPARE(dialog.value(key), QString::fromLatin1(def->defaultValue));
            continue;
        }
        ++numbers;
        QCOMPARE(number->minimum(), def->min);
        QCOMPARE(number->maximum(), def->max);
        QCOMPARE(number->value(), QByteArray(def->defaultValue).toLongLong()); // no file yet
    }
    QCOMPARE(numbers, 10);
}

void TstGuiSettings::outOfRangeCannotBeEntered()
{
    sbgui::HostedServer server;
    SettingsDialog dialog(server.backend(), {});
    for (const QString &key : dialog.keys()) {
        auto *number = qobject_cast<SettingsNumberField *>(dialog.field(key));
        if (!number)
            continue;
        const qint64 max = number->maximum();
        const QString past = max == std::numeric_limits<qint64>::max() ? u"9223372036854775808"_s
                                                                       : QString::number(max + 1);
        int pos = 0;
        QString text = past;
        QCOMPARE(number->validate(text, pos), QValidator::Invalid);
        text = QString::number(max);
        QCOMPARE(number->validate(text, pos), QValidator::Acceptable);
        text = QString::number(number->minimum());
        QCOMPARE(number->validate(text, pos), QValidator::Acceptable);
        text = QString::number(number->minimum() - 1);
        QVERIFY(number->validate(text, pos) != QValidator::Acceptable);
        dialog.setValue(key, past); // clamped, never past the schema's range
        QCOMPARE(number->value(), max);
        number->setValue(max - 1);
        number->stepBy(1000); // saturates, also at the largest 64-bit integer
        QCOMPARE(number->value(), max);
    }
    // Typing: the digit that would pass the maximum is not taken.
    auto *timeout = qobject_cast<SettingsNumberField *>(dialog.field(u"read_timeout_s"_s));
    QVERIFY(timeout);
    auto *edit = timeout->findChild<QLineEdit *>();
    QVERIFY(edit);
    edit->clear();
    QTest::keyClicks(edit, u"864000"_s);
    QCOMPARE(timeout->value(), 86400);
}

void TstGuiSettings::savedValuesLoadBackIdentically_data()
{
    QTest::addColumn<QString>("end"); // the numbers at the schema's minimum, maximum or default
    QTest::newRow("minimum") << u"minimum"_s;
    QTest::newRow("maximum") << u"maximum"_s;
    QTest::newRow("default") << u"default"_s;
}

void TstGuiSettings::savedValuesLoadBackIdentically()
{
    QFETCH(QString, end);
    sbgui::HostedServer server;
    const QString path = server.backend()->settingsLocation();
    QVERIFY(!path.isEmpty());
    SettingsDialog dialog(server.backend(), {});
    for (const QString &key : dialog.keys()) {
        auto *number = qobject_cast<SettingsNumberField *>(dialog.field(key));
        if (number && end != u"default")
            number->setValue(end == u"minimum" ? number->minimum() : number->maximum());
    }
    dialog.setValue(u"listen"_s, u"0.0.0.0:9090"_s);
    dialog.setValue(u"allowed_origins"_s, u"https://a.example.com,https://b.example.com"_s);
    dialog.setValue(u"trusted_networks"_s, u"10.0.0.0/8,192.168.1.0/24"_s);
    dialog.setValue(u"api_key"_s, u"dialog-key"_s);
    dialog.setValue(u"jwt_secret"_s, u"dialog-secret"_s);
    dialog.setValue(u"log_database"_s, u"off"_s);
    dialog.setValue(u"pg_channel"_s, u"chan_2"_s);
    const sb::ui::SettingValues shown = dialog.values();
    QString error;
    QVERIFY2(dialog.save(&error), qPrintable(error));
    QCOMPARE(QFile::permissions(path) & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
             QFileDevice::Permissions());

    // The server's loader reads back what the dialog showed, key by key.
    QCommandLineParser parser;
    ConfigLoader::addOptions(parser);
    QVERIFY(parser.parse(
            {u"switchboardd"_s, u"--config"_s, path, u"--data-dir"_s, server.dataDir()}));
    const ConfigLoader::Result r = ConfigLoader::load(parser, QProcessEnvironment(), false);
    QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(u'\n')));
    for (auto it = shown.cbegin(); it != shown.cend(); ++it) {
        if (it.key() == u"max_queue_bytes" && !r.warnings.isEmpty())
            continue; // raised so that the largest emit fits (a warning, not a refusal)
        QCOMPARE(loaded().value(it.key())(r.config), it.value());
    }
    // And a new dialog shows the same values.
    SettingsDialog again(server.backend(), {});
    QCOMPARE(again.values(), shown);
}

void TstGuiSettings::refusedWithTheLoadersMessage()
{
    sbgui::HostedServer server;
    const QString path = server.backend()->settingsLocation();
    SettingsDialog dialog(server.backend(), {});
    dialog.setValue(u"read_timeout_s"_s, u"7200"_s); // the old dialog stopped at 3600
    QString error;
    QVERIFY2(dialog.save(&error), qPrintable(error));
    const QByteArray before = readFile(path);

    dialog.setValue(u"allowed_origins"_s, u"https://ok.example, not an origin"_s);
    dialog.setValue(u"pg_channel"_s, u"a-b"_s);
    QVERIFY(!dialog.save(&error));
    QString expected;
    QVERIFY(!ConfigLoader::checkFileValues(dialog.values(), &expected));
    QCOMPARE(error, expected);
    QVERIFY2(error.contains(u"invalid value for allowed_origins (--allowed-origins"),
             qPrintable(error));
    QVERIFY2(error.contains(u"invalid value for pg_channel (--pg-channel"), qPrintable(error));
    QCOMPARE(readFile(path), before); // nothing written

    // accept() shows the same text and keeps the dialog open.
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Rejected));
    QCOMPARE(dialog.findChild<QLabel *>(u"settingsProblems"_s)->text(), expected);
}

void TstGuiSettings::remoteSettingsAreNotEditable()
{
    sb::ui::RemoteBackend remote(QUrl(u"http://127.0.0.1:9"_s), u"key"_s);
    QVERIFY(remote.settingsLocation().isEmpty());
    QString error;
    QVERIFY(!remote.loadSettings(&error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!remote.saveSettings({{u"listen"_s, u"127.0.0.1:1"_s}}, &error));
    SettingsDialog dialog(&remote, {});
    QVERIFY(!dialog.save(&error));
    QVERIFY(!dialog.findChild<QLabel *>(u"settingsProblems"_s)->text().isEmpty());
}

QTEST_MAIN(TstGuiSettings)
#include "tst_gui_settings.moc"
