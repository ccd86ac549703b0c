#pragma once

#include <QString>

namespace sb {

// Why a command (an emit, a registration, a decoded body) was refused: the HTTP status the
// REST side answers with, the error code of the JSON answer and a message that names the
// field (docs/API.md, "Errors"). The WebSocket side sends code and message in its error frame.
struct CommandError
{
    int status = 400;
    QString code = QStringLiteral("bad_request");
    QString message;
    int retryAfterS = 0; // non-zero: answered with Retry-After (a 503 the caller may retry)
};

} // namespace sb
