#include "WsClient.h"

#include "TestSupport.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QWebSocket>

#include <sys/socket.h>

using namespace Qt::StringLiterals;

namespace sbit {

WsClient::WsClient(const QString &origin, QObject *parent)
    : QObject(parent), m_socket(new QWebSocket(origin, QWebSocketProtocol::VersionLatest, this))
{
    m_socket->setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
    m_socket->setMaxAllowedIncomingFrameSize(64 * 1024 * 1024);
    connect(m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        WsFrame f;
        f.text = text;
        const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
        f.isObject = doc.isObject();
        f.object = doc.object();
        m_frames.append(f);
    });
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &data) {
        WsFrame f;
        f.isBinary = true;
        f.binary = data;
        m_frames.append(f);
    });
    connect(m_socket, &QWebSocket::disconnected, this, [this] {
        m_disconnected = true;
        m_closeCode = int(m_socket->closeCode());
    });
    connect(m_socket, &QWebSocket::sslErrors, this,
            [this](const QList<QSslError> &) { m_socket->ignoreSslErrors(); });
}

WsClient::~WsClient()
{
    m_socket->abort();
}

bool WsClient::open(const QUrl &url, int timeoutMs,
                    const QList<QPair<QByteArray, QByteArray>> &headers)
{
    m_disconnected = false;
    m_closeCode = -1;
    QNetworkRequest request(url);
    for (const auto &h : headers)
        request.setRawHeader(h.first, h.second);
    m_socket->open(request);
    waitUntil(
            [&] { return m_socket->state() == QAbstractSocket::ConnectedState || m_disconnected; },
            timeoutMs);
    // Diagnostic knob, off by default: SB_IT_OPEN_SETTLE_MS=N waits N ms after the open, to
    // tell a server that loses frames/pushes arriving right after the upgrade from other bugs.
    static const int settleMs = qEnvironmentVariableIntValue("SB_IT_OPEN_SETTLE_MS");
    if (settleMs > 0 && m_socket->state() == QAbstractSocket::ConnectedState)
        spin(settleMs);
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

void WsClient::close()
{
    m_socket->close();
    waitUntil([&] { return m_disconnected; }, 2000);
}

void WsClient::send(const QJsonObject &frame)
{
    m_socket->sendTextMessage(
            QString::fromUtf8(QJsonDocument(frame).toJson(QJsonDocument::Compact)));
}

void WsClient::sendText(const QString &text)
{
    m_socket->sendTextMessage(text);
}

void WsClient::sendBinary(const QByteArray &data)
{
    m_socket->sendBinaryMessage(data);
}

QJsonObject WsClient::join(const QByteArray &token, qint64 since, int timeoutMs)
{
    QJsonObject frame{{u"type"_s, u"join"_s}, {u"token"_s, QString::fromLatin1(token)}};
    if (since >= 0)
        frame.insert(u"since"_s, since);
    send(frame);
    QJsonObject answer;
    waitUntil(
            [&] {
                for (qsizetype i = 0; i < m_frames.size(); ++i) {
                    const QString t = m_frames.at(i).type();
                    if (t == u"joined" || t == u"error") {
                        answer = m_frames.takeAt(i).object;
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
    return answer;
}

QJsonObject WsClient::waitForFrame(const QString &type, int timeoutMs)
{
    QJsonObject result;
    waitUntil(
            [&] {
                for (qsizetype i = 0; i < m_frames.size(); ++i) {
                    if (m_frames.at(i).isObject && m_frames.at(i).type() == type) {
                        result = m_frames.takeAt(i).object;
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
    return result;
}

bool WsClient::waitForFrame(const QString &type, WsFrame *out, int timeoutMs)
{
    return waitUntil(
            [&] {
                for (qsizetype i = 0; i < m_frames.size(); ++i) {
                    if (m_frames.at(i).isObject && m_frames.at(i).type() == type) {
                        *out = m_frames.takeAt(i);
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
}

bool WsClient::waitForAny(WsFrame *out, int timeoutMs)
{
    if (!waitUntil([&] { return !m_frames.isEmpty(); }, timeoutMs))
        return false;
    *out = m_frames.takeFirst();
    return true;
}

bool WsClient::noFrameWithin(int ms, const QString &type)
{
    spin(ms);
    return count(type) == 0;
}

QList<WsFrame> WsClient::take(const QString &type)
{
    QList<WsFrame> out;
    for (qsizetype i = 0; i < m_frames.size();) {
        if (type.isEmpty() || (m_frames.at(i).isObject && m_frames.at(i).type() == type))
            out.append(m_frames.takeAt(i));
        else
            ++i;
    }
    return out;
}

int WsClient::count(const QString &type) const
{
    if (type.isEmpty())
        return int(m_frames.size());
    int n = 0;
    for (const WsFrame &f : m_frames) {
        if (f.isObject && f.type() == type)
            ++n;
    }
    return n;
}

bool WsClient::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState && !m_disconnected;
}

bool WsClient::waitForDisconnected(int timeoutMs)
{
    return waitUntil([&] { return m_disconnected; }, timeoutMs);
}

quint16 WsClient::localPort() const
{
    return m_socket->localPort();
}

QString WsClient::errorString() const
{
    return m_socket->errorString();
}

// ---------------------------------------------------------------------------------------

RawWsClient::RawWsClient(QObject *parent) : QObject(parent), m_socket(new QTcpSocket(this)) { }

RawWsClient::~RawWsClient()
{
    m_socket->abort();
}

int RawWsClient::connectAndUpgrade(const QString &host, quint16 port,
                                   const QByteArray &pathAndQuery,
                                   const QList<QPair<QByteArray, QByteArray>> &headers,
                                   int timeoutMs)
{
    m_socket->connectToHost(host, port);
    waitUntil(
            [&] {
                return m_socket->state() == QAbstractSocket::ConnectedState
                        || m_socket->state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return 0;
    QByteArray nonce(16, Qt::Uninitialized);
    for (auto &c : nonce)
        c = char(QRandomGenerator::global()->bounded(256));
    const QByteArray key = nonce.toBase64();
    QByteArray req = "GET " + pathAndQuery + " HTTP/1.1\r\n" + "Host: " + host.toLatin1() + ':'
            + QByteArray::number(port) + "\r\n" + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n";
    for (const auto &h : headers)
        req += h.first + ": " + h.second + "\r\n";
    req += "\r\n";
    m_socket->write(req);
    qsizetype headEnd = -1;
    waitUntil(
            [&] {
                m_buffer += m_socket->readAll();
                headEnd = m_buffer.indexOf("\r\n\r\n");
                return headEnd >= 0 || m_socket->state() != QAbstractSocket::ConnectedState;
            },
            timeoutMs);
    if (headEnd < 0) {
        m_handshake = m_buffer;
        return 0;
    }
    m_handshake = m_buffer.left(headEnd + 4);
    m_buffer.remove(0, headEnd + 4);
    const QList<QByteArray> parts = m_handshake.left(m_handshake.indexOf("\r\n")).split(' ');
    const int status = parts.value(1).toInt();
    if (status == 101) {
        const QByteArray accept =
                QCryptographicHash::hash(QByteArray(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
                                         QCryptographicHash::Sha1)
                        .toBase64();
        if (!m_handshake.contains(accept))
            return -101; // wrong Sec-WebSocket-Accept
    }
    return status;
}

void RawWsClient::sendFrame(int opcode, const QByteArray &payload, bool fin)
{
    m_socket->write(randomlyMaskedFrame(quint8(opcode), payload, fin));
}

bool RawWsClient::waitForFrame(Frame *out, int timeoutMs)
{
    return waitUntil(
            [&] {
                m_buffer += m_socket->readAll();
                return takeFrame(m_buffer, out);
            },
            timeoutMs);
}

bool RawWsClient::waitForOpcode(int opcode, Frame *out, int timeoutMs)
{
    return waitUntil(
            [&] {
                m_buffer += m_socket->readAll();
                Frame f;
                while (takeFrame(m_buffer, &f)) {
                    if (f.opcode == opcode) {
                        *out = f;
                        return true;
                    }
                    m_skipped.append(f);
                }
                return false;
            },
            timeoutMs);
}

void RawWsClient::stopReading(int receiveBufferBytes)
{
    const int fd = int(m_socket->socketDescriptor());
    if (fd >= 0 && receiveBufferBytes > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBufferBytes, sizeof receiveBufferBytes);
    m_socket->setReadBufferSize(1);
    m_buffer += m_socket->readAll();
}

bool RawWsClient::isClosed() const
{
    return m_socket->state() == QAbstractSocket::UnconnectedState;
}

bool RawWsClient::waitForClosed(int timeoutMs)
{
    return waitUntil(
            [&] {
                m_buffer += m_socket->readAll();
                return isClosed();
            },
            timeoutMs);
}

} // namespace sbit
