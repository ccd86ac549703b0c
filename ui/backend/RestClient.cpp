#include "backend/RestClient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslError>

namespace sb::ui {

namespace {
constexpr int kTimeoutMs = 15000;
}

RestClient::RestClient(QObject *parent) : QObject(parent), m_network(new QNetworkAccessManager(this))
{
}

QNetworkRequest RestClient::request(const QString &pathAndQuery) const
{
    QUrl url = m_base;
    const qsizetype q = pathAndQuery.indexOf(u'?');
    url.setPath(q < 0 ? pathAndQuery : pathAndQuery.left(q), QUrl::TolerantMode);
    url.setQuery(q < 0 ? QString() : pathAndQuery.mid(q + 1), QUrl::TolerantMode);
    QNetworkRequest r(url);
    r.setTransferTimeout(kTimeoutMs);
    if (!m_apiKey.isEmpty())
        r.setRawHeader("X-API-Key", m_apiKey.toUtf8());
    r.setRawHeader("X-Switchboard-Source", "console");
    return r;
}

void RestClient::track(QNetworkReply *reply, Callback done)
{
    if (!m_trusted.isNull()) {
        const QSslCertificate trusted = m_trusted;
        connect(reply, &QNetworkReply::sslErrors, reply, [reply, trusted](const QList<QSslError> &errors) {
            // Only the hosted server's own certificate is accepted in place of a CA chain.
            QList<QSslError> expected;
            for (const QSslError &e : errors) {
                if (e.certificate() == trusted)
                    expected.append(e);
            }
            if (expected.size() == errors.size())
                reply->ignoreSslErrors(expected);
        });
    }
    connect(reply, &QNetworkReply::finished, this, [reply, done = std::move(done)] {
        Reply r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        if (r.status == 0)
            r.error = reply->errorString();
        else if (!r.ok())
            r.error = errorMessage(r.status, r.body);
        reply->deleteLater();
        if (done)
            done(r);
    });
}

void RestClient::get(const QString &pathAndQuery, Callback done)
{
    track(m_network->get(request(pathAndQuery)), std::move(done));
}

void RestClient::post(const QString &path, const QByteArray &json, Callback done)
{
    QNetworkRequest r = request(path);
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    track(m_network->post(r, json), std::move(done));
}

void RestClient::del(const QString &path, Callback done)
{
    track(m_network->deleteResource(request(path)), std::move(done));
}

QString RestClient::errorMessage(int status, const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    QString message = o.value(u"error").toObject().value(u"message").toString();
    if (message.isEmpty())
        message = o.value(u"message").toString();
    if (message.isEmpty())
        message = QString::fromUtf8(body.left(200)).simplified();
    return QStringLiteral("HTTP %1: %2").arg(status).arg(message);
}

} // namespace sb::ui
