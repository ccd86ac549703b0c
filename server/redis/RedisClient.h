#pragma once

#include "redis/RedisReply.h"
#include "redis/RedisUrl.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

struct redisAsyncContext;

class QTimer;

namespace sb {

class RedisSocketWatch;

// One connection to Redis, driven by the event loop of the thread it lives on
// (docs/ARCHITECTURE.md, "The Redis client"): create it on that thread and call everything there.
// It reconnects by itself after any loss (250 ms doubling to 5 s, +-20% jitter) until close().
//
// Callbacks (of commands and subscriptions) and signals never run inside the client library:
// they run once it has returned, so a callback may call command(), close() or delete the
// client. Every command callback runs exactly once: with the reply, or with an Error reply
// whose text starts "connection lost" when the connection goes (or the client is closed or
// destroyed; the destructor runs those callbacks before it returns, or right after the
// callback that deleted the client).
class RedisClient : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(const RedisReply &)>;
    using MessageHandler =
            std::function<void(const QByteArray &channel, const QByteArray &message)>;

    static constexpr int kConnectTimeoutMs = 2000;
    static constexpr int kFirstBackoffMs = 250;
    static constexpr int kMaxBackoffMs = 5000;

    explicit RedisClient(QObject *parent = nullptr);
    ~RedisClient() override;

    // Connects (TCP or unix), then sends AUTH (with the password, and the user when given),
    // SELECT (db != 0) and CLIENT SETNAME (clientName not empty) ahead of everything else;
    // connected() when they succeeded. A refused handshake, a connect error or the connect
    // timeout emit failed() and the client tries again with backoff.
    void open(const RedisUrl &url, const QByteArray &clientName = {});
    // Stops for good: pending callbacks get "connection lost: client closed", no reconnect.
    void close();
    bool isConnected() const { return m_state == State::Connected; }
    RedisUrl url() const { return m_url; }

    // Sends one command (binary-safe argv), pipelined behind those in flight. False, and
    // nothing queued, when not connected, when the pending limits would be passed, when
    // argv is empty, on a client with subscriptions, or for (P)(UN)SUBSCRIBE and MONITOR
    // (use subscribe()/psubscribe()).
    bool command(const QList<QByteArray> &argv, Callback cb = {});

    // A client used for pub/sub only. onMessage gets every message of the channel (or of the
    // channels matching the pattern); the subscription is made again after every reconnect.
    // False when already subscribed to that name, or when commands are in flight. Takes effect at
    // once when connected, else on connect.
    bool subscribe(const QByteArray &channel, MessageHandler onMessage);
    bool psubscribe(const QByteArray &pattern, MessageHandler onMessage);

    // Bounds of what may be in flight (defaults 100,000 commands, 64 MiB of argv bytes).
    void setPendingLimits(qint64 maxCommands, qint64 maxBytes);
    qint64 pendingCommands() const { return m_pendingCommands; }
    qint64 pendingBytes() const { return m_pendingBytes; }

    // Called with each command's round-trip time in nanoseconds (replies only, not losses).
    void setLatencyObserver(std::function<void(qint64 ns)> observer);

Q_SIGNALS:
    void connected();
    // Once per loss of an established connection; the client is already reconnecting.
    void disconnected(const QString &why);
    // A connect attempt failed (connect error, timeout, AUTH/SELECT refused): "redis: ...".
    void failed(const QString &why);

private:
    enum class State { Idle, Connecting, Connected, Closed };
    struct Pending;
    struct Subscription;
    struct Dispatch
    {
        std::deque<std::function<void()>> tasks;
        int depth = 0;
    };

    static void onReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onSubscriptionReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void flush(std::shared_ptr<Dispatch> dispatch);

    void startAttempt();
    void sendHandshake();
    void handshakeReply(const RedisReply &reply, const char *step, bool last);
    void finishHandshake();
    void contextGone(const QString &why);
    void lost(const QString &why, bool wasConnected);
    void failAttempt(const QString &why);
    void teardown(const QString &why);
    void scheduleReconnect();
    bool sendSubscription(Subscription *sub);
    bool addSubscription(const QByteArray &name, bool pattern, MessageHandler onMessage);
    void post(std::function<void()> task);
    void postGuarded(std::function<void()> task);
    void handleRead();
    void handleWrite();

    RedisUrl m_url;
    QByteArray m_clientName;
    State m_state = State::Idle;
    redisAsyncContext *m_ac = nullptr;
    std::unique_ptr<RedisSocketWatch> m_watch;
    std::unique_ptr<RedisSocketWatch> m_oldWatch; // of the context that went, disabled
    bool m_tearingDown = false;
    QString m_teardownWhy;
    QString m_handshakeError;
    QTimer *m_connectTimer = nullptr;
    QTimer *m_reconnectTimer = nullptr;
    int m_backoffMs = kFirstBackoffMs;
    qint64 m_maxCommands = 100'000;
    qint64 m_maxBytes = 64LL * 1024 * 1024;
    qint64 m_pendingCommands = 0;
    qint64 m_pendingBytes = 0;
    std::function<void(qint64)> m_latencyObserver;
    std::vector<std::shared_ptr<Subscription>> m_subscriptions;
    std::shared_ptr<Dispatch> m_dispatch;
    std::shared_ptr<int> m_alive;
};

} // namespace sb
