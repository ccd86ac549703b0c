#pragma once

#include <QLocale>
#include <QString>
#include <QStringList>

class QApplication;
class QCommandLineParser;
class QCoreApplication;

namespace sb::ui {

// The console's own flags besides the server's: --attach URL, --headless, --lang en|de|nl.
void addConsoleOptions(QCommandLineParser &parser);

// The language to show: --lang when given (en, de or nl; anything else is an error, returned
// in `error`), else the first of the system's UI languages that has a translation, else en.
QString chooseLanguage(const QString &flag, const QLocale &system, QString *error);
// Installs the console's translation (and Qt's own, where present) for `language`.
// English needs none. False when the translation is missing.
bool installTranslations(QCoreApplication &app, const QString &language);

// The configuration keys that flags or SWITCHBOARD_* variables set for this process.
QStringList overriddenKeys(const QCommandLineParser &parser);

// Shows the window hosting the server (or attached with --attach) until it is closed.
int runConsole(QApplication &app, const QCommandLineParser &parser);

} // namespace sb::ui
