#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace sb {

// The server's API key, compared in constant time with the key a caller presents (where a
// request carries it is http/RequestKey's business).
class ApiKeyAuth
{
public:
    explicit ApiKeyAuth(QByteArray key = {}) : m_key(std::move(key)) { }

    bool isConfigured() const { return !m_key.isEmpty(); }
    bool checkKey(QByteArrayView candidate) const;

    static bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

private:
    QByteArray m_key;
};

} // namespace sb
