#include "http/RequestBody.h"

#include "http/HttpCall.h"

#include <QHttpServerRequest>

namespace sb {

namespace {

QByteArray contentType(const QHttpServerRequest &request)
{
    return singleHeaderValue(request.value(QByteArrayLiteral("content-type")));
}

} // namespace

std::optional<DecodedBody> decodeRequestBody(const QHttpServerRequest &request, CommandError *error)
{
    return BodyDecoder::decode(contentType(request), request.body(), error);
}

std::optional<DecodedBody> decodeRequestBody(const QHttpServerRequest &request, HttpReply *error)
{
    CommandError why;
    std::optional<DecodedBody> body = decodeRequestBody(request, &why);
    if (!body)
        *error = HttpReply::error(why);
    return body;
}

std::optional<QString> decodeRequestText(const QHttpServerRequest &request, HttpReply *error)
{
    CommandError why;
    std::optional<QString> text =
            BodyDecoder::decodeText(contentType(request), request.body(), &why);
    if (!text)
        *error = HttpReply::error(why);
    return text;
}

} // namespace sb
