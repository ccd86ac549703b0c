#pragma once

#include <QString>

namespace sb {

struct HttpCall;
struct ServerConfig;

// Calls let in without the API key (trusted_networks, --insecure): the browser checks of
// docs/SECURITY.md (Origin, Sec-Fetch-Site, Host). True when the call may go on, else false
// with the reason in *refusal.
bool keylessCallAllowed(const ServerConfig &config, const HttpCall &call, QString *refusal);

} // namespace sb
