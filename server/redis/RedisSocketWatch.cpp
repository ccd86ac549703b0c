#include "redis/RedisSocketWatch.h"

#include <hiredis/async.h>

using namespace Qt::StringLiterals;

namespace sb {

RedisSocketWatch::RedisSocketWatch(redisAsyncContext *ac, std::function<void()> onReadable,
                                   std::function<void()> onWritable,
                                   std::function<void(QString)> onGone)
    : m_ac(ac),
      m_read(ac->c.fd, QSocketNotifier::Read),
      m_write(ac->c.fd, QSocketNotifier::Write),
      m_onGone(std::move(onGone))
{
    m_read.setEnabled(false);
    m_write.setEnabled(false);
    // The callbacks may delete this watch (through the client): nothing here runs after them.
    QObject::connect(&m_read, &QSocketNotifier::activated, &m_read,
                     [cb = std::move(onReadable)] { cb(); });
    QObject::connect(&m_write, &QSocketNotifier::activated, &m_write,
                     [cb = std::move(onWritable)] { cb(); });
    ac->ev.data = this;
    ac->ev.addRead = &RedisSocketWatch::addRead;
    ac->ev.delRead = &RedisSocketWatch::delRead;
    ac->ev.addWrite = &RedisSocketWatch::addWrite;
    ac->ev.delWrite = &RedisSocketWatch::delWrite;
    ac->ev.cleanup = &RedisSocketWatch::cleanup;
}

namespace {

void detach(redisAsyncContext *ac)
{
    ac->ev.data = nullptr;
    ac->ev.addRead = ac->ev.delRead = ac->ev.addWrite = ac->ev.delWrite = nullptr;
    ac->ev.cleanup = nullptr;
}

} // namespace

RedisSocketWatch::~RedisSocketWatch()
{
    if (m_ac) // still attached: hiredis must not call into freed memory
        detach(m_ac);
}

void RedisSocketWatch::addRead(void *privdata)
{
    static_cast<RedisSocketWatch *>(privdata)->m_read.setEnabled(true);
}

void RedisSocketWatch::delRead(void *privdata)
{
    static_cast<RedisSocketWatch *>(privdata)->m_read.setEnabled(false);
}

void RedisSocketWatch::addWrite(void *privdata)
{
    static_cast<RedisSocketWatch *>(privdata)->m_write.setEnabled(true);
}

void RedisSocketWatch::delWrite(void *privdata)
{
    static_cast<RedisSocketWatch *>(privdata)->m_write.setEnabled(false);
}

void RedisSocketWatch::cleanup(void *privdata)
{
    // Called while hiredis frees the context, before it closes the socket.
    auto *self = static_cast<RedisSocketWatch *>(privdata);
    self->m_read.setEnabled(false);
    self->m_write.setEnabled(false);
    redisAsyncContext *ac = self->m_ac;
    self->m_ac = nullptr;
    detach(ac);
    const QString why = ac->err ? QString::fromUtf8(ac->errstr) : u"connection closed"_s;
    if (self->m_onGone)
        self->m_onGone(why);
}

} // namespace sb
