#pragma once

#include "base/Message.h"
#include "commands/CommandError.h"
#include "http/HttpCall.h"
#include "http/HttpResponse.h"

#include <functional>

namespace sb {

struct ServerContext;

// Emits `request` and answers with what `answer` makes of its result, or with `refusal` of
// the error (HttpReply::error by default). On a single node at once; in a cluster
// (EmitService::ordersElsewhere) the answer comes when the cluster has ordered the emit,
// keeping its place among the connection's answers (HttpReply::later). The answer leaves
// once the log holds the emit (afterLogged).
HttpReply answerEmit(const ServerContext *context, const HttpCall &call, const EmitRequest &request,
                     std::function<HttpReply(const EmitResult &result)> answer,
                     std::function<HttpReply(const CommandError &error)> refusal = {});

} // namespace sb
