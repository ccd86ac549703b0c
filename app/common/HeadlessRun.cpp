#include "HeadlessRun.h"

#include "ProcessLimits.h"
#include "Server.h"
#include "UnixSignals.h"
#include "base/Logging.h"
#include "config/ConfigLoader.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <csignal>
#include <cstdio>

namespace sb {

int runHeadless(QCoreApplication &app, const QCommandLineParser &parser, const char *program)
{
    ConfigLoader::Result loaded = ConfigLoader::load(parser);
    installLogHandler(loaded.config.logLevel);
    if (!loaded.errors.isEmpty()) {
        for (const QString &error : std::as_const(loaded.errors))
            std::fprintf(stderr, "%s: error: %s\n", program, qPrintable(error));
        return 2;
    }
    for (const QString &warning : std::as_const(loaded.warnings))
        qCWarning(lcConfig).noquote() << warning;
    // Printed whatever the log level: the operator needs to know where the secrets went.
    for (const QString &notice : std::as_const(loaded.notices))
        std::fprintf(stderr, "%s: %s\n", program, qPrintable(notice));
    if (loaded.config.insecure) {
        qCWarning(lcConfig).noquote() << "INSECURE MODE: --insecure is set, every API call is "
                                         "accepted WITHOUT an API key. "
                                         "Never use this outside development.";
    }

    const long files = raiseOpenFileLimit();
    if (files > 0 && files < loaded.config.maxConnections + 64)
        qCWarning(lcServer).noquote()
                << "the open file limit is" << files << "- fewer than max_connections"
                << loaded.config.maxConnections << "can connect (raise LimitNOFILE)";

    Server server(loaded.config);
    QString error;
    bool configError = false;
    if (!server.start(&error, &configError)) {
        std::fprintf(stderr, "%s: error: %s\n", program, qPrintable(error));
        return configError ? 2 : 1;
    }
    // Printed whatever the log level: where to connect is never noise.
    std::fprintf(stderr, "%s: listening on %s (config %s)\n", program,
                 qPrintable(server.baseUrl().toString()), qPrintable(loaded.config.configPath));

    UnixSignals signals;
    QObject::connect(&signals, &UnixSignals::terminationRequested, &app, [](int number) {
        if (number == SIGHUP) {
            qCInfo(lcServer) << "SIGHUP ignored: restart the server to apply a new configuration";
            return;
        }
        qCInfo(lcServer) << "signal" << number << "received, shutting down";
        QCoreApplication::quit();
    });
    const int code = app.exec();
    server.stop();
    return code;
}

} // namespace sb
