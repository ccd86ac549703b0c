// switchboardd: the Switchboard server without a display.
#include "HeadlessRun.h"
#include "config/ConfigLoader.h"

#include <QCommandLineParser>
#include <QCoreApplication>

int main(int argc, char *argv[])
{
    // GLib's dispatcher costs O(sockets) per wake-up (docs/ARCHITECTURE.md, "Event loops").
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
    return sb::runHeadless(app, parser, "switchboardd");
}
