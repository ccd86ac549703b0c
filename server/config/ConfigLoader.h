#pragma once

#include "config/ServerConfig.h"

#include <QProcessEnvironment>
#include <QStringList>

class QCommandLineParser;

namespace sb {

// Resolves the server configuration with the precedence of PROTOCOL.md: command-line flag,
// then SWITCHBOARD_<KEY> environment variable, then the INI file (--config), then defaults.
// A flag --foo-bar is the INI key foo_bar and the variable SWITCHBOARD_FOO_BAR.
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

    // Adds every server flag (--listen, --config, --api-key, ... and one per config key).
    static void addOptions(QCommandLineParser &parser);

    // Resolves and validates. With generateSecrets, a missing API key (unless insecure) or JWT
    // secret is generated and written to the config file (mode 0600).
    static Result load(const QCommandLineParser &parser,
                       const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(),
                       bool generateSecrets = true);

    // Parsers shared with the console's settings dialog. Each returns an error text or empty.
    static QString parseListen(const QString &value, QHostAddress *address, quint16 *port);
    static QString parseNetworks(const QString &value, QList<QPair<QHostAddress, int>> *out);
    // pg_listen: empty, or a postgresql:// URL (the error never repeats the URL's password).
    static QString parsePgListen(const QString &value);
    // pg_channel: 1..63 ASCII letters, digits or underscores.
    static QString parsePgChannel(const QString &value);
    static QString defaultDataDir();
    static QByteArray generateSecret();
};

} // namespace sb
