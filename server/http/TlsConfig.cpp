#include "http/TlsConfig.h"

#include "config/ServerConfig.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>

namespace sb {

namespace {

std::optional<QSslConfiguration> fail(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}

} // namespace

std::optional<QSslConfiguration> loadTlsConfiguration(const ServerConfig &config, QString *error)
{
    QFile certFile(config.tlsCert);
    if (!certFile.open(QIODevice::ReadOnly))
        return fail(error,
                    QStringLiteral("cannot read tls_cert %1: %2")
                            .arg(config.tlsCert, certFile.errorString()));
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty())
        return fail(error,
                    QStringLiteral("tls_cert %1 holds no PEM certificate").arg(config.tlsCert));
    QFile keyFile(config.tlsKey);
    if (!keyFile.open(QIODevice::ReadOnly))
        return fail(error,
                    QStringLiteral("cannot read tls_key %1: %2")
                            .arg(config.tlsKey, keyFile.errorString()));
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        return fail(error,
                    QStringLiteral("tls_key %1 holds no PEM RSA or EC private key (unencrypted)")
                            .arg(config.tlsKey));
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificateChain(chain);
    ssl.setPrivateKey(key);
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    return ssl;
}

} // namespace sb
