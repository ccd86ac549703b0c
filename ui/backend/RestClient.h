#pragma once

#include <QByteArray>
#include <QObject>
#include <QSslCertificate>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;

namespace sb::ui {

// The console's REST calls (docs/API.md, "REST calls") to the server it shows, hosted or
// remote: the API key on every call, and `X-Switchboard-Source: console` so that its emits
// are logged with source "console". Asynchronous; callbacks run on the caller's thread.
class RestClient final : public QObject
{
    Q_OBJECT

public:
    struct Reply
    {
        int status = 0;  // HTTP status; 0 when no answer came
        QByteArray body; // the answer's body
        QString error;   // empty on 2xx; else the server's message or the network error
        bool ok() const { return status >= 200 && status < 300; }
    };
    using Callback = std::function<void(const Reply &)>;

    explicit RestClient(QObject *parent = nullptr);

    void setBaseUrl(const QUrl &url) { m_base = url; }
    QUrl baseUrl() const { return m_base; }
    void setApiKey(const QString &key) { m_apiKey = key; }
    QString apiKey() const { return m_apiKey; }
    // For a hosted server with its own (often self-signed) certificate: trust exactly it.
    void setTrustedCertificate(const QSslCertificate &cert) { m_trusted = cert; }

    void get(const QString &pathAndQuery, Callback done);
    void post(const QString &path, const QByteArray &json, Callback done);
    void del(const QString &path, Callback done);

    // The message of an error body {"error":{"message":...}}, else a short form of the body.
    static QString errorMessage(int status, const QByteArray &body);

private:
    QNetworkRequest request(const QString &pathAndQuery) const;
    void track(QNetworkReply *reply, Callback done);

    QNetworkAccessManager *m_network;
    QUrl m_base;
    QString m_apiKey;
    QSslCertificate m_trusted;
};

} // namespace sb::ui
