#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QVarLengthArray>

class QObject;
class QTcpSocket;

namespace sb {

class IoShard;

// The write side of one WebSocket client on its shard's thread: gets the frames the server
// owes the client to its TCP socket within max_queue_bytes. Frames are queued as shared
// pre-encoded bytes (no copy) and leave with one system call per shard batch (coalesced
// send()/sendmsg() on the descriptor); what the kernel does not take goes through
// QTcpSocket, in order. Also frees the buffers QTcpSocket keeps, and closes with a lingering
// close. The client protocol (what the frames say, when to close) is ClientConnection's.
class SocketWriter
{
public:
    SocketWriter(IoShard *shard, QTcpSocket *tcp);
    ~SocketWriter();
    SocketWriter(const SocketWriter &) = delete;
    SocketWriter &operator=(const SocketWriter &) = delete;

    QTcpSocket *socket() const { return m_tcp; }

    enum class Queued {
        Yes,
        Disconnected, // the socket is not connected: dropped
        OverLimit,    // the unsent bytes would pass max_queue_bytes: dropped, close with 1013
    };
    // Queues a frame. Inside a shard batch the frames wait for flush() (the shard calls it
    // once at the end); otherwise, or with flushAtOnce, they leave at once.
    Queued queue(const QByteArray &wire);
    // Every byte the server owes the client: queued here, in QTcpSocket's buffer (also the
    // pongs QWebSocket writes by itself for the client's pings), and for TLS still to encrypt.
    qint64 unsentBytes() const;
    // After each read: true when the unsent bytes passed max_queue_bytes.
    bool overLimit();
    // In ClientConnection::start(): answers leave before QWebSocket's own frames.
    void setFlushAtOnce(bool atOnce) { m_flushAtOnce = atOnce; }

    // Writes every queued frame with one system call (see the .cpp).
    void flush();
    // flush() in three steps, for the shard's batches: beginFlush() returns the descriptor
    // to write to directly (or -1: nothing to write, or written through QTcpSocket already);
    // writeDirect() makes the system call and returns the bytes the kernel took;
    // finishFlush() hands the rest to QTcpSocket and empties the queue.
    int beginFlush();
    qint64 writeDirect(int fd);
    void finishFlush(qint64 written);

    // Writes the close frame after what is queued and closes without a reset (the client
    // may still read it, net/LingeringClose.h); a client that has not read it after 5 s is
    // reset. The timer goes with timerOwner.
    void close(quint16 code, QByteArrayView reason, QObject *timerOwner);
    // Drops what is queued and resets the connection.
    void abort();
    // Frees the buffers QTcpSocket keeps after a read or a write through it (see the .cpp).
    // From the event loop only.
    void releaseBuffers();

private:
    void notePeak(qint64 unsent)
    {
        if (unsent > m_peakUnsent)
            m_peakUnsent = unsent;
    }

    IoShard *m_shard;
    QTcpSocket *m_tcp;
    // Frames queued during the current shard batch, written together by flush().
    QVarLengthArray<QByteArray, 2> m_out;
    qint64 m_outBytes = 0;
    qint64 m_peakUnsent = 0;    // reported to the heap trim when the connection goes
    bool m_directWrites = true; // false for TLS: bytes must go through QSslSocket
    bool m_dirty = false;       // on the shard's list of writers to flush
    bool m_flushAtOnce = false;
};

} // namespace sb
