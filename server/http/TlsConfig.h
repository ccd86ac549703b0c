#pragma once

#include <QSslConfiguration>
#include <QString>

#include <optional>

namespace sb {

struct ServerConfig;

// The server side of TLS from tls_cert (a PEM certificate chain) and tls_key (a PEM RSA or
// EC private key, unencrypted); clients are not asked for certificates. nullopt: *error says
// which file could not be read or holds nothing usable.
std::optional<QSslConfiguration> loadTlsConfiguration(const ServerConfig &config, QString *error);

} // namespace sb
