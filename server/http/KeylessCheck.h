#pragma once

#include <QString>

namespace sb {

struct HttpCall;
struct ServerConfig;

// Calls let in without the API key (trusted_networks, --insecure): the browser checks of
// docs/SECURITY.md (Origin, Sec-Fetch-Site, Host). Returns the refusal, or empty when the
// call may go on.
QString keylessRefusal(const ServerConfig &config, const HttpCall &call);

} // namespace sb
