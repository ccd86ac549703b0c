#include "RedisServerProcess.h"

#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTcpServer>
#include <QUrl>

#include <hiredis/hiredis.h>

#include <memory>
#include <vector>

using namespace Qt::StringLiterals;

namespace sbit {

namespace {

struct ContextFree
{
    void operator()(redisContext *c) const { redisFree(c); }
};
struct ReplyFree
{
    void operator()(redisReply *r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Reply run(redisContext *c, const QList<QByteArray> &argv)
{
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    for (const QByteArray &arg : argv) {
        ptrs.push_back(arg.constData());
        lens.push_back(size_t(arg.size()));
    }
    return Reply(static_cast<redisReply *>(
            redisCommandArgv(c, int(argv.size()), ptrs.data(), lens.data())));
}

QByteArray replyText(const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        return QByteArray::number(r->integer);
    case REDIS_REPLY_ARRAY: {
        QByteArrayList parts;
        for (size_t i = 0; i < r->elements; ++i)
            parts << replyText(r->element[i]);
        return parts.join('\n');
    }
    case REDIS_REPLY_NIL:
        return {};
    default:
        return QByteArray(r->str, qsizetype(r->len));
    }
}

} // namespace

RedisServerProcess::RedisServerProcess(QObject *parent) : QObject(parent) { }

RedisServerProcess::~RedisServerProcess()
{
    kill();
}

QString RedisServerProcess::serverPath()
{
    const QString fromEnv = qEnvironmentVariable("SB_REDIS_SERVER");
    if (!fromEnv.isEmpty())
        return fromEnv;
    const QString found = QStandardPaths::findExecutable(u"redis-server"_s);
    return found.isEmpty() ? u"/usr/bin/redis-server"_s : found;
}

quint16 RedisServerProcess::freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QString RedisServerProcess::unixPath() const
{
    return m_options.unixSocket ? QDir(m_dir.path()).filePath(u"redis.sock"_s) : QString();
}

bool RedisServerProcess::start(int timeoutMs)
{
    kill();
    m_lastError.clear();
    if (!m_dir.isValid()) {
        m_lastError = u"cannot create a temporary dir"_s;
        return false;
    }
    const bool samePort = m_port != 0;
    for (int attempt = 0; attempt < (samePort ? 1 : 3); ++attempt) {
        if (!samePort)
            m_port = freePort();
        ++m_starts;
        m_logPath = QDir(m_dir.path()).filePath(u"redis-output-%1.txt"_s.arg(m_starts));
        QStringList args{u"--port"_s,       QString::number(m_port),
                         u"--bind"_s,       u"127.0.0.1"_s,
                         u"--save"_s,       u""_s,
                         u"--appendonly"_s, u"no"_s,
                         u"--dir"_s,        m_dir.path(),
                         u"--daemonize"_s,  u"no"_s};
        if (m_options.unixSocket)
            args << u"--unixsocket"_s << unixPath() << u"--unixsocketperm"_s << u"700"_s;
        if (!m_options.password.isEmpty())
            args << u"--requirepass"_s << m_options.password;
        args << m_options.extraArgs; // later arguments win
        m_process = new QProcess(this);
        m_process->setProgram(serverPath());
        m_process->setArguments(args);
        m_process->setStandardOutputFile(m_logPath);
        m_process->setStandardErrorFile(m_logPath, QIODevice::Append);
        m_process->setStandardInputFile(QProcess::nullDevice());
        m_process->start();
        if (!m_process->waitForStarted(5000)) {
            m_lastError = u"cannot start "_s + serverPath() + u": "_s + m_process->errorString();
            kill();
            return false;
        }
        if (waitUntil([&] { return !isRunning() || ping(); }, timeoutMs) && isRunning())
            return true;
        m_lastError = u"redis-server on port %1 did not answer PING within %2 ms; args: %3\n"
                      u"--- output ---\n%4"_s.arg(m_port)
                              .arg(timeoutMs)
                              .arg(args.join(u' '), output());
        kill(); // the port may have been taken meanwhile: try another one
    }
    return false;
}

bool RedisServerProcess::stop(int timeoutMs)
{
    if (!isRunning())
        return true;
    m_process->terminate();
    if (!waitUntil([&] { return !isRunning(); }, timeoutMs)) {
        m_lastError = u"redis-server did not exit within %1 ms after SIGTERM"_s.arg(timeoutMs);
        kill();
        return false;
    }
    return true;
}

void RedisServerProcess::kill()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    delete m_process;
    m_process = nullptr;
}

bool RedisServerProcess::restart(int timeoutMs)
{
    if (isRunning() && !stop(timeoutMs))
        return false;
    return start(timeoutMs);
}

bool RedisServerProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

qint64 RedisServerProcess::pid() const
{
    return m_process ? m_process->processId() : -1;
}

QString RedisServerProcess::url(int db) const
{
    QString out = u"redis://"_s;
    if (!m_options.password.isEmpty())
        out += u':' + QString::fromUtf8(QUrl::toPercentEncoding(m_options.password)) + u'@';
    out += u"127.0.0.1:"_s + QString::number(m_port);
    return db != 0 ? out + u'/' + QString::number(db) : out;
}

QString RedisServerProcess::unixUrl(int db) const
{
    return u"unix://"_s + unixPath() + (db != 0 ? u"?db="_s + QString::number(db) : QString());
}

bool RedisServerProcess::ping() const
{
    return call({"PING"});
}

bool RedisServerProcess::call(const QList<QByteArray> &argv, QByteArray *reply,
                              QString *error) const
{
    const auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    const timeval timeout{2, 0};
    Context c(redisConnectWithTimeout("127.0.0.1", m_port, timeout));
    if (!c || c->err)
        return fail(c ? QString::fromUtf8(c->errstr) : u"out of memory"_s);
    redisSetTimeout(c.get(), timeout);
    if (!m_options.password.isEmpty()) {
        const Reply auth = run(c.get(), {"AUTH", m_options.password.toUtf8()});
        if (!auth || auth->type == REDIS_REPLY_ERROR)
            return fail(u"AUTH failed"_s);
    }
    const Reply r = run(c.get(), argv);
    if (!r)
        return fail(QString::fromUtf8(c->errstr));
    if (r->type == REDIS_REPLY_ERROR)
        return fail(QString::fromUtf8(r->str));
    if (reply)
        *reply = replyText(r.get());
    return true;
}

QString RedisServerProcess::output() const
{
    QFile f(m_logPath);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

} // namespace sbit
