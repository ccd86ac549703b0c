#include "redis/RedisSyncClient.h"

#include "redis/HiredisShared.h"

#include <QDeadlineTimer>
#include <QFile>

#include <hiredis/hiredis.h>

#include <cerrno>
#include <memory>

using namespace Qt::StringLiterals;

namespace sb {

namespace {

timeval toTimeval(int ms)
{
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

qint64 steadyMs()
{
    return QDeadlineTimer::current().deadline();
}

struct ReplyFree
{
    void operator()(void *reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<void, ReplyFree>;

} // namespace

RedisSyncClient::RedisSyncClient(RedisUrl url) : m_url(std::move(url)) { }

RedisSyncClient::~RedisSyncClient()
{
    disconnect();
}

void RedisSyncClient::disconnect()
{
    if (m_context)
        redisFree(m_context);
    m_context = nullptr;
}

void RedisSyncClient::fail(const QString &why, QString *error)
{
    disconnect();
    m_failedAtMs = steadyMs();
    m_lastError = why;
    if (error)
        *error = why;
}

bool RedisSyncClient::connect(QString *error)
{
    if (m_failedAtMs >= 0 && steadyMs() - m_failedAtMs < kRetryAfterMs) {
        if (error)
            *error = m_lastError;
        return false;
    }
    const timeval connectTimeout = toTimeval(kConnectTimeoutMs);
    redisContext *c = m_url.isUnix()
            ? redisConnectUnixWithTimeout(QFile::encodeName(m_url.unixPath).constData(),
                                          connectTimeout)
            : redisConnectWithTimeout(m_url.host.toUtf8().constData(), m_url.port, connectTimeout);
    if (!c || c->err) {
        const QString why = c ? QString::fromUtf8(c->errstr) : u"out of memory"_s;
        if (c)
            redisFree(c);
        fail(u"redis: cannot connect to %1: %2"_s.arg(m_url.redacted(), why), error);
        return false;
    }
    m_context = c;
    if (!m_url.isUnix())
        redisEnableKeepAlive(c);
    redisSetTimeout(c, toTimeval(kCommandTimeoutMs));
    for (const auto &[step, argv] : loginCommands(m_url)) {
        HiredisArgv args(argv);
        const ReplyPtr reply(
                redisCommandArgv(m_context, args.count(), args.ptrs.data(), args.lens.data()));
        const auto *r = static_cast<const redisReply *>(reply.get());
        if (!r || r->type == REDIS_REPLY_ERROR) {
            const QString why = r ? QString::fromUtf8(r->str, qsizetype(r->len))
                                  : QString::fromUtf8(m_context->errstr);
            fail(u"redis: %1 refused: %2"_s.arg(QString::fromLatin1(step), why), error);
            return false;
        }
    }
    m_failedAtMs = -1;
    return true;
}

std::optional<RedisReply> RedisSyncClient::command(const QList<QByteArray> &argv, QString *error)
{
    if (argv.isEmpty()) {
        if (error)
            *error = u"redis: empty command"_s;
        return std::nullopt;
    }
    if (!m_context && !connect(error))
        return std::nullopt;
    HiredisArgv args(argv);
    const ReplyPtr reply(
            redisCommandArgv(m_context, args.count(), args.ptrs.data(), args.lens.data()));
    if (!reply) {
        const QString why = m_context->err == REDIS_ERR_IO && errno == EAGAIN
                ? u"no reply within %1 ms"_s.arg(kCommandTimeoutMs)
                : QString::fromUtf8(m_context->errstr);
        fail(u"redis: %1 failed: %2"_s.arg(QString::fromUtf8(argv.first()), why), error);
        return std::nullopt;
    }
    return fromHiredis(static_cast<const redisReply *>(reply.get()));
}

} // namespace sb
