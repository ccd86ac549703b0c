#pragma once

#include <QByteArray>
#include <QByteArrayView>

class QHttpServerRequest;

namespace sb {

// Checks the API key of a request: X-API-Key, Authorization: Bearer, or HTTP Basic with the
// key as the password (what APEX_WEB_SERVICE sends with p_scheme => 'Basic'). Optionally an
// api_key query parameter (only the admin stream accepts it). Constant-time comparison.
class ApiKeyAuth
{
public:
    explicit ApiKeyAuth(QByteArray key = {}) : m_key(std::move(key)) { }

    bool isConfigured() const { return !m_key.isEmpty(); }
    bool check(const QHttpServerRequest &request, bool allowQueryParameter = false) const;
    bool checkKey(QByteArrayView candidate) const;

    // The key a request presents, or empty.
    static QByteArray presentedKey(const QHttpServerRequest &request, bool allowQueryParameter);
    static bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

private:
    QByteArray m_key;
};

} // namespace sb
