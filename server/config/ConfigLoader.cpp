// ConfigLoader: where each value comes from (flag, variable, file, default) and how it lands in
// ServerConfig. The keys, their types, ranges and defaults are ConfigSchema's; the checks of
// single values are in ConfigValues.cpp, the file in ConfigFile.cpp.
#include "config/ConfigLoader.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

namespace sb {

namespace {

const ConfigKey &keyOf(const char *name)
{
    const ConfigKey *key = findConfigKey(QString::fromLatin1(name));
    Q_ASSERT_X(key, "ConfigLoader", name);
    return *key;
}

class Sources
{
public:
    // `parser` may be null: the file (and the defaults) only.
    Sources(const QCommandLineParser *parser, const QProcessEnvironment &env)
        : m_parser(parser), m_env(env)
    { }

    void setFile(const ConfigValues *file) { m_file = file; }

    // The raw text of a key from the first source that has it.
    std::optional<QString> raw(const ConfigKey &key, bool *fromFile = nullptr) const
    {
        if (fromFile)
            *fromFile = false;
        // An empty flag or variable counts as not given: the next source decides (an empty
        // --api-key must not replace the key in the file with a generated one).
        const QString flag = QString::fromLatin1(key.flag);
        if (m_parser && m_parser->isSet(flag)) {
            if (key.type == ConfigType::Boolean)
                return QStringLiteral("true");
            if (!m_parser->value(flag).isEmpty())
                return m_parser->value(flag);
        }
        const QString env = configEnvName(key);
        if (!m_env.value(env).isEmpty())
            return m_env.value(env);
        const QString name = configKeyName(key);
        if (m_file && m_file->contains(name)) {
            if (fromFile)
                *fromFile = true;
            return m_file->value(name);
        }
        return std::nullopt;
    }

private:
    const QCommandLineParser *m_parser;
    const QProcessEnvironment &m_env;
    const ConfigValues *m_file = nullptr;
};

// Reads keys from the sources through the schema; a wrong value is an error naming the key.
class Resolver
{
public:
    Resolver(const Sources &sources, QStringList *errors) : m_sources(sources), m_errors(errors) { }

    // The checked value of `name` (trimmed unless a secret; a choice in lower case), else its
    // default; nullopt when it has neither or when the value is wrong.
    std::optional<QString> text(const char *name)
    {
        const ConfigKey &key = keyOf(name);
        const QString fallback = QString::fromLatin1(key.defaultValue);
        const std::optional<QString> raw = m_sources.raw(key);
        if (!raw)
            return fallback.isEmpty() ? std::nullopt : std::optional<QString>(fallback);
        QString why;
        if (!ConfigLoader::checkValue(key, *raw, &why)) {
            error(name, why);
            return std::nullopt;
        }
        if (key.type == ConfigType::Secret)
            return *raw;
        const QString v =
                key.type == ConfigType::Choice ? raw->trimmed().toLower() : raw->trimmed();
        return v.isEmpty() && !fallback.isEmpty() ? fallback : v;
    }

    template<typename T>
    void integer(const char *name, T *target)
    {
        if (const std::optional<QString> v = text(name))
            *target = T(v->toLongLong());
    }

    void error(const char *name, const QString &what)
    {
        *m_errors << QStringLiteral("invalid value for %1: %2")
                             .arg(describeConfigKey(keyOf(name)), what);
    }

private:
    const Sources &m_sources;
    QStringList *m_errors;
};

void applyAccess(Resolver &r, ConfigLoader::Result *result)
{
    ServerConfig &c = result->config;
    if (const auto v = r.text("listen")) {
        c.listen = *v;
        ConfigLoader::parseListen(c.listen, &c.listenAddress, &c.listenPort, nullptr);
    }
    if (const auto v = r.text("insecure"))
        c.insecure = ConfigLoader::parseBool(*v, nullptr).value_or(false);
    c.apiKey = r.text("api_key").value_or(QString()).trimmed();
    c.jwtSecret = r.text("jwt_secret").value_or(QString());
    c.tlsCert = r.text("tls_cert").value_or(QString());
    c.tlsKey = r.text("tls_key").value_or(QString());
    if (c.tlsCert.isEmpty() != c.tlsKey.isEmpty())
        result->errors << QStringLiteral("tls_cert and tls_key must be given together "
                                         "(--tls-cert and --tls-key)");
    if (const auto v = r.text("log_level"))
        c.logLevel = *v;
    for (const QString &origin : r.text("allowed_origins").value_or(QString()).split(u',')) {
        const QString o = origin.trimmed().toLower();
        if (!o.isEmpty() && o != u"*")
            c.allowedOrigins << o;
    }
    for (const QString &host : r.text("allowed_hosts").value_or(QString()).split(u',')) {
        if (const QString h = host.trimmed().toLower(); !h.isEmpty())
            c.allowedHosts << h;
    }
    if (const auto v = r.text("trusted_networks"))
        c.trustedNetworks = ConfigLoader::parseNetworks(*v, nullptr).value_or(c.trustedNetworks);
}

void applyLimits(Resolver &r, ConfigLoader::Result *result)
{
    ServerConfig &c = result->config;
    r.integer("max_body_bytes", &c.maxBodyBytes);
    r.integer("max_message_bytes", &c.maxMessageBytes);
    r.integer("max_queue_bytes", &c.maxQueueBytes);
    r.integer("max_connections", &c.maxConnections);
    r.integer("max_request_buffer_bytes", &c.maxRequestBufferBytes);
    r.integer("max_http_connections_per_address", &c.maxHttpConnectionsPerAddress);
    r.integer("token_max_ttl", &c.tokenMaxTtl);
    r.integer("read_timeout_s", &c.readTimeoutS);
    r.integer("ping_interval_s", &c.pingIntervalS);
    r.integer("io_threads", &c.ioThreads);
    c.tokenDefaultTtl = qMin<qint64>(86400, c.tokenMaxTtl);
    // The queue must hold the largest frame an accepted emit can make.
    if (c.maxQueueBytes < c.maxBodyBytes + 4096) {
        result->warnings << QStringLiteral("max_queue_bytes raised to %1 so that the largest "
                                           "accepted emit fits")
                                    .arg(c.maxBodyBytes + 4096);
        c.maxQueueBytes = c.maxBodyBytes + 4096;
    }
    // The budget must hold the largest request a single client may send.
    if (c.maxRequestBufferBytes < c.maxBodyBytes + 128 * 1024) {
        result->warnings << QStringLiteral("max_request_buffer_bytes raised to %1 so that one "
                                           "request of max_body_bytes fits")
                                    .arg(c.maxBodyBytes + 128 * 1024);
        c.maxRequestBufferBytes = c.maxBodyBytes + 128 * 1024;
    }
}

void applyStores(Resolver &r, ConfigLoader::Result *result)
{
    ServerConfig &c = result->config;
    c.logDatabase = r.text("log_database").value_or(QString());
    r.integer("log_retention_days", &c.logRetentionDays);
    r.integer("log_max_rows", &c.logMaxRows);
    r.integer("history_per_room", &c.historyPerRoom);
    c.pgListen = r.text("pg_listen").value_or(QString());
    if (const auto v = r.text("pg_channel"))
        c.pgChannel = *v;
    c.redis = r.text("redis").value_or(QString());
    c.nodeName = r.text("node_name").value_or(QString());
    c.endpointsDir = r.text("endpoints_dir").value_or(QString());
    r.integer("handler_timeout_ms", &c.handlerTimeoutMs);
    c.handlerKey = r.text("handler_key").value_or(QString());
    r.integer("max_clients", &c.maxClients);
}

void applyAll(const Sources &sources, ConfigLoader::Result *result)
{
    Resolver resolver(sources, &result->errors);
    applyAccess(resolver, result);
    applyLimits(resolver, result);
    applyStores(resolver, result);
}

// First start: generates what is missing and keeps it in the configuration file.
bool completeSecrets(ConfigLoader::Result *result, bool generateSecrets)
{
    ServerConfig &c = result->config;
    const bool needKey = c.apiKey.isEmpty() && !c.insecure;
    const bool needSecret = c.jwtSecret.isEmpty();
    if (!needKey && !needSecret)
        return true;
    if (!generateSecrets) {
        result->errors << QStringLiteral("api_key and jwt_secret are required");
        return false;
    }
    ConfigValues generated;
    if (needKey) {
        c.apiKey = QString::fromLatin1(ConfigLoader::generateSecret());
        generated.insert(QStringLiteral("api_key"), c.apiKey);
    }
    if (needSecret) {
        c.jwtSecret = QString::fromLatin1(ConfigLoader::generateSecret());
        generated.insert(QStringLiteral("jwt_secret"), c.jwtSecret);
    }
    if (!writeConfigFile(c.configPath, generated, {}, nullptr)) {
        result->errors
                << QStringLiteral("config: cannot write generated secrets to %1").arg(c.configPath);
        return false;
    }
    result->notices << QStringLiteral("generated %1 into %2 (mode 0600)")
                               .arg(needKey && needSecret ? QStringLiteral("API key and JWT secret")
                                            : needKey     ? QStringLiteral("API key")
                                                          : QStringLiteral("JWT secret"),
                                    QFileInfo(c.configPath).absoluteFilePath());
    return true;
}

} // namespace

void ConfigLoader::addOptions(QCommandLineParser &parser)
{
    for (const ConfigKey &key : configSchema()) {
        QCommandLineOption option(QString::fromLatin1(key.flag), configHelpText(key));
        if (key.type != ConfigType::Boolean)
            option.setValueName(QString::fromLatin1(key.valueName));
        parser.addOption(option);
    }
}

ConfigLoader::Result ConfigLoader::load(const QCommandLineParser &parser,
                                        const QProcessEnvironment &env, bool generateSecrets)
{
    Result result;
    ServerConfig &c = result.config;
    Sources sources(&parser, env);

    c.dataDir = sources.raw(keyOf("data_dir")).value_or(QString());
    if (c.dataDir.trimmed().isEmpty())
        c.dataDir = defaultDataDir();
    c.configPath = sources.raw(keyOf("config")).value_or(QString());
    if (c.configPath.trimmed().isEmpty())
        c.configPath = QDir(c.dataDir).filePath(QStringLiteral("switchboard.ini"));

    QString error;
    const std::optional<ConfigValues> file = readConfigFile(c.configPath, &error);
    if (!file) {
        result.errors << error;
        return result;
    }
    sources.setFile(&*file);
    for (auto it = file->cbegin(); it != file->cend(); ++it) {
        if (!findConfigKey(it.key()))
            result.warnings << QStringLiteral("config: unknown key '%1' in %2 is ignored")
                                       .arg(it.key(), c.configPath);
    }
    // data_dir may also come from the file itself.
    bool fromFile = false;
    if (auto dir = sources.raw(keyOf("data_dir"), &fromFile); dir && fromFile && !dir->isEmpty())
        c.dataDir = *dir;

    applyAll(sources, &result);
    if (!result.errors.isEmpty() || !completeSecrets(&result, generateSecrets))
        return result;
    if (!QDir().mkpath(c.dataDir))
        result.errors << QStringLiteral("data_dir: cannot create %1").arg(c.dataDir);
    return result;
}

bool ConfigLoader::checkFileValues(const ConfigValues &values, QString *error)
{
    const QProcessEnvironment none;
    Sources sources(nullptr, none);
    sources.setFile(&values);
    Result result;
    applyAll(sources, &result);
    if (result.errors.isEmpty())
        return true;
    if (error)
        *error = result.errors.join(u'\n');
    return false;
}

} // namespace sb
