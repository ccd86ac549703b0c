#include "store/MessageLog.h"

#include "base/Logging.h"
#include "base/RawJson.h"
#include "metrics/Metrics.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>
#include <QVariant>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(Q_OS_LINUX)
#  include <sys/resource.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

namespace sb {

namespace {

const char *const kSchema[] = {
        "CREATE TABLE IF NOT EXISTS messages ("
        " id BIGINT PRIMARY KEY,"
        " ts BIGINT NOT NULL,"
        " source TEXT NOT NULL,"
        " target TEXT NOT NULL,"
        " to_name TEXT,"
        " event TEXT NOT NULL,"
        " data TEXT NOT NULL,"
        " delivered BIGINT NOT NULL,"
        " remote TEXT)",
        // GET /api/log?room= / ?user= (target and name) and ?event=. Retention by age needs
        // none: ts grows with id, so the oldest rows are the first ids.
        "CREATE INDEX IF NOT EXISTS messages_target_to ON messages (target, to_name, id)",
        "CREATE INDEX IF NOT EXISTS messages_event ON messages (event, id)",
};

QString connectionName(const void *owner, const char *role)
{
    return QStringLiteral("sb-log-%1-%2-%3")
            .arg(quintptr(owner), 0, 16)
            .arg(QString::fromLatin1(role))
            .arg(quintptr(QThread::currentThreadId()), 0, 16);
}

// Settings of a fresh connection to the log database.
void configureConnection(QSqlDatabase &c, const LogDatabase &db)
{
    QSqlQuery q(c);
    if (db.driver == u"QSQLITE") {
        // WAL: readers never block the writer; NORMAL: a commit is in the file (the OS
        // cache) when it returns, so a killed process loses nothing. Power loss may lose
        // the last commits, which PROTOCOL.md allows.
        q.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
        q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        // Checkpoints (copying the WAL back into the database, with an fsync) every 16 MiB of
        // WAL rather than every 4 MiB: a quarter of the fsyncs on the commit path.
        q.exec(QStringLiteral("PRAGMA wal_autocheckpoint=4000"));
    } else {
        // Warnings and errors only: libpq prints notices on stderr, and the schema's CREATE ...
        // IF NOT EXISTS answers each start on an existing log with three of them.
        q.exec(QStringLiteral("SET client_min_messages TO warning"));
        // A table locked by someone else fails a write after 5 s, as SQLite's busy timeout
        // does, rather than hold the writer (and close()) for as long as the lock is held.
        q.exec(QStringLiteral("SET lock_timeout TO '5s'"));
    }
}

// Opens (or returns the already open) connection of this thread to the log database.
QSqlDatabase openConnection(const LogDatabase &db, const QString &name, QString *error)
{
    if (QSqlDatabase::contains(name)) {
        QSqlDatabase existing = QSqlDatabase::database(name, false);
        if (existing.isOpen())
            return existing;
        if (existing.open()) {
            configureConnection(existing, db);
            return existing;
        }
        *error = existing.lastError().text();
        return {};
    }
    QSqlDatabase c = QSqlDatabase::addDatabase(db.driver, name);
    if (db.driver == u"QSQLITE") {
        c.setDatabaseName(db.path);
        // Writers and readers on other connections wait instead of failing at once.
        c.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    } else {
        // A database that cannot be reached fails a try within 5 s, and one that vanished
        // without closing the connection (a dead network) is noticed by TCP keepalives, so
        // that the writer reconnects rather than hang (docs/API.md, "Message log records").
        db.applyTo(c,
                   QStringLiteral("connect_timeout=5;keepalives=1;keepalives_idle=30;"
                                  "keepalives_interval=10;keepalives_count=3;"
                                  "application_name=switchboard-log"));
    }
    if (!c.open()) {
        *error = c.lastError().text();
        return {};
    }
    configureConnection(c, db);
    return c;
}

// The log's SQLite file and the -wal and -shm files SQLite keeps beside it are readable by
// their owner only, whatever the umask: the file is created here with mode 0600 before SQLite
// opens it, and SQLite gives the -wal and -shm files it creates the mode of the database file.
// Files an older version left readable are made private (docs/API.md, "Message log records").
// Only regular files are touched: a database path naming a device (/dev/null) or a FIFO is an
// error, and is neither opened nor changed.
QString makePrivate(const QString &path)
{
    const auto error = [&path](const char *what, QLatin1String suffix = {}) {
        return QStringLiteral("cannot %1 %2%3: %4")
                .arg(QLatin1String(what), path, suffix,
                     QString::fromLocal8Bit(std::strerror(errno)));
    };
    const QByteArray name = QFile::encodeName(path);
    struct stat st = {};
    if (::stat(name.constData(), &st) == 0 && !S_ISREG(st.st_mode))
        return QStringLiteral("%1 is not a regular file").arg(path);
    int fd = ::open(name.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return error("open");
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const bool ok = regular && ((st.st_mode & 0777) == 0600 || ::fchmod(fd, 0600) == 0);
    const int why = errno;
    ::close(fd);
    if (!regular)
        return QStringLiteral("%1 is not a regular file").arg(path);
    errno = why;
    if (!ok)
        return error("chmod 0600");
    // The -wal and -shm files of an earlier run, when there are any (not through a link).
    for (const char *suffix : {"-wal", "-shm"}) {
        const QByteArray beside = name + suffix;
        fd = ::open(beside.constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            return error("open", QLatin1String(suffix));
        }
        const bool fine = ::fstat(fd, &st) == 0
                && (!S_ISREG(st.st_mode) || (st.st_mode & 0777) == 0600 || ::fchmod(fd, 0600) == 0);
        const int failure = errno;
        ::close(fd);
        errno = failure;
        if (!fine)
            return error("chmod 0600", QLatin1String(suffix));
    }
    return {};
}

// The id a journal record starts with (`{"id":N,`), 0 when there is none.
quint64 leadingId(QByteArrayView json)
{
    static constexpr QByteArrayView kId("{\"id\":");
    const qsizetype end = json.indexOf(',');
    if (!json.startsWith(kId) || end <= kId.size())
        return 0;
    bool ok = false;
    const quint64 id = json.sliced(kId.size(), end - kId.size()).toULongLong(&ok);
    return ok ? id : 0;
}

// A journal record (the record's JSON, recordJson) read back. Its `data` is taken as the
// bytes between the `"data":` member and the `"delivered":` member, whatever they are: the
// names before it are quoted JSON strings (a '"' in them is escaped, so the first `,"data":` is
// the member) and `remote`, after the last `,"delivered":`, is an address. The rest is parsed
// with `data` set aside, so a record whose data is not valid JSON (raw control characters in
// it, say) still comes back exactly. nullopt when it is not a record.
std::optional<MessageRecord> journalRecord(QByteArrayView json)
{
    static constexpr QByteArrayView kData(",\"data\":");
    static constexpr QByteArrayView kDelivered(",\"delivered\":");
    const qsizetype dataAt = json.indexOf(kData);
    const qsizetype deliveredAt = json.lastIndexOf(kDelivered);
    if (dataAt < 0 || deliveredAt < dataAt + kData.size())
        return std::nullopt;
    QByteArray rest = json.first(dataAt).toByteArray();
    rest += ",\"data\":null";
    rest += json.sliced(deliveredAt);
    const QJsonObject o = QJsonDocument::fromJson(rest).object();
    MessageRecord r;
    r.id = leadingId(json); // exact, unlike a JSON number
    if (o.isEmpty() || r.id == 0)
        return std::nullopt;
    r.ts = o.value(u"ts").toInteger();
    r.source = parseSourceName(o.value(u"source").toString()).value_or(EmitSource::Rest);
    r.target = parseTargetName(o.value(u"target").toString()).value_or(EmitTarget::Room);
    r.to = o.value(u"to").isNull() ? QString() : o.value(u"to").toString();
    r.event = o.value(u"event").toString();
    r.data = json.sliced(dataAt + kData.size(), deliveredAt - dataAt - kData.size()).toByteArray();
    r.delivered = o.value(u"delivered").toInteger();
    r.remote = o.value(u"remote").toString();
    return r;
}

MessageRecord recordFrom(const QSqlQuery &q)
{
    MessageRecord r;
    r.id = q.value(0).toULongLong();
    r.ts = q.value(1).toLongLong();
    r.source = parseSourceName(q.value(2).toString()).value_or(EmitSource::Rest);
    r.target = parseTargetName(q.value(3).toString()).value_or(EmitTarget::Room);
    r.to = q.value(4).isNull() ? QString() : q.value(4).toString();
    r.event = q.value(5).toString();
    r.data = q.value(6).toString().toUtf8();
    r.delivered = q.value(7).toLongLong();
    r.remote = q.value(8).toString();
    return r;
}

} // namespace

std::optional<LogDatabase> LogDatabase::parse(const QString &setting, const QString &dataDir,
                                              QString *error)
{
    LogDatabase db;
    if (PgUrl::looksLike(setting)) {
        QString why;
        const std::optional<PgUrl> url = PgUrl::parse(setting, &why);
        if (!url) {
            *error = QStringLiteral("log_database: %1").arg(why);
            return std::nullopt;
        }
        static_cast<PgUrl &>(db) = *url;
        db.driver = QStringLiteral("QPSQL");
        db.journal = QDir(dataDir).filePath(QStringLiteral("messages-postgresql.journal"));
    } else {
        db.driver = QStringLiteral("QSQLITE");
        db.path =
                setting.isEmpty() ? QDir(dataDir).filePath(QStringLiteral("messages.db")) : setting;
        db.journal = db.path + QStringLiteral(".journal");
    }
    if (!QSqlDatabase::isDriverAvailable(db.driver)) {
        *error = QStringLiteral("log_database: the Qt SQL driver %1 is not installed (Debian: %2)")
                         .arg(db.driver,
                              db.driver == u"QPSQL" ? QStringLiteral("libqt6sql6-psql")
                                                    : QStringLiteral("libqt6sql6-sqlite"));
        return std::nullopt;
    }
    return db;
}

QString LogDatabase::describe() const
{
    if (driver == u"QPSQL")
        return PgUrl::describe();
    return QStringLiteral("sqlite:%1").arg(path);
}

// The writer runs at the lowest CPU priority (nice 19, this thread only): where it shares a
// CPU with the HTTP thread it then waits until that thread has handled every request
// at hand, and commits all their records at once, instead of waking for each one (on one CPU
// that doubled the context switches and capped REST emits at 8k/s with 8 callers).
void lowerThreadPriority()
{
#if defined(Q_OS_LINUX)
    ::setpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)), 19);
#endif
}

// The writer: lives on the log's thread with its own connection. The records it has taken
// from the queue (m_batch) stay with it until they are committed: a failed write closes the
// connection and tries again later with them and whatever was queued since, in id order.
class LogWriter final : public QObject
{
public:
    explicit LogWriter(MessageLog *log) : m_log(log) { }

    // The connection only (the journal replay at open uses that).
    QString connectDatabase()
    {
        QString error;
        m_db = openConnection(m_log->m_database, connectionName(m_log, "writer"), &error);
        return m_db.isValid() ? QString() : error;
    }

    // The journal replay: every write leaves the ids the database has alone.
    void setAlwaysIdempotent() { m_alwaysIdempotent = true; }

    QString start()
    {
        if (const QString error = connectDatabase(); !error.isEmpty())
            return error;
        m_retention = new QTimer(this);
        m_retention->setInterval(MessageLog::kRetentionIntervalMs);
        QObject::connect(m_retention, &QTimer::timeout, this, [this] { retention(); });
        m_retention->start();
        // While records arrive, the writer wakes on this timer and commits what has queued
        // since: the threads that append never wake it (a cross-thread wake per batch cost
        // the HTTP thread more than the writing itself). It stops when a tick finds nothing.
        m_tick = new QTimer(this);
        m_tick->setInterval(MessageLog::kWriteIntervalMs);
        QObject::connect(m_tick, &QTimer::timeout, this, [this] { writeQueued(); });
        // After a failed write: the next try, kRetryFirstMs doubling to kRetryMaxMs later.
        m_retry = new QTimer(this);
        m_retry->setSingleShot(true);
        QObject::connect(m_retry, &QTimer::timeout, this, [this] { writeQueued(); });
        return {};
    }

    // The first record after a quiet spell: written at once, then the timer runs.
    void wake()
    {
        writeQueued();
        if (!m_retry->isActive())
            m_tick->start();
    }

    // Writes what is left, trying a bounded number of times, and closes the connection.
    // What cannot be written stays in the journal file, which the next start replays.
    void stop()
    {
        if (m_retry)
            m_retry->stop();
        if (!flush() && !m_batch.empty()) {
            qCWarning(lcLog).noquote()
                    << "could not write ids" << m_batch.front().id << "to" << m_batch.back().id
                    << "to the log before stopping:" << m_lastError << "- they stay in"
                    << m_log->m_database.journal << "and are written at the next start";
        }
        delete m_retention;
        m_retention = nullptr;
        delete m_tick;
        m_tick = nullptr;
        delete m_retry;
        m_retry = nullptr;
        disconnectDatabase();
    }

    void disconnectDatabase()
    {
        m_inserts.clear();
        const QString name = m_db.connectionName();
        m_db = QSqlDatabase();
        if (!name.isEmpty())
            QSqlDatabase::removeDatabase(name);
    }

    // The tick, a wake, a query that wants its writes: writes what has queued, unless a failed
    // write is being waited out (the retry timer comes back then).
    void writeQueued()
    {
        if (m_retry && m_retry->isActive())
            return;
        switch (attempt()) {
        case Attempt::Nothing:
            if (m_tick) // takeQueued() marked the writer idle: the next append wakes it
                m_tick->stop();
            break;
        case Attempt::Written:
            if (m_tick && !m_tick->isActive()) // again after a failure
                m_tick->start();
            break;
        case Attempt::Failed:
            if (m_tick)
                m_tick->stop();
            if (m_retry)
                m_retry->start(retryDelayMs());
            break;
        }
    }

    // Writes until nothing is left, at most MessageLog::kFlushAttempts failed tries within about
    // kFlushDeadlineMs, waiting in between (this thread's events wait too). True when every
    // record taken is committed.
    bool flush()
    {
        const QDeadlineTimer deadline(MessageLog::kFlushDeadlineMs);
        for (int failed = 0;;) {
            switch (attempt()) {
            case Attempt::Nothing:
                return true;
            case Attempt::Written:
                continue;
            case Attempt::Failed:
                if (++failed >= MessageLog::kFlushAttempts || deadline.hasExpired())
                    return false;
                QThread::msleep(ulong(retryDelayMs()));
                break;
            }
        }
    }

    void retention()
    {
        if (m_failures > 0 || !m_db.isOpen())
            return; // the database is away: the writes come first
        QSqlQuery q(m_db);
        if (m_log->m_retentionDays > 0) {
            // The derived table needs its alias: PostgreSQL before 16 refuses one without.
            const bool prepared = q.prepare(QStringLiteral(
                    "DELETE FROM messages WHERE id < (SELECT COALESCE(MIN(id), (SELECT MAX(id) + 1 "
                    "FROM messages)) FROM (SELECT id FROM messages WHERE ts >= ? ORDER BY id "
                    "LIMIT 1) AS oldest_kept)"));
            q.addBindValue(QDateTime::currentMSecsSinceEpoch()
                           - m_log->m_retentionDays * 86'400'000LL);
            // A failed prepare() is the error to report (exec() would only add a confusing one).
            if (!prepared || !q.exec())
                qCWarning(lcLog).noquote() << "retention by age failed:" << q.lastError().text();
        }
        if (m_log->m_maxRows > 0) {
            const bool prepared =
                    q.prepare(QStringLiteral("DELETE FROM messages WHERE id <= (SELECT id FROM "
                                             "messages ORDER BY id DESC LIMIT 1 OFFSET ?)"));
            q.addBindValue(m_log->m_maxRows);
            if (!prepared || !q.exec())
                qCWarning(lcLog).noquote() << "retention by rows failed:" << q.lastError().text();
        }
        // What is gone now: everything below the oldest row, or all that was committed.
        if (q.exec(QStringLiteral("SELECT MIN(id) FROM messages")) && q.next()) {
            const quint64 pruned = q.value(0).isNull()
                    ? m_log->m_committed.load(std::memory_order_acquire)
                    : q.value(0).toULongLong() - 1;
            if (pruned > m_log->m_prunedUpTo.load())
                m_log->m_prunedUpTo.store(pruned, std::memory_order_release);
        }
    }

    // Rows the last successful writes inserted (ids the database already had are not).
    qint64 inserted() const { return m_inserted; }

private:
    enum class Attempt { Nothing, Written, Failed };

    // Takes what has queued (after what a failed try left) and writes it in one transaction.
    Attempt attempt()
    {
        m_log->takeQueued(m_batch);
        if (m_batch.empty())
            return Attempt::Nothing;
        if (!reopen() || !writeBatch(m_batch)) {
            failed();
            return Attempt::Failed;
        }
        written();
        return Attempt::Written;
    }

    bool reopen()
    {
        if (m_db.isOpen())
            return true;
        if (!m_db.isValid()) {
            m_lastError = QStringLiteral("no connection");
            return false;
        }
        if (!m_db.open()) {
            m_lastError = m_db.lastError().text();
            return false;
        }
        configureConnection(m_db, m_log->m_database);
        return true;
    }

    void failed()
    {
        if (++m_failures == 1) {
            m_outage.start();
            qCWarning(lcLog).noquote()
                    << "cannot write ids" << m_batch.front().id << "to" << m_batch.back().id
                    << "to the log (they are kept, and tried again on a new connection from"
                    << MessageLog::kRetryFirstMs << "ms doubling to" << MessageLog::kRetryMaxMs
                    << "ms until the database takes them):" << m_lastError;
        } else {
            qCDebug(lcLog).noquote()
                    << "log write attempt" << m_failures << "failed:" << m_lastError;
        }
        {
            QMutexLocker lock(&m_log->m_mutex);
            m_log->m_writeError = m_lastError;
            m_log->m_writeFailing.store(true, std::memory_order_release);
        }
        m_log->m_commitDone.wakeAll(); // queries waiting for these records give up now
        // A broken connection (a restarted PostgreSQL, a terminated backend) is not reused:
        // the next try opens a new one.
        m_inserts.clear();
        if (m_db.isOpen()) {
            m_db.rollback();
            m_db.close();
        }
    }

    void written()
    {
        const quint64 from = m_batch.front().id;
        const quint64 upTo = m_batch.back().id;
        {
            QMutexLocker lock(&m_log->m_mutex);
            m_log->m_committed.store(upTo, std::memory_order_release);
            m_log->m_held = 0;
            m_log->m_writeError.clear();
            m_log->m_writeFailing.store(false, std::memory_order_release);
        }
        m_batch.clear();
        m_log->m_commitDone.wakeAll();
        Q_EMIT m_log->committed(upTo);
        if (m_failures > 0) {
            qCInfo(lcLog).noquote()
                    << "the log is written again after" << m_failures << "failed attempts in"
                    << m_outage.elapsed() << "ms: ids" << from << "to" << upTo << "committed";
            m_failures = 0;
        }
    }

    int retryDelayMs() const
    {
        return int(qMin<qint64>(qint64(MessageLog::kRetryFirstMs) << qBound(0, m_failures - 1, 16),
                                MessageLog::kRetryMaxMs));
    }

    bool writeBatch(const std::vector<MessageRecord> &batch)
    {
        const Histogram::Timer timer(m_log->m_writeSeconds); // switchboard_log_write_seconds
        if (!m_db.transaction()) {
            m_lastError = m_db.lastError().text();
            return false;
        }
        const bool postgresql = m_log->m_database.driver == u"QPSQL";
        qint64 inserted = 0;
        // Multi-row INSERTs (one statement per chunk of up to kChunk records): far less
        // per-record work in the driver than one exec() per record.
        for (size_t done = 0; done < batch.size();) {
            const int n = int(qMin<size_t>(kChunk, batch.size() - done));
            QSqlQuery *q = insertFor(n);
            if (!q) {
                m_db.rollback();
                return false;
            }
            int i = 0;
            for (int k = 0; k < n; ++k) {
                const MessageRecord &r = batch[done + size_t(k)];
                q->bindValue(i++, qint64(r.id));
                q->bindValue(i++, r.ts);
                q->bindValue(i++, sourceName(r.source));
                q->bindValue(i++, targetName(r.target));
                q->bindValue(i++, r.to.isNull() ? QVariant(QMetaType::fromType<QString>()) : r.to);
                q->bindValue(i++, r.event);
                QString data = QString::fromUtf8(r.data);
                // PostgreSQL text cannot hold U+0000: stored as U+FFFD, as invalid UTF-8 is,
                // rather than refused forever (which would hold up every later record).
                if (postgresql && data.contains(QChar(0)))
                    data.replace(QChar(0), QChar::ReplacementCharacter);
                q->bindValue(i++, data);
                q->bindValue(i++, r.delivered);
                q->bindValue(i++, r.remote);
            }
            if (!q->exec()) {
                m_lastError = q->lastError().text();
                m_inserts.clear(); // prepared again next time (the connection may have changed)
                m_db.rollback();
                return false;
            }
            inserted += qMax(0, q->numRowsAffected());
            done += size_t(n);
        }
        if (!m_db.commit()) {
            m_lastError = m_db.lastError().text();
            m_db.rollback();
            return false;
        }
        m_inserted += inserted;
        return true;
    }

    // The INSERT for n records, prepared once per n and kind. Where the database may have some
    // of the ids already, the INSERT leaves those rows as they are (ON CONFLICT (id) DO
    // NOTHING): every try after a failed one (the commit may have gone through with its answer
    // lost) and the journal replay. A batch tried for the first time holds ids above any the
    // database has (ids go on from the highest at open, batches commit in order) and uses the
    // plain INSERT: PostgreSQL's speculative insertion costs about 15% of the commit rate
    // (docs/performance.md), SQLite's nothing measurable. Should a plain one meet an id all the
    // same, it fails, and the next try does not.
    QSqlQuery *insertFor(int n)
    {
        const bool idempotent = m_alwaysIdempotent || m_failures > 0;
        const int key = 2 * n + (idempotent ? 1 : 0);
        auto &slot = m_inserts[key];
        if (slot)
            return slot.get();
        QString sql = QStringLiteral("INSERT INTO messages (id, ts, source, target, to_name, "
                                     "event, data, delivered, remote) VALUES ");
        for (int k = 0; k < n; ++k)
            sql += k ? QStringLiteral(",(?,?,?,?,?,?,?,?,?)")
                     : QStringLiteral("(?,?,?,?,?,?,?,?,?)");
        if (idempotent)
            sql += QStringLiteral(" ON CONFLICT (id) DO NOTHING");
        auto q = std::make_unique<QSqlQuery>(m_db);
        if (!q->prepare(sql)) {
            m_lastError = q->lastError().text();
            m_inserts.erase(key);
            return nullptr;
        }
        slot = std::move(q);
        return slot.get();
    }

    static constexpr int kChunk = 64;
    MessageLog *m_log;
    QSqlDatabase m_db;
    std::map<int, std::unique_ptr<QSqlQuery>> m_inserts;
    std::vector<MessageRecord> m_batch; // taken, not yet committed; ids ascending
    QTimer *m_retention = nullptr;
    QTimer *m_tick = nullptr;
    QTimer *m_retry = nullptr;
    QString m_lastError;
    int m_failures = 0; // failed tries since the last commit
    bool m_alwaysIdempotent = false;
    QElapsedTimer m_outage;
    qint64 m_inserted = 0;
};

MessageLog::MessageLog(LogDatabase database, qint64 retentionDays, qint64 maxRows, QObject *parent)
    : QObject(parent),
      m_database(std::move(database)),
      m_retentionDays(retentionDays),
      m_maxRows(maxRows)
{ }

MessageLog::~MessageLog()
{
    close();
}

QString MessageLog::open()
{
    if (m_database.driver == u"QSQLITE") {
        const QFileInfo file(m_database.path);
        if (!QDir().mkpath(file.absolutePath()))
            return QStringLiteral("log_database: cannot create %1").arg(file.absolutePath());
        if (const QString why = makePrivate(m_database.path); !why.isEmpty())
            return QStringLiteral("log_database: %1").arg(why);
    }
    // The schema on a connection of this thread, closed again right after.
    {
        QString error;
        const QString name = connectionName(this, "setup");
        {
            QSqlDatabase c = openConnection(m_database, name, &error);
            if (c.isValid()) {
                QSqlQuery q(c);
                for (const char *statement : kSchema) {
                    if (!q.exec(QString::fromLatin1(statement))) {
                        error = q.lastError().text();
                        break;
                    }
                }
            }
        }
        QSqlDatabase::removeDatabase(name);
        if (!error.isEmpty())
            return QStringLiteral("log_database %1: %2").arg(m_database.describe(), error);
    }
    if (const QString why = replayJournal(); !why.isEmpty())
        return QStringLiteral("log_database %1: %2").arg(m_database.describe(), why);
    // The highest id after the replay: ids go on from there.
    if (const QString why = readBounds(); !why.isEmpty())
        return QStringLiteral("log_database %1: %2").arg(m_database.describe(), why);
    m_lastIdAtOpen = qMax(m_lastIdAtOpen, m_journalLastId);
    if (const QString error = m_journal.open(m_database.journal); !error.isEmpty())
        qCWarning(lcLog).noquote() << error << "- answers wait for the database commit";
    m_journalHole = 0;
    m_committed.store(m_lastIdAtOpen, std::memory_order_release);
    m_durable.store(m_lastIdAtOpen, std::memory_order_release);
    m_lastAppended = m_lastIdAtOpen;

    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("switchboard-log"));
    m_writer = new LogWriter(this);
    m_writer->moveToThread(m_thread);
    m_thread->start();
    QString error;
    QMetaObject::invokeMethod(
            m_writer,
            [this, &error] {
                lowerThreadPriority();
                error = m_writer->start();
            },
            Qt::BlockingQueuedConnection);
    if (!error.isEmpty()) {
        close();
        return QStringLiteral("log_database %1: %2").arg(m_database.describe(), error);
    }
    return {};
}

// The highest id stored, and what retention has deleted: every id below the oldest row (ids
// start at 1; rows are deleted oldest first). An empty table says nothing.
QString MessageLog::readBounds()
{
    QString error;
    const QString name = connectionName(this, "setup");
    {
        QSqlDatabase c = openConnection(m_database, name, &error);
        if (c.isValid()) {
            QSqlQuery q(c);
            if (q.exec(QStringLiteral("SELECT MAX(id), MIN(id) FROM messages")) && q.next()) {
                m_lastIdAtOpen = q.value(0).toULongLong();
                if (!q.value(1).isNull())
                    m_prunedUpTo.store(q.value(1).toULongLong() - 1);
            } else {
                error = q.lastError().text();
            }
        }
    }
    QSqlDatabase::removeDatabase(name);
    return error;
}

void MessageLog::close()
{
    if (!m_thread)
        return;
    QMetaObject::invokeMethod(
            m_writer,
            [this] {
                m_writer->stop();
                delete m_writer;
                m_writer = nullptr;
            },
            Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    // Everything is in the database now (stop() wrote the queue) unless the database was
    // away: then the journal file stays, and the next open() writes its records.
    m_journal.close(m_committed.load() >= m_lastAppended);
    // Readers' connections of every thread that queried (none may be querying now).
    QSet<QString> readers;
    {
        QMutexLocker lock(&m_mutex);
        readers.swap(m_readerConnections);
        m_queue.clear();
        m_held = 0;
    }
    m_commitDone.wakeAll();
    for (const QString &name : std::as_const(readers))
        QSqlDatabase::removeDatabase(name);
}

bool MessageLog::append(const MessageRecord &record)
{
    // The journal record and its checksum are made before taking the lock, in a buffer each
    // thread keeps.
    thread_local QByteArray line;
    line.resize(0);
    appendRecordJson(line, record);
    const quint32 crc = Journal::checksum(line);
    QMutexLocker lock(&m_mutex);
    if (!m_writer || queueDepthLocked() >= kMaxQueued)
        return false;
    if (m_journal.isOpen()) {
        const quint64 committed = m_committed.load(std::memory_order_acquire);
        if (m_journal.append(line, crc, record.id, committed)) {
            // Durable once every earlier record is journaled or in the database.
            if (m_journalHole <= committed)
                m_durable.store(record.id, std::memory_order_release);
        } else {
            // The writer is far behind (16 MiB of records): this answer waits for the commit.
            m_journalHole = record.id;
        }
    }
    m_lastAppended = record.id;
    m_queue.push_back(record);
    if (m_writerIdle) {
        m_writerIdle = false;
        QMetaObject::invokeMethod(
                m_writer, [this] { m_writer->wake(); }, Qt::QueuedConnection);
    }
    return true;
}

void MessageLog::takeQueued(std::vector<MessageRecord> &batch)
{
    QMutexLocker lock(&m_mutex);
    if (batch.empty()) {
        batch.reserve(m_queue.size()); // the next batch is likely as large as this one
        batch.swap(m_queue);
    } else {
        // Records a failed try left come first: they have the lower ids.
        batch.insert(batch.end(), std::make_move_iterator(m_queue.begin()),
                     std::make_move_iterator(m_queue.end()));
        m_queue.clear();
    }
    m_held = qint64(batch.size());
    if (batch.empty())
        m_writerIdle = true;
}

// Every record of the journal goes into the database before anything else, as an INSERT that
// leaves ids the database has alone: the records answered but not committed when the process
// ended, wherever they are (below the highest stored id too, where a previous version may
// have left a hole).
QString MessageLog::replayJournal()
{
    QList<QByteArray> lines;
    QString why;
    int dropped = 0;
    if (!Journal::readLines(m_database.journal, &lines, &why, &dropped))
        return why;
    if (dropped > 0)
        qCInfo(lcLog).noquote() << "the journal ended in a record cut short (never answered):"
                                << "left out";
    std::map<quint64, MessageRecord> records; // by id: the two halves, in order, no twice
    int unreadable = 0;
    for (const QByteArray &line : std::as_const(lines)) {
        if (std::optional<MessageRecord> r = journalRecord(line)) {
            records.insert_or_assign(r->id, std::move(*r));
        } else {
            ++unreadable;
            // Its id was given out all the same: ids go on above it.
            m_journalLastId = qMax(m_journalLastId, leadingId(line));
        }
    }
    if (unreadable > 0)
        qCWarning(lcLog).noquote() << unreadable << "journal records could not be read: skipped";
    if (records.empty())
        return {};
    LogWriter writer(this);
    writer.setAlwaysIdempotent();
    if (const QString error = writer.connectDatabase(); !error.isEmpty()) {
        writer.disconnectDatabase();
        return error;
    }
    {
        QMutexLocker lock(&m_mutex);
        m_queue.clear();
        for (auto &[id, record] : records)
            m_queue.push_back(std::move(record));
    }
    const bool ok = writer.flush();
    writer.disconnectDatabase();
    {
        QMutexLocker lock(&m_mutex);
        m_queue.clear();
        m_held = 0;
        m_writeError.clear();
        m_writeFailing.store(false);
    }
    if (!ok)
        return QStringLiteral("cannot write the journal's %1 records to the database")
                .arg(records.size());
    if (writer.inserted() > 0)
        qCInfo(lcLog).noquote() << "recovered" << writer.inserted()
                                << "records from the journal (the database lacked them)";
    return {};
}

qint64 MessageLog::queueDepth() const
{
    QMutexLocker lock(&m_mutex);
    return queueDepthLocked();
}

void MessageLog::applyRetentionNow()
{
    if (m_writer) {
        QMetaObject::invokeMethod(
                m_writer, [this] { m_writer->retention(); }, Qt::BlockingQueuedConnection);
    }
}

std::optional<QList<MessageRecord>> MessageLog::query(const LogQuery &query, QString *error,
                                                      bool *more) const
{
    if (more)
        *more = false;
    const QString name = connectionName(this, "reader");
    {
        QMutexLocker lock(&m_mutex);
        m_readerConnections.insert(name);
        // Read your writes: records already appended (answered, or about to be) but not yet
        // in the database are waited for, briefly; the writer is asked to commit now rather
        // than at its tick. Records the database lacks would be a gap in the answer (and in a
        // `since` replay): while they are missing, the query fails instead.
        quint64 wanted = m_lastAppended;
        if (query.upToId)
            wanted = qMin(wanted, *query.upToId);
        if (query.beforeId)
            wanted = qMin(wanted, *query.beforeId > 0 ? *query.beforeId - 1 : 0);
        if (m_committed.load(std::memory_order_acquire) < wanted && m_writer
            && !m_writeFailing.load(std::memory_order_acquire)) {
            LogWriter *writer = m_writer;
            QMetaObject::invokeMethod(
                    writer, [writer] { writer->writeQueued(); }, Qt::QueuedConnection);
            QDeadlineTimer deadline(2000);
            while (m_committed.load(std::memory_order_acquire) < wanted && m_writer
                   && !m_writeFailing.load(std::memory_order_acquire)
                   && m_commitDone.wait(&m_mutex, deadline)) { }
        }
        const quint64 committed = m_committed.load(std::memory_order_acquire);
        if (committed < wanted) {
            *error = QStringLiteral("the message log database does not have ids %1 to %2 yet%3")
                             .arg(committed + 1)
                             .arg(wanted)
                             .arg(m_writeError.isEmpty()
                                          ? QString()
                                          : QStringLiteral(" (writes fail: %1)").arg(m_writeError));
            return std::nullopt;
        }
    }
    QStringList where;
    QVariantList values;
    if (!query.room.isNull()) {
        where << QStringLiteral("target = 'room' AND to_name = ?");
        values << query.room;
    }
    if (!query.user.isNull()) {
        where << QStringLiteral("target = 'user' AND to_name = ?");
        values << query.user;
    }
    if (!query.event.isNull()) {
        where << QStringLiteral("event = ?");
        values << query.event;
    }
    if (query.sinceId) {
        where << QStringLiteral("id > ?");
        values << qint64(*query.sinceId);
    }
    if (query.beforeId) {
        where << QStringLiteral("id < ?");
        values << qint64(*query.beforeId);
    }
    if (query.upToId) {
        where << QStringLiteral("id <= ?");
        values << qint64(*query.upToId);
    }
    // Oldest first after since_id; otherwise the newest `limit`, turned around below.
    const bool ascending = query.sinceId.has_value();
    QString sql = QStringLiteral("SELECT id, ts, source, target, to_name, event, data, "
                                 "delivered, remote FROM messages");
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += ascending ? QStringLiteral(" ORDER BY id ASC") : QStringLiteral(" ORDER BY id DESC");
    sql += QStringLiteral(" LIMIT %1").arg(std::clamp(query.limit, 1, kMaxQueryLimit));
    // Twice at most: a connection the database dropped (a restart, a terminated backend) is
    // opened again once.
    for (int attempt = 0;; ++attempt) {
        QSqlDatabase c = openConnection(m_database, name, error);
        if (!c.isValid())
            return std::nullopt;
        QSqlQuery q(c);
        q.setForwardOnly(true); // rows one at a time (single-row mode with QPSQL)
        bool ok = q.prepare(sql);
        if (ok) {
            for (const QVariant &v : std::as_const(values))
                q.addBindValue(v);
            ok = q.exec();
        }
        if (!ok) {
            *error = q.lastError().text();
            q = QSqlQuery();
            c.close();
            if (attempt == 0)
                continue;
            return std::nullopt;
        }
        // Rows are read until the next one would pass the byte budget: an answer never holds
        // much more than maxBytes, however large the records (but always one, if any).
        QList<MessageRecord> records;
        qint64 bytes = 0;
        while (q.next()) {
            MessageRecord r = recordFrom(q);
            const qint64 size = recordBytes(r);
            if (query.maxBytes > 0 && !records.isEmpty() && bytes + size > query.maxBytes) {
                if (more)
                    *more = true;
                break;
            }
            bytes += size;
            records.append(std::move(r));
        }
        if (q.lastError().isValid()) {
            *error = q.lastError().text();
            return std::nullopt;
        }
        if (!ascending)
            std::reverse(records.begin(), records.end());
        return records;
    }
}

MessageLog::RoomHistory MessageLog::roomHistory(const QString &room, std::optional<quint64> since,
                                                quint64 upTo, qint64 maxBytes) const
{
    RoomHistory history;
    QString error;
    LogQuery newest;
    newest.room = room;
    newest.upToId = upTo;
    newest.limit = 1;
    const auto latest = query(newest, &error);
    if (!latest) {
        qCWarning(lcLog).noquote() << "cannot read the history of room" << room << ":" << error;
        history.complete = false;
        history.lastIdKnown = false;
        return history;
    }
    history.lastId = latest->isEmpty() ? 0 : latest->constFirst().id;
    if (!since || *since >= history.lastId)
        return history;
    LogQuery missed;
    missed.room = room;
    missed.sinceId = since;
    missed.upToId = upTo;
    missed.limit = kMaxLogReplay + 1;
    missed.maxBytes = maxBytes;
    bool more = false;
    auto records = query(missed, &error, &more);
    if (!records) {
        qCWarning(lcLog).noquote() << "cannot read the history of room" << room << ":" << error;
        history.complete = false;
        return history;
    }
    qint64 bytes = 0;
    for (const MessageRecord &r : std::as_const(*records))
        bytes += recordBytes(r);
    // Retention may have deleted some of them; a gap this long (in events or bytes) is not
    // replayed at all: all of it, or nothing and recovered: false.
    history.complete = prunedUpTo() <= *since && !more && records->size() <= kMaxLogReplay
            && (maxBytes <= 0 || bytes <= maxBytes);
    if (history.complete)
        history.records = std::move(*records);
    return history;
}

void appendRecordJson(QByteArray &out, const MessageRecord &r)
{
    out.reserve(out.size() + 160 + r.to.size() + r.event.size() + r.data.size());
    out += R"({"id":)";
    out += QByteArray::number(r.id);
    out += R"(,"ts":)";
    out += QByteArray::number(r.ts);
    out += R"(,"source":")";
    out += QByteArrayView(sourceName(r.source).data(), sourceName(r.source).size());
    out += R"(","target":")";
    out += QByteArrayView(targetName(r.target).data(), targetName(r.target).size());
    out += R"(","to":)";
    if (r.to.isNull())
        out += "null";
    else
        rawjson::appendQuoted(out, r.to);
    out += R"(,"event":)";
    rawjson::appendQuoted(out, r.event);
    out += R"(,"data":)";
    out += r.data.isEmpty() ? QByteArrayView("null") : QByteArrayView(r.data);
    out += R"(,"delivered":)";
    out += QByteArray::number(r.delivered);
    out += R"(,"remote":)";
    rawjson::appendQuoted(out, r.remote);
    out += '}';
}

QByteArray recordJson(const MessageRecord &r)
{
    QByteArray out;
    appendRecordJson(out, r);
    return out;
}

} // namespace sb
