#include "http/RequestKey.h"

#include "auth/ApiKeyAuth.h"
#include "http/HttpCall.h"

#include <QHttpServerRequest>
#include <QUrlQuery>

namespace sb {

QByteArray presentedApiKey(const QHttpServerRequest &request, bool allowQueryParameter)
{
    const QByteArray header =
            singleHeaderValue(request.value(QByteArrayLiteral("x-api-key"))).trimmed();
    if (!header.isEmpty())
        return header;
    const QByteArray authorization =
            singleHeaderValue(request.value(QByteArrayLiteral("authorization"))).trimmed();
    if (authorization.size() > 7
        && authorization.first(7).compare("bearer ", Qt::CaseInsensitive) == 0)
        return authorization.mid(7).trimmed();
    if (authorization.size() > 6
        && authorization.first(6).compare("basic ", Qt::CaseInsensitive) == 0) {
        const auto decoded = QByteArray::fromBase64Encoding(authorization.mid(6).trimmed());
        if (decoded) {
            const QByteArray &pair = *decoded;
            const qsizetype colon = pair.indexOf(':');
            return colon >= 0 ? pair.mid(colon + 1) : pair;
        }
        return {};
    }
    if (allowQueryParameter) {
        const QUrlQuery query(request.url());
        return query.queryItemValue(QStringLiteral("api_key"), QUrl::FullyDecoded).toUtf8();
    }
    return {};
}

bool requestHasApiKey(const ApiKeyAuth &key, const QHttpServerRequest &request,
                      bool allowQueryParameter)
{
    return key.checkKey(presentedApiKey(request, allowQueryParameter));
}

} // namespace sb
