#pragma once

#include "clients/OutboundClients.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QTimer>

class QWebSocket;

namespace sb {

class ClientTable;

// One outbound client on the registry's thread (docs/API.md, "Outbound clients"): a
// QWebSocket in client mode, opened again after every loss with exponential backoff (500 ms
// to 30 s, +-20% jitter) until it is finished. What happens is reported to the ClientTable;
// text messages go to the room (an emit, source `client`) or to the handler.
class OutboundConnection : public QObject
{
public:
    struct Shared
    {
        ClientTable *table = nullptr;
        const OutboundClients::Options *options = nullptr;
        QObject *emitContext = nullptr; // the registry's object: outlives every emit answer
    };

    static constexpr qint64 kFirstDelayMs = 500;
    static constexpr qint64 kMaxDelayMs = 30000;
    static constexpr qint64 kStableMs = 5000;       // open this long: backoff starts over
    static constexpr int kConnectTimeoutMs = 10000; // a connect (TCP + handshake) at most
    static constexpr int kCloseTimeoutMs = 5000;    // the remote's answer to our close

    OutboundConnection(QString id, ClientSpec spec, Shared shared, QObject *parent);
    ~OutboundConnection() override;

    void start();
    // Sends text now when open, else queues it (send() bounded the bytes) for the next open.
    void enqueue(const QString &text);
    // Closes for good and deletes itself: a client that connects with messages queued sends
    // them first, then closes.
    void finish();
    // Server stop: a close frame to an open remote, no reconnect; the owner deletes it.
    void shutdown();

    // The delay before attempt number `failures` + 1: 500 ms doubled per failure, at most
    // 30 s, times a jitter in [0.8, 1.2].
    static qint64 backoffMs(int failures, double jitter);

private:
    void openSocket();
    void onConnected();
    void onText(const QString &message);
    void onBinary();
    void onError();
    void onStateChanged(QAbstractSocket::SocketState state);
    void lost();
    void scheduleReconnect();
    void flushQueue();
    void emitToRoom(const QString &message);
    void toHandler(HandlerEvent::Method method, const QString &message = {},
                   const QString &error = {});

    const QString m_id;
    const ClientSpec m_spec;
    const Shared m_shared;
    QWebSocket *m_socket = nullptr;
    QTimer m_retry;
    QTimer m_deadline; // connect or close taking too long
    QStringList m_queue;
    QElapsedTimer m_openedAt;
    int m_failures = 0;     // attempts in a row that did not stay open
    bool m_opened = false;  // the first attempt was made (later ones are reconnects)
    bool m_wasOpen = false; // the current socket reached open
    bool m_finishing = false;
    bool m_shutDown = false;
};

} // namespace sb
