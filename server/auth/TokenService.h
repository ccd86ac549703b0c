#pragma once

#include <QByteArray>
#include <QString>

namespace sb {

class RevocationList;

struct TokenClaims
{
    QString user;         // sub
    QString room;         // room
    QString session;      // sid
    qint64 issuedAt = 0;  // iat, unix seconds
    qint64 expiresAt = 0; // exp, unix seconds
    bool publish = false; // pub
    qint64 notBefore = 0; // nbf, unix seconds; 0: none (sign() then writes no nbf)
};

// Clock skew allowed between the server and whoever minted a token (docs/API.md, "Tokens"):
// a token is accepted up to this many seconds before its nbf, and an iat at most this far in
// the future (an iat further ahead would outlive every unregister of its second).
inline constexpr qint64 kTokenClockSkewSeconds = 5;

enum class TokenError { None, Invalid, Expired, Revoked };

struct TokenCheck
{
    TokenError error = TokenError::None;
    QString message;
    TokenClaims claims;

    bool ok() const { return error == TokenError::None; }
    // The WebSocket error code: invalid_token, expired_token or revoked.
    QString code() const;
};

// JWT HS256 only. The HMAC key is the secret's UTF-8 bytes, used as given. Any other alg,
// "none" included, is refused. sub, room, sid and exp are required; lengths as in docs/API.md,
// "Names". nbf and iat are optional numbers: refused (invalid_token) before nbf and when iat lies
// in the future, both beyond kTokenClockSkewSeconds; the iat + 1 that a register gets after an
// unregister in the same second (RevocationList::issueSecond) is accepted however far ahead.
// Thread-safe (immutable apart from the shared revocation list, which locks itself).
class TokenService
{
public:
    TokenService(const QByteArray &secret, const RevocationList *revocations);

    QByteArray sign(const TokenClaims &claims) const;
    TokenCheck verify(QByteArrayView token, qint64 nowSeconds) const;

private:
    QByteArray m_secret;
    const RevocationList *m_revocations;
};

} // namespace sb
