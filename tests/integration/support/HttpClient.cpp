#include "HttpClient.h"

#include "TestSupport.h"

#include <QSslSocket>
#include <QTcpSocket>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace sbit {

QByteArray HttpResponse::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

int HttpResponse::headerCount(const QByteArray &name) const
{
    int n = 0;
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            ++n;
    }
    return n;
}

bool HttpResponse::isJson() const
{
    QJsonParseError err;
    QJsonDocument::fromJson(body, &err);
    return err.error == QJsonParseError::NoError;
}

QString HttpResponse::errorCode() const
{
    return object().value(u"error"_s).toObject().value(u"code"_s).toString();
}

QString HttpResponse::errorMessage() const
{
    return object().value(u"error"_s).toObject().value(u"message"_s).toString();
}

QString HttpResponse::describe() const
{
    if (!isValid())
        return u"no response ("_s % failure % u")"_s;
    QByteArray b = body.left(400);
    if (body.size() > 400)
        b += "...(" + QByteArray::number(body.size()) + " bytes)";
    return QString::number(status) % u' ' % QString::fromLatin1(reason) % u" body: "_s
            % QString::fromUtf8(b);
}

bool HttpResponseParser::take(HttpResponse *out, bool eof)
{
    const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return false;
    HttpResponse r;
    const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
    const QByteArray statusLine = lines.value(0).trimmed();
    const QList<QByteArray> parts = statusLine.split(' ');
    r.version = parts.value(0);
    r.status = parts.value(1).toInt();
    r.reason = statusLine.mid(r.version.size() + parts.value(1).size() + 2);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        r.headers.emplaceBack(line.left(colon).trimmed(), line.mid(colon + 1).trimmed());
    }
    qsizetype pos = headEnd + 4;
    if (r.status < 200 || r.status == 204 || r.status == 304) {
        m_buffer.remove(0, pos);
        *out = r;
        return true;
    }
    if (r.header("Transfer-Encoding").toLower().contains("chunked")) {
        r.chunked = true;
        QByteArray body;
        while (true) {
            const qsizetype lineEnd = m_buffer.indexOf("\r\n", pos);
            if (lineEnd < 0)
                return false;
            QByteArray sizeText = m_buffer.mid(pos, lineEnd - pos);
            const qsizetype semi = sizeText.indexOf(';');
            if (semi >= 0)
                sizeText.truncate(semi);
            bool ok = false;
            const qsizetype size = sizeText.trimmed().toLongLong(&ok, 16);
            if (!ok)
                return false;
            pos = lineEnd + 2;
            if (size == 0) {
                // trailers until an empty line
                while (true) {
                    const qsizetype e = m_buffer.indexOf("\r\n", pos);
                    if (e < 0)
                        return false;
                    const bool empty = (e == pos);
                    pos = e + 2;
                    if (empty)
                        break;
                }
                break;
            }
            if (m_buffer.size() < pos + size + 2)
                return false;
            body.append(m_buffer.mid(pos, size));
            pos += size + 2;
        }
        r.body = body;
        m_buffer.remove(0, pos);
        *out = r;
        return true;
    }
    const QByteArray cl = r.header("Content-Length");
    if (!cl.isNull()) {
        const qsizetype len = cl.toLongLong();
        if (m_buffer.size() < pos + len)
            return false;
        r.body = m_buffer.mid(pos, len);
        m_buffer.remove(0, pos + len);
        *out = r;
        return true;
    }
    if (!eof)
        return false;
    r.body = m_buffer.mid(pos);
    m_buffer.clear();
    *out = r;
    return true;
}

HttpClient::HttpClient(const QString &host, quint16 port, bool tls, QObject *parent)
    : QObject(parent), m_host(host), m_port(port), m_tls(tls)
{ }

HttpClient::~HttpClient()
{
    close();
}

void HttpClient::setDefaultHeader(const QByteArray &name, const QByteArray &value)
{
    for (auto &h : m_defaults) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0) {
            h.second = value;
            return;
        }
    }
    m_defaults.emplaceBack(name, value);
}

void HttpClient::close()
{
    if (m_socket) {
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    m_parser = HttpResponseParser();
}

bool HttpClient::ensureConnected(int timeoutMs, QString *why)
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState
        && (!m_tls || static_cast<QSslSocket *>(m_socket)->isEncrypted()))
        return true;
    close();
    if (m_tls) {
        auto *ssl = new QSslSocket(this);
        ssl->setPeerVerifyMode(QSslSocket::VerifyNone);
        connect(ssl, &QSslSocket::sslErrors, ssl,
                [ssl](const QList<QSslError> &) { ssl->ignoreSslErrors(); });
        m_socket = ssl;
        ssl->connectToHostEncrypted(m_host, m_port);
        const bool ok = waitUntil(
                [&] {
                    return ssl->isEncrypted() || ssl->state() == QAbstractSocket::UnconnectedState;
                },
                timeoutMs);
        if (!ok || !ssl->isEncrypted()) {
            *why = u"TLS connect failed: "_s % ssl->errorString();
            return false;
        }
        return true;
    }
    m_socket = new QTcpSocket(this);
    m_socket->connectToHost(m_host, m_port);
    QTcpSocket *s = m_socket;
    waitUntil(
            [&] {
                return s->state() == QAbstractSocket::ConnectedState
                        || s->state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
    if (s->state() != QAbstractSocket::ConnectedState) {
        *why = u"connect failed: "_s % s->errorString();
        return false;
    }
    return true;
}

HttpResponse HttpClient::request(const QByteArray &method, const QByteArray &path,
                                 const QByteArray &body, const Headers &headers, int timeoutMs)
{
    HttpResponse r;
    QString why;
    if (!ensureConnected(timeoutMs, &why)) {
        r.failure = why;
        return r;
    }
    QByteArray req = method + ' ' + path + " HTTP/1.1\r\n";
    auto has = [&](const QByteArray &name) {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return true;
        }
        return false;
    };
    if (!has("Host"))
        req += "Host: " + m_host.toLatin1() + ':' + QByteArray::number(m_port) + "\r\n";
    for (const auto &h : m_defaults) {
        if (!has(h.first))
            req += h.first + ": " + h.second + "\r\n";
    }
    for (const auto &h : headers) {
        if (!h.second.isNull())
            req += h.first + ": " + h.second + "\r\n";
    }
    if (!has("Content-Length") && !has("Transfer-Encoding")
        && (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH"))
        req += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    req += "\r\n";
    req += body;
    QTcpSocket *s = m_socket;
    s->write(req);

    bool done = false;
    bool eof = false;
    auto pump = [&] {
        if (s->bytesAvailable() > 0)
            m_parser.feed(s->readAll());
        eof = s->state() != QAbstractSocket::ConnectedState;
        while (m_parser.take(&r, eof)) {
            if (r.status >= 200 || r.status == 101) {
                done = true;
                break;
            }
        }
        return done || eof;
    };
    waitUntil(pump, timeoutMs);
    if (!done) {
        pump();
        if (!done) {
            HttpResponse failed;
            failed.failure = eof ? u"connection closed before a complete response"_s : u"timeout"_s;
            close();
            return failed;
        }
    }
    const QByteArray conn = r.header("Connection").toLower();
    if (conn.contains("close") || r.version == "HTTP/1.0" || eof)
        close();
    return r;
}

HttpResponse HttpClient::get(const QByteArray &path, const Headers &headers)
{
    return request("GET", path, {}, headers);
}

HttpResponse HttpClient::del(const QByteArray &path, const Headers &headers)
{
    return request("DELETE", path, {}, headers);
}

HttpResponse HttpClient::postJson(const QByteArray &path, const QJsonObject &body,
                                  const Headers &headers)
{
    return post(path, QJsonDocument(body).toJson(QJsonDocument::Compact), "application/json",
                headers);
}

HttpResponse HttpClient::putJson(const QByteArray &path, const QJsonObject &body,
                                 const Headers &headers)
{
    Headers h = headers;
    h.emplaceBack("Content-Type", "application/json");
    return request("PUT", path, QJsonDocument(body).toJson(QJsonDocument::Compact), h);
}

HttpResponse HttpClient::post(const QByteArray &path, const QByteArray &body,
                              const QByteArray &contentType, const Headers &headers)
{
    Headers h = headers;
    if (!contentType.isEmpty())
        h.emplaceBack("Content-Type", contentType);
    return request("POST", path, body, h);
}

QByteArray encodeSegment(const QString &segment)
{
    return QUrl::toPercentEncoding(segment);
}

} // namespace sbit
