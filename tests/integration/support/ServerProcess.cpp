#include "ServerProcess.h"

#include "HttpClient.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>

#include <csignal>
#include <sys/types.h>

using namespace Qt::StringLiterals;

namespace sbit {

namespace {

QByteArray randomToken(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    for (int i = 0; i < bytes; ++i)
        raw[i] = char(QRandomGenerator::global()->bounded(256));
    return raw.toHex();
}

QString readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll());
}

} // namespace

ServerProcess::ServerProcess(QObject *parent) : QObject(parent)
{
    m_apiKey = "it-key-" + randomToken(12);
    m_jwtSecret = "it-secret-" + randomToken(16);
}

ServerProcess::~ServerProcess()
{
    kill();
}

QString ServerProcess::daemonPath()
{
#ifdef SWITCHBOARDD_PATH
    const QString fromEnv = qEnvironmentVariable("SWITCHBOARDD");
    return fromEnv.isEmpty() ? QStringLiteral(SWITCHBOARDD_PATH) : fromEnv;
#else
    return qEnvironmentVariable("SWITCHBOARDD");
#endif
}

QProcessEnvironment ServerProcess::cleanEnvironment(const QHash<QString, QString> &extra)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QStringList keys = env.keys();
    for (const QString &k : keys) {
        if (k.startsWith(u"SWITCHBOARD_"_s))
            env.remove(k);
    }
    env.insert(u"QT_NO_GLIB"_s, u"1"_s);
    for (auto it = extra.cbegin(); it != extra.cend(); ++it)
        env.insert(it.key(), it.value());
    return env;
}

bool ServerProcess::start(const QStringList &extraArgs, int timeoutMs)
{
    kill();
    m_lastError.clear();
    m_port = 0;
    if (!m_dataDir.isValid()) {
        m_lastError = u"cannot create a temporary data dir"_s;
        return false;
    }
    ++m_starts;
    m_logPath = QDir(m_dataDir.path()).filePath(u"daemon-output-%1.txt"_s.arg(m_starts));
    QFile::remove(m_logPath);

    QStringList args;
    if (m_options.defaultListen)
        args << u"--listen"_s << u"127.0.0.1:0"_s;
    if (m_options.defaultDataDir)
        args << u"--data-dir"_s << m_dataDir.path();
    if (m_options.defaultSecrets)
        args << u"--api-key"_s << QString::fromLatin1(m_apiKey) << u"--jwt-secret"_s
             << QString::fromLatin1(m_jwtSecret);
    const QString level = qEnvironmentVariable("SB_IT_LOG_LEVEL");
    if (!level.isEmpty() && !extraArgs.contains(u"--log-level"_s))
        args << u"--log-level"_s << level;
    args << extraArgs;
    m_args = args;

    m_process = new QProcess(this);
    m_process->setProgram(daemonPath());
    m_process->setArguments(args);
    m_process->setProcessEnvironment(cleanEnvironment(m_env));
    m_process->setStandardOutputFile(m_logPath, QIODevice::Append);
    m_process->setStandardErrorFile(m_logPath, QIODevice::Append);
    m_process->setStandardInputFile(QProcess::nullDevice());
    m_process->start();
    if (!m_process->waitForStarted(5000)) {
        m_lastError = u"cannot start "_s % daemonPath() % u": "_s % m_process->errorString();
        return false;
    }
    static const QRegularExpression re(
            u"listening on (https?)://([^\\s:]+|\\[[^\\]]+\\]):(\\d+)"_s);
    QRegularExpressionMatch match;
    const bool ok = waitUntil(
            [&] {
                if (m_process->state() == QProcess::NotRunning)
                    return true;
                match = re.match(output());
                return match.hasMatch();
            },
            timeoutMs);
    if (!ok || !match.hasMatch()) {
        m_lastError = (m_process->state() == QProcess::NotRunning
                               ? u"daemon exited with code %1 before listening"_s.arg(
                                       m_process->exitCode())
                               : u"no 'listening on' line within %1 ms"_s.arg(timeoutMs))
                % u"; args: "_s % args.join(u' ') % u"\n--- output ---\n"_s % output();
        kill();
        return false;
    }
    m_scheme = match.captured(1);
    m_host = match.captured(2);
    if (m_host.startsWith(u'['))
        m_host = m_host.mid(1, m_host.size() - 2);
    if (m_host == u"0.0.0.0" || m_host == u"localhost")
        m_host = u"127.0.0.1"_s;
    m_port = quint16(match.captured(3).toUInt());
    return true;
}

bool ServerProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

bool ServerProcess::waitForExit(int timeoutMs)
{
    if (!m_process)
        return true;
    return waitUntil([&] { return m_process->state() == QProcess::NotRunning; }, timeoutMs);
}

int ServerProcess::exitCode() const
{
    return m_process ? m_process->exitCode() : -1;
}

QProcess::ExitStatus ServerProcess::exitStatus() const
{
    return m_process ? m_process->exitStatus() : QProcess::CrashExit;
}

int ServerProcess::stop(int timeoutMs)
{
    if (!m_process)
        return -1;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate(); // SIGTERM
        if (!waitForExit(timeoutMs)) {
            m_lastError = u"daemon did not exit within %1 ms after SIGTERM"_s.arg(timeoutMs);
            reportStopFailure();
            printStacks();
            kill();
            return -1;
        }
    }
    if (m_process->exitStatus() != QProcess::NormalExit) {
        m_lastError = u"daemon crashed on the way out"_s;
        reportStopFailure();
        return -1;
    }
    if (m_process->exitCode() != 0) {
        m_lastError = u"daemon exited with code %1"_s.arg(m_process->exitCode());
        reportStopFailure();
    }
    return m_process->exitCode();
}

void ServerProcess::printStacks() const
{
    // Where a hung daemon hangs: every thread's stack, when gdb is installed.
    const QString gdb = QStandardPaths::findExecutable(u"gdb"_s);
    if (gdb.isEmpty() || !m_process)
        return;
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(gdb,
            {u"-p"_s, QString::number(m_process->processId()), u"-batch"_s, u"-ex"_s,
             u"thread apply all bt"_s});
    if (!p.waitForFinished(60000))
        p.kill();
    qWarning("the hung daemon's threads:\n%s", p.readAll().right(30000).constData());
}

void ServerProcess::reportStopFailure() const
{
    // The test only sees the exit code: print why (a sanitizer report, a hang's last words)
    // so that a rare failure in CI leaves its evidence in the log.
    const QString out = output();
    qWarning("%s; the daemon's last output:\n%s", qPrintable(m_lastError),
             qPrintable(out.right(16000)));
}

void ServerProcess::kill()
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

qint64 ServerProcess::pid() const
{
    return m_process ? m_process->processId() : -1;
}

QUrl ServerProcess::httpUrl(const QString &pathAndQuery) const
{
    return QUrl(u"%1://%2:%3%4"_s.arg(isTls() ? u"https"_s : u"http"_s, m_host)
                        .arg(m_port)
                        .arg(pathAndQuery));
}

QUrl ServerProcess::wsUrl(const QString &pathAndQuery) const
{
    return QUrl(u"%1://%2:%3%4"_s.arg(isTls() ? u"wss"_s : u"ws"_s, m_host)
                        .arg(m_port)
                        .arg(pathAndQuery));
}

QString ServerProcess::output() const
{
    return readFile(m_logPath);
}

qint64 ServerProcess::rssKb() const
{
    if (!isRunning())
        return -1;
    const QString status = readFile(u"/proc/%1/status"_s.arg(pid()));
    static const QRegularExpression re(u"VmRSS:\\s*(\\d+)\\s*kB"_s);
    const auto m = re.match(status);
    return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

std::unique_ptr<HttpClient> ServerProcess::client(bool withKey) const
{
    auto c = std::make_unique<HttpClient>(m_host, m_port, isTls());
    if (withKey)
        c->setDefaultHeader("X-API-Key", m_apiKey);
    return c;
}

ServerProcess::RunResult ServerProcess::run(const QStringList &args,
                                            const QHash<QString, QString> &env, int timeoutMs)
{
    RunResult result;
    QProcess p;
    p.setProgram(daemonPath());
    p.setArguments(args);
    p.setProcessEnvironment(cleanEnvironment(env));
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.setStandardInputFile(QProcess::nullDevice());
    QByteArray out;
    QObject::connect(&p, &QProcess::readyRead, &p, [&] { out += p.readAll(); });
    p.start();
    if (!p.waitForStarted(5000)) {
        result.output = p.errorString();
        return result;
    }
    if (!waitUntil([&] { return p.state() == QProcess::NotRunning; }, timeoutMs)) {
        result.timedOut = true;
        p.kill();
        p.waitForFinished(5000);
    }
    out += p.readAll();
    result.output = QString::fromUtf8(out);
    result.crashed = p.exitStatus() != QProcess::NormalExit;
    result.exitCode = p.exitCode();
    return result;
}

} // namespace sbit
