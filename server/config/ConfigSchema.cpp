#include "config/ConfigSchema.h"

#include <limits>

namespace sb {

namespace {

using T = ConfigType;
using F = ConfigFormat;

constexpr qint64 kNoLimit = std::numeric_limits<qint64>::max();
constexpr qint64 kGiB = qint64(1) << 30;
constexpr qint64 kTiB = qint64(1) << 40;

// Every configuration key (docs/deployment.md, "Every key with its default"). The loader
// parses, checks and applies values with it; the console's settings dialog renders its fields
// (ranges, defaults) from it. Ranges are what the server is built for: a value outside is
// refused at start with a message naming the key.
// clang-format off
constexpr ConfigKey kSchema[] = {
    // name, flag, type, format, min, max, default, value name, choices, help
    {"listen", "listen", T::Text, F::HostPort, 0, 0, "127.0.0.1:8080", "host:port", nullptr,
     "Address to listen on."},
    {"config", "config", T::Path, F::Any, 0, 0, "", "path", nullptr,
     "INI configuration file (default <data-dir>/switchboard.ini)."},
    {"data_dir", "data-dir", T::Path, F::Any, 0, 0, "", "dir", nullptr,
     "Data directory (default the XDG data dir)."},
    {"api_key", "api-key", T::Secret, F::Any, 0, 0, "", "key", nullptr,
     "API key for /api calls (generated on first start)."},
    {"jwt_secret", "jwt-secret", T::Secret, F::Any, 0, 0, "", "secret", nullptr,
     "HS256 secret for tokens (generated on first start)."},
    {"tls_cert", "tls-cert", T::Path, F::Any, 0, 0, "", "file", nullptr,
     "PEM certificate: serve https and wss on the same port."},
    {"tls_key", "tls-key", T::Path, F::Any, 0, 0, "", "file", nullptr,
     "PEM private key for --tls-cert."},
    {"insecure", "insecure", T::Boolean, F::Any, 0, 0, "false", nullptr, nullptr,
     "Run without an API key (development only)."},
    {"log_level", "log-level", T::Choice, F::Any, 0, 0, "info", "level",
     "error,warning,info,debug", "Logging threshold: error, warning, info or debug."},
    {"max_body_bytes", "max-body-bytes", T::Integer, F::Any, 1, kGiB, "1048576", "bytes",
     nullptr, "Largest request body."},
    {"max_message_bytes", "max-message-bytes", T::Integer, F::Any, 1, kGiB, "65536", "bytes",
     nullptr, "Largest WebSocket message."},
    {"max_queue_bytes", "max-queue-bytes", T::Integer, F::Any, 1, kTiB, "8388608", "bytes",
     nullptr, "Unsent bytes per connection before it is closed with 1013."},
    {"max_connections", "max-connections", T::Integer, F::Any, 1, 10000000, "100000", "n",
     nullptr, "Most open connections."},
    {"max_request_buffer_bytes", "max-request-buffer-bytes", T::Integer, F::Any, 1, kTiB,
     "16777216", "bytes", nullptr, "Request bytes buffered for all HTTP clients together."},
    {"max_http_connections_per_address", "max-http-connections-per-address", T::Integer, F::Any,
     1, 1000000, "512", "n", nullptr, "HTTP connections (not upgraded) per client address."},
    {"allowed_hosts", "allowed-hosts", T::List, F::HostName, 0, 0, "", "list", nullptr,
     "Comma-separated host names keyless requests may name in Host (default: none)."},
    {"allowed_origins", "allowed-origins", T::List, F::Origin, 0, 0, "", "list", nullptr,
     "Comma-separated browser origins allowed to connect (default: any)."},
    {"token_max_ttl", "token-max-ttl", T::Integer, F::Any, 1, qint64(10) * 365 * 86400,
     "604800", "seconds", nullptr, "Longest token lifetime."},
    {"read_timeout_s", "read-timeout-s", T::Integer, F::Any, 1, 86400, "30", "seconds", nullptr,
     "Cut off a client that stalls mid-request."},
    {"ping_interval_s", "ping-interval-s", T::Integer, F::Any, 1, 86400, "30", "seconds",
     nullptr, "WebSocket ping interval."},
    {"trusted_networks", "trusted-networks", T::List, F::Cidr, 0, 0, "", "cidrs", nullptr,
     "Comma-separated CIDRs allowed to call the compatibility routes without a key."},
    {"log_database", "log-database", T::Text, F::Any, 0, 0, "", "url", nullptr,
     "Message log: SQLite file (default in the data dir), postgresql:// URL, or off."},
    {"log_retention_days", "log-retention-days", T::Integer, F::Any, 1, 100000, "30", "days",
     nullptr, "Keep log records this long."},
    {"log_max_rows", "log-max-rows", T::Integer, F::Any, 1, kNoLimit, "10000000", "n", nullptr,
     "Keep at most this many log records."},
    {"history_per_room", "history-per-room", T::Integer, F::Any, 1, kNoLimit, "1000", "n",
     nullptr, "Events per room kept in memory."},
    {"pg_listen", "pg-listen", T::Text, F::PgUrl, 0, 0, "", "url", nullptr,
     "postgresql:// URL to LISTEN on for notifications."},
    {"pg_channel", "pg-channel", T::Text, F::PgChannel, 0, 0, "switchboard", "name", nullptr,
     "LISTEN channel."},
    {"io_threads", "io-threads", T::Integer, F::Any, 1, 256, "", "n", nullptr,
     "WebSocket I/O threads (default one per core)."},
    {"redis", "redis", T::Text, F::RedisUrl, 0, 0, "", "url", nullptr,
     "Redis of the cluster this node joins: redis://[[user]:password@]host[:port][/db] or "
     "unix:///path; empty: a single node."},
    {"node_name", "node-name", T::Text, F::NodeName, 0, 0, "", "name", nullptr,
     "This node's name in the cluster (default host:port)."},
    {"endpoints_dir", "endpoints-dir", T::Path, F::Any, 0, 0, "", "dir", nullptr,
     "Folder of the *.websocket endpoint descriptors and their script handlers (default "
     "<data-dir>/endpoints)."},
    {"handler_timeout_ms", "handler-timeout-ms", T::Integer, F::Any, 1, 3600000, "1000", "ms",
     nullptr, "Longest call of a script handler before it is interrupted."},
    {"handler_key", "handler-key", T::Secret, F::Any, 0, 0, "", "key", nullptr,
     "Sent as X-Switchboard-Key to HTTP handlers (default: no header)."},
    {"max_clients", "max-clients", T::Integer, F::Any, 0, 100000, "100", "n", nullptr,
     "Most outbound WebSocket clients (/api/clients)."},
};
// clang-format on

} // namespace

std::span<const ConfigKey> configSchema()
{
    return kSchema;
}

const ConfigKey *findConfigKey(QStringView name)
{
    for (const ConfigKey &key : kSchema) {
        if (name == QLatin1StringView(key.name))
            return &key;
    }
    return nullptr;
}

QString configKeyName(const ConfigKey &key)
{
    return QString::fromLatin1(key.name);
}

QString configEnvName(const ConfigKey &key)
{
    return QStringLiteral("SWITCHBOARD_") + configKeyName(key).toUpper();
}

QString describeConfigKey(const ConfigKey &key)
{
    return QStringLiteral("%1 (--%2 / %3 / config key %1)")
            .arg(configKeyName(key), QString::fromLatin1(key.flag), configEnvName(key));
}

QStringList configChoices(const ConfigKey &key)
{
    if (!key.choices)
        return {};
    return QString::fromLatin1(key.choices).split(u',');
}

QString configHelpText(const ConfigKey &key)
{
    QString text = QString::fromUtf8(key.help);
    QStringList details;
    if (key.type == ConfigType::Integer)
        details << (key.max == kNoLimit ? QStringLiteral("at least %1").arg(key.min)
                                        : QStringLiteral("%1 to %2").arg(key.min).arg(key.max));
    if (*key.defaultValue && key.type != ConfigType::Boolean)
        details << QStringLiteral("default %1").arg(QString::fromLatin1(key.defaultValue));
    if (!details.isEmpty()) {
        text.chop(1); // the full stop
        text += QStringLiteral(" (%1).").arg(details.join(QStringLiteral(", ")));
    }
    return text;
}

} // namespace sb
