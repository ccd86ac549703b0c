#include "commands/EmitService.h"

#include "base/Names.h"
#include "commands/BodyDecoder.h"
#include "commands/EmitOrderer.h"
#include "commands/Validation.h"
#include "hub/Hub.h"

#include <QMetaObject>
#include <QObject>

namespace sb {

namespace {

qsizetype maxLengthOf(EmitTarget target)
{
    return target == EmitTarget::User ? names::kUserMax : names::kRoomMax;
}

} // namespace

std::optional<EmitRequest> EmitService::read(const DecodedBody &body, EmitTarget target,
                                             QStringView toField, CommandError *error)
{
    FieldReader f(body);
    EmitRequest request;
    request.target = target;
    if (target == EmitTarget::Connection)
        request.to = f.text(toField, false);
    else if (target == EmitTarget::Room || target == EmitTarget::User)
        request.to = f.name(toField, maxLengthOf(target));
    request.event = f.name(u"event", names::kEventMax);
    request.data = f.json(u"data");
    if (!f.ok()) {
        if (error)
            *error = f.commandError();
        return std::nullopt;
    }
    return request;
}

bool EmitService::validate(const EmitRequest &request, CommandError *error)
{
    QString why;
    const bool named = request.target == EmitTarget::Room || request.target == EmitTarget::User;
    const QStringView field = request.target == EmitTarget::Room ? u"room" : u"user";
    if ((!named || names::checkLength(field, request.to, maxLengthOf(request.target), &why))
        && names::checkLength(u"event", request.event, names::kEventMax, &why))
        return true;
    if (error)
        *error = CommandError{400, QStringLiteral("bad_request"), why};
    return false;
}

CommandError EmitService::busy()
{
    return CommandError{503, QStringLiteral("unavailable"),
                        QStringLiteral("server busy: the delivery queues are full; retry"), 1};
}

std::optional<EmitResult> EmitService::emit(const EmitRequest &request, CommandError *error) const
{
    if (m_orderer) {
        if (error)
            *error = CommandError{500, QStringLiteral("internal"),
                                  QStringLiteral("a cluster orders emits asynchronously")};
        return std::nullopt;
    }
    const EmitResult result = m_hub->publish(request);
    if (!result.accepted) {
        if (error)
            *error = busy();
        return std::nullopt;
    }
    return result;
}

void EmitService::emitAsync(const EmitRequest &request, QObject *context, Done done) const
{
    if (!m_orderer) {
        CommandError error;
        const std::optional<EmitResult> result = emit(request, &error);
        done(result, error);
        return;
    }
    EmitRequest admitted = request;
    if (!m_hub->admitForOrdering(admitted)) {
        done(std::nullopt, busy());
        return;
    }
    m_orderer->order(admitted,
                     [context, done = std::move(done)](std::optional<EmitResult> result,
                                                       const CommandError &error) {
                         QMetaObject::invokeMethod(
                                 context, [done, result, error] { done(result, error); },
                                 Qt::AutoConnection);
                     });
}

} // namespace sb
