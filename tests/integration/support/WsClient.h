#pragma once

// WebSocket clients for the tests:
//  - WsClient wraps QWebSocket and queues every received frame, so a test can wait for the
//    next frame of a given type without losing the others.
//  - RawWsClient performs the upgrade handshake by hand on a QTcpSocket and speaks frames
//    itself: for the cases QWebSocket hides (handshake status, pings, invalid UTF-8, a
//    client that stops reading).

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QUrl>

#include "WsWire.h"

class QTcpSocket;
class QWebSocket;

namespace sbit {

struct WsFrame
{
    QString text; // text frame as received
    QByteArray binary;
    bool isBinary = false;
    QJsonObject object; // parsed when the text is a JSON object
    bool isObject = false;
    QString type() const { return object.value(QStringLiteral("type")).toString(); }
};

class WsClient : public QObject
{
    Q_OBJECT
public:
    explicit WsClient(const QString &origin = {}, QObject *parent = nullptr);
    ~WsClient() override;

    // Opens and waits for the connection; false when refused or timed out.
    bool open(const QUrl &url, int timeoutMs = 5000,
              const QList<QPair<QByteArray, QByteArray>> &headers = {});
    void close();

    void send(const QJsonObject &frame);
    void sendText(const QString &text);
    void sendBinary(const QByteArray &data);

    // Sends {"type":"join","token":T[,"since":id][,"ref":ref]} and waits for the joined or error
    // answer.
    QJsonObject join(const QByteArray &token, qint64 since = -1, int timeoutMs = 5000);

    // Next queued frame of that type (removed from the queue); empty object on timeout.
    QJsonObject waitForFrame(const QString &type, int timeoutMs = 5000);
    // The same, keeping the frame's text (for byte-exact checks).
    bool waitForFrame(const QString &type, WsFrame *out, int timeoutMs = 5000);
    // Next queued frame of any kind (removed); isObject false and text empty on timeout.
    bool waitForAny(WsFrame *out, int timeoutMs = 5000);
    // True when no frame of that type (any type when empty) arrives within ms.
    bool noFrameWithin(int ms, const QString &type = {});
    // Removes and returns all queued frames of that type (all when empty).
    QList<WsFrame> take(const QString &type = {});
    int count(const QString &type = {}) const;
    QList<WsFrame> frames() const { return m_frames; }
    void clear() { m_frames.clear(); }

    bool isConnected() const;
    bool waitForDisconnected(int timeoutMs = 5000);
    int closeCode() const { return m_closeCode; }
    bool wasDisconnected() const { return m_disconnected; }
    quint16 localPort() const;
    QWebSocket *socket() const { return m_socket; }
    QString errorString() const;

private:
    QWebSocket *m_socket;
    QList<WsFrame> m_frames;
    bool m_disconnected = false;
    int m_closeCode = -1;
};

class RawWsClient : public QObject
{
    Q_OBJECT
public:
    using Frame = WireFrame; // opcode 1 text, 2 binary, 8 close, 9 ping, 10 pong

    explicit RawWsClient(QObject *parent = nullptr);
    ~RawWsClient() override;

    // Connects and sends the upgrade request; returns the handshake status (101 on success,
    // 0 on no answer). Extra headers are appended (e.g. Origin).
    int connectAndUpgrade(const QString &host, quint16 port, const QByteArray &pathAndQuery,
                          const QList<QPair<QByteArray, QByteArray>> &headers = {},
                          int timeoutMs = 5000);
    QByteArray handshakeResponse() const { return m_handshake; }

    void sendFrame(int opcode, const QByteArray &payload, bool fin = true);
    void sendText(const QByteArray &utf8) { sendFrame(1, utf8); }

    // Waits for the next frame from the server. False on timeout or close without frame.
    bool waitForFrame(Frame *out, int timeoutMs);
    // Waits for the next frame with that opcode, skipping others (kept in skipped()).
    bool waitForOpcode(int opcode, Frame *out, int timeoutMs);
    QList<Frame> skipped() const { return m_skipped; }

    // Stops reading from the kernel: the server's writes pile up (a slow client).
    void stopReading(int receiveBufferBytes = 4096);

    bool isClosed() const; // TCP connection gone
    bool waitForClosed(int timeoutMs);
    QTcpSocket *socket() const { return m_socket; }

private:
    QTcpSocket *m_socket;
    QByteArray m_buffer;
    QByteArray m_handshake;
    QList<Frame> m_skipped;
};

} // namespace sbit
