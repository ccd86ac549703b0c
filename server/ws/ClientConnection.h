#pragma once

#include "base/HandlerEvent.h"
#include "base/Message.h"
#include "ws/SocketWriter.h"

#include <QByteArray>
#include <QSet>
#include <QString>
#include <QStringList>

#include <memory>
#include <utility>
#include <vector>

class QJsonObject;
class QTcpSocket;
class QWebSocket;

namespace sb {

class IoShard;
struct CommandError;

// One WebSocket client on its shard's thread: the client protocol of docs/API.md (join,
// leave, emit, presence, ping) for /ws connections; legacy connections only receive pushes.
// QWebSocket reads and validates what the client sends (UTF-8, size limits, control frames);
// frames to the client go out as pre-encoded bytes through the SocketWriter.
class ClientConnection
{
public:
    ClientConnection(IoShard *shard, ConnId id, ConnectionKind kind, QWebSocket *socket,
                     QTcpSocket *tcp, QString remote, std::shared_ptr<ConnectionCounters> counters);
    ~ClientConnection();
    ClientConnection(const ClientConnection &) = delete;
    ClientConnection &operator=(const ClientConnection &) = delete;

    // Endpoint sessions (docs/API.md, "Endpoints"): before start().
    void setEndpoint(const QString &endpoint, const QString &user)
    {
        m_endpoint = endpoint;
        m_user = user;
    }

    ConnId id() const { return m_id; }
    ConnectionKind kind() const { return m_kind; }
    QWebSocket *socket() const { return m_socket; }
    qint64 lastSeenMs() const { return m_lastSeenMs; }
    bool isClosing() const { return m_closing; }

    // Queues a pre-encoded frame (shared bytes, no copy); a client whose unsent bytes pass
    // max_queue_bytes is closed with 1013 instead. Returns false when the frame was not
    // queued. Inside a shard batch the frames wait for the shard's flush (SocketWriter);
    // otherwise they leave at once.
    bool send(const QByteArray &wire, bool countsAsSent = false);
    void closeWith(quint16 code, QByteArrayView reason);
    // Frees the buffers QTcpSocket keeps (SocketWriter::releaseBuffers()). From the event
    // loop only. readSinceRelease(): the client sent something since the last release.
    void releaseSocketBuffers();
    bool readSinceRelease() const { return m_readSinceRelease; }
    void ping();
    void abort();

    // On the shard's thread, once the sockets live there: joins with ?token=&since= of the
    // upgrade request, then reads what the client sent meanwhile (the socket's signals are
    // blocked from the upgrade until here, so no frame is read before the connection is
    // ready to answer it).
    void start();

private:
    void joinFromQuery();
    void onText(const QString &message);
    // An endpoint session's event to its handler; false: the endpoint's queue is full (the
    // session is closed with 1013).
    bool toEndpoint(HandlerEvent::Method method, const QString &text = {});
    void handleText(const QString &message);
    void onBinary();
    void handleBinary();
    // After each read: every byte the server owes the client counts against max_queue_bytes,
    // also the pongs QWebSocket writes by itself for the client's pings.
    void checkUnsent();
    // Closes with 1013 a client whose unsent bytes passed max_queue_bytes.
    void closeTooSlow(const char *why);
    // No more reading: a closing connection must not make QWebSocket answer more pings.
    void stopReading();
    void handleJoin(const QByteArray &token, const QByteArray &since, const QByteArray &ref);
    // Cluster: the counts of a join are in Redis; the frames held since go out.
    void countsArrived();
    void handleLeave(const QJsonObject &frame, const QByteArray &ref);
    void handleEmit(const QByteArray &text, const QJsonObject &frame, const QByteArray &ref);
    void sendPresence(const QString &room, const QList<QPair<QString, QString>> &members,
                      const QByteArray &ref);
    // The answer of an emit frame (null result: refused, `why` says why).
    void emitAnswered(const EmitRequest &request, const QByteArray &ref, const EmitResult *result,
                      const CommandError &why);
    void handlePresence(const QJsonObject &frame, const QByteArray &ref);
    void sendJson(QByteArray json, const QByteArray &ref);
    void sendError(const char *code, const QString &message, const QByteArray &ref);

    IoShard *m_shard;
    const ConnId m_id;
    const ConnectionKind m_kind;
    QWebSocket *m_socket;
    const QString m_remote;
    QString m_endpoint; // Endpoint sessions
    QString m_user;
    bool m_endpointOpen = false; // its open event reached the handler's queue
    std::shared_ptr<ConnectionCounters> m_counters;
    SocketWriter m_writer; // writes to the TCP socket under m_socket
    // Cluster: frames held while a join waits for its counts to reach Redis (the replay, the
    // `joined` frame and whatever follows them), so that they leave in order afterwards.
    int m_joinsAwaitingCounts = 0;
    std::vector<std::pair<QByteArray, bool>> m_held; // frame, counts as sent
    qint64 m_heldBytes = 0;
    qint64 m_lastSeenMs = 0;
    bool m_closing = false;
    bool m_readSinceRelease = false;
};

} // namespace sb
