#pragma once

// Starts switchboardd (SWITCHBOARDD_PATH) on 127.0.0.1:0 with a fresh data dir, an API key
// and a JWT secret, waits for "listening on http(s)://HOST:PORT" and knows how to reach it.
// stdout and stderr go to a file in the data dir (never a pipe that could fill up and
// block the daemon while a test is busy), so the output is available after a crash too.

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>

#include <memory>

namespace sbit {

class HttpClient;

class ServerProcess : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        bool defaultListen = true;  // --listen 127.0.0.1:0
        bool defaultSecrets = true; // --api-key / --jwt-secret
        bool defaultDataDir = true; // --data-dir <temporary dir>
    };

    explicit ServerProcess(QObject *parent = nullptr);
    ~ServerProcess() override;

    static QString daemonPath();

    void setOptions(const Options &options) { m_options = options; }
    // Extra environment for the daemon (SWITCHBOARD_* of the test's own environment are removed).
    void setEnv(const QString &name, const QString &value) { m_env.insert(name, value); }
    void clearEnv() { m_env.clear(); }

    // Starts and waits for the listening line. On failure lastError() says why (with output).
    bool start(const QStringList &extraArgs = {}, int timeoutMs = 10000);
    // SIGTERM, waits (spinning the event loop). Returns the exit code, -1 on crash/timeout.
    // A failure prints lastError() and the tail of the daemon's output as a warning.
    int stop(int timeoutMs = 10000);
    void kill();
    bool isRunning() const;
    bool waitForExit(int timeoutMs);
    int exitCode() const;
    QProcess::ExitStatus exitStatus() const;
    qint64 pid() const;

    QString host() const { return m_host; }
    quint16 port() const { return m_port; }
    bool isTls() const { return m_scheme == u"https"; }
    QUrl httpUrl(const QString &pathAndQuery) const;
    QUrl wsUrl(const QString &pathAndQuery) const;

    QByteArray apiKey() const { return m_apiKey; }
    QByteArray jwtSecret() const { return m_jwtSecret; }
    void setApiKey(const QByteArray &key) { m_apiKey = key; }
    // The --jwt-secret passed with defaultSecrets (nodes of one cluster share it).
    void setJwtSecret(const QByteArray &secret) { m_jwtSecret = secret; }
    QString dataDir() const { return m_dataDir.path(); }
    QString output() const; // everything the daemon printed so far (stdout + stderr)
    QString lastError() const { return m_lastError; }
    QStringList arguments() const { return m_args; }

    // Resident set size from /proc/PID/status, in KiB (-1 when unknown).
    qint64 rssKb() const;

    // A keep-alive HTTP client for this daemon, sending X-API-Key unless withKey is false.
    std::unique_ptr<HttpClient> client(bool withKey = true) const;

    struct RunResult
    {
        int exitCode = -1;
        bool crashed = false;
        bool timedOut = false;
        QString output;
    };
    // Runs the daemon to completion with exactly these arguments (for --help, bad values...).
    static RunResult run(const QStringList &args, const QHash<QString, QString> &env = {},
                         int timeoutMs = 10000);

    static QProcessEnvironment cleanEnvironment(const QHash<QString, QString> &extra);

private:
    void reportStopFailure() const;
    void printStacks() const;
    Options m_options;
    QHash<QString, QString> m_env;
    QTemporaryDir m_dataDir;
    QProcess *m_process = nullptr;
    QString m_logPath;
    int m_starts = 0;
    QString m_host;
    quint16 m_port = 0;
    QString m_scheme;
    QByteArray m_apiKey;
    QByteArray m_jwtSecret;
    QString m_lastError;
    QStringList m_args;
};

} // namespace sbit
