// switchboard: the admin console. Hosts the server (same flags as switchboardd) or, with
// --attach URL --api-key KEY, watches a remote one; --headless runs the server with no display.
#include "CommandLine.h"
#include "ConsoleApp.h"
#include "HeadlessRun.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <cstring>
#include <memory>

namespace {

bool hasArgument(int argc, char **argv, std::initializer_list<const char *> names)
{
    for (int i = 1; i < argc; ++i) {
        for (const char *name : names) {
            if (std::strcmp(argv[i], name) == 0)
                return true;
        }
    }
    return false;
}

} // namespace

int main(int argc, char *argv[])
{
    // GLib's dispatcher costs O(sockets) per wake-up (docs/ARCHITECTURE.md, "Event loops").
    qputenv("QT_NO_GLIB", "1");
    // The application object is chosen before parsing: --headless, --help and --version need
    // no display; with no display at all the console serves headless and says so.
    const bool textOnly =
            hasArgument(argc, argv, {"--help", "-h", "--help-all", "--version", "-v"});
    bool headless = hasArgument(argc, argv, {"--headless"});
    const bool display = qEnvironmentVariableIsSet("DISPLAY")
            || qEnvironmentVariableIsSet("WAYLAND_DISPLAY")
            || qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
    if (!headless && !textOnly && !display && !hasArgument(argc, argv, {"--attach"})) {
        std::fprintf(stderr, "switchboard: no display found; serving headless (--headless)\n");
        headless = true;
    }
    std::unique_ptr<QCoreApplication> app;
    if (headless || textOnly)
        app = std::make_unique<QCoreApplication>(argc, argv);
    else
        app = std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Switchboard"));
    QCommandLineParser parser;
    sb::setUpCommandLine(
            parser, QStringLiteral("switchboard"),
            QStringLiteral(
                    "Switchboard admin console: hosts the server (the same flags as "
                    "switchboardd) or watches a remote one with --attach URL --api-key KEY."));
    sb::ui::addConsoleOptions(parser);
    parser.process(*app);

    if (headless)
        return sb::runHeadless(*app, parser, "switchboard");

    QString error;
    const QString language =
            sb::ui::chooseLanguage(parser.value(QStringLiteral("lang")), QLocale::system(), &error);
    if (!error.isEmpty()) {
        std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(error));
        return 2;
    }
    if (!sb::ui::installTranslations(*app, language))
        std::fprintf(stderr, "switchboard: no %s translation found; showing English\n",
                     qPrintable(language));
    return sb::ui::runConsole(*static_cast<QApplication *>(app.get()), parser);
}
