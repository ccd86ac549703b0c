#include "auth/TokenService.h"

#include "auth/ApiKeyAuth.h"
#include "auth/RevocationList.h"
#include "base/Names.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>

#include <optional>
#include <tuple>

namespace sb {

namespace {

constexpr auto kBase64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QByteArray hmac(const QByteArray &secret, QByteArrayView data)
{
    return QMessageAuthenticationCode::hash(data.toByteArray(), secret, QCryptographicHash::Sha256);
}

std::optional<QByteArray> decodeSegment(QByteArrayView segment)
{
    for (char ch : segment) {
        const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ok)
            return std::nullopt;
    }
    auto decoded = QByteArray::fromBase64Encoding(
            segment.toByteArray(),
            QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return *decoded;
}

// Unix seconds from a JSON number, clamped to what qint64 holds (no UB for 1e300).
qint64 secondsOf(double value)
{
    constexpr double limit = 9.0e18;
    if (!(value > -limit))
        return -qint64(limit);
    if (!(value < limit))
        return qint64(limit);
    return qint64(value);
}

TokenCheck invalid(const QString &why)
{
    TokenCheck check;
    check.error = TokenError::Invalid;
    check.message = why;
    return check;
}

} // namespace

QString TokenCheck::code() const
{
    switch (error) {
    case TokenError::None:
        return {};
    case TokenError::Invalid:
        return QStringLiteral("invalid_token");
    case TokenError::Expired:
        return QStringLiteral("expired_token");
    case TokenError::Revoked:
        return QStringLiteral("revoked");
    }
    return QStringLiteral("invalid_token");
}

TokenService::TokenService(const QByteArray &secret, const RevocationList *revocations)
    : m_secret(secret), m_revocations(revocations)
{ }

QByteArray TokenService::sign(const TokenClaims &claims) const
{
    static const QByteArray header =
            QByteArrayLiteral(R"({"alg":"HS256","typ":"JWT"})").toBase64(kBase64Url);
    QJsonObject payload{{QStringLiteral("sub"), claims.user},
                        {QStringLiteral("room"), claims.room},
                        {QStringLiteral("sid"), claims.session},
                        {QStringLiteral("iat"), double(claims.issuedAt)},
                        {QStringLiteral("exp"), double(claims.expiresAt)}};
    if (claims.publish)
        payload.insert(QStringLiteral("pub"), true);
    if (claims.notBefore != 0)
        payload.insert(QStringLiteral("nbf"), double(claims.notBefore));
    const QByteArray signingInput = header + '.'
            + QJsonDocument(payload).toJson(QJsonDocument::Compact).toBase64(kBase64Url);
    return signingInput + '.' + hmac(m_secret, signingInput).toBase64(kBase64Url);
}

namespace {

// The payload of a well-formed HS256 token whose signature matches; nullopt with *error.
std::optional<QJsonObject> verifiedPayload(QByteArrayView token, const QByteArray &secret,
                                           QString *error)
{
    const auto fail = [error](const QString &why) {
        *error = why;
        return std::nullopt;
    };
    if (token.isEmpty())
        return fail(QStringLiteral("token is missing"));
    if (token.size() > 64 * 1024)
        return fail(QStringLiteral("token is too long"));
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0)
        return fail(QStringLiteral("token is not a JWT (header.payload.signature)"));

    const auto headerJson = decodeSegment(token.first(dot1));
    const auto payloadJson = decodeSegment(token.sliced(dot1 + 1, dot2 - dot1 - 1));
    const auto signature = decodeSegment(token.sliced(dot2 + 1));
    if (!headerJson || !payloadJson || !signature)
        return fail(QStringLiteral("token is not base64url encoded"));

    const QJsonDocument header = QJsonDocument::fromJson(*headerJson);
    if (!header.isObject())
        return fail(QStringLiteral("token header is not a JSON object"));
    if (header.object().value(u"alg").toString() != u"HS256")
        return fail(QStringLiteral("token alg must be HS256"));

    const QByteArray expected = hmac(secret, token.first(dot2));
    if (!ApiKeyAuth::constantTimeEquals(expected, *signature))
        return fail(QStringLiteral("token signature does not match"));

    const QJsonDocument payload = QJsonDocument::fromJson(*payloadJson);
    if (!payload.isObject())
        return fail(QStringLiteral("token payload is not a JSON object"));
    return payload.object();
}

// The claims of a verified payload (docs/API.md, "Tokens"); false with *error naming the
// claim. *hasNbf: the token has a not-before time.
bool readClaims(const QJsonObject &claims, TokenClaims *out, bool *hasNbf, QString *error)
{
    const auto fail = [error](const QString &why) {
        *error = why;
        return false;
    };
    for (const char *name : {"sub", "room", "sid"}) {
        if (!claims.value(QLatin1StringView(name)).isString())
            return fail(QStringLiteral("token claim %1 is missing or not a string")
                                .arg(QLatin1StringView(name)));
    }
    out->user = claims.value(u"sub").toString();
    out->room = claims.value(u"room").toString();
    out->session = claims.value(u"sid").toString();
    for (const auto &[name, value, max] : {std::tuple{u"room", &out->room, names::kRoomMax},
                                           std::tuple{u"sub", &out->user, names::kUserMax},
                                           std::tuple{u"sid", &out->session, names::kSessionMax}}) {
        if (QString why; !names::checkLength(name, *value, max, &why))
            return fail(QStringLiteral("token claim ") + why);
    }
    const QJsonValue exp = claims.value(u"exp");
    if (!exp.isDouble())
        return fail(QStringLiteral("token claim exp is missing or not a number"));
    out->expiresAt = secondsOf(exp.toDouble());
    const QJsonValue iat = claims.value(u"iat");
    if (!iat.isUndefined() && !iat.isDouble())
        return fail(QStringLiteral("token claim iat is not a number"));
    out->issuedAt = secondsOf(iat.toDouble());
    const QJsonValue nbf = claims.value(u"nbf");
    if (!nbf.isUndefined() && !nbf.isDouble())
        return fail(QStringLiteral("token claim nbf is not a number"));
    *hasNbf = !nbf.isUndefined();
    out->notBefore = *hasNbf ? secondsOf(nbf.toDouble()) : 0;
    const QJsonValue pub = claims.value(u"pub");
    out->publish = pub.isBool() ? pub.toBool() : false;
    return true;
}

} // namespace

TokenCheck TokenService::verify(QByteArrayView token, qint64 nowSeconds) const
{
    QString why;
    const std::optional<QJsonObject> payload = verifiedPayload(token, m_secret, &why);
    if (!payload)
        return invalid(why);
    TokenCheck check;
    bool hasNbf = false;
    if (!readClaims(*payload, &check.claims, &hasNbf, &why))
        return invalid(why);

    if (check.claims.expiresAt <= nowSeconds) {
        check.error = TokenError::Expired;
        check.message = QStringLiteral("token expired");
        return check;
    }
    // secondsOf() clamps to +-9e18: with a clock near today these differences cannot overflow.
    if (hasNbf && check.claims.notBefore - nowSeconds > kTokenClockSkewSeconds)
        return invalid(QStringLiteral("token is not valid yet: its nbf is %1 s in the future")
                               .arg(check.claims.notBefore - nowSeconds));
    const qint64 revokedAt = m_revocations
            ? m_revocations->revokedAt(check.claims.room, check.claims.user, check.claims.session)
            : 0;
    if (revokedAt > 0 && check.claims.issuedAt <= revokedAt) {
        check.error = TokenError::Revoked;
        check.message = QStringLiteral("token was revoked by unregister");
        return check;
    }
    // An iat ahead of the clock would survive every unregister until then. The one exception
    // is what register hands out after an unregister in the same second: the revocation's
    // second + 1, and a later unregister covers it (RevocationList::issueSecond).
    if (check.claims.issuedAt - nowSeconds > kTokenClockSkewSeconds
        && !(revokedAt > 0 && check.claims.issuedAt == revokedAt + 1))
        return invalid(QStringLiteral("token claim iat is %1 s in the future")
                               .arg(check.claims.issuedAt - nowSeconds));
    return check;
}

} // namespace sb
