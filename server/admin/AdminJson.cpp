#include "admin/AdminJson.h"

#include "base/Message.h"

#include <QJsonDocument>

namespace sb {

namespace {

QJsonValue nullable(const QString &s)
{
    return s.isNull() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

} // namespace

QJsonObject connectionJson(const ConnectionSnapshot &c)
{
    QJsonArray rooms;
    for (const QString &r : c.rooms)
        rooms.append(r);
    QJsonObject o{{QStringLiteral("connection"), connectionIdText(c.id)},
                  {QStringLiteral("user"), nullable(c.user)},
                  {QStringLiteral("session"), nullable(c.session)},
                  {QStringLiteral("rooms"), rooms},
                  {QStringLiteral("remote"), c.remote},
                  {QStringLiteral("origin"), nullable(c.origin)},
                  {QStringLiteral("since"), double(c.sinceMs)},
                  {QStringLiteral("sent"), double(c.sent)},
                  {QStringLiteral("received"), double(c.received)}};
    // Sessions of a `*.websocket` endpoint name it (docs/API.md, "Endpoints").
    if (c.kind == ConnectionKind::Endpoint)
        o.insert(QStringLiteral("endpoint"), c.endpoint);
    return o;
}

QJsonArray roomsJson(const QList<RoomSummary> &rooms)
{
    QJsonArray out;
    for (const RoomSummary &r : rooms) {
        out.append(QJsonObject{{QStringLiteral("room"), r.room},
                               {QStringLiteral("connections"), double(r.connections)},
                               {QStringLiteral("users"), double(r.users)}});
    }
    return out;
}

QByteArray compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QByteArray compactJson(const QJsonArray &array)
{
    return QJsonDocument(array).toJson(QJsonDocument::Compact);
}

} // namespace sb
