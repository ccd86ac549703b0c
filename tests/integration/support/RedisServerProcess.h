#pragma once

// Starts a real redis-server (SB_REDIS_SERVER, else redis-server from PATH) on a free
// loopback port, optionally with a unix socket and a password, with no persistence
// (--save "" --appendonly no) in a temporary dir, and waits until it answers PING.
// restart() starts it again on the same port (and socket), so clients can reconnect.
// Its output goes to a file in that dir (output()).

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace sbit {

class RedisServerProcess : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString password;        // --requirepass (the default user)
        bool unixSocket = false; // --unixsocket <dir>/redis.sock as well
        QStringList extraArgs;   // e.g. {"--appendonly", "yes"}
    };

    explicit RedisServerProcess(QObject *parent = nullptr);
    ~RedisServerProcess() override;

    static QString serverPath();

    void setOptions(const Options &options) { m_options = options; }
    Options options() const { return m_options; }

    // Starts (on a new free port the first time, the same port afterwards) and waits for
    // PING. On failure lastError() says why, with the server's output.
    bool start(int timeoutMs = 10000);
    // SIGTERM, waits. False when it did not exit in time (it is killed then).
    bool stop(int timeoutMs = 10000);
    // SIGKILL, waits: the abrupt loss of the server.
    void kill();
    // stop() or kill() if running, then start() on the same port.
    bool restart(int timeoutMs = 10000);
    bool isRunning() const;
    qint64 pid() const;

    QString host() const { return QStringLiteral("127.0.0.1"); }
    quint16 port() const { return m_port; }
    QString unixPath() const; // empty without Options::unixSocket
    QString dir() const { return m_dir.path(); }
    // redis://[:password@]127.0.0.1:port[/db]; unix:///path[?db=N] for unixUrl().
    QString url(int db = 0) const;
    QString unixUrl(int db = 0) const;

    // Runs one command on a fresh blocking connection (AUTH first when there is a
    // password): the reply as text (status, string, integer; an array's elements joined by
    // '\n'), or false with *error (also for an error reply).
    bool call(const QList<QByteArray> &argv, QByteArray *reply = nullptr,
              QString *error = nullptr) const;

    QString output() const;
    QString lastError() const { return m_lastError; }

private:
    bool ping() const;
    static quint16 freePort();

    Options m_options;
    QTemporaryDir m_dir;
    QProcess *m_process = nullptr;
    quint16 m_port = 0;
    int m_starts = 0;
    QString m_logPath;
    QString m_lastError;
};

} // namespace sbit
