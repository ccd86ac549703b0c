#pragma once

// Where each configuration key lands in sb::ServerConfig (docs/API.md, "Configuration"), for
// the unit tests of the loader and of the schema (header only).

#include "config/ServerConfig.h"

#include <QMap>
#include <QString>

#include <functional>

namespace sbtest {

using ConfigGetter = std::function<qint64(const sb::ServerConfig &)>;

// Every Integer key and its field.
inline const QMap<QString, ConfigGetter> &integerConfigFields()
{
    using namespace Qt::StringLiterals;
    using sb::ServerConfig;
    static const QMap<QString, ConfigGetter> map = {
            {u"max_body_bytes"_s, [](const ServerConfig &c) { return c.maxBodyBytes; }},
            {u"max_message_bytes"_s, [](const ServerConfig &c) { return c.maxMessageBytes; }},
            {u"max_queue_bytes"_s, [](const ServerConfig &c) { return c.maxQueueBytes; }},
            {u"max_connections"_s, [](const ServerConfig &c) { return c.maxConnections; }},
            {u"max_request_buffer_bytes"_s,
             [](const ServerConfig &c) { return c.maxRequestBufferBytes; }},
            {u"max_http_connections_per_address"_s,
             [](const ServerConfig &c) { return c.maxHttpConnectionsPerAddress; }},
            {u"token_max_ttl"_s, [](const ServerConfig &c) { return c.tokenMaxTtl; }},
            {u"read_timeout_s"_s, [](const ServerConfig &c) { return qint64(c.readTimeoutS); }},
            {u"ping_interval_s"_s, [](const ServerConfig &c) { return qint64(c.pingIntervalS); }},
            {u"log_retention_days"_s, [](const ServerConfig &c) { return c.logRetentionDays; }},
            {u"log_max_rows"_s, [](const ServerConfig &c) { return c.logMaxRows; }},
            {u"history_per_room"_s, [](const ServerConfig &c) { return c.historyPerRoom; }},
            {u"io_threads"_s, [](const ServerConfig &c) { return qint64(c.ioThreads); }},
            {u"handler_timeout_ms"_s, [](const ServerConfig &c) { return c.handlerTimeoutMs; }},
            {u"max_clients"_s, [](const ServerConfig &c) { return c.maxClients; }},
    };
    return map;
}

// The Text keys whose values the loader tests read back, and their fields.
inline const QMap<QString, QString sb::ServerConfig::*> &textConfigFields()
{
    using namespace Qt::StringLiterals;
    using sb::ServerConfig;
    static const QMap<QString, QString ServerConfig::*> map = {
            {u"listen"_s, &ServerConfig::listen},
            {u"log_level"_s, &ServerConfig::logLevel},
            {u"pg_channel"_s, &ServerConfig::pgChannel},
            {u"api_key"_s, &ServerConfig::apiKey},
            {u"jwt_secret"_s, &ServerConfig::jwtSecret},
            {u"log_database"_s, &ServerConfig::logDatabase},
    };
    return map;
}

} // namespace sbtest
