#pragma once

#include "hub/Hub.h"

#include <QElapsedTimer>
#include <QMutex>
#include <QObject>

#include <atomic>
#include <memory>
#include <vector>

class QTimer;
class QWebSocket;

namespace sb {

class AdminFeed;
struct ServerContext;
class StatsSampler;

// The admin stream at /admin (docs/API.md, "Admin stream"). Each observer gets a snapshot
// (connections, rooms, the newest 100 log records, stats, endpoints, outbound clients), then
// the hub's events and the new log records, batched every kFlushMs, the stats once a second,
// and the endpoints and clients lists when they changed (at most every kListsMs each).
//
// Lives on the HTTP thread with its observers' sockets. hubEvent() and recordEmitted() are
// called on any thread under the hub lock: they only append to a pending list, and return at
// once when nobody watches. An observer whose unsent bytes pass max_queue_bytes is closed
// with 1013; nothing ever waits for an observer.
class AdminStream final : public QObject
{
    Q_OBJECT

public:
    AdminStream(const ServerContext *context, const StatsSampler *stats, QObject *parent = nullptr);
    ~AdminStream() override;

    // Takes an upgraded /admin socket (already authenticated) and sends it the snapshot.
    void addObserver(QWebSocket *socket);
    // An in-process observer (the console hosting this server): same frames, no socket.
    void addFeed(const std::shared_ptr<AdminFeed> &feed);
    int observerCount() const { return m_watching.load(std::memory_order_relaxed); }

    // Any thread.
    void hubEvent(const HubEvent &event);
    void recordEmitted(const MessageRecord &record);

    static constexpr int kFlushMs = 100;
    static constexpr int kListsMs = 500;
    static constexpr int kSnapshotLogRecords = 100;
    // Records kept for one batch; beyond it a flood is counted ("dropped"), not buffered.
    static constexpr qsizetype kMaxPendingRecords = 20000;

private:
    // A socket or an in-process feed.
    struct Observer
    {
        QWebSocket *socket = nullptr;
        std::shared_ptr<AdminFeed> feed;
        quint64 snapshotLogId = 0; // records up to this id were in its snapshot
        const void *key() const;
    };

    // Which list changed: set by the registries' change observers on any thread.
    struct Dirty
    {
        std::atomic<bool> endpoints{false};
        std::atomic<bool> clients{false};
    };

    void flush();
    // The endpoints and clients frames of the lists that changed, each at most every kListsMs.
    QList<QByteArray> listFrames();
    QByteArray listsJson() const;
    void sendStats();
    // The records with ids above `after`; empty when there is nothing to send.
    static QByteArray messagesFrame(const std::vector<MessageRecord> &records, quint64 after,
                                    quint64 dropped);
    QByteArray snapshotFrame(quint64 *newestLogId) const;
    // Sends to one observer; false when it was closed as too slow.
    bool sendTo(Observer &observer, const QByteArray &frame);
    void startWatching(Observer observer);
    void removeObserver(const void *key, bool tooSlow);

    const ServerContext *m_context;
    const StatsSampler *m_stats;
    QTimer *m_flushTimer;
    QTimer *m_statsTimer;
    std::vector<Observer> m_observers;
    std::atomic<int> m_watching{0};
    // Shared with the observers given to the registries: safe whatever outlives what.
    std::shared_ptr<Dirty> m_dirty;
    QElapsedTimer m_clock;
    qint64 m_endpointsSentMs = -kListsMs; // on m_clock
    qint64 m_clientsSentMs = -kListsMs;

    QMutex m_mutex; // guards what follows
    std::vector<HubEvent> m_events;
    std::vector<MessageRecord> m_records;
    quint64 m_dropped = 0;
};

} // namespace sb
