#pragma once

// Small helpers shared by the integration tests: event-loop waits, JSON text utilities that
// never rewrite numbers, and a JWT minter (HS256) for tokens made "inside the database".

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <algorithm>
#include <functional>

namespace sbit {

// Spins the event loop (sockets, processes and timers keep working) until pred() is true or
// the timeout passes. Returns pred()'s last value. Wakes at least every 20 ms.
bool waitUntil(const std::function<bool()> &pred, int timeoutMs);

// Spins the event loop for ms milliseconds (for "nothing happens" checks only).
void spin(int ms);

// Removes whitespace outside JSON strings; everything else is kept byte for byte.
QByteArray minifyJson(const QByteArray &json);

// Returns the raw JSON text of the value of top-level key `key` in the JSON object text
// `objectText` (exactly as it appears there), or a null QByteArray when absent.
QByteArray rawJsonValue(const QByteArray &objectText, const QByteArray &key);

// Compact JSON text of an object, for failure messages.
QString compact(const QJsonObject &o);

// Parses a JSON object text; an empty object when it is not one.
QJsonObject parseObject(const QByteArray &text);

// A name unique within this test process (prefix + counter + pid), for rooms, users...
QString uniqueName(const QString &prefix);

// Current time.
qint64 nowSecs();
qint64 nowMs();

namespace Jwt {
QByteArray base64Url(const QByteArray &data);
QByteArray fromBase64Url(const QByteArray &data);
// Signs header {"alg":alg,"typ":"JWT"} + claims with HMAC-SHA256 over the secret's bytes.
// alg "none" gives an empty signature; any other alg is still signed with HS256 (so a wrong
// alg with a valid HS256 signature can be checked).
QByteArray mint(const QByteArray &secret, const QJsonObject &claims,
                const QByteArray &alg = QByteArrayLiteral("HS256"));
QJsonObject header(const QByteArray &token);
QJsonObject claims(const QByteArray &token);
bool verifyHs256(const QByteArray &token, const QByteArray &secret);
} // namespace Jwt

} // namespace sbit
