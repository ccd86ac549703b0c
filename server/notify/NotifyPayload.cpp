#include "notify/NotifyPayload.h"

#include "http/BodyDecoder.h"
#include "http/Validation.h"
#include "hub/Names.h"

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

    FieldReader f(*body);
    EmitRequest request;
    request.source = EmitSource::Notify;
    const QString &target = targets.first();
    if (target == u"room") {
        request.target = EmitTarget::Room;
        request.to = f.name(u"room", names::kRoomMax);
    } else if (target == u"user") {
        request.target = EmitTarget::User;
        request.to = f.name(u"user", names::kUserMax);
    } else if (target == u"connection") {
        request.target = EmitTarget::Connection;
        request.to = f.text(u"connection", false);
    } else {
        request.target = EmitTarget::All;
    }
    request.event = f.name(u"event", names::kEventMax);
    request.data = f.json(u"data");
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return request;
}

} // namespace sb
