#pragma once

#include "hub/Hub.h"

#include <QHash>
#include <QMutex>
#include <QObject>

#include <atomic>
#include <deque>
#include <memory>

class QTcpSocket;
class QTimer;
class QWebSocket;

namespace sb {

class ClientConnection;
class SocketWriter;
struct ServerContext;

// One I/O thread's share of the WebSocket connections. The hub posts pre-encoded frames to
// its bounded queue from any thread; the shard writes them to its own sockets, answers client
// frames, pings, and closes peers that are silent or too slow.
class IoShard final : public QObject, public DeliverySink
{
    Q_OBJECT

public:
    IoShard(int index, const ServerContext *context, QObject *parent = nullptr);
    ~IoShard() override;

    // DeliverySink (any thread)
    bool hasRoomFor(qint64 writes) const override;
    void enqueue(Delivery &&delivery) override;

    // Any thread: hands over a connection whose sockets were just moved to this shard's
    // thread. It starts before any delivery enqueued after this call.
    void enqueueAdoption(ClientConnection *connection);

    // Shard thread only.
    void shutdown(quint16 code);
    void removeConnection(ConnId id);
    // The connection with this id, if this shard still holds it (shard thread only).
    ClientConnection *connection(ConnId id) const { return m_connections.value(id); }
    int index() const { return m_index; }
    // True while the shard works through a batch of deliveries: connections queue their
    // frames and the shard flushes each writer once at the end (coalesced writes).
    bool inBatch() const { return m_inBatch; }
    void markDirty(SocketWriter *writer) { m_dirty.push_back(writer); }
    // Connections still owned by this shard (closing ones included), from any thread.
    qint64 liveConnections() const { return m_live.load(std::memory_order_acquire); }
    const ServerContext *context() const { return m_context; }

    static constexpr qint64 kMaxQueuedWrites = 4'000'000;
    static constexpr qint64 kMaxQueuedDeliveries = 200'000;
    // Released socket buffers or removed connections after which a sweep trims the heap.
    static constexpr qint64 kTrimAfter = 256;

private:
    void drain();
    void flushDirty();
    void sweep();
    void adopt(ClientConnection *connection);

    const int m_index;
    const ServerContext *m_context;
    QHash<ConnId, ClientConnection *> m_connections;
    QTimer *m_sweepTimer = nullptr;
    qint64 m_lastPingMs = 0;
    bool m_shuttingDown = false;
    bool m_inBatch = false;
    qint64 m_removedSinceTrim = 0;
    std::vector<SocketWriter *> m_dirty;
    struct PendingWrite
    {
        SocketWriter *writer;
        int fd;
        qint64 written;
    };
    std::vector<PendingWrite> m_writes;
    std::atomic<qint64> m_live{0};

    mutable QMutex m_queueMutex;
    std::deque<Delivery> m_queue;
    std::vector<ClientConnection *> m_adoptions;
    qint64 m_queuedWrites = 0;
    bool m_wakePending = false;
};

} // namespace sb
