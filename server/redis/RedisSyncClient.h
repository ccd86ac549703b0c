#pragma once

#include "redis/RedisReply.h"
#include "redis/RedisUrl.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

struct redisContext;

namespace sb {

// One blocking connection to Redis, for a thread that must answer at once (an I/O thread
// during a join; docs/ARCHITECTURE.md, "The Redis client"). It connects on the first
// command (kConnectTimeoutMs), logs in as the URL says (AUTH, SELECT), and waits at most
// kCommandTimeoutMs for each reply. After a failure the connection is dropped and made again
// on a later call, but not within kRetryAfterMs of the failure: meanwhile calls fail at once,
// so a Redis that is down costs nothing per call. Not thread-safe: one per thread.
class RedisSyncClient
{
public:
    static constexpr int kConnectTimeoutMs = 1000;
    static constexpr int kCommandTimeoutMs = 1000;
    static constexpr int kRetryAfterMs = 250;

    explicit RedisSyncClient(RedisUrl url);
    ~RedisSyncClient();
    RedisSyncClient(const RedisSyncClient &) = delete;
    RedisSyncClient &operator=(const RedisSyncClient &) = delete;

    // Sends one command (binary-safe argv) and waits for its reply. nullopt with *error
    // ("redis: ...") when there is no connection, it could not be made, or it failed or
    // timed out during the command (the connection is then dropped). A Redis error reply is
    // a reply (isError()), not a failure.
    std::optional<RedisReply> command(const QList<QByteArray> &argv, QString *error);

    bool isConnected() const { return m_context != nullptr; }
    RedisUrl url() const { return m_url; }
    // Drops the connection (the next call connects again, with no wait).
    void disconnect();

private:
    bool connect(QString *error);
    void fail(const QString &why, QString *error);

    const RedisUrl m_url;
    redisContext *m_context = nullptr;
    qint64 m_failedAtMs = -1; // steady clock of the last failure; -1: none since the last success
    QString m_lastError;
};

} // namespace sb
