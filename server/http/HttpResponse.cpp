#include "http/HttpResponse.h"

#include "base/RawJson.h"

namespace sb {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return QByteArrayLiteral("Continue");
    case 200:
        return QByteArrayLiteral("OK");
    case 204:
        return QByteArrayLiteral("No Content");
    case 304:
        return QByteArrayLiteral("Not Modified");
    case 400:
        return QByteArrayLiteral("Bad Request");
    case 401:
        return QByteArrayLiteral("Unauthorized");
    case 403:
        return QByteArrayLiteral("Forbidden");
    case 404:
        return QByteArrayLiteral("Not Found");
    case 405:
        return QByteArrayLiteral("Method Not Allowed");
    case 408:
        return QByteArrayLiteral("Request Timeout");
    case 413:
        return QByteArrayLiteral("Payload Too Large");
    case 415:
        return QByteArrayLiteral("Unsupported Media Type");
    case 429:
        return QByteArrayLiteral("Too Many Requests");
    case 431:
        return QByteArrayLiteral("Request Header Fields Too Large");
    case 500:
        return QByteArrayLiteral("Internal Server Error");
    case 503:
        return QByteArrayLiteral("Service Unavailable");
    default:
        return QByteArrayLiteral("Status");
    }
}

HttpReply HttpReply::json(QByteArray body, int status)
{
    HttpReply reply;
    reply.status = status;
    reply.body = std::move(body);
    return reply;
}

HttpReply HttpReply::error(const CommandError &error)
{
    HttpReply reply = HttpReply::error(error.status, error.code, error.message);
    if (error.retryAfterS > 0)
        reply.headers.append(
                {QByteArrayLiteral("Retry-After"), QByteArray::number(error.retryAfterS)});
    return reply;
}

HttpReply HttpReply::later(std::function<void(Finish finish)> start)
{
    HttpReply reply;
    reply.deferred = std::move(start);
    return reply;
}

HttpReply HttpReply::error(int status, QStringView code, QStringView message)
{
    return json(QByteArrayLiteral(R"({"error":{"code":)") + rawjson::quote(code)
                        + QByteArrayLiteral(R"(,"message":)") + rawjson::quote(message)
                        + QByteArrayLiteral("}}"),
                status);
}

QByteArray HttpReply::serialize(bool closeConnection, bool headOnly) const
{
    QByteArray out;
    out.reserve(body.size() + 200);
    out.append("HTTP/1.1 ")
            .append(QByteArray::number(status))
            .append(' ')
            .append(reasonPhrase(status));
    const bool notModified = status == 304;
    if (!notModified) {
        out.append("\r\nContent-Type: ").append(contentType);
        if (contentType.startsWith("application/json") && !contentType.contains("charset"))
            out.append("; charset=utf-8");
        out.append("\r\nContent-Length: ").append(QByteArray::number(body.size()));
    }
    for (const auto &[name, value] : headers)
        out.append("\r\n").append(name).append(": ").append(value);
    out.append("\r\nCache-Control: ").append(cacheControl);
    if (closeConnection)
        out.append("\r\nConnection: close");
    out.append("\r\n\r\n");
    if (!headOnly && !notModified)
        out.append(body);
    return out;
}

} // namespace sb
