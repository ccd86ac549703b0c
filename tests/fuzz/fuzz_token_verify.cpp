// Fuzzes JWT verification (server/auth/TokenService::verify; docs/fuzzing.md) with a fixed
// secret and clock, against a revocation list that holds one revoked triple.
//
// Input: the first byte picks the mode.
//   even: the rest is the token as a client sends it (mostly refused at the signature: the
//         seeds are valid tokens, so mutations of their header and payload segments run too).
//   odd:  the rest is "HEADER-JSON\nPAYLOAD-JSON"; the target encodes both and signs them with
//         the secret, so that the mutator reaches the claim checks with any JSON.
// Checked: an accepted token meets every rule of docs/API.md ("Tokens"), and signing its
// claims again gives a token that verifies to the same claims.

#include "FuzzSupport.h"
#include "auth/RevocationList.h"
#include "auth/TokenService.h"
#include "base/Names.h"

#include <QMessageAuthenticationCode>

using sb::TokenCheck;
using sb::TokenError;

namespace {

const QByteArray kSecret = QByteArrayLiteral("fuzz-secret");
constexpr qint64 kNow = 1'700'000'000;
constexpr auto kB64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

sb::RevocationList *revocations()
{
    static sb::RevocationList *list = [] {
        auto *l = new sb::RevocationList();
        l->revoke(QStringLiteral("hr:emp:1"), QStringLiteral("SCOTT"), QStringLiteral("S-1"),
                  kNow - 10);
        return l;
    }();
    return list;
}

QByteArray signedToken(QByteArrayView header, QByteArrayView payload)
{
    const QByteArray input =
            header.toByteArray().toBase64(kB64Url) + '.' + payload.toByteArray().toBase64(kB64Url);
    return input + '.'
            + QMessageAuthenticationCode::hash(input, kSecret, QCryptographicHash::Sha256)
                      .toBase64(kB64Url);
}

void checkAccepted(const sb::TokenService &service, const TokenCheck &check)
{
    const sb::TokenClaims &c = check.claims;
    SB_FUZZ_CHECK(check.message.isEmpty());
    SB_FUZZ_CHECK(c.expiresAt > kNow);
    SB_FUZZ_CHECK(c.notBefore - kNow <= sb::kTokenClockSkewSeconds);
    SB_FUZZ_CHECK(sb::names::checkLength(u"room", c.room, sb::names::kRoomMax));
    SB_FUZZ_CHECK(sb::names::checkLength(u"sub", c.user, sb::names::kUserMax));
    SB_FUZZ_CHECK(sb::names::checkLength(u"sid", c.session, sb::names::kSessionMax));
    const qint64 revokedAt = revocations()->revokedAt(c.room, c.user, c.session);
    if (revokedAt > 0)
        SB_FUZZ_CHECK(c.issuedAt > revokedAt);
    SB_FUZZ_CHECK(c.issuedAt - kNow <= sb::kTokenClockSkewSeconds
                  || (revokedAt > 0 && c.issuedAt == revokedAt + 1));

    const TokenCheck again = service.verify(service.sign(c), kNow);
    SB_FUZZ_CHECK(again.ok());
    SB_FUZZ_CHECK(again.claims.user == c.user && again.claims.room == c.room
                  && again.claims.session == c.session && again.claims.issuedAt == c.issuedAt
                  && again.claims.expiresAt == c.expiresAt && again.claims.publish == c.publish
                  && again.claims.notBefore == c.notBefore);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView rest = sbfuzz::bytes(data + 1, size - 1);
    QByteArray token;
    if (data[0] % 2 == 0) {
        token = rest.toByteArray();
    } else {
        const qsizetype newline = rest.indexOf('\n');
        if (newline < 0)
            return 0;
        token = signedToken(rest.first(newline), rest.sliced(newline + 1));
    }
    static const sb::TokenService service(kSecret, revocations());
    const TokenCheck check = service.verify(token, kNow);
    if (check.ok()) {
        checkAccepted(service, check);
    } else {
        SB_FUZZ_CHECK(!check.message.isEmpty());
        SB_FUZZ_CHECK(check.code() == u"invalid_token" || check.code() == u"expired_token"
                      || check.code() == u"revoked");
    }
    return 0;
}
