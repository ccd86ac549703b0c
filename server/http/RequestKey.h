#pragma once

#include <QByteArray>

class QHttpServerRequest;

namespace sb {

class ApiKeyAuth;

// The API key a request presents: X-API-Key, Authorization: Bearer, or HTTP Basic with the
// key as the password (what APEX_WEB_SERVICE sends with p_scheme => 'Basic'); optionally an
// api_key query parameter (only the admin stream accepts it). Empty when none.
QByteArray presentedApiKey(const QHttpServerRequest &request, bool allowQueryParameter);

// True when the request presents the server's key (constant-time comparison).
bool requestHasApiKey(const ApiKeyAuth &key, const QHttpServerRequest &request,
                      bool allowQueryParameter = false);

} // namespace sb
