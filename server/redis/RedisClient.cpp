#include "redis/RedisClient.h"

#include "redis/HiredisShared.h"
#include "redis/RedisSocketWatch.h"

#include <QFile>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QThread>
#include <QTimer>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>

using namespace Qt::StringLiterals;

namespace sb {

Q_LOGGING_CATEGORY(lcRedis, "switchboard.redis", QtInfoMsg)

struct RedisClient::Pending
{
    Callback cb;
    qint64 bytes = 0;
    qint64 startNs = 0;
    const char *step = nullptr; // a handshake command (AUTH, SELECT...): not the caller's
    bool last = false;          // the last handshake command
};

struct RedisClient::Subscription : std::enable_shared_from_this<Subscription>
{
    QByteArray name;
    bool pattern = false;
    MessageHandler onMessage;
};

namespace {

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
}

int sendArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
             const QList<QByteArray> &argv)
{
    HiredisArgv args(argv);
    return redisAsyncCommandArgv(ac, fn, privdata, args.count(), args.ptrs.data(),
                                 args.lens.data());
}

bool isSubscriptionCommand(const QByteArray &name)
{
    static const QByteArray names[] = {"SUBSCRIBE",  "PSUBSCRIBE",   "UNSUBSCRIBE", "PUNSUBSCRIBE",
                                       "SSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"};
    const QByteArray upper = name.toUpper();
    return std::find(std::begin(names), std::end(names), upper) != std::end(names);
}

} // namespace

RedisClient::RedisClient(QObject *parent)
    : QObject(parent),
      m_connectTimer(new QTimer(this)),
      m_reconnectTimer(new QTimer(this)),
      m_dispatch(std::make_shared<Dispatch>()),
      m_alive(std::make_shared<int>(0))
{
    m_connectTimer->setSingleShot(true);
    m_connectTimer->setInterval(kConnectTimeoutMs);
    connect(m_connectTimer, &QTimer::timeout, this, [this] {
        if (m_state != State::Connecting)
            return;
        const auto dispatch = m_dispatch;
        const QString why = u"no connection and handshake within %1 ms"_s.arg(kConnectTimeoutMs);
        teardown(u"connect timed out"_s);
        postGuarded([this, why] { failAttempt(why); });
        flush(dispatch);
    });
    m_reconnectTimer->setSingleShot(true);
    connect(m_reconnectTimer, &QTimer::timeout, this, [this] {
        const auto dispatch = m_dispatch;
        startAttempt();
        flush(dispatch);
    });
}

RedisClient::~RedisClient()
{
    m_alive.reset(); // no guarded task touches this object any more
    m_state = State::Closed;
    const auto dispatch = m_dispatch;
    teardown(u"client destroyed"_s);
    m_watch.reset();
    m_oldWatch.reset();
    flush(dispatch); // or, when deleted from a callback, the running flush does it
}

void RedisClient::open(const RedisUrl &url, const QByteArray &clientName)
{
    Q_ASSERT(thread() == QThread::currentThread());
    const auto dispatch = m_dispatch;
    teardown(u"client reopened"_s);
    m_reconnectTimer->stop();
    m_url = url;
    m_clientName = clientName;
    m_state = State::Idle;
    m_backoffMs = kFirstBackoffMs;
    startAttempt();
    flush(dispatch);
}

void RedisClient::close()
{
    const auto dispatch = m_dispatch;
    m_state = State::Closed;
    m_connectTimer->stop();
    m_reconnectTimer->stop();
    teardown(u"client closed"_s);
    flush(dispatch);
}

void RedisClient::setPendingLimits(qint64 maxCommands, qint64 maxBytes)
{
    m_maxCommands = maxCommands;
    m_maxBytes = maxBytes;
}

void RedisClient::setLatencyObserver(std::function<void(qint64)> observer)
{
    m_latencyObserver = std::move(observer);
}

void RedisClient::startAttempt()
{
    if (m_state != State::Idle || m_ac)
        return;
    m_oldWatch.reset();
    m_state = State::Connecting;
    m_handshakeError.clear();
    redisAsyncContext *ac = m_url.isUnix()
            ? redisAsyncConnectUnix(QFile::encodeName(m_url.unixPath).constData())
            : redisAsyncConnect(m_url.host.toUtf8().constData(), m_url.port);
    if (!ac || ac->err) {
        const QString why = ac ? QString::fromUtf8(ac->errstr) : u"out of memory"_s;
        if (ac)
            redisAsyncFree(ac);
        postGuarded([this, why] { failAttempt(why); });
        return;
    }
    m_ac = ac;
    ac->data = this;
    if (!m_url.isUnix())
        redisEnableKeepAlive(&ac->c);
    m_watch = std::make_unique<RedisSocketWatch>(
            ac, [this] { handleRead(); }, [this] { handleWrite(); },
            [this](const QString &why) { contextGone(why); });
    m_connectTimer->start();
    sendHandshake(); // queued until the socket connects (the write hook is switched on)
}

void RedisClient::sendHandshake()
{
    std::vector<std::pair<const char *, QList<QByteArray>>> steps = loginCommands(m_url);
    if (!m_clientName.isEmpty())
        steps.emplace_back("CLIENT SETNAME", QList<QByteArray>{"CLIENT", "SETNAME", m_clientName});
    steps.emplace_back("PING", QList<QByteArray>{"PING"}); // the server answers at all
    for (size_t i = 0; i < steps.size(); ++i) {
        auto pending = std::make_unique<Pending>();
        pending->step = steps[i].first;
        pending->last = i + 1 == steps.size();
        if (sendArgv(m_ac, &RedisClient::onReply, pending.get(), steps[i].second) == REDIS_OK)
            pending.release();
    }
}

void RedisClient::onReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    // Inside hiredis: only bookkeeping here; the caller's code runs from flush().
    auto *self = static_cast<RedisClient *>(ac->data);
    std::unique_ptr<Pending> pending(static_cast<Pending *>(privdata));
    const auto *r = static_cast<const redisReply *>(reply);
    if (pending->step) {
        if (r)
            self->handshakeReply(fromHiredis(r), pending->step, pending->last);
        return;
    }
    --self->m_pendingCommands;
    self->m_pendingBytes -= pending->bytes;
    RedisReply value;
    qint64 rtt = -1;
    if (r) {
        value = fromHiredis(r);
        rtt = nowNs() - pending->startNs;
    } else {
        const QString why = self->m_tearingDown ? self->m_teardownWhy
                : ac->err                       ? QString::fromUtf8(ac->errstr)
                                                : u"connection closed"_s;
        value = RedisReply::error("connection lost: " + why.toUtf8());
    }
    self->post([alive = std::weak_ptr<int>(self->m_alive), self, rtt, cb = std::move(pending->cb),
                value = std::move(value)] {
        if (rtt >= 0 && !alive.expired() && self->m_latencyObserver)
            self->m_latencyObserver(rtt);
        if (cb)
            cb(value);
    });
}

void RedisClient::handshakeReply(const RedisReply &reply, const char *step, bool last)
{
    if (reply.isError() && m_handshakeError.isEmpty())
        m_handshakeError = QString::fromLatin1(step) + u" refused: "_s + reply.errorText();
    if (last)
        postGuarded([this] { finishHandshake(); });
}

void RedisClient::finishHandshake()
{
    if (m_state != State::Connecting || !m_ac)
        return;
    m_connectTimer->stop();
    if (!m_handshakeError.isEmpty()) {
        const QString why = m_handshakeError;
        teardown(why);
        failAttempt(why);
        return;
    }
    m_state = State::Connected;
    m_backoffMs = kFirstBackoffMs;
    qCInfo(lcRedis, "connected to %s", qPrintable(m_url.redacted()));
    for (const auto &sub : m_subscriptions)
        sendSubscription(sub.get());
    Q_EMIT connected();
}

void RedisClient::contextGone(const QString &why)
{
    // The cleanup hook: hiredis is freeing the context (a loss, or teardown()).
    m_ac = nullptr;
    m_oldWatch = std::move(m_watch); // its notifiers may be the ones running now
    if (m_tearingDown)
        return;
    const bool wasConnected = m_state == State::Connected;
    if (m_state != State::Closed)
        m_state = State::Idle;
    postGuarded([this, why, wasConnected] { lost(why, wasConnected); });
}

void RedisClient::lost(const QString &why, bool wasConnected)
{
    if (m_state != State::Idle || m_ac)
        return; // closed or reopened meanwhile
    m_connectTimer->stop();
    scheduleReconnect();
    if (!wasConnected) {
        Q_EMIT failed(u"redis: "_s + m_url.redacted() + u": "_s + why);
        return;
    }
    qCWarning(lcRedis, "lost %s: %s", qPrintable(m_url.redacted()), qPrintable(why));
    Q_EMIT disconnected(why);
}

void RedisClient::failAttempt(const QString &why)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Idle;
    m_connectTimer->stop();
    scheduleReconnect();
    Q_EMIT failed(u"redis: "_s + m_url.redacted() + u": "_s + why);
}

void RedisClient::teardown(const QString &why)
{
    // Never called from inside hiredis (only from our own slots and flush()'s tasks).
    if (!m_ac)
        return;
    m_tearingDown = true;
    m_teardownWhy = why;
    redisAsyncFree(m_ac); // pending callbacks -> onReply(nullptr); cleanup -> contextGone
    m_ac = nullptr;
    m_tearingDown = false;
}

void RedisClient::scheduleReconnect()
{
    const double jitter = 0.8 + 0.4 * QRandomGenerator::global()->generateDouble();
    m_reconnectTimer->start(int(m_backoffMs * jitter));
    m_backoffMs = std::min(m_backoffMs * 2, kMaxBackoffMs);
}

bool RedisClient::command(const QList<QByteArray> &argv, Callback cb)
{
    if (m_state != State::Connected || !m_ac || argv.isEmpty() || !m_subscriptions.empty()
        || isSubscriptionCommand(argv.front()))
        return false;
    qint64 bytes = 0;
    for (const QByteArray &arg : argv)
        bytes += arg.size();
    if (m_pendingCommands + 1 > m_maxCommands || m_pendingBytes + bytes > m_maxBytes)
        return false;
    auto pending = std::make_unique<Pending>();
    pending->cb = std::move(cb);
    pending->bytes = bytes;
    pending->startNs = nowNs();
    if (sendArgv(m_ac, &RedisClient::onReply, pending.get(), argv) != REDIS_OK)
        return false;
    pending.release();
    ++m_pendingCommands;
    m_pendingBytes += bytes;
    return true;
}

bool RedisClient::subscribe(const QByteArray &channel, MessageHandler onMessage)
{
    return addSubscription(channel, false, std::move(onMessage));
}

bool RedisClient::psubscribe(const QByteArray &pattern, MessageHandler onMessage)
{
    return addSubscription(pattern, true, std::move(onMessage));
}

bool RedisClient::addSubscription(const QByteArray &name, bool pattern, MessageHandler onMessage)
{
    if (name.isEmpty() || !onMessage || m_pendingCommands > 0)
        return false;
    for (const auto &sub : m_subscriptions) {
        if (sub->name == name && sub->pattern == pattern)
            return false;
    }
    auto sub = std::make_shared<Subscription>();
    sub->name = name;
    sub->pattern = pattern;
    sub->onMessage = std::move(onMessage);
    m_subscriptions.push_back(std::move(sub));
    if (m_state == State::Connected && m_ac)
        sendSubscription(m_subscriptions.back().get());
    return true;
}

bool RedisClient::sendSubscription(Subscription *sub)
{
    const QList<QByteArray> argv{sub->pattern ? "PSUBSCRIBE" : "SUBSCRIBE", sub->name};
    return sendArgv(m_ac, &RedisClient::onSubscriptionReply, sub, argv) == REDIS_OK;
}

void RedisClient::onSubscriptionReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    // Called for the confirmation and for every message; with nullptr when the context goes.
    const auto *r = static_cast<const redisReply *>(reply);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    auto *self = static_cast<RedisClient *>(ac->data);
    auto *sub = static_cast<Subscription *>(privdata);
    const QByteArray kind(r->element[0]->str, qsizetype(r->element[0]->len));
    const size_t first = kind == "message" ? 1 : kind == "pmessage" ? 2 : 0;
    if (first == 0 || r->elements < first + 2)
        return;
    const redisReply *channel = r->element[first];
    const redisReply *message = r->element[first + 1];
    // The task keeps the subscription: its handler may delete the client.
    self->postGuarded(
            [sub = sub->shared_from_this(), ch = QByteArray(channel->str, qsizetype(channel->len)),
             msg = QByteArray(message->str, qsizetype(message->len))] { sub->onMessage(ch, msg); });
}

void RedisClient::handleRead()
{
    const auto dispatch = m_dispatch;
    if (m_ac)
        redisAsyncHandleRead(m_ac);
    flush(dispatch); // this object may be gone after it
}

void RedisClient::handleWrite()
{
    const auto dispatch = m_dispatch;
    if (m_ac)
        redisAsyncHandleWrite(m_ac);
    flush(dispatch);
}

void RedisClient::post(std::function<void()> task)
{
    m_dispatch->tasks.push_back(std::move(task));
}

void RedisClient::postGuarded(std::function<void()> task)
{
    post([alive = std::weak_ptr<int>(m_alive), task = std::move(task)] {
        if (!alive.expired())
            task();
    });
}

void RedisClient::flush(std::shared_ptr<Dispatch> dispatch)
{
    // Runs the callbacks and signals that hiredis's callbacks queued, in order, once hiredis
    // has returned. Re-entered (a callback called close()), it leaves them to the outer run.
    if (dispatch->depth > 0)
        return;
    ++dispatch->depth;
    while (!dispatch->tasks.empty()) {
        auto task = std::move(dispatch->tasks.front());
        dispatch->tasks.pop_front();
        task();
    }
    --dispatch->depth;
}

} // namespace sb
