#include "redis/RedisUrl.h"

#include <QHostAddress>
#include <QUrl>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace sb {

namespace {

bool fail(QString *error, const QString &text)
{
    if (error)
        *error = u"redis: "_s + text;
    return false;
}

// Percent-decodes user or password; a '%' not followed by two hex digits is an error.
bool percentDecode(const QString &raw, const QString &field, QString *out, QString *error)
{
    const QByteArray bytes = raw.toUtf8();
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        if (bytes[i] != '%')
            continue;
        if (i + 2 >= bytes.size() || !isxdigit(uchar(bytes[i + 1]))
            || !isxdigit(uchar(bytes[i + 2])))
            return fail(error, field + u" has a '%' that is not followed by two hex digits"_s);
    }
    *out = QString::fromUtf8(QByteArray::fromPercentEncoding(bytes));
    return true;
}

std::nullopt_t none(QString *error, const QString &text)
{
    fail(error, text);
    return std::nullopt;
}

bool parseNumber(const QString &text, qint64 min, qint64 max, const QString &message, qint64 *out,
                 QString *error)
{
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    for (const QChar c : text) {
        if (!c.isDigit())
            ok = false;
    }
    if (!ok || value < min || value > max)
        return fail(error, message + u" (got '"_s + text + u"')"_s);
    *out = value;
    return true;
}

bool parseDb(const QString &text, RedisUrl *url, QString *error)
{
    if (text.isEmpty())
        return true;
    qint64 db = 0;
    if (!parseNumber(text, 0, 1'000'000, u"db must be a whole number 0-1000000"_s, &db, error))
        return false;
    url->db = int(db);
    return true;
}

bool parseUserInfo(const QString &info, RedisUrl *url, QString *error)
{
    const qsizetype colon = info.indexOf(u':');
    if (colon < 0)
        return fail(error, u"user info must be 'user:password@' or ':password@'"_s);
    if (!percentDecode(info.left(colon), u"user"_s, &url->user, error)
        || !percentDecode(info.mid(colon + 1), u"password"_s, &url->password, error))
        return false;
    if (url->password.isEmpty())
        return fail(error, u"password is empty (leave out 'user:@' for no AUTH)"_s);
    return true;
}

bool parseHostPort(const QString &hostPort, RedisUrl *url, QString *error)
{
    QString portText;
    if (hostPort.startsWith(u'[')) {
        const qsizetype close = hostPort.indexOf(u']');
        if (close < 0)
            return fail(error, u"host: IPv6 address lacks its closing ']'"_s);
        url->host = hostPort.mid(1, close - 1);
        if (QHostAddress(url->host).protocol() != QAbstractSocket::IPv6Protocol)
            return fail(error, u"host: '"_s + url->host + u"' is not an IPv6 address"_s);
        const QString rest = hostPort.mid(close + 1);
        if (!rest.isEmpty() && !rest.startsWith(u':'))
            return fail(error, u"host: unexpected '"_s + rest + u"' after ']'"_s);
        portText = rest.mid(1);
        if (rest.isEmpty())
            portText = QString();
        else if (portText.isEmpty())
            return fail(error, u"port must be 1-65535 (got '')"_s);
    } else {
        const qsizetype colon = hostPort.indexOf(u':');
        url->host = colon < 0 ? hostPort : hostPort.left(colon);
        if (colon >= 0) {
            portText = hostPort.mid(colon + 1);
            if (portText.isEmpty())
                return fail(error, u"port must be 1-65535 (got '')"_s);
        }
        for (const QChar c : url->host) {
            if (!(c.isLetterOrNumber() || c == u'.' || c == u'-' || c == u'_'))
                return fail(error, u"host '"_s + url->host + u"' has a character not allowed"_s);
        }
    }
    if (url->host.isEmpty())
        return fail(error, u"host is missing"_s);
    if (portText.isNull())
        return true;
    qint64 port = 0;
    if (!parseNumber(portText, 1, 65535, u"port must be 1-65535"_s, &port, error))
        return false;
    url->port = int(port);
    return true;
}

std::optional<RedisUrl> parseTcp(const QString &rest, QString *error)
{
    // The password may hold '/' or '@' unencoded: the host starts after the last '@'.
    RedisUrl url;
    const qsizetype at = rest.lastIndexOf(u'@');
    QString authority = rest;
    const qsizetype slash = rest.indexOf(u'/', at + 1);
    if (slash >= 0) {
        authority = rest.left(slash);
        if (!parseDb(rest.mid(slash + 1), &url, error))
            return std::nullopt;
    }
    const QString hostPort = authority.mid(at + 1);
    if (hostPort.contains(u'?') || hostPort.contains(u'#'))
        return none(error, u"redis:// URLs take no '?' or '#' part"_s);
    if (at >= 0 && !parseUserInfo(authority.left(at), &url, error))
        return std::nullopt;
    if (!parseHostPort(hostPort, &url, error))
        return std::nullopt;
    return url;
}

std::optional<RedisUrl> parseUnix(const QString &rest, QString *error)
{
    RedisUrl url;
    const qsizetype question = rest.indexOf(u'?');
    url.unixPath = question < 0 ? rest : rest.left(question);
    if (!url.unixPath.startsWith(u'/') || url.unixPath.size() < 2)
        return none(error, u"unix socket path must be absolute: unix:///path/to/redis.sock"_s);
    if (question < 0)
        return url;
    const QUrlQuery query(rest.mid(question + 1));
    const auto items = query.queryItems();
    for (const auto &[key, value] : items) {
        if (key != u"db")
            return none(error, u"unknown parameter '"_s + key + u"' (only db)"_s);
        if (!parseDb(value, &url, error))
            return std::nullopt;
    }
    return url;
}

} // namespace

std::optional<RedisUrl> RedisUrl::parse(const QString &text, QString *error)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return none(error, u"URL is empty (redis://host:port/db or unix:///path)"_s);
    if (trimmed.startsWith(u"redis://"_s, Qt::CaseInsensitive))
        return parseTcp(trimmed.mid(8), error);
    if (trimmed.startsWith(u"unix://"_s, Qt::CaseInsensitive))
        return parseUnix(trimmed.mid(7), error);
    if (trimmed.startsWith(u"rediss://"_s, Qt::CaseInsensitive))
        return none(error, u"rediss:// (TLS) is not supported"_s);
    const qsizetype colon = trimmed.indexOf(u"://"_s);
    const QString scheme = colon < 0 ? QString() : trimmed.left(colon);
    return none(error,
                u"URL must start with redis:// or unix://"_s
                        + (scheme.isEmpty() ? QString() : u" (got '"_s + scheme + u"://')"_s));
}

QString RedisUrl::redacted() const
{
    if (isUnix())
        return u"unix://"_s + unixPath + (db != 0 ? u"?db="_s + QString::number(db) : QString());
    QString out = u"redis://"_s;
    if (!password.isEmpty())
        out += QString::fromUtf8(QUrl::toPercentEncoding(user)) + u":***@"_s;
    out += host.contains(u':') ? u'[' + host + u']' : host;
    out += u':' + QString::number(port);
    if (db != 0)
        out += u'/' + QString::number(db);
    return out;
}

} // namespace sb
