#include "http/HttpLimits.h"

namespace sb {

QHostAddress HttpLimits::key(const QHostAddress &address)
{
    // ::ffff:1.2.3.4 and 1.2.3.4 are the same client.
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

bool HttpLimits::admit(const QHostAddress &address)
{
    int &count = m_perAddress[key(address)];
    if (count >= m_maxPerAddress)
        return false;
    ++count;
    return true;
}

void HttpLimits::release(const QHostAddress &address)
{
    const auto it = m_perAddress.find(key(address));
    if (it == m_perAddress.end())
        return;
    if (--*it <= 0)
        m_perAddress.erase(it);
}

int HttpLimits::connectionsOf(const QHostAddress &address) const
{
    return m_perAddress.value(key(address), 0);
}

bool HttpLimits::charge(qint64 bytes)
{
    if (bytes <= 0)
        return true;
    if (m_buffered + bytes > m_maxBuffered)
        return false;
    m_buffered += bytes;
    return true;
}

void HttpLimits::uncharge(qint64 bytes)
{
    m_buffered = qMax<qint64>(0, m_buffered - qMax<qint64>(0, bytes));
}

} // namespace sb
