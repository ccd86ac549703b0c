// ConfigLoader's checks of single values (the schema's types, ranges and formats), and
// ServerConfig's helpers.
#include "config/ConfigLoader.h"

#include "redis/RedisUrl.h"
#include "store/PgUrl.h"

#include <QDir>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QStandardPaths>
#include <QUrl>

namespace sb {

namespace {

bool fail(QString *error, const QString &text)
{
    if (error)
        *error = text;
    return false;
}

bool checkInteger(const ConfigKey &key, const QString &value, QString *error)
{
    bool ok = false;
    const qint64 n = value.trimmed().toLongLong(&ok);
    if (ok && n >= key.min && n <= key.max)
        return true;
    if (key.min == 1)
        return fail(error,
                    QStringLiteral("'%1' is not a positive integer%2")
                            .arg(value,
                                 key.max < std::numeric_limits<qint64>::max()
                                         ? QStringLiteral(" up to %1").arg(key.max)
                                         : QString()));
    return fail(error,
                QStringLiteral("'%1' is not an integer from %2 to %3")
                        .arg(value)
                        .arg(key.min)
                        .arg(key.max));
}

bool checkItem(ConfigFormat format, const QString &item, QString *error)
{
    switch (format) {
    case ConfigFormat::Origin:
        if (item != u"*" && !QUrl(item, QUrl::StrictMode).isValid())
            return fail(error,
                        QStringLiteral("'%1' is not an origin such as https://app.example.com")
                                .arg(item));
        return true;
    case ConfigFormat::HostName:
        if (item.contains(u'/') || item.contains(u' ') || item.contains(u'@'))
            return fail(error,
                        QStringLiteral("'%1' is not a host name such as app.example.com")
                                .arg(item.toLower()));
        return true;
    case ConfigFormat::Cidr:
        return ConfigLoader::parseNetworks(item, error).has_value();
    case ConfigFormat::HostPort: {
        QHostAddress address;
        quint16 port = 0;
        return ConfigLoader::parseListen(item, &address, &port, error);
    }
    case ConfigFormat::PgUrl:
        return ConfigLoader::parsePgListen(item, error);
    case ConfigFormat::PgChannel: // empty: the default
        return item.isEmpty() || ConfigLoader::parsePgChannel(item, error);
    case ConfigFormat::RedisUrl:
        return item.isEmpty() || RedisUrl::parse(item, error).has_value();
    case ConfigFormat::NodeName:
        if (item.size() > 64)
            return fail(error, QStringLiteral("is longer than 64 characters"));
        for (const QChar c : item) {
            if (c.unicode() <= 0x20 || c.unicode() >= 0x7f)
                return fail(error,
                            QStringLiteral("'%1' has a character other than printable ASCII "
                                           "without spaces")
                                    .arg(item.left(64)));
        }
        return true;
    case ConfigFormat::Any:
        return true;
    }
    return true;
}

} // namespace

std::optional<bool> ConfigLoader::parseBool(const QString &value, QString *error)
{
    const QString v = value.trimmed().toLower();
    if (v == u"1" || v == u"true" || v == u"yes" || v == u"on")
        return true;
    if (v == u"0" || v == u"false" || v == u"no" || v == u"off" || v.isEmpty())
        return false;
    fail(error, QStringLiteral("'%1' is not true or false").arg(value));
    return std::nullopt;
}

bool ConfigLoader::checkValue(const ConfigKey &key, const QString &value, QString *error)
{
    switch (key.type) {
    case ConfigType::Integer:
        return checkInteger(key, value, error);
    case ConfigType::Boolean:
        return parseBool(value, error).has_value();
    case ConfigType::Choice:
        if (!configChoices(key).contains(value.trimmed().toLower()))
            return fail(error,
                        QStringLiteral("'%1' is not one of %2")
                                .arg(value, configChoices(key).join(QStringLiteral(", "))));
        return true;
    case ConfigType::List:
        for (const QString &part : value.split(u',', Qt::SkipEmptyParts)) {
            const QString item = part.trimmed();
            if (!item.isEmpty() && !checkItem(key.format, item, error))
                return false;
        }
        return true;
    case ConfigType::Text:
    case ConfigType::Secret:
    case ConfigType::Path:
        return checkItem(key.format, value.trimmed(), error);
    }
    return true;
}

bool ConfigLoader::parseListen(const QString &value, QHostAddress *address, quint16 *port,
                               QString *error)
{
    const QString v = value.trimmed();
    const qsizetype colon = v.lastIndexOf(u':');
    if (colon < 0)
        return fail(
                error,
                QStringLiteral("'%1' is not host:port (for example 127.0.0.1:8080)").arg(value));
    QString host = v.left(colon);
    const QString portText = v.mid(colon + 1);
    bool ok = false;
    const uint p = portText.toUInt(&ok);
    if (!ok || p > 65535)
        return fail(error, QStringLiteral("'%1' is not a port number (0..65535)").arg(portText));
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    QHostAddress a;
    if (host.isEmpty() || host == u"*")
        a = QHostAddress(QHostAddress::Any);
    else if (host == u"localhost")
        a = QHostAddress(QHostAddress::LocalHost);
    else if (!a.setAddress(host))
        return fail(error, QStringLiteral("'%1' is not an IP address").arg(host));
    *address = a;
    *port = quint16(p);
    return true;
}

std::optional<QList<QPair<QHostAddress, int>>> ConfigLoader::parseNetworks(const QString &value,
                                                                           QString *error)
{
    QList<QPair<QHostAddress, int>> out;
    const QStringList parts = value.split(u',', Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        const QString cidr = part.trimmed();
        if (cidr.isEmpty())
            continue;
        QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(cidr);
        if (subnet.first.isNull()) {
            QHostAddress single;
            if (!single.setAddress(cidr)) {
                fail(error,
                     QStringLiteral("'%1' is not a CIDR network (for example 10.0.0.0/8)")
                             .arg(cidr));
                return std::nullopt;
            }
            subnet = {single, single.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32};
        }
        out.append(subnet);
    }
    return out;
}

bool ConfigLoader::parsePgListen(const QString &value, QString *error)
{
    if (value.isEmpty())
        return true;
    QString why;
    if (!PgUrl::parse(value, &why))
        return fail(error, why); // never repeats the URL: it may hold a password
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        return fail(error,
                    QStringLiteral("the Qt SQL driver QPSQL is not installed (Debian: "
                                   "libqt6sql6-psql)"));
    return true;
}

bool ConfigLoader::parsePgChannel(const QString &value, QString *error)
{
    // LISTEN takes an identifier (at most 63 bytes); Qt's QPSQL driver quotes it, splits it at
    // dots and matches notifications by their Latin-1 name: plain ASCII names only.
    bool ok = !value.isEmpty() && value.size() <= 63;
    for (const QChar c : value) {
        ok = ok
                && ((c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9')
                    || c == u'_');
    }
    if (!ok)
        return fail(error,
                    QStringLiteral("'%1' is not a channel name: 1 to 63 letters, digits or "
                                   "underscores")
                            .arg(value.left(80)));
    return true;
}

QString ConfigLoader::defaultDataDir()
{
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.local/share");
    return base + QStringLiteral("/switchboard");
}

QByteArray ConfigLoader::generateSecret()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), 8);
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

bool ServerConfig::isTrusted(const QHostAddress &address) const
{
    QHostAddress a = address;
    bool ok = false;
    const quint32 v4 = a.toIPv4Address(&ok);
    if (ok)
        a = QHostAddress(v4); // ::ffff:127.0.0.1 is 127.0.0.1
    for (const auto &net : trustedNetworks) {
        if (a.isInSubnet(net))
            return true;
    }
    return false;
}

QString ServerConfig::endpointsPath() const
{
    if (!endpointsDir.trimmed().isEmpty())
        return endpointsDir;
    return dataDir.isEmpty() ? QString() : dataDir + QStringLiteral("/endpoints");
}

bool ServerConfig::isOriginAllowed(const QString &origin) const
{
    if (allowedOrigins.isEmpty())
        return true;
    return allowedOrigins.contains(origin.trimmed().toLower());
}

} // namespace sb
