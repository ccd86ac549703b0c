#include "ws/SocketWriter.h"

#include "base/WsFrame.h"
#include "context/ServerContext.h"
#include "net/LingeringClose.h"
#include "net/MemoryTrim.h"
#include "ws/IoShard.h"

#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <unistd.h>

#include <cerrno>

namespace sb {

namespace {

constexpr int kCloseFlushMs = 5000;
// A connection whose unsent bytes once passed this leaves its peak to the heap trim.
constexpr qint64 kNoteFreedAbove = 256 * 1024;

} // namespace

SocketWriter::SocketWriter(IoShard *shard, QTcpSocket *tcp)
    : m_shard(shard), m_tcp(tcp), m_directWrites(qobject_cast<QSslSocket *>(tcp) == nullptr)
{ }

SocketWriter::~SocketWriter()
{
    if (m_peakUnsent > kNoteFreedAbove)
        net::noteFreed(m_peakUnsent);
}

qint64 SocketWriter::unsentBytes() const
{
    qint64 unsent = m_tcp->bytesToWrite() + m_outBytes;
    if (!m_directWrites) {
        if (const auto *ssl = qobject_cast<const QSslSocket *>(m_tcp))
            unsent += ssl->encryptedBytesToWrite();
    }
    return unsent;
}

bool SocketWriter::overLimit()
{
    const qint64 unsent = unsentBytes();
    notePeak(unsent);
    return unsent > m_shard->context()->config.maxQueueBytes;
}

SocketWriter::Queued SocketWriter::queue(const QByteArray &wire)
{
    if (m_tcp->state() != QAbstractSocket::ConnectedState)
        return Queued::Disconnected;
    const qint64 limit = m_shard->context()->config.maxQueueBytes;
    const qint64 unsent = unsentBytes();
    notePeak(unsent);
    if (unsent + wire.size() > limit)
        return Queued::OverLimit;
    m_out.append(wire);
    m_outBytes += wire.size();
    if (!m_shard->inBatch() || m_flushAtOnce)
        flush();
    else if (!m_dirty) {
        m_dirty = true;
        m_shard->markDirty(this);
    }
    return Queued::Yes;
}

// The write path of every event. While the socket's own buffer is empty, the queued frames go
// to the kernel with one send()/sendmsg() on the socket's descriptor: no copy into QTcpSocket's
// buffer, no write notifier switched on and off per frame, and one system call for all the
// frames a batch brought (coalescing). What the kernel does not take (a slow reader), and
// anything queued behind bytes QWebSocket wrote itself (pongs, the handshake), goes through
// QTcpSocket::write() so the order on the wire is kept; Qt then flushes it when writable.
// TLS sockets always use QSslSocket::write().
//
// The shard splits this in three passes over its dirty writers (beginFlush(), then
// writeDirect() for all, then finishFlush() for all) so that the system calls run back to
// back: measured with 10,000 clients, a send loop with less work between the calls costs the
// kernel less per call (the readers stay awake), 12.8 against 16.4 µs per delivery.
void SocketWriter::flush()
{
    const int fd = beginFlush();
    if (fd >= 0)
        finishFlush(writeDirect(fd));
}

int SocketWriter::beginFlush()
{
    m_dirty = false;
    if (m_out.isEmpty())
        return -1;
    if (m_directWrites && m_tcp->bytesToWrite() == 0
        && m_tcp->state() == QAbstractSocket::ConnectedState)
        return int(m_tcp->socketDescriptor());
    finishFlush(0);
    return -1;
}

qint64 SocketWriter::writeDirect(int fd)
{
    if (m_out.size() == 1) {
        const QByteArray &frame = m_out.front();
        ssize_t n;
        do {
            n = ::send(fd, frame.constData(), size_t(frame.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        return n > 0 ? n : 0;
    }
    constexpr qsizetype kMaxIov = 64;
    qint64 written = 0;
    qsizetype done = 0; // frames fully written
    qint64 partial = 0; // bytes of m_out[done] already written
    while (done < m_out.size()) {
        iovec iov[kMaxIov];
        int count = 0;
        qint64 wanted = 0;
        for (qsizetype i = done; i < m_out.size() && count < kMaxIov; ++i, ++count) {
            const qint64 skip = i == done ? partial : 0;
            iov[count].iov_base = const_cast<char *>(m_out[i].constData() + skip);
            iov[count].iov_len = size_t(m_out[i].size() - skip);
            wanted += m_out[i].size() - skip;
        }
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = size_t(count);
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        // EAGAIN: the rest waits in QTcpSocket. A broken peer is noticed by the read side
        // (QTcpSocket reports the disconnect and drops what is queued).
        if (n <= 0)
            break;
        written += n;
        qint64 left = n;
        while (done < m_out.size() && left >= m_out[done].size() - partial) {
            left -= m_out[done].size() - partial;
            partial = 0;
            ++done;
        }
        partial += left;
        if (n < wanted)
            break; // the socket buffer is full
    }
    return written;
}

void SocketWriter::finishFlush(qint64 written)
{
    // Whatever the kernel did not take goes to QTcpSocket, in order.
    for (const QByteArray &frame : std::as_const(m_out)) {
        if (written >= frame.size()) {
            written -= frame.size();
            continue;
        }
        m_tcp->write(frame.constData() + written, frame.size() - written);
        written = 0;
    }
    m_out.clear();
    m_outBytes = 0;
}

void SocketWriter::close(quint16 code, QByteArrayView reason, QObject *timerOwner)
{
    // Our own close frame: QWebSocketProtocol::CloseCode has no 1013 or 4000.
    m_tcp->write(wsframe::close(code, reason));
    notePeak(unsentBytes());
    net::lingerAfterClose(m_tcp);
    m_tcp->disconnectFromHost();
    QTcpSocket *tcp = m_tcp;
    QTimer::singleShot(kCloseFlushMs, timerOwner, [tcp] {
        net::cancelLinger(tcp); // it did not read its close frame in 5 s: a reset
        tcp->abort();
    });
}

void SocketWriter::abort()
{
    notePeak(unsentBytes());
    m_out.clear();
    m_outBytes = 0;
    net::cancelLinger(m_tcp);
    m_tcp->abort();
}

// QTcpSocket keeps the chunk each of its buffers last grew to (16 KiB for reads, 32 KiB for
// writes; the touched pages stay resident) for the life of the connection: the write chunk
// from the 101 answer, the read chunk from the last frame the client sent (its join, the pong
// to our ping). Events never need them here (flush() writes to the descriptor). Re-wrapping a
// duplicate of the descriptor with setSocketDescriptor() gives the socket fresh, empty buffers
// and frees both chunks: about 5 KiB of resident memory per idle connection each
// (docs/performance.md). Only from the event loop (never inside QWebSocket's own reading),
// only when nothing is buffered either way, and never for TLS, whose session lives in the
// QSslSocket.
void SocketWriter::releaseBuffers()
{
    if (!m_directWrites || m_tcp->state() != QAbstractSocket::ConnectedState)
        return;
    m_tcp->flush();
    if (m_tcp->bytesToWrite() > 0 || m_tcp->bytesAvailable() > 0)
        return;
    const int fd = ::fcntl(int(m_tcp->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (!m_tcp->setSocketDescriptor(fd, QAbstractSocket::ConnectedState, QIODevice::ReadWrite))
        ::close(fd);
}

} // namespace sb
