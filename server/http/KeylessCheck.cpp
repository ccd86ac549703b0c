#include "http/KeylessCheck.h"

#include "config/ServerConfig.h"
#include "http/HttpCall.h"

#include <QHostInfo>
#include <QHttpServerRequest>
#include <QTcpSocket>
#include <QUrl>

namespace sb {

// A call without the API key is let in from trusted_networks (or with --insecure) because a
// database on that network cannot send one. A web page that the browser of someone on that
// network opens could send the same call (a form post needs no CORS preflight), or reach the
// server through a name it controls (DNS rebinding). Browsers tell: they send Origin with
// every cross-site POST and PUT, Sec-Fetch-Site on every request, and the Host the page
// asked for. Database callers (UTL_HTTP, APEX_WEB_SERVICE, curl, libpq-side code) send no
// Origin and no Sec-Fetch-Site, and a Host naming this server.
bool keylessCallAllowed(const ServerConfig &config, const HttpCall &call, QString *refusal)
{
    const auto refuse = [refusal](const QString &why) {
        if (refusal)
            *refusal = why;
        return false;
    };
    const QString origin = QString::fromUtf8(call.request.value(QByteArrayLiteral("origin")));
    // A page this server served itself (the landing page's demo) is same-origin: its Origin
    // names the Host it was loaded from, which the Host check below then vouches for.
    const QUrl originUrl(origin);
    const QString hostHeader =
            QString::fromLatin1(call.request.value(QByteArrayLiteral("host")).trimmed().toLower());
    const bool sameOrigin = originUrl.isValid() && !originUrl.host().isEmpty()
            && originUrl.authority().toLower() == hostHeader;
    if (!origin.isEmpty() && !sameOrigin
        && (config.allowedOrigins.isEmpty() || !config.isOriginAllowed(origin)))
        return refuse(QStringLiteral("a request without the API key may not come from a web page: "
                                     "Origin %1 is not in allowed_origins")
                              .arg(origin.left(200)));
    const QByteArray site = call.request.value(QByteArrayLiteral("sec-fetch-site")).toLower();
    if (site == "cross-site")
        return refuse(
                QStringLiteral("a request without the API key may not come from a web page of "
                               "another site (Sec-Fetch-Site: cross-site)"));
    QByteArray host = call.request.value(QByteArrayLiteral("host")).trimmed().toLower();
    if (host.isEmpty())
        return true; // HTTP/1.0 callers may send none; a browser always does
    // Drop the port: "[::1]:8080" -> "::1", "name:8080" -> "name".
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        host = close > 0 ? host.mid(1, close - 1) : host;
    } else if (host.count(':') == 1) {
        host = host.left(host.indexOf(':'));
    }
    if (host.endsWith('.'))
        host.chop(1);
    const QString name = QString::fromLatin1(host);
    if (config.allowedHosts.contains(name) || name == u"localhost" || name.endsWith(u".localhost"))
        return true;
    const QHostAddress address(name);
    if (!address.isNull()) {
        // An address: this server's own (loopback, the listen address, any local one).
        if (address.isLoopback() || address == config.listenAddress
            || config.listenAddress == QHostAddress::Any
            || config.listenAddress == QHostAddress::AnyIPv4
            || config.listenAddress == QHostAddress::AnyIPv6)
            return true;
        if (call.socket && address == call.socket->localAddress())
            return true;
    } else {
        static const QString machine = QHostInfo::localHostName().toLower();
        static const QString domain = QHostInfo::localDomainName().toLower();
        if (name == machine || (!domain.isEmpty() && name == machine + u'.' + domain))
            return true;
    }
    return refuse(QStringLiteral("a request without the API key must name this server in Host (the "
                                 "listen address, localhost, the machine's name or allowed_hosts), "
                                 "not %1")
                          .arg(name.left(200)));
}

} // namespace sb
