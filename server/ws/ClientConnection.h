#pragma once

#include "base/Message.h"

#include <QByteArray>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QVarLengthArray>

#include <memory>

class QJsonObject;
class QTcpSocket;
class QWebSocket;

namespace sb {

class IoShard;

// One WebSocket client on its shard's thread: (docs/API.md, "WebSocket protocol") (join,
// leave, emit, presence, ping) for /ws connections; legacy connections only receive pushes.
// Frames to the client are written to the TCP socket as pre-encoded bytes; QWebSocket reads
// and validates what the client sends (UTF-8, size limits, control frames).
class ClientConnection
{
public:
    ClientConnection(IoShard *shard, ConnId id, ConnectionKind kind, QWebSocket *socket,
                     QTcpSocket *tcp, QString remote, std::shared_ptr<ConnectionCounters> counters);
    ~ClientConnection();
    ClientConnection(const ClientConnection &) = delete;
    ClientConnection &operator=(const ClientConnection &) = delete;

    ConnId id() const { return m_id; }
    ConnectionKind kind() const { return m_kind; }
    QWebSocket *socket() const { return m_socket; }
    qint64 lastSeenMs() const { return m_lastSeenMs; }
    bool isClosing() const { return m_closing; }
    bool isDirty() const { return m_dirty; }

    // Queues a pre-encoded frame (shared bytes, no copy); a client whose unsent bytes pass
    // max_queue_bytes is closed with 1013 instead. Returns false when the frame was not
    // queued. Inside a shard batch the frames wait for flush(); otherwise they leave at once.
    bool send(const QByteArray &wire, bool countsAsSent = false);
    // Writes every queued frame with one system call (see flush() in the .cpp).
    void flush();
    // flush() in three steps, for the shard's batches: beginFlush() returns the descriptor
    // to write to directly (or -1: nothing to write, or written through QTcpSocket already);
    // writeDirect() makes the system call and returns the bytes the kernel took;
    // finishFlush() hands the rest to QTcpSocket and empties the queue.
    int beginFlush();
    qint64 writeDirect(int fd);
    void finishFlush(qint64 written);
    void closeWith(quint16 code, QByteArrayView reason);
    // Frees the buffers QTcpSocket keeps after a read or a write through it (see the .cpp).
    // From the event loop only. readSinceRelease(): the client sent something since the last
    // release.
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
    void handleText(const QString &message);
    void onBinary();
    void handleBinary();
    // After each read: every byte the server owes the client counts against max_queue_bytes,
    // also the pongs QWebSocket writes by itself for the client's pings.
    void checkUnsent();
    qint64 unsentBytes() const;
    // No more reading: a closing connection must not make QWebSocket answer more pings.
    void stopReading();
    void handleJoin(const QByteArray &token, const QByteArray &since, const QByteArray &ref);
    void handleLeave(const QJsonObject &frame, const QByteArray &ref);
    void handleEmit(const QByteArray &text, const QJsonObject &frame, const QByteArray &ref);
    void handlePresence(const QJsonObject &frame, const QByteArray &ref);
    void sendJson(QByteArray json, const QByteArray &ref);
    void sendError(const char *code, const QString &message, const QByteArray &ref);

    IoShard *m_shard;
    const ConnId m_id;
    const ConnectionKind m_kind;
    QWebSocket *m_socket;
    QTcpSocket *m_tcp;
    const QString m_remote;
    std::shared_ptr<ConnectionCounters> m_counters;
    qint64 m_lastSeenMs = 0;
    bool m_closing = false;
    bool m_flushAtOnce = false; // in start(): answers leave before QWebSocket's own frames
    qint64 m_peakUnsent = 0;    // reported to the heap trim when the connection goes
    // Frames queued during the current shard batch, written together by flush().
    QVarLengthArray<QByteArray, 2> m_out;
    qint64 m_outBytes = 0;
    bool m_directWrites = true; // false for TLS: bytes must go through QSslSocket
    bool m_dirty = false;       // on the shard's list of connections to flush
    bool m_readSinceRelease = false;
};

} // namespace sb
