#pragma once

#include <QLoggingCategory>
#include <QString>

namespace sb {

Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcWs)
Q_DECLARE_LOGGING_CATEGORY(lcConfig)
Q_DECLARE_LOGGING_CATEGORY(lcLog)
Q_DECLARE_LOGGING_CATEGORY(lcEndpoints) // endpoints, their handlers and outbound clients

// Log lines go to stderr as "2026-11-23T12:00:00.123Z info  [ws] connect c12 from 127.0.0.1:5000".
// One message is always one line: the handler escapes control characters in its text
// (escapeLogText), so names, paths and addresses from clients cannot forge log lines.
// Levels: error, warning, info, debug. Returns false for an unknown level name.
bool isValidLogLevel(const QString &level);
void installLogHandler(const QString &level);
void setLogLevel(const QString &level);

// text with \n \r \t written as those two characters, and every other control character
// (U+0000-U+001F, U+007F-U+009F) and the line and paragraph separators U+2028 and U+2029 as
// \uXXXX. Backslashes are kept as they are. Returns text unchanged (no copy) when it has none.
QString escapeLogText(const QString &text);

} // namespace sb
