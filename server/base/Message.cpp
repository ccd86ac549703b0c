#include "base/Message.h"

namespace sb {

QString connectionIdText(ConnId id)
{
    return u'c' + QString::number(id);
}

ConnId parseConnectionId(QStringView text)
{
    if (text.size() < 2 || text.size() > 21 || text[0] != u'c' || text[1] == u'0')
        return 0;
    for (qsizetype i = 1; i < text.size(); ++i) {
        if (text[i] < u'0' || text[i] > u'9')
            return 0;
    }
    bool ok = false;
    const ConnId id = text.mid(1).toULongLong(&ok);
    return ok ? id : 0;
}

QLatin1String targetName(EmitTarget target)
{
    switch (target) {
    case EmitTarget::Room:
        return QLatin1String("room");
    case EmitTarget::User:
        return QLatin1String("user");
    case EmitTarget::All:
        return QLatin1String("all");
    case EmitTarget::Connection:
        return QLatin1String("connection");
    case EmitTarget::Legacy:
        return QLatin1String("legacy");
    }
    return {};
}

QLatin1String sourceName(EmitSource source)
{
    switch (source) {
    case EmitSource::Rest:
        return QLatin1String("rest");
    case EmitSource::Ws:
        return QLatin1String("ws");
    case EmitSource::Console:
        return QLatin1String("console");
    case EmitSource::Compat:
        return QLatin1String("compat");
    case EmitSource::Notify:
        return QLatin1String("notify");
    }
    return {};
}

std::optional<EmitTarget> parseTargetName(QStringView name)
{
    for (EmitTarget t : {EmitTarget::Room, EmitTarget::User, EmitTarget::All,
                         EmitTarget::Connection, EmitTarget::Legacy}) {
        if (name == targetName(t))
            return t;
    }
    return std::nullopt;
}

std::optional<EmitSource> parseSourceName(QStringView name)
{
    for (EmitSource s : {EmitSource::Rest, EmitSource::Ws, EmitSource::Console, EmitSource::Compat,
                         EmitSource::Notify}) {
        if (name == sourceName(s))
            return s;
    }
    return std::nullopt;
}

} // namespace sb
