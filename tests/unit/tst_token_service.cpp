// Unit tests of sb::TokenService (JWT HS256) and sb::RevocationList (docs/API.md, "Tokens").

#include "auth/RevocationList.h"
#include "auth/TokenService.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace Qt::StringLiterals;
using sb::RevocationList;
using sb::TokenCheck;
using sb::TokenClaims;
using sb::TokenError;
using sb::TokenService;

namespace {

constexpr auto kB64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QByteArray b64url(const QByteArray &bytes)
{
    return bytes.toBase64(kB64Url);
}

QByteArray b64urlDecode(const QByteArray &segment)
{
    return QByteArray::fromBase64(segment, QByteArray::Base64UrlEncoding);
}

QByteArray json(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A JWT built without TokenService: header and payload are exact bytes, signature HMAC over
// "header.payload" with `key` and `algorithm`.
QByteArray handMade(const QByteArray &headerJson, const QByteArray &payloadJson,
                    const QByteArray &key,
                    QCryptographicHash::Algorithm algorithm = QCryptographicHash::Sha256)
{
    const QByteArray input = b64url(headerJson) + '.' + b64url(payloadJson);
    return input + '.' + b64url(QMessageAuthenticationCode::hash(input, key, algorithm));
}

const QByteArray kHs256Header = R"({"alg":"HS256","typ":"JWT"})"_ba;

QJsonObject fullPayload(qint64 now)
{
    return QJsonObject{{u"sub"_s, u"SCOTT"_s},
                       {u"room"_s, u"hr:emp:1234"_s},
                       {u"sid"_s, u"16180339887"_s},
                       {u"iat"_s, double(now - 10)},
                       {u"exp"_s, double(now + 3600)}};
}

QList<QByteArray> segments(const QByteArray &token)
{
    return token.split('.');
}

// A revocations file in a directory of its own, and the current second.
struct RevocationFile
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"revocations.json"_s);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
};

} // namespace

class TestTokenService : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void signVerifyRoundTrip_data();
    void signVerifyRoundTrip();
    void signedTokenHasTheContractClaims();
    void tamperedPayloadIsInvalid();
    void tamperedSignatureIsInvalid();
    void otherSecretIsInvalid();
    void expiry_data();
    void expiry();
    void algorithmOtherThanHs256IsInvalid_data();
    void algorithmOtherThanHs256IsInvalid();
    void requiredClaims_data();
    void requiredClaims();
    void farFutureExpiryIsNotExpired_data();
    void farFutureExpiryIsNotExpired();
    void iatIsOptional();
    void malformedTokens_data();
    void malformedTokens();
    void badBase64UrlWithValidHmacIsInvalid_data();
    void badBase64UrlWithValidHmacIsInvalid();
    void nameLengths_data();
    void nameLengths();
    void hmacKeyIsSecretUtf8AsGiven_data();
    void hmacKeyIsSecretUtf8AsGiven();
    void databaseMintedTokenIsAccepted();
    void revocationCutsAtTheSecond();
    void revocationOnlyAffectsItsTriple();
    void revocationPersistsAcrossInstances();
    void revocationPruning();
    void revocationPruningOnLoad();
    void reissueInTheSecondOfAnUnregisterIsRevokedByTheNext();
    void reissueChainInOneSecond();
    void notBefore_data();
    void notBefore();
    void issuedInTheFuture_data();
    void issuedInTheFuture();
    void futureIatCannotOutliveAnUnregister();
    void revocationFileIsOwnerOnly();
};

void TestTokenService::signVerifyRoundTrip_data()
{
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("room");
    QTest::addColumn<QString>("session");
    QTest::addColumn<bool>("publish");

    QTest::newRow("ascii, publish") << u"SCOTT"_s << u"hr:emp:1234"_s << u"98765"_s << true;
    QTest::newRow("ascii, no publish") << u"user:1"_s << u"tenant:ACME"_s << u"s"_s << false;
    QTest::newRow("non-ascii") << u"Jürgen 😀"_s << u"räum:€:\"quoted\""_s << u"sess/ion\\x"_s
                               << true;
}

void TestTokenService::signVerifyRoundTrip()
{
    QFETCH(QString, user);
    QFETCH(QString, room);
    QFETCH(QString, session);
    QFETCH(bool, publish);

    const qint64 now = 1'700'000'000;
    TokenService service("secret-1"_ba, nullptr);
    const TokenClaims claims{user, room, session, now - 5, now + 86400, publish};
    const QByteArray token = service.sign(claims);
    QCOMPARE(segments(token).size(), 3);

    const TokenCheck check = service.verify(token, now);
    QVERIFY2(check.ok(), qPrintable(check.message));
    QCOMPARE(check.error, TokenError::None);
    QCOMPARE(check.code(), QString());
    QCOMPARE(check.claims.user, user);
    QCOMPARE(check.claims.room, room);
    QCOMPARE(check.claims.session, session);
    QCOMPARE(check.claims.issuedAt, now - 5);
    QCOMPARE(check.claims.expiresAt, now + 86400);
    QCOMPARE(check.claims.publish, publish);
}

void TestTokenService::signedTokenHasTheContractClaims()
{
    const qint64 now = 1'700'000'000;
    TokenService service("k"_ba, nullptr);
    const QByteArray token = service.sign(TokenClaims{u"u"_s, u"r"_s, u"s"_s, now, now + 60, true});
    const QList<QByteArray> parts = segments(token);
    QCOMPARE(parts.size(), 3);

    const QJsonObject header = QJsonDocument::fromJson(b64urlDecode(parts[0])).object();
    QCOMPARE(header.value(u"alg").toString(), u"HS256"_s);

    const QJsonObject payload = QJsonDocument::fromJson(b64urlDecode(parts[1])).object();
    QCOMPARE(payload.value(u"sub").toString(), u"u"_s);
    QCOMPARE(payload.value(u"room").toString(), u"r"_s);
    QCOMPARE(payload.value(u"sid").toString(), u"s"_s);
    QCOMPARE(payload.value(u"iat").toInteger(), now);
    QCOMPARE(payload.value(u"exp").toInteger(), now + 60);
    QCOMPARE(payload.value(u"pub").toBool(), true);

    // The signature is HMAC-SHA256 over "header.payload" with the secret.
    const QByteArray expected = QMessageAuthenticationCode::hash(parts[0] + '.' + parts[1], "k"_ba,
                                                                 QCryptographicHash::Sha256);
    QCOMPARE(b64urlDecode(parts[2]), expected);
}

void TestTokenService::tamperedPayloadIsInvalid()
{
    const qint64 now = 1'700'000'000;
    TokenService service("secret"_ba, nullptr);
    const QByteArray token =
            service.sign(TokenClaims{u"alice"_s, u"room:1"_s, u"s1"_s, now, now + 60, false});
    QVERIFY(service.verify(token, now).ok());
    const QList<QByteArray> parts = segments(token);

    // Another room and pub=true in the payload, the original signature kept.
    QJsonObject payload = QJsonDocument::fromJson(b64urlDecode(parts[1])).object();
    payload.insert(u"room"_s, u"room:2"_s);
    const QByteArray otherRoom = parts[0] + '.' + b64url(json(payload)) + '.' + parts[2];
    QCOMPARE(service.verify(otherRoom, now).error, TokenError::Invalid);
    QCOMPARE(service.verify(otherRoom, now).code(), u"invalid_token"_s);

    payload = QJsonDocument::fromJson(b64urlDecode(parts[1])).object();
    payload.insert(u"pub"_s, true);
    const QByteArray escalated = parts[0] + '.' + b64url(json(payload)) + '.' + parts[2];
    QCOMPARE(service.verify(escalated, now).error, TokenError::Invalid);

    // One character of the payload segment changed.
    QByteArray flipped = parts[1];
    flipped[2] = flipped[2] == 'A' ? 'B' : 'A';
    QCOMPARE(service.verify(QByteArray(parts[0] + '.' + flipped + '.' + parts[2]), now).error,
             TokenError::Invalid);
}

void TestTokenService::tamperedSignatureIsInvalid()
{
    const qint64 now = 1'700'000'000;
    TokenService service("secret"_ba, nullptr);
    const QByteArray token =
            service.sign(TokenClaims{u"alice"_s, u"room:1"_s, u"s1"_s, now, now + 60, false});
    const QList<QByteArray> parts = segments(token);

    QByteArray sig = parts[2];
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    QCOMPARE(service.verify(QByteArray(parts[0] + '.' + parts[1] + '.' + sig), now).error,
             TokenError::Invalid);

    // A signature one byte short, and an empty one.
    const QByteArray shortSig = b64url(b64urlDecode(parts[2]).chopped(1));
    QCOMPARE(service.verify(QByteArray(parts[0] + '.' + parts[1] + '.' + shortSig), now).error,
             TokenError::Invalid);
    QCOMPARE(service.verify(QByteArray(parts[0] + '.' + parts[1] + '.'), now).error,
             TokenError::Invalid);
}

void TestTokenService::otherSecretIsInvalid()
{
    const qint64 now = 1'700'000'000;
    TokenService mine("secret-A"_ba, nullptr);
    TokenService theirs("secret-B"_ba, nullptr);
    const QByteArray token =
            theirs.sign(TokenClaims{u"alice"_s, u"r"_s, u"s"_s, now, now + 60, false});
    QVERIFY(theirs.verify(token, now).ok());
    const TokenCheck check = mine.verify(token, now);
    QCOMPARE(check.error, TokenError::Invalid);
    QCOMPARE(check.code(), u"invalid_token"_s);
    QVERIFY(!check.message.isEmpty());
}

void TestTokenService::expiry_data()
{
    QTest::addColumn<qint64>("expOffset");
    QTest::addColumn<TokenError>("expected");
    QTest::newRow("exp == now") << qint64(0) << TokenError::Expired;
    QTest::newRow("exp < now") << qint64(-1) << TokenError::Expired;
    QTest::newRow("long ago") << qint64(-86400 * 365) << TokenError::Expired;
    QTest::newRow("exp = now + 1") << qint64(1) << TokenError::None;
}

void TestTokenService::expiry()
{
    QFETCH(qint64, expOffset);
    QFETCH(TokenError, expected);
    const qint64 now = 1'700'000'000;
    TokenService service("secret"_ba, nullptr);
    const QByteArray token = service.sign(
            TokenClaims{u"alice"_s, u"r"_s, u"s"_s, now - 100, now + expOffset, false});
    const TokenCheck check = service.verify(token, now);
    QCOMPARE(check.error, expected);
    if (expected == TokenError::Expired)
        QCOMPARE(check.code(), u"expired_token"_s);
}

void TestTokenService::algorithmOtherThanHs256IsInvalid_data()
{
    QTest::addColumn<QByteArray>("token");
    const qint64 now = 1'700'000'000;
    const QByteArray key = "secret"_ba;
    const QByteArray payload = json(fullPayload(now));

    // Unsigned "none" token, as the classic attack sends it (empty third segment).
    QTest::newRow("none, empty signature")
            << b64url(R"({"alg":"none","typ":"JWT"})"_ba) + '.' + b64url(payload) + '.';
    QTest::newRow("None, empty signature")
            << b64url(R"({"alg":"None","typ":"JWT"})"_ba) + '.' + b64url(payload) + '.';
    // "none" even with a correct HS256 signature over the input.
    QTest::newRow("none, HS256 signature") << handMade(R"({"alg":"none"})"_ba, payload, key);
    QTest::newRow("HS512") << handMade(R"({"alg":"HS512","typ":"JWT"})"_ba, payload, key,
                                       QCryptographicHash::Sha512);
    QTest::newRow("HS384") << handMade(R"({"alg":"HS384","typ":"JWT"})"_ba, payload, key,
                                       QCryptographicHash::Sha384);
    // Algorithm confusion: claims RS256 but carries an HMAC made with the secret.
    QTest::newRow("RS256 header, HS256 signature")
            << handMade(R"({"alg":"RS256","typ":"JWT"})"_ba, payload, key);
    QTest::newRow("lower-case hs256")
            << handMade(R"({"alg":"hs256","typ":"JWT"})"_ba, payload, key);
    QTest::newRow("no alg") << handMade(R"({"typ":"JWT"})"_ba, payload, key);
    QTest::newRow("alg not a string") << handMade(R"({"alg":256})"_ba, payload, key);
    QTest::newRow("header is an array") << handMade(R"(["HS256"])"_ba, payload, key);
}

void TestTokenService::algorithmOtherThanHs256IsInvalid()
{
    QFETCH(QByteArray, token);
    const qint64 now = 1'700'000'000;
    TokenService service("secret"_ba, nullptr);
    // Sanity: the same payload with an HS256 header is accepted.
    QVERIFY(service.verify(handMade(kHs256Header, json(fullPayload(now)), "secret"_ba), now).ok());
    const TokenCheck check = service.verify(token, now);
    QCOMPARE(check.error, TokenError::Invalid);
    QCOMPARE(check.code(), u"invalid_token"_s);
}

void TestTokenService::requiredClaims_data()
{
    QTest::addColumn<QByteArray>("payload");
    const qint64 now = 1'700'000'000;
    for (const QString &claim : {u"sub"_s, u"room"_s, u"sid"_s, u"exp"_s}) {
        QJsonObject o = fullPayload(now);
        o.remove(claim);
        QTest::addRow("missing %s", qPrintable(claim)) << json(o);
    }
    auto with = [&](const QString &claim, const QJsonValue &v) {
        QJsonObject o = fullPayload(now);
        o.insert(claim, v);
        return json(o);
    };
    QTest::newRow("sub is a number") << with(u"sub"_s, 42);
    QTest::newRow("room is null") << with(u"room"_s, QJsonValue::Null);
    QTest::newRow("sid is an object") << with(u"sid"_s, QJsonObject{{u"a"_s, 1}});
    QTest::newRow("exp is a string") << with(u"exp"_s, QString::number(now + 3600));
    QTest::newRow("empty sub") << with(u"sub"_s, QString());
    QTest::newRow("empty room") << with(u"room"_s, QString());
    QTest::newRow("empty sid") << with(u"sid"_s, QString());
    QTest::newRow("payload is an array") << R"(["sub","room","sid","exp"])"_ba;
    QTest::newRow("payload is not JSON") << "not json at all"_ba;
}

void TestTokenService::requiredClaims()
{
    QFETCH(QByteArray, payload);
    const qint64 now = 1'700'000'000;
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check = service.verify(handMade(kHs256Header, payload, "secret"_ba), now);
    QCOMPARE(check.error, TokenError::Invalid);
    QVERIFY(!check.message.isEmpty());
}

void TestTokenService::farFutureExpiryIsNotExpired_data()
{
    QTest::addColumn<double>("exp");
    QTest::newRow("year 2286") << 9999999999.0;
    QTest::newRow("2^53") << 9007199254740992.0;
    QTest::newRow("1e19 (beyond int64)") << 1e19;
    QTest::newRow("1e300") << 1e300;
}

void TestTokenService::farFutureExpiryIsNotExpired()
{
    // A token minted with a huge exp never expires; whether it is accepted or refused as
    // invalid, it must not be reported as expired (nor read through an overflowing cast).
    QFETCH(double, exp);
    const qint64 now = 1'700'000'000;
    QJsonObject o = fullPayload(now);
    o.insert(u"exp"_s, exp);
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check = service.verify(handMade(kHs256Header, json(o), "secret"_ba), now);
    QVERIFY2(check.error != TokenError::Expired, qPrintable(check.message));
    if (check.ok())
        QVERIFY(check.claims.expiresAt > now);
}

void TestTokenService::iatIsOptional()
{
    // sub, room, sid and exp are required, iat is not (docs/API.md, "Tokens").
    const qint64 now = 1'700'000'000;
    QJsonObject o = fullPayload(now);
    o.remove(u"iat"_s);
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check = service.verify(handMade(kHs256Header, json(o), "secret"_ba), now);
    QVERIFY2(check.ok(), qPrintable(check.message));
    QCOMPARE(check.claims.user, u"SCOTT"_s);
    QCOMPARE(check.claims.publish, false);
}

void TestTokenService::malformedTokens_data()
{
    QTest::addColumn<QByteArray>("token");
    const qint64 now = 1'700'000'000;
    const QByteArray good = handMade(kHs256Header, json(fullPayload(now)), "secret"_ba);
    const QList<QByteArray> p = segments(good);

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("one segment") << p[0];
    QTest::newRow("two segments") << p[0] + '.' + p[1];
    QTest::newRow("four segments") << good + '.' + p[2];
    QTest::newRow("empty header") << '.' + p[1] + '.' + p[2];
    QTest::newRow("empty payload") << p[0] + ".." + p[2];
    QTest::newRow("dots only") << ".."_ba;
    QTest::newRow("space inside") << p[0] + '.' + p[1].left(5) + ' ' + p[1].mid(5) + '.' + p[2];
    QTest::newRow("standard base64 chars") << p[0] + '.' + p[1] + "+/" + '.' + p[2];
    QTest::newRow("bang in header") << "eyJ!" + p[0].mid(4) + '.' + p[1] + '.' + p[2];
    QTest::newRow("bearer prefix") << "Bearer " + good;
    QTest::newRow("trailing newline") << good + '\n';
}

void TestTokenService::malformedTokens()
{
    QFETCH(QByteArray, token);
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check = service.verify(token, 1'700'000'000);
    QCOMPARE(check.error, TokenError::Invalid);
    QCOMPARE(check.code(), u"invalid_token"_s);
}

void TestTokenService::badBase64UrlWithValidHmacIsInvalid_data()
{
    // The HMAC is computed over the segments as they are, so only the encoding is wrong.
    QTest::addColumn<QByteArray>("headerSegment");
    QTest::addColumn<QByteArray>("payloadSegment");
    const QByteArray header = b64url(kHs256Header);
    const QByteArray payload = b64url(json(fullPayload(1'700'000'000)));
    QTest::newRow("payload with '*'") << header << payload + '*';
    QTest::newRow("payload with '%'") << header << payload.left(4) + '%' + payload.mid(4);
    QTest::newRow("header with '!'") << header + '!' << payload;
    QTest::newRow("payload with a space") << header << payload.left(4) + ' ' + payload.mid(4);
}

void TestTokenService::badBase64UrlWithValidHmacIsInvalid()
{
    QFETCH(QByteArray, headerSegment);
    QFETCH(QByteArray, payloadSegment);
    const QByteArray input = headerSegment + '.' + payloadSegment;
    const QByteArray token = input + '.'
            + b64url(QMessageAuthenticationCode::hash(input, "secret"_ba,
                                                      QCryptographicHash::Sha256));
    TokenService service("secret"_ba, nullptr);
    QCOMPARE(service.verify(token, 1'700'000'000).error, TokenError::Invalid);
}

void TestTokenService::nameLengths_data()
{
    QTest::addColumn<QString>("claim");
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("valid");
    QTest::newRow("room 4000") << u"room"_s << QString(4000, u'r') << true;
    QTest::newRow("room 4001") << u"room"_s << QString(4001, u'r') << false;
    QString emoji4000;
    for (int i = 0; i < 4000; ++i)
        emoji4000 += u"😀"_s;
    QTest::newRow("room 4000 emoji (8000 UTF-16 units)") << u"room"_s << emoji4000 << true;
    QTest::newRow("room 4001 emoji") << u"room"_s << emoji4000 + u"😀"_s << false;
    QTest::newRow("sub 255") << u"sub"_s << QString(255, u'u') << true;
    QTest::newRow("sub 256") << u"sub"_s << QString(256, u'u') << false;
    QTest::newRow("sid 255 é") << u"sid"_s << QString(255, u'é') << true;
    QTest::newRow("sid 256") << u"sid"_s << QString(256, u's') << false;
}

void TestTokenService::nameLengths()
{
    QFETCH(QString, claim);
    QFETCH(QString, value);
    QFETCH(bool, valid);
    const qint64 now = 1'700'000'000;
    QJsonObject o = fullPayload(now);
    o.insert(claim, value);
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check = service.verify(handMade(kHs256Header, json(o), "secret"_ba), now);
    QCOMPARE(check.error, valid ? TokenError::None : TokenError::Invalid);
    if (valid && claim == u"room")
        QCOMPARE(check.claims.room, value);

    // And the same through sign().
    TokenClaims claims{u"SCOTT"_s, u"r"_s, u"s"_s, now, now + 60, false};
    if (claim == u"room")
        claims.room = value;
    else if (claim == u"sub")
        claims.user = value;
    else
        claims.session = value;
    QCOMPARE(service.verify(service.sign(claims), now).error,
             valid ? TokenError::None : TokenError::Invalid);
}

void TestTokenService::hmacKeyIsSecretUtf8AsGiven_data()
{
    QTest::addColumn<QString>("secret");
    QTest::addColumn<QByteArray>("wrongKey"); // what a decoding implementation would use
    QTest::newRow("looks like base64") << u"c2VjcmV0LWtleS0xMjM0NTY3OA=="_s
                                       << QByteArray::fromBase64("c2VjcmV0LWtleS0xMjM0NTY3OA==");
    QTest::newRow("looks like base64url")
            << u"c2VjcmV0LWtleS0xMjM0NTY3OA"_s
            << QByteArray::fromBase64("c2VjcmV0LWtleS0xMjM0NTY3OA", QByteArray::Base64UrlEncoding);
    QTest::newRow("looks like hex")
            << u"736563726574206b6579"_s << QByteArray::fromHex("736563726574206b6579");
    QTest::newRow("non-ascii") << u"pässwörd-€-秘密"_s << u"pässwörd-€-秘密"_s.toLatin1();
    QTest::newRow("spaces kept") << u"  padded secret  "_s << "padded secret"_ba;
}

void TestTokenService::hmacKeyIsSecretUtf8AsGiven()
{
    QFETCH(QString, secret);
    QFETCH(QByteArray, wrongKey);
    const qint64 now = 1'700'000'000;
    const QByteArray utf8 = secret.toUtf8();
    QVERIFY(wrongKey != utf8);
    TokenService service(utf8, nullptr);

    // A token made by an independent HS256 implementation with the UTF-8 bytes is accepted.
    const QByteArray independent = handMade(kHs256Header, json(fullPayload(now)), utf8);
    const TokenCheck check = service.verify(independent, now);
    QVERIFY2(check.ok(), qPrintable(check.message));
    QCOMPARE(check.claims.room, u"hr:emp:1234"_s);

    // One made with the decoded key is not.
    QCOMPARE(service.verify(handMade(kHs256Header, json(fullPayload(now)), wrongKey), now).error,
             TokenError::Invalid);

    // And sign() uses the same key.
    const QList<QByteArray> parts =
            segments(service.sign(TokenClaims{u"u"_s, u"r"_s, u"s"_s, now, now + 60, false}));
    QCOMPARE(b64urlDecode(parts[2]),
             QMessageAuthenticationCode::hash(parts[0] + '.' + parts[1], utf8,
                                              QCryptographicHash::Sha256));
}

void TestTokenService::databaseMintedTokenIsAccepted()
{
    // Anyone holding the secret can mint a token: other key order, spaces, extra claims,
    // pub as a boolean, header without typ.
    const qint64 now = 1'700'000'000;
    const QByteArray payload = QByteArray(R"({ "exp" : )") + QByteArray::number(now + 600)
            + R"(, "pub": true, "sid":"APEX-1", "iat": )" + QByteArray::number(now)
            + R"(, "room":"user:SCOTT", "sub":"SCOTT", "extra": [1,2] })";
    TokenService service("db-secret"_ba, nullptr);
    const TokenCheck check =
            service.verify(handMade(R"({"alg":"HS256"})"_ba, payload, "db-secret"_ba), now);
    QVERIFY2(check.ok(), qPrintable(check.message));
    QCOMPARE(check.claims.user, u"SCOTT"_s);
    QCOMPARE(check.claims.room, u"user:SCOTT"_s);
    QCOMPARE(check.claims.session, u"APEX-1"_s);
    QCOMPARE(check.claims.issuedAt, now);
    QCOMPARE(check.claims.expiresAt, now + 600);
    QCOMPARE(check.claims.publish, true);
}

void TestTokenService::revocationCutsAtTheSecond()
{
    const qint64 t = 1'700'000'000;
    RevocationList revocations;
    TokenService service("secret"_ba, &revocations);
    auto tokenAt = [&](qint64 iat) {
        return service.sign(TokenClaims{u"alice"_s, u"room:1"_s, u"s1"_s, iat, t + 3600, false});
    };
    QVERIFY(service.verify(tokenAt(t - 100), t).ok());

    revocations.revoke(u"room:1"_s, u"alice"_s, u"s1"_s, t);
    QCOMPARE(revocations.revokedAt(u"room:1"_s, u"alice"_s, u"s1"_s), t);

    TokenCheck check = service.verify(tokenAt(t - 100), t + 5);
    QCOMPARE(check.error, TokenError::Revoked);
    QCOMPARE(check.code(), u"revoked"_s);
    QCOMPARE(service.verify(tokenAt(t), t + 5).error, TokenError::Revoked);
    check = service.verify(tokenAt(t + 1), t + 5);
    QVERIFY2(check.ok(), qPrintable(check.message));
    QVERIFY(service.verify(tokenAt(t + 2), t + 5).ok());
}

void TestTokenService::revocationOnlyAffectsItsTriple()
{
    const qint64 t = 1'700'000'000;
    RevocationList revocations;
    TokenService service("secret"_ba, &revocations);
    revocations.revoke(u"a"_s, u"bc"_s, u"d"_s, t);
    revocations.revoke(u"room"_s, u"alice"_s, u"s1"_s, t);

    struct Triple
    {
        QString room, user, session;
    };
    const QList<Triple> unaffected = {
            {u"room"_s, u"alice"_s, u"s2"_s},  {u"room"_s, u"bob"_s, u"s1"_s},
            {u"room2"_s, u"alice"_s, u"s1"_s}, {u"ab"_s, u"c"_s, u"d"_s}, // no key collisions
            {u"a"_s, u"b"_s, u"cd"_s},         {u"a"_s, u"bcd"_s, u""_s},
            {u"a"_s, u"bc"_s, u"D"_s},
    };
    for (const Triple &x : unaffected) {
        const QByteArray token =
                service.sign(TokenClaims{x.user, x.room, x.session, t - 1, t + 60, false});
        QCOMPARE(revocations.revokedAt(x.room, x.user, x.session), 0);
        if (!x.session.isEmpty())
            QVERIFY2(service.verify(token, t).ok(),
                     qPrintable(x.room + u'/' + x.user + u'/' + x.session));
    }
    const QByteArray revoked =
            service.sign(TokenClaims{u"bc"_s, u"a"_s, u"d"_s, t - 1, t + 60, false});
    QCOMPARE(service.verify(revoked, t).error, TokenError::Revoked);
    QCOMPARE(revocations.size(), 2);
}

void TestTokenService::revocationPersistsAcrossInstances()
{
    const RevocationFile file;
    QVERIFY(file.dir.isValid());
    {
        RevocationList first(file.path, 604800);
        QVERIFY(first.load());
        QCOMPARE(first.size(), 0);
        first.revoke(u"hr:emp:1"_s, u"SCOTT"_s, u"S-1"_s, file.now - 10);
        first.revoke(u"hr:emp:2"_s, u"SCOTT"_s, u"S-2"_s, file.now - 20);
    }
    QVERIFY(QFile::exists(file.path));

    RevocationList second(file.path, 604800);
    QString error;
    QVERIFY2(second.load(&error), qPrintable(error));
    QCOMPARE(second.size(), 2);
    QCOMPARE(second.revokedAt(u"hr:emp:1"_s, u"SCOTT"_s, u"S-1"_s), file.now - 10);
    QCOMPARE(second.revokedAt(u"hr:emp:2"_s, u"SCOTT"_s, u"S-2"_s), file.now - 20);
    QCOMPARE(second.revokedAt(u"hr:emp:1"_s, u"SCOTT"_s, u"S-2"_s), 0);

    TokenService service("secret"_ba, &second);
    const auto token = [&](qint64 iat) {
        return service.sign(
                TokenClaims{u"SCOTT"_s, u"hr:emp:1"_s, u"S-1"_s, iat, file.now + 3600, false});
    };
    QCOMPARE(service.verify(token(file.now - 10), file.now).error, TokenError::Revoked);
    QVERIFY(service.verify(token(file.now - 9), file.now).ok());
}

void TestTokenService::revocationPruning()
{
    const qint64 t = 1'700'000'000;
    RevocationList list({}, 100);
    list.revoke(u"r"_s, u"old"_s, u"s"_s, t - 1000);
    QCOMPARE(list.revokedAt(u"r"_s, u"old"_s, u"s"_s), t - 1000);
    list.revoke(u"r"_s, u"recent"_s, u"s"_s, t - 50);
    list.revoke(u"r"_s, u"new"_s, u"s"_s, t);
    // The old entry is older than keepSeconds at the latest revocation: gone.
    QCOMPARE(list.revokedAt(u"r"_s, u"old"_s, u"s"_s), 0);
    QCOMPARE(list.revokedAt(u"r"_s, u"recent"_s, u"s"_s), t - 50);
    QCOMPARE(list.revokedAt(u"r"_s, u"new"_s, u"s"_s), t);
    QCOMPARE(list.size(), 2);
}

void TestTokenService::revocationPruningOnLoad()
{
    const RevocationFile file;
    QVERIFY(file.dir.isValid());
    {
        RevocationList first(file.path, 3600);
        // Pruning on revoke uses the revocation's second, so both are kept here.
        first.revoke(u"r"_s, u"fresh"_s, u"s"_s, file.now - 3000); // 10 min left
        first.revoke(u"r"_s, u"stale"_s, u"s"_s, file.now - 7200); // expired an hour ago
        QCOMPARE(first.size(), 2);
    }
    RevocationList second(file.path, 3600);
    QVERIFY(second.load());
    QCOMPARE(second.revokedAt(u"r"_s, u"stale"_s, u"s"_s), 0);
    QCOMPARE(second.revokedAt(u"r"_s, u"fresh"_s, u"s"_s), file.now - 3000);
    QCOMPARE(second.size(), 1);
}

void TestTokenService::reissueInTheSecondOfAnUnregisterIsRevokedByTheNext()
{
    // docs/API.md, "Tokens": a token whose iat is at or before the unregister's second is
    // refused; a register in that same second gets iat + 1. The next unregister, still in that
    // second, must cover that token too: it used to record the same second, and the token
    // with iat + 1 survived it.
    const qint64 t = 1'700'000'000;
    RevocationList revocations;
    TokenService service("secret"_ba, &revocations);
    const QString room = u"hr:emp:1"_s, user = u"SCOTT"_s, session = u"S-1"_s;
    auto issue = [&] {
        const qint64 iat = revocations.issueSecond(room, user, session, t);
        return service.sign(TokenClaims{user, room, session, iat, t + 3600, false});
    };

    const QByteArray first = issue();
    QCOMPARE(revocations.issueSecond(room, user, session, t), t); // nothing revoked yet
    QVERIFY(service.verify(first, t).ok());
    revocations.revoke(room, user, session, t); // unregister
    QCOMPARE(service.verify(first, t).error, TokenError::Revoked);

    const QByteArray second = issue(); // register, same second
    QCOMPARE(service.verify(second, t).claims.issuedAt, t + 1);
    TokenCheck check = service.verify(second, t);
    QVERIFY2(check.ok(), qPrintable(check.message));

    revocations.revoke(room, user, session, t); // unregister again, same second
    check = service.verify(second, t);
    QCOMPARE(check.error, TokenError::Revoked);
    QCOMPARE(service.verify(second, t + 1).error, TokenError::Revoked); // and later
    QCOMPARE(service.verify(second, t + 100).error, TokenError::Revoked);

    // A register after that still works.
    const QByteArray third = issue();
    check = service.verify(third, t);
    QVERIFY2(check.ok(), qPrintable(check.message));
    // An unregister in a later second covers it as before.
    revocations.revoke(room, user, session, t + 1);
    QCOMPARE(service.verify(third, t + 1).error, TokenError::Revoked);
    // Another triple is not affected by any of it.
    QCOMPARE(revocations.issueSecond(room, user, u"S-2"_s, t), t);
}

void TestTokenService::reissueChainInOneSecond()
{
    // Ten register/unregister pairs in one second: each token is refused after the next
    // unregister, and the newest one, issued ahead of the clock, is still accepted.
    const qint64 t = 1'700'000'000;
    RevocationList revocations;
    TokenService service("secret"_ba, &revocations);
    QList<QByteArray> tokens;
    for (int i = 0; i < 10; ++i) {
        revocations.revoke(u"r"_s, u"u"_s, u"s"_s, t);
        const qint64 iat = revocations.issueSecond(u"r"_s, u"u"_s, u"s"_s, t);
        QCOMPARE(iat, t + 1 + i);
        tokens << service.sign(TokenClaims{u"u"_s, u"r"_s, u"s"_s, iat, t + 60, false});
        const TokenCheck check = service.verify(tokens.last(), t);
        QVERIFY2(check.ok(), qPrintable(check.message));
        for (qsizetype k = 0; k + 1 < tokens.size(); ++k)
            QCOMPARE(service.verify(tokens[k], t).error, TokenError::Revoked);
    }
    // Once the clock has caught up, an unregister covers the newest one too.
    revocations.revoke(u"r"_s, u"u"_s, u"s"_s, t + 3);
    QCOMPARE(service.verify(tokens.last(), t + 3).error, TokenError::Revoked);
}

void TestTokenService::notBefore_data()
{
    QTest::addColumn<QJsonValue>("nbf"); // relative to now; Undefined: no claim
    QTest::addColumn<bool>("ok");
    const qint64 skew = sb::kTokenClockSkewSeconds;
    QCOMPARE(skew, 5);
    QTest::newRow("absent") << QJsonValue(QJsonValue::Undefined) << true;
    QTest::newRow("in the past") << QJsonValue(-100) << true;
    QTest::newRow("now") << QJsonValue(0) << true;
    QTest::newRow("within the skew") << QJsonValue(double(skew)) << true;
    QTest::newRow("just beyond the skew") << QJsonValue(double(skew + 1)) << false;
    QTest::newRow("an hour ahead") << QJsonValue(3600) << false;
    QTest::newRow("far future 1e300") << QJsonValue(1e300) << false;
    QTest::newRow("a string") << QJsonValue(u"0"_s) << false;
    QTest::newRow("null") << QJsonValue(QJsonValue::Null) << false;
}

void TestTokenService::notBefore()
{
    QFETCH(QJsonValue, nbf);
    QFETCH(bool, ok);
    const qint64 now = 1'700'000'000;
    QJsonObject payload = fullPayload(now);
    if (nbf.isDouble())
        payload.insert(u"nbf"_s, nbf.toDouble() >= 1e18 ? nbf.toDouble() : now + nbf.toDouble());
    else if (!nbf.isUndefined())
        payload.insert(u"nbf"_s, nbf);
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check =
            service.verify(handMade(kHs256Header, json(payload), "secret"_ba), now);
    QCOMPARE(check.ok(), ok);
    if (!ok) {
        QCOMPARE(check.error, TokenError::Invalid);
        QCOMPARE(check.code(), u"invalid_token"_s);
        QVERIFY2(check.message.contains(u"nbf"), qPrintable(check.message));
    }
    // sign() writes nbf when given.
    if (ok && nbf.isDouble()) {
        TokenClaims claims{u"u"_s, u"r"_s, u"s"_s, now, now + 60, false};
        claims.notBefore = now + qint64(nbf.toDouble());
        const TokenCheck signedCheck = service.verify(service.sign(claims), now);
        QVERIFY2(signedCheck.ok(), qPrintable(signedCheck.message));
        QCOMPARE(signedCheck.claims.notBefore, claims.notBefore);
    }
}

void TestTokenService::issuedInTheFuture_data()
{
    QTest::addColumn<double>("iatFromNow");
    QTest::addColumn<bool>("ok");
    const double skew = double(sb::kTokenClockSkewSeconds);
    QTest::newRow("an hour ago") << -3600.0 << true;
    QTest::newRow("now") << 0.0 << true;
    QTest::newRow("within the skew") << skew << true;
    QTest::newRow("just beyond the skew") << skew + 1 << false;
    QTest::newRow("a year ahead") << 365.0 * 86400 << false;
    QTest::newRow("1e300") << 1e300 << false;
}

void TestTokenService::issuedInTheFuture()
{
    QFETCH(double, iatFromNow);
    QFETCH(bool, ok);
    const qint64 now = 1'700'000'000;
    QJsonObject payload = fullPayload(now);
    payload.insert(u"iat"_s, iatFromNow >= 1e18 ? iatFromNow : now + iatFromNow);
    payload.insert(u"exp"_s, double(now) + 10 * 365 * 86400.0);
    TokenService service("secret"_ba, nullptr);
    const TokenCheck check =
            service.verify(handMade(kHs256Header, json(payload), "secret"_ba), now);
    QCOMPARE(check.ok(), ok);
    if (!ok) {
        QCOMPARE(check.code(), u"invalid_token"_s);
        QVERIFY2(check.message.contains(u"iat"), qPrintable(check.message));
    }
}

void TestTokenService::futureIatCannotOutliveAnUnregister()
{
    // A token minted with an iat a year ahead used to be accepted, and no unregister before
    // that date could revoke it.
    const qint64 now = 1'700'000'000;
    RevocationList revocations;
    TokenService service("secret"_ba, &revocations);
    const QByteArray ahead = service.sign(
            TokenClaims{u"u"_s, u"r"_s, u"s"_s, now + 365 * 86400, now + 400 * 86400, false});
    revocations.revoke(u"r"_s, u"u"_s, u"s"_s, now);
    const TokenCheck check = service.verify(ahead, now + 1);
    QVERIFY(!check.ok());
    QCOMPARE(check.code(), u"invalid_token"_s);
    // Within the skew the token works, and an unregister once its iat has come covers it.
    const QByteArray slightlyAhead =
            service.sign(TokenClaims{u"u"_s, u"r"_s, u"s"_s, now + 4, now + 3600, false});
    QVERIFY(service.verify(slightlyAhead, now + 1).ok());
    revocations.revoke(u"r"_s, u"u"_s, u"s"_s, now + 4);
    QCOMPARE(service.verify(slightlyAhead, now + 4).error, TokenError::Revoked);
}

void TestTokenService::revocationFileIsOwnerOnly()
{
    // The journal names users and sessions: 0600, whatever the umask (022 here).
    const mode_t oldMask = ::umask(022);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    const auto permissionsOf = [](const QString &path) {
        return QFile::permissions(path)
                & (QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                   | QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
                   | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther);
    };

    // Created by the first append.
    const QString appended = dir.filePath(u"appended.jsonl"_s);
    {
        RevocationList list(appended);
        list.revoke(u"r"_s, u"u"_s, u"s"_s, QDateTime::currentSecsSinceEpoch());
    }
    QVERIFY(QFile::exists(appended));
    QCOMPARE(permissionsOf(appended), ownerOnly);

    // Created by load()'s compaction.
    const QString loaded = dir.filePath(u"loaded.jsonl"_s);
    {
        RevocationList list(loaded);
        QVERIFY(list.load());
    }
    QVERIFY(QFile::exists(loaded));
    QCOMPARE(permissionsOf(loaded), ownerOnly);

    // A world-readable journal of an older version is narrowed at load.
    const QString old = dir.filePath(u"old.jsonl"_s);
    {
        QFile file(old);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"room":"r","user":"u","session":"s","at":)"
                   + QByteArray::number(QDateTime::currentSecsSinceEpoch()) + "}\n");
    }
    QVERIFY(QFile::setPermissions(old,
                                  ownerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther));
    {
        RevocationList list(old);
        QVERIFY(list.load());
        QCOMPARE(list.size(), 1);
    }
    QCOMPARE(permissionsOf(old), ownerOnly);

    // Rewritten by a compaction on revoke (more than 2 x live + 1000 lines).
    const QString compacted = dir.filePath(u"compacted.jsonl"_s);
    {
        RevocationList list(compacted);
        QVERIFY(list.load());
        QVERIFY(QFile::setPermissions(compacted, ownerOnly | QFileDevice::ReadOther));
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        for (int i = 0; i < 1100; ++i)
            list.revoke(u"r"_s, u"u"_s, u"s"_s, now);
    }
    QCOMPARE(permissionsOf(compacted), ownerOnly);
    ::umask(oldMask);
}

QTEST_GUILESS_MAIN(TestTokenService)
#include "tst_token_service.moc"
