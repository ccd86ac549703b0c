// switchboardd: the Switchboard server without a display.
#include "ProcessLimits.h"
#include "UnixSignals.h"
#include "config/ConfigLoader.h"
#include "core/Logging.h"
#include "core/Server.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <csignal>
#include <cstdio>

int main(int argc, char *argv[])
{
    // GLib's dispatcher costs O(sockets) per wake-up (DESIGN.md, "Qt 6.4 notes").
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("switchboardd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SWITCHBOARD_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Switchboard: databases push events over HTTP REST, browsers receive them over "
            "WebSocket rooms."));
    parser.addHelpOption();
    parser.addVersionOption();
    sb::ConfigLoader::addOptions(parser);
    parser.process(app);

    sb::ConfigLoader::Result loaded = sb::ConfigLoader::load(parser);
    sb::installLogHandler(loaded.config.logLevel);
    if (!loaded.errors.isEmpty()) {
        for (const QString &error : std::as_const(loaded.errors))
            std::fprintf(stderr, "switchboardd: error: %s\n", qPrintable(error));
        return 2;
    }
    for (const QString &warning : std::as_const(loaded.warnings))
        qCWarning(sb::lcConfig).noquote() << warning;
    // Printed whatever the log level: the operator needs to know where the secrets went.
    for (const QString &notice : std::as_const(loaded.notices))
        std::fprintf(stderr, "switchboardd: %s\n", qPrintable(notice));
    if (loaded.config.insecure) {
        qCWarning(sb::lcConfig).noquote() << "INSECURE MODE: --insecure is set, every API call is "
                                             "accepted WITHOUT an API key. "
                                             "Never use this outside development.";
    }

    const long files = sb::raiseOpenFileLimit();
    if (files > 0 && files < loaded.config.maxConnections + 64)
        qCWarning(sb::lcServer).noquote()
                << "the open file limit is" << files << "- fewer than max_connections"
                << loaded.config.maxConnections << "can connect (raise LimitNOFILE)";

    sb::Server server(loaded.config);
    QString error;
    if (!server.start(&error)) {
        std::fprintf(stderr, "switchboardd: error: %s\n", qPrintable(error));
        return 1;
    }
    // Printed whatever the log level: where to connect is never noise.
    std::fprintf(stderr, "switchboardd: listening on %s (config %s)\n",
                 qPrintable(server.baseUrl().toString()), qPrintable(loaded.config.configPath));

    sb::UnixSignals signals;
    QObject::connect(
            &signals, &sb::UnixSignals::terminationRequested, &app, [](int number) {
                if (number == SIGHUP) {
                    qCInfo(sb::lcServer)
                            << "SIGHUP ignored: restart the server to apply a new configuration";
                    return;
                }
                qCInfo(sb::lcServer) << "signal" << number << "received, shutting down";
                QCoreApplication::quit();
            });
    const int code = app.exec();
    server.stop();
    return code;
}
