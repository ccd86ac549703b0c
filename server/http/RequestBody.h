#pragma once

#include "commands/BodyDecoder.h"
#include "http/HttpResponse.h"

#include <optional>

class QHttpServerRequest;

namespace sb {

// A request's body decoded by BodyDecoder (its Content-Type header read once, a repeated
// identical header taken as one). nullopt: *error is the 400/415 answer.
std::optional<DecodedBody> decodeRequestBody(const QHttpServerRequest &request, HttpReply *error);
// The same with the refusal as a CommandError (routes that answer it in their own shape).
std::optional<DecodedBody> decodeRequestBody(const QHttpServerRequest &request,
                                             CommandError *error);
// The body as text in its declared charset (the legacy POST / route).
std::optional<QString> decodeRequestText(const QHttpServerRequest &request, HttpReply *error);

} // namespace sb
