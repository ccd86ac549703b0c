#pragma once

#include <QSocketNotifier>
#include <QString>

#include <functional>

struct redisAsyncContext;

namespace sb {

// The event hooks of one hiredis async context on the Qt event loop of the current thread
// (docs/ARCHITECTURE.md, "The Redis client"): a read and a write QSocketNotifier on its socket,
// switched on and off by hiredis's addRead/delRead/addWrite/delWrite hooks. Its cleanup hook
// (the context is being freed) disables both and calls onGone with the reason; after that
// the watch is inert and may be deleted at any later time.
class RedisSocketWatch
{
public:
    RedisSocketWatch(redisAsyncContext *ac, std::function<void()> onReadable,
                     std::function<void()> onWritable, std::function<void(QString)> onGone);
    ~RedisSocketWatch();
    RedisSocketWatch(const RedisSocketWatch &) = delete;
    RedisSocketWatch &operator=(const RedisSocketWatch &) = delete;

private:
    static void addRead(void *privdata);
    static void delRead(void *privdata);
    static void addWrite(void *privdata);
    static void delWrite(void *privdata);
    static void cleanup(void *privdata);

    redisAsyncContext *m_ac;
    QSocketNotifier m_read;
    QSocketNotifier m_write;
    std::function<void(QString)> m_onGone;
};

} // namespace sb
