#include "http/EmitAnswer.h"

#include "commands/EmitService.h"
#include "context/ServerContext.h"

namespace sb {

HttpReply answerEmit(const ServerContext *context, const HttpCall &call, const EmitRequest &request,
                     std::function<HttpReply(const EmitResult &result)> answer,
                     std::function<HttpReply(const CommandError &error)> refusal)
{
    if (!refusal)
        refusal = [](const CommandError &error) { return HttpReply::error(error); };
    const EmitService *emits = context->emits;
    if (!emits->ordersElsewhere()) {
        CommandError why;
        const std::optional<EmitResult> result = emits->emit(request, &why);
        return result ? answer(*result).afterLogged(result->id) : refusal(why);
    }
    return HttpReply::later([emits, request, server = call.server, answer = std::move(answer),
                             refusal = std::move(refusal)](HttpReply::Finish finish) {
        emits->emitAsync(request, server,
                         [finish = std::move(finish), answer,
                          refusal](std::optional<EmitResult> result, const CommandError &why) {
                             finish(result ? answer(*result).afterLogged(result->id)
                                           : refusal(why));
                         });
    });
}

} // namespace sb
