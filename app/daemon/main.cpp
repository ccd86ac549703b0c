// switchboardd: the Switchboard server without a display.
#include "CommandLine.h"
#include "HeadlessRun.h"

#include <QCommandLineParser>
#include <QCoreApplication>

int main(int argc, char *argv[])
{
    // GLib's dispatcher costs O(sockets) per wake-up (docs/ARCHITECTURE.md, "Event loops").
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    sb::setUpCommandLine(parser, QStringLiteral("switchboardd"),
                         QStringLiteral("Switchboard: databases push events over HTTP REST, "
                                        "browsers receive them over WebSocket rooms."));
    parser.process(app);
    return sb::runHeadless(app, parser, "switchboardd");
}
