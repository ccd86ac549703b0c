#include "auth/ApiKeyAuth.h"

#include "http/HttpCall.h"

#include <QCryptographicHash>
#include <QHttpServerRequest>
#include <QUrlQuery>

namespace sb {

bool ApiKeyAuth::constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    // Compare digests so that neither the length nor the first differing byte shows in timing.
    const QByteArray da = QCryptographicHash::hash(a, QCryptographicHash::Sha256);
    const QByteArray db = QCryptographicHash::hash(b, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (qsizetype i = 0; i < da.size(); ++i)
        diff |= static_cast<unsigned char>(da[i] ^ db[i]);
    return diff == 0;
}

QByteArray ApiKeyAuth::presentedKey(const QHttpServerRequest &request, bool allowQueryParameter)
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

bool ApiKeyAuth::checkKey(QByteArrayView candidate) const
{
    if (m_key.isEmpty() || candidate.isEmpty())
        return false;
    return constantTimeEquals(candidate, m_key);
}

bool ApiKeyAuth::check(const QHttpServerRequest &request, bool allowQueryParameter) const
{
    return checkKey(presentedKey(request, allowQueryParameter));
}

} // namespace sb
