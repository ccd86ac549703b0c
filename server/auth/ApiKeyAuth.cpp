#include "auth/ApiKeyAuth.h"

#include <QCryptographicHash>

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

bool ApiKeyAuth::checkKey(QByteArrayView candidate) const
{
    if (m_key.isEmpty() || candidate.isEmpty())
        return false;
    return constantTimeEquals(candidate, m_key);
}

} // namespace sb
