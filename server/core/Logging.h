#pragma once

#include <QLoggingCategory>
#include <QString>

namespace sb {

Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcWs)
Q_DECLARE_LOGGING_CATEGORY(lcHub)
Q_DECLARE_LOGGING_CATEGORY(lcConfig)
Q_DECLARE_LOGGING_CATEGORY(lcLog)

// Log lines go to stderr as "2026-11-23T12:00:00.123Z info  [ws] connect c12 from 127.0.0.1:5000".
// Levels: error, warning, info, debug. Returns false for an unknown level name.
bool isValidLogLevel(const QString &level);
void installLogHandler(const QString &level);
void setLogLevel(const QString &level);

} // namespace sb
