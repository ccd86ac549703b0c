#include "ConsoleApp.h"

#include "MainWindow.h"
#include "UnixSignals.h"
#include "backend/LocalBackend.h"
#include "backend/RemoteBackend.h"
#include "base/Logging.h"
#include "config/ConfigLoader.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QLibraryInfo>
#include <QProcessEnvironment>
#include <QTranslator>

#include <cstdio>

namespace sb::ui {

namespace {
const QStringList kLanguages{QStringLiteral("en"), QStringLiteral("de"), QStringLiteral("nl")};
} // namespace

void addConsoleOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("attach"),
                      QCoreApplication::translate(
                              "ConsoleApp",
                              "Watch a remote server instead of hosting one: its base URL, "
                              "http[s]://host:port (with --api-key)."),
                      QStringLiteral("url")});
    parser.addOption(
            {QStringLiteral("headless"),
             QCoreApplication::translate("ConsoleApp",
                                         "Run the hosted server with no window and no display.")});
    parser.addOption(
            {QStringLiteral("lang"),
             QCoreApplication::translate("ConsoleApp",
                                         "Language of the console: en, de or nl (default: the "
                                         "system's)."),
             QStringLiteral("language")});
}

QString chooseLanguage(const QString &flag, const QLocale &system, QString *error)
{
    if (!flag.isEmpty()) {
        const QString lang = flag.trimmed().toLower();
        if (!kLanguages.contains(lang)) {
            *error = QStringLiteral("--lang: '%1' is not one of en, de, nl").arg(flag);
            return QStringLiteral("en");
        }
        return lang;
    }
    for (const QString &ui : system.uiLanguages()) {
        const QString lang = ui.section(u'-', 0, 0).section(u'_', 0, 0).toLower();
        if (kLanguages.contains(lang))
            return lang;
    }
    return QStringLiteral("en");
}

bool installTranslations(QCoreApplication &app, const QString &language)
{
    if (language == u"en")
        return true;
    auto *own = new QTranslator(&app);
    if (!own->load(QStringLiteral(":/i18n/switchboard_%1.qm").arg(language))) {
        delete own;
        return false;
    }
    QCoreApplication::installTranslator(own);
    // Qt's own strings (standard buttons of dialogs), when the system has them.
    auto *qt = new QTranslator(&app);
    if (qt->load(QStringLiteral("qtbase_%1").arg(language),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qt);
    else
        delete qt;
    return true;
}

QStringList overriddenKeys(const QCommandLineParser &parser)
{
    QStringList keys;
    const QStringList consoleOnly{QStringLiteral("attach"), QStringLiteral("headless"),
                                  QStringLiteral("lang"),   QStringLiteral("config"),
                                  QStringLiteral("help"),   QStringLiteral("version")};
    for (const QString &name : parser.optionNames()) {
        if (name.size() > 1 && !consoleOnly.contains(name))
            keys.append(QString(name).replace(u'-', u'_'));
    }
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &var : env.keys()) {
        if (var.startsWith(u"SWITCHBOARD_") && !env.value(var).isEmpty())
            keys.append(var.mid(12).toLower());
    }
    keys.removeDuplicates();
    keys.sort();
    return keys;
}

int runConsole(QApplication &app, const QCommandLineParser &parser)
{
    ConsoleBackend *backend = nullptr;
    QString settingsPath;
    LocalBackend *local = nullptr;
    if (parser.isSet(QStringLiteral("attach"))) {
        const QUrl base(parser.value(QStringLiteral("attach")));
        const QString problem = RemoteBackend::checkBaseUrl(base);
        if (!problem.isEmpty()) {
            std::fprintf(stderr, "switchboard: error: --attach: %s\n", qPrintable(problem));
            return 2;
        }
        QString key = parser.value(QStringLiteral("api-key"));
        if (key.isEmpty())
            key = qEnvironmentVariable("SWITCHBOARD_API_KEY");
        if (key.isEmpty()) {
            std::fprintf(stderr,
                         "switchboard: error: --attach needs --api-key KEY (or "
                         "SWITCHBOARD_API_KEY) for the remote server's admin stream\n");
            return 2;
        }
        backend = new RemoteBackend(base, key, &app);
    } else {
        // Checked once before the window opens: a wrong flag is a command-line error.
        ConfigLoader::Result first = ConfigLoader::load(parser);
        installLogHandler(first.config.logLevel);
        if (!first.errors.isEmpty()) {
            for (const QString &error : std::as_const(first.errors))
                std::fprintf(stderr, "switchboard: error: %s\n", qPrintable(error));
            return 2;
        }
        for (const QString &notice : std::as_const(first.notices))
            std::fprintf(stderr, "switchboard: %s\n", qPrintable(notice));
        settingsPath = first.config.configPath;
        const QCommandLineParser *p = &parser;
        local = new LocalBackend([p] { return ConfigLoader::load(*p); }, &app);
        backend = local;
    }

    MainWindow window(backend, settingsPath, overriddenKeys(parser));
    if (local)
        window.setRestartHandler([local] { local->restart(); });
    UnixSignals signals;
    QObject::connect(&signals, &UnixSignals::terminationRequested, &app,
                     [&window] { window.close(); });
    window.show();
    backend->start();
    if (local) {
        QObject::connect(local, &ConsoleBackend::stateChanged, &app,
                         [local](ConsoleBackend::State state) {
                             if (state == ConsoleBackend::State::Live)
                                 std::fprintf(stderr, "switchboard: listening on %s (config %s)\n",
                                              qPrintable(local->address()),
                                              qPrintable(local->config().configPath));
                         });
    }
    const int code = app.exec();
    delete backend; // stops a hosted server (clients get 1001) before the window goes
    return code;
}

} // namespace sb::ui
