#pragma once

#include "metrics/Metrics.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

#include <limits>
#include <optional>
#include <set>
#include <tuple>

namespace sb {

// Authenticated LISTEN/NOTIFY (docs/API.md, "Notifications are signed"). switchboard.notify() of
// sql/postgresql/install.sql sends
//
//   sb1.<ts>.<nonce>.<sig>.<payload>
//
//   ts       the database's clock when notify() was called, Unix milliseconds (1..15 digits)
//   nonce    16 random bytes as 32 lowercase hex digits
//   sig      HMAC-SHA256 keyed with the API key's UTF-8 bytes over
//            "sb1|<channel>|<ts>|<nonce>|<payload>", 64 lowercase hex digits
//   payload  the emit's JSON object as text, exactly as signed (it may hold dots)
//
// A NotifyVerifier checks one listener's notifications, in the order they arrive: the
// signature (constant-time), the age (ts within maxAgeMs before and maxAheadMs after the
// server's clock, which covers both the time a transaction takes to commit and clock skew),
// and that no (ts, nonce) pair comes twice. Pairs are remembered until they are too old to be
// accepted anyway; when more than maxNonces are remembered, the oldest is forgotten and
// everything as old as it is refused as stale from then on, so memory stays bounded and a
// forgotten pair can still not be replayed. Not thread-safe: the listener's thread only.
//
// Without an API key (--insecure with none) nothing can be checked: a plain JSON payload is
// taken as it is, and an envelope's payload with no check of its signature, age or nonce.
class NotifyVerifier
{
public:
    static constexpr QByteArrayView kPrefix = "sb1.";
    // NOTIFY's limit: a payload of 8000 bytes or more is refused by PostgreSQL.
    static constexpr qsizetype kMaxBytes = 7999;

    struct Options
    {
        QByteArray apiKey; // empty: nothing is authenticated
        QString channel = QStringLiteral("switchboard");
        qint64 maxAgeMs = 60000;
        qint64 maxAheadMs = 60000;
        qsizetype maxNonces = 100000; // about 8 MB at most
    };

    struct Result
    {
        std::optional<NotifyRejectReason> rejected; // unset: accepted
        QByteArray payload; // when accepted: the JSON text to read as an emit (NotifyPayload)
        QString why;        // when rejected: a sentence for the log (never the payload or key)
    };

    explicit NotifyVerifier(Options options);

    // One notification as it arrived (its UTF-8 text); nowMs: the server's clock.
    Result verify(QByteArrayView notification, qint64 nowMs);

    bool authenticates() const { return !m_options.apiKey.isEmpty(); }
    qsizetype remembered() const { return qsizetype(m_seen.size()); }

    // The envelope switchboard.notify() sends (for tests; nonceHex: 32 lowercase hex digits).
    static QByteArray sign(QByteArrayView apiKey, QStringView channel, qint64 tsMs,
                           QByteArrayView nonceHex, QByteArrayView payload);
    // The hex HMAC of an envelope's fields.
    static QByteArray signature(QByteArrayView apiKey, QStringView channel, QByteArrayView ts,
                                QByteArrayView nonceHex, QByteArrayView payload);

private:
    using Seen = std::tuple<qint64, quint64, quint64>; // ts, the nonce's two halves
    void forgetOlderThan(qint64 tsMs);
    Result unwrapUnchecked(QByteArrayView notification, bool enveloped) const;
    bool isFresh(qint64 ts, qint64 nowMs, QString *why) const;
    bool remember(qint64 ts, QByteArrayView nonceHex, qint64 nowMs);

    const Options m_options;
    std::set<Seen> m_seen;                                 // ordered by ts: oldest first
    qint64 m_floorMs = std::numeric_limits<qint64>::min(); // ts at or below: refused
};

} // namespace sb
