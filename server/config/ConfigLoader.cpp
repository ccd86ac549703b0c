#include "config/ConfigLoader.h"

#include "base/Logging.h"
#include "store/PgUrl.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSettings>
#include <QSqlDatabase>
#include <QStandardPaths>
#include <QUrl>

#include <optional>

#include <sys/stat.h>

namespace sb {

namespace {

enum class Kind { Text, Secret, PositiveInt, Flag, Path };

struct KeyDef
{
    const char *key;
    Kind kind;
    const char *valueName;
    const char *help;
};

// Every configuration key of PROTOCOL.md; each is a flag, a variable and an INI key.
const KeyDef kKeys[] = {
        {"listen", Kind::Text, "host:port", "Address to listen on (default 127.0.0.1:8080)."},
        {"config", Kind::Path, "path",
         "INI configuration file (default <data-dir>/switchboard.ini)."},
        {"data_dir", Kind::Path, "dir", "Data directory (default the XDG data dir)."},
        {"api_key", Kind::Secret, "key", "API key for /api calls (generated on first start)."},
        {"jwt_secret", Kind::Secret, "secret",
         "HS256 secret for tokens (generated on first start)."},
        {"tls_cert", Kind::Path, "file", "PEM certificate: serve https and wss on the same port."},
        {"tls_key", Kind::Path, "file", "PEM private key for --tls-cert."},
        {"insecure", Kind::Flag, nullptr, "Run without an API key (development only)."},
        {"log_level", Kind::Text, "level", "error, warning, info (default) or debug."},
        {"max_body_bytes", Kind::PositiveInt, "bytes", "Largest request body (default 1048576)."},
        {"max_message_bytes", Kind::PositiveInt, "bytes",
         "Largest WebSocket message (default 65536)."},
        {"max_queue_bytes", Kind::PositiveInt, "bytes",
         "Unsent bytes per connection before it is closed with 1013 (default 8388608)."},
        {"max_connections", Kind::PositiveInt, "n", "Most open connections (default 100000)."},
        {"max_request_buffer_bytes", Kind::PositiveInt, "bytes",
         "Request bytes buffered for all HTTP clients together (default 16777216)."},
        {"max_http_connections_per_address", Kind::PositiveInt, "n",
         "HTTP connections (not upgraded) per client address (default 512)."},
        {"allowed_hosts", Kind::Text, "list",
         "Comma-separated host names keyless requests may name in Host (default: none)."},
        {"allowed_origins", Kind::Text, "list",
         "Comma-separated browser origins allowed to connect (default: any)."},
        {"token_max_ttl", Kind::PositiveInt, "seconds", "Longest token lifetime (default 604800)."},
        {"read_timeout_s", Kind::PositiveInt, "seconds",
         "Cut off a client that stalls mid-request (default 30)."},
        {"ping_interval_s", Kind::PositiveInt, "seconds", "WebSocket ping interval (default 30)."},
        {"trusted_networks", Kind::Text, "cidrs",
         "Comma-separated CIDRs allowed to call the compatibility routes without a key."},
        {"log_database", Kind::Text, "url",
         "Message log: SQLite file (default in the data dir), postgresql:// URL, or off."},
        {"log_retention_days", Kind::PositiveInt, "days",
         "Keep log records this long (default 30)."},
        {"log_max_rows", Kind::PositiveInt, "n",
         "Keep at most this many log records (default 10000000)."},
        {"history_per_room", Kind::PositiveInt, "n",
         "Events per room kept in memory (default 1000)."},
        {"pg_listen", Kind::Text, "url", "postgresql:// URL to LISTEN on for notifications."},
        {"pg_channel", Kind::Text, "name", "LISTEN channel (default switchboard)."},
        {"io_threads", Kind::PositiveInt, "n", "WebSocket I/O threads (default one per core)."},
};

QString flagName(const char *key)
{
    return QString::fromLatin1(key).replace(u'_', u'-');
}

QString envName(const char *key)
{
    return QStringLiteral("SWITCHBOARD_") + QString::fromLatin1(key).toUpper();
}

QString describe(const char *key)
{
    return QStringLiteral("%1 (--%2 / %3 / config key %1)")
            .arg(QString::fromLatin1(key), flagName(key), envName(key));
}

std::optional<bool> parseBool(const QString &value)
{
    const QString v = value.trimmed().toLower();
    if (v == u"1" || v == u"true" || v == u"yes" || v == u"on")
        return true;
    if (v == u"0" || v == u"false" || v == u"no" || v == u"off" || v.isEmpty())
        return false;
    return std::nullopt;
}

// QSettings reads values of the form @Variant(...) and @DateTime(...) with QDataStream, as any
// Qt type and of any size: a crafted config value made it allocate 58 GB (docs/fuzzing.md);
// @Rect(), @Size() and the like turn a key into an empty string. Every Switchboard key is
// text, so such a value is refused before QSettings reads the file. Conservative, on the raw
// text: a value, or a comma-separated part of one, whose first character (after spaces,
// quotes and backslash escapes, across continued lines) is '@' is refused unless it is "@@"
// (QSettings' escape for a literal '@'); so are \x and octal escapes, which could spell '@'.
// Empty when the text is fine, else "line N: ..." naming the key.
QString checkIniValues(QByteArrayView text)
{
    int line = 1;
    bool lineStart = true, comment = false, inValue = false, partStart = false;
    qsizetype keyStart = -1, keyEnd = -1;
    const auto keyName = [&] {
        if (keyStart < 0 || keyEnd < keyStart)
            return QString();
        const QByteArrayView key = text.sliced(keyStart, keyEnd - keyStart).trimmed();
        return QString::fromUtf8(key.first(qMin<qsizetype>(60, key.size())));
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && !comment) {
            const char next = i + 1 < text.size() ? text[i + 1] : '\0';
            if (next == '\n' || next == '\r') { // continued on the next line
                ++i;
                if (next == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                    ++i;
                ++line;
                continue;
            }
            if (inValue && (next == 'x' || next == 'X' || (next >= '0' && next <= '7')))
                return QStringLiteral("line %1: the value of '%2' has a \\x or octal escape; "
                                      "write the character itself")
                        .arg(line)
                        .arg(keyName());
            ++i; // an escape pair: it may produce nothing, so partStart stays as it is
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (c == '\n')
                ++line;
            lineStart = true;
            comment = inValue = partStart = false;
            keyStart = keyEnd = -1;
            continue;
        }
        if (comment)
            continue;
        if (lineStart) {
            if (c == ' ' || c == '\t')
                continue;
            lineStart = false;
            if (c == ';' || c == '#' || c == '[') {
                comment = true; // a comment or a section name
                continue;
            }
            keyStart = i;
        }
        if (!inValue) {
            if (c == '=') {
                inValue = partStart = true;
                keyEnd = i;
            }
            continue;
        }
        if (c == ',') {
            partStart = true;
        } else if (partStart && c != ' ' && c != '\t' && c != '"') {
            partStart = false;
            if (c == '@') {
                if (i + 1 < text.size() && text[i + 1] == '@') {
                    ++i;
                    continue;
                }
                return QStringLiteral("line %1: the value of '%2' starts with '@', which QSettings "
                                      "reads as a typed value (@Variant(...), @DateTime(...)); "
                                      "every value is text: write '@@' for a literal '@'")
                        .arg(line)
                        .arg(keyName());
            }
        }
    }
    return {};
}

class Sources
{
public:
    Sources(const QCommandLineParser &parser, const QProcessEnvironment &env)
        : m_parser(parser), m_env(env)
    { }

    void setIni(QSettings *ini) { m_ini = ini; }

    // The raw text of a key from the first source that has it.
    std::optional<QString> raw(const char *key, bool *fromFile = nullptr) const
    {
        if (fromFile)
            *fromFile = false;
        // An empty flag or variable counts as not given: the next source decides (an empty
        // --api-key must not replace the key in the file with a generated one).
        const QString flag = flagName(key);
        if (m_parser.isSet(flag)) {
            const KeyDef *def = find(key);
            if (def && def->kind == Kind::Flag)
                return QStringLiteral("true");
            if (!m_parser.value(flag).isEmpty())
                return m_parser.value(flag);
        }
        const QString env = envName(key);
        if (!m_env.value(env).isEmpty())
            return m_env.value(env);
        if (m_ini && m_ini->contains(QString::fromLatin1(key))) {
            if (fromFile)
                *fromFile = true;
            const QVariant v = m_ini->value(QString::fromLatin1(key));
            if (v.userType() == QMetaType::QStringList)
                return v.toStringList().join(u',');
            return v.toString();
        }
        return std::nullopt;
    }

    static const KeyDef *find(const char *key)
    {
        for (const KeyDef &def : kKeys) {
            if (qstrcmp(def.key, key) == 0)
                return &def;
        }
        return nullptr;
    }

private:
    const QCommandLineParser &m_parser;
    const QProcessEnvironment &m_env;
    QSettings *m_ini = nullptr;
};

} // namespace

void ConfigLoader::addOptions(QCommandLineParser &parser)
{
    for (const KeyDef &def : kKeys) {
        QCommandLineOption option(flagName(def.key), QString::fromUtf8(def.help));
        if (def.kind != Kind::Flag)
            option.setValueName(QString::fromLatin1(def.valueName));
        parser.addOption(option);
    }
}

QString ConfigLoader::defaultDataDir()
{
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.local/share");
    return base + QStringLiteral("/switchboard");
}

QByteArray ConfigLoader::generateSecret()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), 8);
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QString ConfigLoader::parseListen(const QString &value, QHostAddress *address, quint16 *port)
{
    const QString v = value.trimmed();
    const qsizetype colon = v.lastIndexOf(u':');
    if (colon < 0)
        return QStringLiteral("'%1' is not host:port (for example 127.0.0.1:8080)").arg(value);
    QString host = v.left(colon);
    const QString portText = v.mid(colon + 1);
    bool ok = false;
    const uint p = portText.toUInt(&ok);
    if (!ok || p > 65535)
        return QStringLiteral("'%1' is not a port number (0..65535)").arg(portText);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    QHostAddress a;
    if (host.isEmpty() || host == u"*")
        a = QHostAddress(QHostAddress::Any);
    else if (host == u"localhost")
        a = QHostAddress(QHostAddress::LocalHost);
    else if (!a.setAddress(host))
        return QStringLiteral("'%1' is not an IP address").arg(host);
    *address = a;
    *port = quint16(p);
    return {};
}

QString ConfigLoader::parseNetworks(const QString &value, QList<QPair<QHostAddress, int>> *out)
{
    out->clear();
    const QStringList parts = value.split(u',', Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        const QString cidr = part.trimmed();
        if (cidr.isEmpty())
            continue;
        QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(cidr);
        if (subnet.first.isNull()) {
            QHostAddress single;
            if (!single.setAddress(cidr))
                return QStringLiteral("'%1' is not a CIDR network (for example 10.0.0.0/8)")
                        .arg(cidr);
            subnet = {single, single.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32};
        }
        out->append(subnet);
    }
    return {};
}

ConfigLoader::Result ConfigLoader::load(const QCommandLineParser &parser,
                                        const QProcessEnvironment &env, bool generateSecrets)
{
    Result result;
    ServerConfig &c = result.config;
    Sources sources(parser, env);

    c.dataDir = sources.raw("data_dir").value_or(QString());
    if (c.dataDir.trimmed().isEmpty())
        c.dataDir = defaultDataDir();
    c.configPath = sources.raw("config").value_or(QString());
    if (c.configPath.trimmed().isEmpty())
        c.configPath = QDir(c.dataDir).filePath(QStringLiteral("switchboard.ini"));

    const QFileInfo configInfo(c.configPath);
    if (configInfo.exists() && !configInfo.isReadable()) {
        result.errors << QStringLiteral("config: cannot read the configuration file %1")
                                 .arg(c.configPath);
        return result;
    }
    if (configInfo.exists()) {
        QFile file(c.configPath);
        if (!file.open(QIODevice::ReadOnly)) {
            result.errors << QStringLiteral("config: cannot read the configuration file %1")
                                     .arg(c.configPath);
            return result;
        }
        if (const QString why = checkIniValues(file.readAll()); !why.isEmpty()) {
            result.errors << QStringLiteral("config: %1 %2").arg(c.configPath, why);
            return result;
        }
    }
    QSettings ini(c.configPath, QSettings::IniFormat);
    if (ini.status() == QSettings::FormatError) {
        result.errors << QStringLiteral("config: %1 is not a valid INI file").arg(c.configPath);
        return result;
    }
    sources.setIni(&ini);
    for (const QString &key : ini.allKeys()) {
        if (!Sources::find(key.toLatin1().constData()))
            result.warnings << QStringLiteral("config: unknown key '%1' in %2 is ignored")
                                       .arg(key, c.configPath);
    }
    // data_dir may also come from the file itself.
    bool fromFile = false;
    if (auto dir = sources.raw("data_dir", &fromFile); dir && fromFile && !dir->isEmpty())
        c.dataDir = *dir;

    auto error = [&](const char *key, const QString &what) {
        result.errors << QStringLiteral("invalid value for %1: %2").arg(describe(key), what);
    };
    auto positive = [&](const char *key, qint64 *target,
                        qint64 max = std::numeric_limits<qint64>::max()) {
        if (auto v = sources.raw(key)) {
            bool ok = false;
            const qint64 n = v->trimmed().toLongLong(&ok);
            if (!ok || n <= 0 || n > max)
                error(key,
                      QStringLiteral("'%1' is not a positive integer%2")
                              .arg(*v,
                                   max < std::numeric_limits<qint64>::max()
                                           ? QStringLiteral(" up to %1").arg(max)
                                           : QString()));
            else
                *target = n;
        }
    };

    if (auto v = sources.raw("listen")) {
        c.listen = v->trimmed();
        const QString why = parseListen(c.listen, &c.listenAddress, &c.listenPort);
        if (!why.isEmpty())
            error("listen", why);
    }
    if (auto v = sources.raw("insecure")) {
        const auto b = parseBool(*v);
        if (!b)
            error("insecure", QStringLiteral("'%1' is not true or false").arg(*v));
        else
            c.insecure = *b;
    }
    c.apiKey = sources.raw("api_key").value_or(QString()).trimmed();
    c.jwtSecret = sources.raw("jwt_secret").value_or(QString());
    c.tlsCert = sources.raw("tls_cert").value_or(QString()).trimmed();
    c.tlsKey = sources.raw("tls_key").value_or(QString()).trimmed();
    if (c.tlsCert.isEmpty() != c.tlsKey.isEmpty())
        result.errors << QStringLiteral("tls_cert and tls_key must be given together (--tls-cert "
                                        "and --tls-key)");
    if (auto v = sources.raw("log_level")) {
        const QString level = v->trimmed().toLower();
        if (!isValidLogLevel(level))
            error("log_level",
                  QStringLiteral("'%1' is not one of error, warning, info, debug").arg(*v));
        else
            c.logLevel = level;
    }
    positive("max_body_bytes", &c.maxBodyBytes, qint64(1) << 30);
    positive("max_message_bytes", &c.maxMessageBytes, qint64(1) << 30);
    positive("max_queue_bytes", &c.maxQueueBytes, qint64(1) << 40);
    positive("max_connections", &c.maxConnections, 10000000);
    positive("max_request_buffer_bytes", &c.maxRequestBufferBytes, qint64(1) << 40);
    positive("max_http_connections_per_address", &c.maxHttpConnectionsPerAddress, 1000000);
    positive("token_max_ttl", &c.tokenMaxTtl, qint64(10) * 365 * 86400);
    qint64 readTimeout = c.readTimeoutS, pingInterval = c.pingIntervalS, ioThreads = 1;
    positive("read_timeout_s", &readTimeout, 86400);
    positive("ping_interval_s", &pingInterval, 86400);
    c.readTimeoutS = int(readTimeout);
    c.pingIntervalS = int(pingInterval);
    if (sources.raw("io_threads")) {
        positive("io_threads", &ioThreads, 256);
        c.ioThreads = int(ioThreads);
    }
    c.tokenDefaultTtl = qMin<qint64>(86400, c.tokenMaxTtl);
    // The queue must hold the largest frame an accepted emit can make.
    if (c.maxQueueBytes < c.maxBodyBytes + 4096) {
        result.warnings << QStringLiteral("max_queue_bytes raised to %1 so that the largest "
                                          "accepted emit fits")
                                   .arg(c.maxBodyBytes + 4096);
        c.maxQueueBytes = c.maxBodyBytes + 4096;
    }
    if (auto v = sources.raw("allowed_origins")) {
        for (const QString &origin : v->split(u',', Qt::SkipEmptyParts)) {
            const QString o = origin.trimmed();
            if (o.isEmpty())
                continue;
            if (o != u"*" && !QUrl(o, QUrl::StrictMode).isValid())
                error("allowed_origins",
                      QStringLiteral("'%1' is not an origin such as "
                                     "https://app.example.com")
                              .arg(o));
            if (o != u"*")
                c.allowedOrigins << o.toLower();
        }
    }
    // The budget must hold the largest request a single client may send.
    if (c.maxRequestBufferBytes < c.maxBodyBytes + 128 * 1024) {
        result.warnings << QStringLiteral("max_request_buffer_bytes raised to %1 so that one "
                                          "request of max_body_bytes fits")
                                   .arg(c.maxBodyBytes + 128 * 1024);
        c.maxRequestBufferBytes = c.maxBodyBytes + 128 * 1024;
    }
    if (auto v = sources.raw("allowed_hosts")) {
        for (const QString &host : v->split(u',', Qt::SkipEmptyParts)) {
            const QString h = host.trimmed().toLower();
            if (h.isEmpty())
                continue;
            if (h.contains(u'/') || h.contains(u' ') || h.contains(u'@'))
                error("allowed_hosts",
                      QStringLiteral("'%1' is not a host name such as app.example.com").arg(h));
            else
                c.allowedHosts << h;
        }
    }
    if (auto v = sources.raw("trusted_networks")) {
        const QString why = parseNetworks(*v, &c.trustedNetworks);
        if (!why.isEmpty())
            error("trusted_networks", why);
    }
    c.logDatabase = sources.raw("log_database").value_or(QString()).trimmed();
    positive("log_retention_days", &c.logRetentionDays, 100000);
    positive("log_max_rows", &c.logMaxRows);
    positive("history_per_room", &c.historyPerRoom);
    c.pgListen = sources.raw("pg_listen").value_or(QString()).trimmed();
    if (const QString why = parsePgListen(c.pgListen); !why.isEmpty())
        error("pg_listen", why);
    if (auto v = sources.raw("pg_channel"); v && !v->trimmed().isEmpty()) {
        c.pgChannel = v->trimmed();
        if (const QString why = parsePgChannel(c.pgChannel); !why.isEmpty())
            error("pg_channel", why);
    }

    if (!result.errors.isEmpty())
        return result;

    // First start: generate what is missing and keep it in the configuration file.
    const bool needKey = c.apiKey.isEmpty() && !c.insecure;
    const bool needSecret = c.jwtSecret.isEmpty();
    if (needKey || needSecret) {
        if (!generateSecrets) {
            result.errors << QStringLiteral("api_key and jwt_secret are required");
            return result;
        }
        QDir().mkpath(QFileInfo(c.configPath).absolutePath());
        // The file holds secrets: never let it exist with a wider mode, not even briefly.
        const mode_t oldMask = ::umask(0077);
        if (needKey) {
            c.apiKey = QString::fromLatin1(generateSecret());
            ini.setValue(QStringLiteral("api_key"), c.apiKey);
        }
        if (needSecret) {
            c.jwtSecret = QString::fromLatin1(generateSecret());
            ini.setValue(QStringLiteral("jwt_secret"), c.jwtSecret);
        }
        ini.sync();
        ::umask(oldMask);
        QFile::setPermissions(c.configPath, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        if (ini.status() != QSettings::NoError) {
            result.errors << QStringLiteral("config: cannot write generated secrets to %1")
                                     .arg(c.configPath);
            return result;
        }
        result.notices << QStringLiteral("generated %1 into %2 (mode 0600)")
                                  .arg(needKey && needSecret
                                               ? QStringLiteral("API key and JWT secret")
                                               : needKey ? QStringLiteral("API key")
                                                         : QStringLiteral("JWT secret"),
                                       QFileInfo(c.configPath).absoluteFilePath());
    }
    if (!QDir().mkpath(c.dataDir))
        result.errors << QStringLiteral("data_dir: cannot create %1").arg(c.dataDir);
    return result;
}

QString ConfigLoader::parsePgListen(const QString &value)
{
    if (value.isEmpty())
        return {};
    QString why;
    if (!PgUrl::parse(value, &why))
        return why; // never repeats the URL: it may hold a password
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        return QStringLiteral("the Qt SQL driver QPSQL is not installed (Debian: libqt6sql6-psql)");
    return {};
}

QString ConfigLoader::parsePgChannel(const QString &value)
{
    // LISTEN takes an identifier (at most 63 bytes); Qt's QPSQL driver quotes it, splits it at
    // dots and matches notifications by their Latin-1 name: plain ASCII names only.
    bool ok = !value.isEmpty() && value.size() <= 63;
    for (const QChar c : value) {
        ok = ok
                && ((c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9')
                    || c == u'_');
    }
    if (!ok)
        return QStringLiteral("'%1' is not a channel name: 1 to 63 letters, digits or underscores")
                .arg(value.left(80));
    return {};
}

bool ServerConfig::isTrusted(const QHostAddress &address) const
{
    QHostAddress a = address;
    bool ok = false;
    const quint32 v4 = a.toIPv4Address(&ok);
    if (ok)
        a = QHostAddress(v4); // ::ffff:127.0.0.1 is 127.0.0.1
    for (const auto &net : trustedNetworks) {
        if (a.isInSubnet(net))
            return true;
    }
    return false;
}

bool ServerConfig::isOriginAllowed(const QString &origin) const
{
    if (allowedOrigins.isEmpty())
        return true;
    return allowedOrigins.contains(origin.trimmed().toLower());
}

} // namespace sb
