#pragma once

// A small HTTP/1.1 client on a raw QTcpSocket (or QSslSocket), written the way database
// callers talk: one keep-alive connection, exact bytes on the wire, nothing hidden. The
// waits spin the event loop, so WebSocket clients of the same test keep receiving.

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

class QTcpSocket;

namespace sbit {

using Headers = QList<QPair<QByteArray, QByteArray>>;

struct HttpResponse
{
    int status = 0;     // 0: no (complete) response
    QByteArray version; // "HTTP/1.1"
    QByteArray reason;
    Headers headers;
    QByteArray body; // de-chunked
    bool chunked = false;
    QString failure; // why there is no response (timeout, closed...)

    bool isValid() const { return status > 0; }
    QByteArray header(const QByteArray &name) const; // first value, case-insensitive
    int headerCount(const QByteArray &name) const;
    QJsonDocument json() const { return QJsonDocument::fromJson(body); }
    bool isJson() const;
    QJsonObject object() const { return json().object(); }
    QJsonArray array() const { return json().array(); }
    QString errorCode() const;    // error.code of the REST error shape
    QString errorMessage() const; // error.message
    QString describe() const;     // one line for failure messages
};

// Incremental response parser: feed the bytes received on a connection, take responses.
class HttpResponseParser
{
public:
    void feed(const QByteArray &bytes) { m_buffer.append(bytes); }
    // Takes one complete response (1xx interim answers included) from the buffer. With eof
    // (the peer closed), a response without length ends at the end of the data.
    bool take(HttpResponse *out, bool eof = false);
    QByteArray &buffer() { return m_buffer; }

private:
    QByteArray m_buffer;
};

class HttpClient : public QObject
{
    Q_OBJECT
public:
    HttpClient(const QString &host, quint16 port, bool tls = false, QObject *parent = nullptr);
    ~HttpClient() override;

    // Sent with every request unless the request passes the same name; a request header
    // with a null value (QByteArray()) suppresses the default one.
    void setDefaultHeader(const QByteArray &name, const QByteArray &value);

    HttpResponse request(const QByteArray &method, const QByteArray &path,
                         const QByteArray &body = {}, const Headers &headers = {},
                         int timeoutMs = 10000);
    HttpResponse get(const QByteArray &path, const Headers &headers = {});
    HttpResponse del(const QByteArray &path, const Headers &headers = {});
    HttpResponse postJson(const QByteArray &path, const QJsonObject &body,
                          const Headers &headers = {});
    HttpResponse putJson(const QByteArray &path, const QJsonObject &body,
                         const Headers &headers = {});
    // contentType empty: no Content-Type header at all.
    HttpResponse post(const QByteArray &path, const QByteArray &body, const QByteArray &contentType,
                      const Headers &headers = {});

    void close();
    QTcpSocket *socket() const { return m_socket; }

private:
    bool ensureConnected(int timeoutMs, QString *why);

    QString m_host;
    quint16 m_port;
    bool m_tls;
    Headers m_defaults;
    QTcpSocket *m_socket = nullptr;
    HttpResponseParser m_parser;
};

// Percent-encodes a path segment (everything but unreserved characters).
QByteArray encodeSegment(const QString &segment);

} // namespace sbit
