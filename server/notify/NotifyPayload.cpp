#include "notify/NotifyPayload.h"

#include "base/Names.h"
#include "commands/BodyDecoder.h"
#include "commands/EmitService.h"

#include <QStringList>

namespace sb {

std::optional<EmitRequest> parseNotifyPayload(const QByteArray &utf8, QString *error)
{
    const std::optional<DecodedBody> body =
            BodyDecoder::decodeJsonText(utf8, QStringLiteral("the payload"), error);
    if (!body)
        return std::nullopt;

    // Which target does it name? "all": false (or null) names none.
    QStringList targets;
    for (const QStringView key : {u"room", u"user", u"connection"}) {
        if (body->has(key))
            targets << key.toString();
    }
    const QJsonValue all = body->value(u"all");
    if (!all.isUndefined() && !all.isNull()) {
        if (!all.isBool()) {
            *error = QStringLiteral("all must be true or false");
            return std::nullopt;
        }
        if (all.toBool())
            targets << QStringLiteral("all");
    }
    const QString oneOf =
            QStringLiteral("give exactly one of room, user, connection or \"all\": true");
    if (targets.isEmpty()) {
        *error = QStringLiteral("the payload names no target; %1").arg(oneOf);
        return std::nullopt;
    }
    if (targets.size() > 1) {
        *error = QStringLiteral("the payload names %1 targets (%2); %3")
                         .arg(targets.size())
                         .arg(targets.join(QStringLiteral(", ")), oneOf);
        return std::nullopt;
    }

    const QString &target = targets.first();
    const EmitTarget kind = parseTargetName(target).value_or(EmitTarget::All);
    CommandError why;
    std::optional<EmitRequest> request = EmitService::read(*body, kind, target, &why);
    if (!request) {
        *error = why.message;
        return std::nullopt;
    }
    request->source = EmitSource::Notify;
    return request;
}

} // namespace sb
