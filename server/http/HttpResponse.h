#pragma once

#include "commands/CommandError.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QStringView>

#include <functional>

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
    // The answer is not known yet (an emit the cluster orders): HttpServer keeps its place in
    // the connection's answer order and calls this with the function that gives the answer,
    // which must be called exactly once, on the HTTP thread.
    using Finish = std::function<void(HttpReply reply)>;
    std::function<void(Finish finish)> deferred;
    static HttpReply later(std::function<void(Finish finish)> start);

    static HttpReply json(QByteArray body, int status = 200);
    // {"error": {"code": ..., "message": ...}}
    static HttpReply error(int status, QStringView code, QStringView message);
    // With Retry-After when the error carries one (a 503 the caller may retry).
    static HttpReply error(const CommandError &error);

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
