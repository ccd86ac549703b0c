#include "endpoints/EndpointJson.h"

namespace sb {

namespace {

QJsonValue nullable(const QString &s)
{
    return s.isNull() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

} // namespace

QJsonObject endpointJson(const EndpointInfo &info)
{
    QJsonObject o{{QStringLiteral("endpoint"), nullable(info.name)},
                  {QStringLiteral("handler"), nullable(info.handler)},
                  {QStringLiteral("description"), info.description},
                  {QStringLiteral("file"), info.file},
                  {QStringLiteral("auth"),
                   info.tokenAuth ? QStringLiteral("token") : QStringLiteral("none")},
                  {QStringLiteral("sessions"), double(info.sessions)},
                  {QStringLiteral("calls"), double(info.calls)},
                  {QStringLiteral("failures"), double(info.failures)}};
    if (!info.error.isNull())
        o.insert(QStringLiteral("error"), info.error);
    if (!info.lastError.isNull())
        o.insert(QStringLiteral("last_error"), info.lastError);
    return o;
}

QJsonArray endpointsJson(const QList<EndpointInfo> &endpoints)
{
    QJsonArray out;
    for (const EndpointInfo &e : endpoints)
        out.append(endpointJson(e));
    return out;
}

} // namespace sb
