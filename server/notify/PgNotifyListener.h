#pragma once

#include "base/Message.h"
#include "notify/NotifyEnvelope.h"
#include "store/PgUrl.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QString>

#include <atomic>
#include <deque>

class QTimer;

namespace sb {

class EmitService;

// LISTEN/NOTIFY ingest (docs/API.md, "Database notifications (LISTEN/NOTIFY)"): a connection of its
// own to PostgreSQL through Qt's QPSQL driver LISTENs on one channel; each notification is
// authenticated (NotifyVerifier: signed by switchboard.notify() with the API key, fresh, not
// replayed), its payload read like a REST emit body (NotifyPayload) and published to the hub with
// source notify, so it gets an id, a log record, deliveries and metrics exactly as a REST call
// would. PostgreSQL delivers a notification only once its transaction has committed, so a trigger
// that notifies publishes nothing when its transaction rolls back. Any role that may connect
// can NOTIFY (PostgreSQL checks no privilege for it): what does not verify is dropped, counted
// in switchboard_notify_rejected_total and logged with a warning at most every 10 s, without
// the payload. A signed payload that is no valid emit is logged with the reason and skipped.
//
// The object lives on a thread of its own (the Server's "switchboard-pg-listen") and is driven
// by start() and stop() there; everything else happens on that thread's event loop.
//
// Losing the database: Qt 6.4's QSqlDriver has no signal for it. The driver reads the
// connection's socket whenever it becomes readable (its own QSocketNotifier, which has no
// parent and so cannot be reached), and when the server closes the connection (shutdown,
// restart, pg_terminate_backend) libpq marks it CONNECTION_BAD there: the listener looks at that
// state every stateCheckMs (no I/O, just the flag). A connection that dies silently (a host
// gone, a cable pulled) is caught by a `SELECT 1` every healthCheckMs and by TCP keepalives.
// Then the connection is closed and opened again with exponential backoff (with jitter) and
// the channel is LISTENed to again. Notifications sent while no connection listens are lost
// (PostgreSQL keeps none for absent listeners).
class PgNotifyListener final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        PgUrl url;
        QString channel = QStringLiteral("switchboard");
        QByteArray apiKey;          // signs notifications; empty: they are not authenticated
        Metrics *metrics = nullptr; // counts rejected notifications (may be null)
        qint64 maxAgeMs = 60000;    // NotifyVerifier::Options
        qint64 maxAheadMs = 60000;
        int rejectLogMs = 10000;  // a warning about rejected notifications at most this often
        int stateCheckMs = 100;   // look at the connection's state (no I/O) this often
        int healthCheckMs = 5000; // SELECT 1 on the listening connection this often
        int minRetryMs = 250;     // first reconnect delay; doubles up to maxRetryMs
        int maxRetryMs = 15000;
        int busyRetryMs = 50;        // the hub refused an emit (full queues): retry after this
        int maxPending = 10000;      // emits waiting for the hub; beyond, the oldest are dropped
        int maxPendingAgeMs = 10000; // ...and those waiting longer than this
        // Cluster: one node of those sharing the database and the channel listens at a time,
        // the holder of a PostgreSQL advisory lock; the others try every standbyRetryMs
        // (docs/API.md, "Cluster").
        bool exclusive = false;
        int standbyRetryMs = 2000;
    };

    PgNotifyListener(Options options, const EmitService *emits, QObject *parent = nullptr);
    ~PgNotifyListener() override;

    // On the listener's thread: connects (retrying in the background when the database cannot
    // be reached) and LISTENs. Never blocks for longer than one connection attempt.
    void start();
    // On the listener's thread: closes the connection and stops every timer.
    void stop();

    // Any thread.
    bool isListening() const { return m_listening.load(std::memory_order_acquire); }
    quint64 notificationsReceived() const { return m_received.load(std::memory_order_relaxed); }
    quint64 notificationsSkipped() const { return m_skipped.load(std::memory_order_relaxed); }
    quint64 reconnects() const { return m_reconnects.load(std::memory_order_relaxed); }

    // The libpq options the listening connection adds to those of the URL: fail a connection
    // attempt after 5 s, TCP keepalives so that a dead peer is noticed.
    static QString connectOptions();
    // The advisory lock key of the listeners of `channel` (exclusive).
    static qint64 lockKey(const QString &channel);

Q_SIGNALS:
    // The listening state changed (connected and LISTENing, or lost).
    void listeningChanged(bool listening);

private:
    void tryConnect();
    void closeConnection();
    void connectionLost(const QString &why);
    void scheduleReconnect();
    void checkConnection(bool query);
    void onNotification(const QString &name, QSqlDriver::NotificationSource source,
                        const QVariant &payload);
    void publishPending();
    bool holdsListenLock(QSqlDatabase &db, QString *error);
    void standBy();
    void published(const EmitResult *result); // null: refused
    void rejected(NotifyRejectReason reason, const QString &why);

    const Options m_options;
    const EmitService *const m_emits;
    const QString m_connectionName;
    const QString m_remote; // host:port of the database: the log records' "remote"
    QSqlDatabase m_db;
    QTimer *m_healthTimer = nullptr;
    QTimer *m_stateTimer = nullptr;
    QTimer *m_retryTimer = nullptr;
    QTimer *m_busyTimer = nullptr;
    int m_retryDelayMs = 0;
    int m_failedAttempts = 0;
    bool m_everConnected = false;
    bool m_stopped = true;
    bool m_standingBy = false; // exclusive: another node holds the lock
    bool m_inFlight = false;   // an emit of m_pending.front() awaits its answer
    bool m_publishing = false; // publishPending() is running

    struct Pending
    {
        EmitRequest request;
        qint64 sinceMs = 0;
    };
    std::deque<Pending> m_pending; // refused by the hub (queues full), oldest first
    NotifyVerifier m_verifier;
    QElapsedTimer m_rejectLog;     // since the last warning about a rejected notification
    quint64 m_rejectsUnlogged = 0; // rejected since then without a warning

    std::atomic<bool> m_listening{false};
    std::atomic<quint64> m_received{0};
    std::atomic<quint64> m_skipped{0};
    std::atomic<quint64> m_reconnects{0};
};

} // namespace sb
