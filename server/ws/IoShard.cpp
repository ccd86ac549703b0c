#include "ws/IoShard.h"

#include "base/Logging.h"
#include "context/ServerContext.h"
#include "ws/ClientConnection.h"
#include "ws/SocketWriter.h"

#include <QDateTime>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace sb {

IoShard::IoShard(int index, const ServerContext *context, QObject *parent)
    : QObject(parent), m_index(index), m_context(context)
{ }

IoShard::~IoShard()
{
    for (ClientConnection *c : std::as_const(m_adoptions)) {
        m_context->hub->closeConnection(c->id());
        delete c;
    }
    for (ClientConnection *c : std::as_const(m_connections)) {
        m_context->hub->closeConnection(c->id());
        delete c;
    }
}

bool IoShard::hasRoomFor(qint64 writes) const
{
    QMutexLocker lock(&m_queueMutex);
    return m_queuedWrites + writes <= kMaxQueuedWrites
            && qint64(m_queue.size()) < kMaxQueuedDeliveries;
}

void IoShard::enqueue(Delivery &&delivery)
{
    QMutexLocker lock(&m_queueMutex);
    m_queuedWrites += delivery.writes();
    m_queue.push_back(std::move(delivery));
    if (!m_wakePending) {
        m_wakePending = true;
        QMetaObject::invokeMethod(this, &IoShard::drain, Qt::QueuedConnection);
    }
}

void IoShard::enqueueAdoption(ClientConnection *connection)
{
    QMutexLocker lock(&m_queueMutex);
    m_adoptions.push_back(connection);
    if (!m_wakePending) {
        m_wakePending = true;
        QMetaObject::invokeMethod(this, &IoShard::drain, Qt::QueuedConnection);
    }
}

void IoShard::drain()
{
    std::deque<Delivery> batch;
    std::vector<ClientConnection *> adoptions;
    {
        QMutexLocker lock(&m_queueMutex);
        batch.swap(m_queue);
        adoptions.swap(m_adoptions);
        m_queuedWrites = 0;
        m_wakePending = false;
    }
    m_inBatch = true;
    // New connections first: no delivery enqueued before their adoption can target them.
    for (ClientConnection *c : adoptions)
        adopt(c);
    for (const Delivery &d : batch) {
        for (ConnId id : d.targets) {
            if (id == d.exclude)
                continue;
            ClientConnection *c = m_connections.value(id);
            if (!c)
                continue;
            if (!d.wire.isEmpty())
                c->send(d.wire, d.countsAsSent);
            if (d.closeCode)
                c->closeWith(d.closeCode, d.closeCode == 4000 ? "closed by an administrator" : "");
        }
    }
    m_inBatch = false;
    // Nothing here deletes a connection: removals are queued to the event loop.
    flushDirty();
}

// One write per connection for everything the batch brought it, in three passes so that the
// system calls run back to back (see SocketWriter::flush()).
void IoShard::flushDirty()
{
    m_writes.clear();
    for (SocketWriter *w : m_dirty) {
        const int fd = w->beginFlush();
        if (fd >= 0)
            m_writes.push_back({w, fd, 0});
    }
    m_dirty.clear();
    for (PendingWrite &w : m_writes)
        w.written = w.writer->writeDirect(w.fd);
    for (const PendingWrite &w : m_writes)
        w.writer->finishFlush(w.written);
    m_writes.clear();
}

void IoShard::adopt(ClientConnection *connection)
{
    QWebSocket *socket = connection->socket();
    if (m_shuttingDown || socket->state() != QAbstractSocket::ConnectedState) {
        m_context->hub->closeConnection(connection->id());
        delete connection;
        return;
    }
    if (!m_sweepTimer) {
        const int intervalMs = m_context->config.pingIntervalS * 1000;
        m_sweepTimer = new QTimer(this);
        m_sweepTimer->setInterval(qBound(250, intervalMs / 4, 5000));
        connect(m_sweepTimer, &QTimer::timeout, this, &IoShard::sweep);
        m_sweepTimer->start();
        m_lastPingMs = QDateTime::currentMSecsSinceEpoch();
    }
    m_connections.insert(connection->id(), connection);
    m_live.store(m_connections.size(), std::memory_order_release);
    connection->start();
}

void IoShard::removeConnection(ConnId id)
{
    ClientConnection *c = m_connections.take(id);
    if (!c)
        return;
    m_live.store(m_connections.size(), std::memory_order_release);
    ++m_removedSinceTrim;
    // The code of the peer's close frame (QWebSocket reports 1000 when there was none).
    const QWebSocket *socket = c->socket();
    const int code = socket ? int(socket->closeCode()) : 1006;
    const QStringList rooms = m_context->hub->closeConnection(id, code);
    qCInfo(lcWs).noquote() << "disconnect" << connectionIdText(id)
                           << (rooms.isEmpty() ? QString()
                                               : QStringLiteral("left ") + rooms.join(u','));
    delete c;
}

void IoShard::sweep()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 intervalMs = qint64(m_context->config.pingIntervalS) * 1000;
    const bool pingNow = now - m_lastPingMs >= intervalMs;
    if (pingNow)
        m_lastPingMs = now;
    QList<ClientConnection *> silent;
    qint64 released = 0;
    for (ClientConnection *c : std::as_const(m_connections)) {
        if (c->isClosing())
            continue;
        if (now - c->lastSeenMs() >= 2 * intervalMs) {
            silent.append(c);
            continue;
        }
        if (pingNow)
            c->ping();
        // The pongs to the last round of pings (and anything else clients sent) left read
        // buffers behind in their sockets: give them back.
        if (c->readSinceRelease()) {
            c->releaseSocketBuffers();
            ++released;
        }
    }
    for (ClientConnection *c : std::as_const(silent)) {
        qCInfo(lcWs).noquote() << "closing silent peer" << connectionIdText(c->id());
        c->abort();
    }
    // glibc keeps freed memory resident (in the middle of the heap) until trimmed: after the
    // buffers of a ping round, or a wave of disconnects (a deploy, a network blip), give it
    // back, or the server stays at its peak size. One pass over the heap, a few milliseconds,
    // at most once per sweep.
    if (released >= kTrimAfter || m_removedSinceTrim >= kTrimAfter) {
        m_removedSinceTrim = 0;
#if defined(__GLIBC__)
        ::malloc_trim(0);
#endif
    }
}

void IoShard::shutdown(quint16 code)
{
    m_shuttingDown = true;
    if (m_sweepTimer)
        m_sweepTimer->stop();
    for (ClientConnection *c : std::as_const(m_connections))
        c->closeWith(code, "server shutting down");
}

} // namespace sb
