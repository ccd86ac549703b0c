#pragma once

#include "commands/CommandError.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QStringView>

namespace sb {

// One HTTP answer. Handlers return it; HttpServer writes it in one piece (status line,
// headers, Content-Length body), adding Connection: close when the connection ends after it.
struct HttpReply
{
    int status = 200;
    QByteArray body;
    QByteArray contentType = QByteArrayLiteral("application/json");
    QList<QPair<QByteArray, QByteArray>> headers;
    // API answers are never cached; static files set no-cache with an ETag.
    QByteArray cacheControl = QByteArrayLiteral("no-store");
    // Non-zero: the answer leaves only once the message log has committed this id (an emit
    // answered 2xx is in the log). Answers on one connection still leave in request order.
    quint64 waitForLogId = 0;

    static HttpReply json(QByteArray body, int status = 200);
    // {"error": {"code": ..., "message": ...}}
    static HttpReply error(int status, QStringView code, QStringView message);
    static HttpReply error(const CommandError &error)
    {
        return HttpReply::error(error.status, error.code, error.message);
    }

    // A 304 has neither Content-Length nor body (RFC 9110 15.4.5).
    QByteArray serialize(bool closeConnection, bool headOnly = false) const;
    // This reply, sent once the log has committed the emit with this id.
    HttpReply afterLogged(quint64 id) &&
    {
        waitForLogId = id;
        return std::move(*this);
    }
};

QByteArray reasonPhrase(int status);

} // namespace sb
