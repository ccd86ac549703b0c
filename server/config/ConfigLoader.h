#pragma once

#include "config/ConfigFile.h"
#include "config/ConfigSchema.h"
#include "config/ServerConfig.h"

#include <QProcessEnvironment>
#include <QStringList>

#include <optional>

class QCommandLineParser;

namespace sb {

// Resolves the server configuration (docs/API.md, "Configuration"), in this order: command-line
// flag, then SWITCHBOARD_<KEY> environment variable, then the INI file (--config), then the
// defaults of the schema (ConfigSchema.h), which also gives every key's type, range and format.
class ConfigLoader
{
public:
    struct Result
    {
        ServerConfig config;
        QStringList errors;  // each names the key and what is wrong; non-empty = do not start
        QStringList notices; // e.g. where generated secrets were written
        QStringList warnings;
    };

    // Adds every server flag (--listen, --config, --api-key, ... one per schema key).
    static void addOptions(QCommandLineParser &parser);

    // Resolves and validates. With generateSecrets, a missing API key (unless insecure) or JWT
    // secret is generated and written to the config file (mode 0600).
    static Result load(const QCommandLineParser &parser,
                       const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(),
                       bool generateSecrets = true);

    // Checks the values of a configuration file (missing keys take their defaults) exactly as
    // load() checks them: the error has one line per problem, each naming its key.
    static bool checkFileValues(const ConfigValues &values, QString *error);

    // Checks one value of `key` (its type, range and format) as load() does; the error says
    // what is wrong with the value, without naming the key.
    static bool checkValue(const ConfigKey &key, const QString &value, QString *error);

    // Parsers of single values, shared with the tests. The errors never name the key.
    static bool parseListen(const QString &value, QHostAddress *address, quint16 *port,
                            QString *error);
    static std::optional<QList<QPair<QHostAddress, int>>> parseNetworks(const QString &value,
                                                                        QString *error);
    // pg_listen: empty, or a postgresql:// URL (the error never repeats the URL's password).
    static bool parsePgListen(const QString &value, QString *error);
    // pg_channel: 1..63 ASCII letters, digits or underscores.
    static bool parsePgChannel(const QString &value, QString *error);
    // insecure: 1/true/yes/on, 0/false/no/off or empty.
    static std::optional<bool> parseBool(const QString &value, QString *error);
    static QString defaultDataDir();
    static QByteArray generateSecret();
};

} // namespace sb
