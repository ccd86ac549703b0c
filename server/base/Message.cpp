#include "base/Message.h"

namespace sb {

QString connectionIdText(ConnId id)
{
    const quint64 node = connectionNode(id);
    const QString local = u'c' + QString::number(id & kConnLocalMask);
    return node ? u'n' + QString::number(node) + u'.' + local : local;
}

namespace {

// A decimal without sign or leading zero, at most `maxDigits` long; 0 when not one.
quint64 positiveDecimal(QStringView text, qsizetype maxDigits)
{
    if (text.isEmpty() || text.size() > maxDigits || text[0] == u'0')
        return 0;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return 0;
    }
    bool ok = false;
    const quint64 n = text.toULongLong(&ok);
    return ok ? n : 0;
}

} // namespace

ConnId parseConnectionId(QStringView text)
{
    quint64 node = 0;
    if (text.startsWith(u'n')) { // n<k>.c<m>
        const qsizetype dot = text.indexOf(u'.');
        if (dot < 0)
            return 0;
        node = positiveDecimal(text.mid(1, dot - 1), 5);
        if (node == 0 || node > kConnNodeMax)
            return 0;
        text = text.mid(dot + 1);
    }
    if (!text.startsWith(u'c'))
        return 0;
    const quint64 local = positiveDecimal(text.mid(1), 13);
    if (local == 0 || local > kConnLocalMask)
        return 0;
    return (ConnId(node) << kConnNodeShift) | local;
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
    case EmitSource::Handler:
        return QLatin1String("handler");
    case EmitSource::Client:
        return QLatin1String("client");
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
    for (int s = 0; s < kEmitSourceCount; ++s) {
        if (name == sourceName(EmitSource(s)))
            return EmitSource(s);
    }
    return std::nullopt;
}

} // namespace sb
