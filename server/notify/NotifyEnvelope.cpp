#include "notify/NotifyEnvelope.h"

#include "auth/ApiKeyAuth.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QtEndian>

#include <algorithm>

namespace sb {

namespace {

constexpr qsizetype kNonceHex = 32;
constexpr qsizetype kSignatureHex = 64;
constexpr qsizetype kMaxTsDigits = 15;

bool isLowerHex(QByteArrayView text)
{
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool isDigits(QByteArrayView text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The envelope's fields (not yet checked), or nullopt when it has not the shape
// sb1.<ts>.<nonce>.<sig>.<payload>.
struct Fields
{
    QByteArrayView ts;
    QByteArrayView nonce;
    QByteArrayView sig;
    QByteArrayView payload;
};

std::optional<Fields> split(QByteArrayView text, QString *why)
{
    QByteArrayView rest = text.sliced(NotifyVerifier::kPrefix.size());
    QByteArrayView parts[3];
    for (QByteArrayView &part : parts) {
        const qsizetype dot = rest.indexOf('.');
        if (dot < 0) {
            *why = QStringLiteral("the envelope has not the form sb1.<ts>.<nonce>.<sig>.<payload>");
            return std::nullopt;
        }
        part = rest.first(dot);
        rest = rest.sliced(dot + 1);
    }
    Fields f{parts[0], parts[1], parts[2], rest};
    if (f.ts.isEmpty() || f.ts.size() > kMaxTsDigits || !isDigits(f.ts)) {
        *why = QStringLiteral("the envelope's timestamp is not 1 to %1 digits").arg(kMaxTsDigits);
        return std::nullopt;
    }
    if (f.nonce.size() != kNonceHex || !isLowerHex(f.nonce)) {
        *why = QStringLiteral("the envelope's nonce is not %1 lowercase hex digits").arg(kNonceHex);
        return std::nullopt;
    }
    if (f.sig.size() != kSignatureHex || !isLowerHex(f.sig)) {
        *why = QStringLiteral("the envelope's signature is not %1 lowercase hex digits")
                       .arg(kSignatureHex);
        return std::nullopt;
    }
    return f;
}

} // namespace

NotifyVerifier::NotifyVerifier(Options options) : m_options(std::move(options)) { }

QByteArray NotifyVerifier::signature(QByteArrayView apiKey, QStringView channel, QByteArrayView ts,
                                     QByteArrayView nonceHex, QByteArrayView payload)
{
    // Qt 6.4's QMessageAuthenticationCode takes no QByteArrayView.
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, apiKey.toByteArray());
    const QByteArray channelUtf8 = channel.toUtf8();
    const QByteArrayView parts[] = {"sb1", channelUtf8, ts, nonceHex, payload};
    for (qsizetype i = 0; i < qsizetype(std::size(parts)); ++i) {
        if (i > 0)
            mac.addData("|", 1);
        mac.addData(parts[i].data(), parts[i].size());
    }
    return mac.result().toHex();
}

QByteArray NotifyVerifier::sign(QByteArrayView apiKey, QStringView channel, qint64 tsMs,
                                QByteArrayView nonceHex, QByteArrayView payload)
{
    const QByteArray ts = QByteArray::number(tsMs);
    return kPrefix.toByteArray() + ts + '.' + nonceHex.toByteArray() + '.'
            + signature(apiKey, channel, ts, nonceHex, payload) + '.' + payload.toByteArray();
}

void NotifyVerifier::forgetOlderThan(qint64 tsMs)
{
    while (!m_seen.empty() && std::get<0>(*m_seen.begin()) < tsMs)
        m_seen.erase(m_seen.begin());
}

namespace {

NotifyVerifier::Result rejection(NotifyRejectReason reason, QString why)
{
    NotifyVerifier::Result result;
    result.rejected = reason;
    result.why = std::move(why);
    return result;
}

} // namespace

NotifyVerifier::Result NotifyVerifier::verify(QByteArrayView notification, qint64 nowMs)
{
    // PostgreSQL sends nothing longer; this bounds the work done for one.
    if (notification.size() > kMaxBytes) {
        return rejection(NotifyRejectReason::Invalid,
                         QStringLiteral("it is %1 bytes long, more than a NOTIFY carries (%2)")
                                 .arg(notification.size())
                                 .arg(kMaxBytes));
    }
    const bool enveloped = notification.startsWith(kPrefix);
    if (!authenticates())
        return unwrapUnchecked(notification, enveloped);
    if (!enveloped) {
        return rejection(NotifyRejectReason::Signature,
                         QStringLiteral("it is not signed (switchboard.notify() signs; a plain "
                                        "NOTIFY is refused)"));
    }
    QString why;
    const std::optional<Fields> f = split(notification, &why);
    if (!f)
        return rejection(NotifyRejectReason::Invalid, why);

    // Before anything else is believed, and before the nonce is remembered: a forged
    // notification must not take a nonce from a genuine one.
    const QByteArray expected =
            signature(m_options.apiKey, m_options.channel, f->ts, f->nonce, f->payload);
    if (!ApiKeyAuth::constantTimeEquals(expected, f->sig)) {
        return rejection(NotifyRejectReason::Signature,
                         QStringLiteral("its signature does not verify with the server's "
                                        "api_key (another key given to switchboard.configure, "
                                        "another channel, or a forgery)"));
    }
    bool ok = false;
    const qint64 ts = f->ts.toLongLong(&ok);
    if (!ok)
        return rejection(NotifyRejectReason::Invalid,
                         QStringLiteral("its timestamp is out of range"));
    if (!isFresh(ts, nowMs, &why))
        return rejection(NotifyRejectReason::Stale, why);
    if (!remember(ts, f->nonce, nowMs))
        return rejection(NotifyRejectReason::Replay,
                         QStringLiteral("its nonce was seen already: a replay"));
    Result result;
    result.payload = f->payload.toByteArray();
    return result;
}

// No api_key to check with: the payload as sent, unwrapped when it is an envelope.
NotifyVerifier::Result NotifyVerifier::unwrapUnchecked(QByteArrayView notification,
                                                       bool enveloped) const
{
    Result result;
    if (!enveloped) {
        result.payload = notification.toByteArray();
        return result;
    }
    QString why;
    const std::optional<Fields> f = split(notification, &why);
    if (!f)
        return rejection(NotifyRejectReason::Invalid, why);
    result.payload = f->payload.toByteArray();
    return result;
}

// Signed within the accepted window, and newer than what the replay memory has forgotten.
bool NotifyVerifier::isFresh(qint64 ts, qint64 nowMs, QString *why) const
{
    if (ts < nowMs - m_options.maxAgeMs) {
        *why = QStringLiteral("it was signed %1 ms ago, more than the %2 ms accepted (a "
                              "transaction that committed late, or clocks that differ)")
                       .arg(nowMs - ts)
                       .arg(m_options.maxAgeMs);
        return false;
    }
    if (ts > nowMs + m_options.maxAheadMs) {
        *why = QStringLiteral("it was signed %1 ms in the future, more than the %2 ms "
                              "accepted (the database's clock is ahead)")
                       .arg(ts - nowMs)
                       .arg(m_options.maxAheadMs);
        return false;
    }
    if (ts <= m_floorMs) {
        *why = QStringLiteral("it is older than the oldest of the %1 notifications the "
                              "server remembers against replays")
                       .arg(m_options.maxNonces);
        return false;
    }
    return true;
}

// Remembers a verified notification's nonce; false when it was seen already (a replay).
bool NotifyVerifier::remember(qint64 ts, QByteArrayView nonceHex, qint64 nowMs)
{
    forgetOlderThan(nowMs - m_options.maxAgeMs);
    const QByteArray nonce = QByteArray::fromHex(nonceHex.toByteArray());
    const Seen seen{ts, qFromBigEndian<quint64>(nonce.constData()),
                    qFromBigEndian<quint64>(nonce.constData() + 8)};
    if (!m_seen.insert(seen).second)
        return false;
    if (qsizetype(m_seen.size()) > m_options.maxNonces) {
        m_floorMs = std::max(m_floorMs, std::get<0>(*m_seen.begin()));
        m_seen.erase(m_seen.begin());
    }
    return true;
}

} // namespace sb
