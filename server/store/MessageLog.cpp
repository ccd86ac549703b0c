#include "store/MessageLog.h"

#include "admin/Metrics.h"
#include "core/Logging.h"
#include "json/RawJson.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
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
#include <map>

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

// Opens (or returns the already open) connection of this thread to the log database.
QSqlDatabase openConnection(const LogDatabase &db, const QString &name, QString *error)
{
    if (QSqlDatabase::contains(name)) {
        QSqlDatabase existing = QSqlDatabase::database(name, false);
        if (existing.isOpen() || existing.open())
            return existing;
        *error = existing.lastError().text();
        return {};
    }
    QSqlDatabase c = QSqlDatabase::addDatabase(db.driver, name);
    if (db.driver == u"QSQLITE") {
        c.setDatabaseName(db.path);
        // Writers and readers on other connections wait instead of failing at once.
        c.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    } else {
        db.applyTo(c);
    }
    if (!c.open()) {
        *error = c.lastError().text();
        return {};
    }
    if (db.driver == u"QSQLITE") {
        QSqlQuery q(c);
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
        QSqlQuery(c).exec(QStringLiteral("SET client_min_messages TO warning"));
    }
    return c;
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

// The writer: lives on the log's thread with its own connection.
class LogWriter final : public QObject
{
public:
    explicit LogWriter(MessageLog *log) : m_log(log) { }

    QString start()
    {
        QString error;
        m_db = openConnection(m_log->m_database, connectionName(m_log, "writer"), &error);
        if (!m_db.isValid())
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
        return {};
    }

    // The first record after a quiet spell: written at once, then the timer runs.
    void wake()
    {
        writeQueued();
        m_tick->start();
    }

    void stop()
    {
        writeQueued();
        delete m_retention;
        m_retention = nullptr;
        delete m_tick;
        m_tick = nullptr;
        m_inserts.clear();
        const QString name = m_db.connectionName();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(name);
    }

    void writeQueued()
    {
        std::vector<MessageRecord> batch = m_log->takeQueued();
        if (batch.empty()) {
            if (m_tick) // takeQueued() marked the writer idle: the next append wakes it
                m_tick->stop();
            return;
        }
        if (!writeBatch(batch)) {
            // One retry on a fresh transaction (a busy database, a dropped PostgreSQL
            // connection reopened by the driver); then the batch is reported as failed.
            if (!writeBatch(batch)) {
                qCWarning(lcLog).noquote() << "could not write ids" << batch.front().id << "to"
                                           << batch.back().id << "to the log:" << m_lastError;
                Q_EMIT m_log->writeFailed(batch.front().id, batch.back().id, m_lastError);
                return;
            }
        }
        const quint64 upTo = batch.back().id;
        {
            QMutexLocker lock(&m_log->m_mutex);
            m_log->m_committed.store(upTo, std::memory_order_release);
        }
        m_log->m_commitDone.wakeAll();
        Q_EMIT m_log->committed(upTo);
    }

    void retention()
    {
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

private:
    bool writeBatch(const std::vector<MessageRecord> &batch)
    {
        const Histogram::Timer timer(m_log->m_writeSeconds); // switchboard_log_write_seconds
        if (!m_db.transaction()) {
            m_lastError = m_db.lastError().text();
            return false;
        }
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
                q->bindValue(i++, QString::fromUtf8(r.data));
                q->bindValue(i++, r.delivered);
                q->bindValue(i++, r.remote);
            }
            if (!q->exec()) {
                m_lastError = q->lastError().text();
                m_inserts.clear(); // prepared again next time (the connection may have changed)
                m_db.rollback();
                return false;
            }
            done += size_t(n);
        }
        if (!m_db.commit()) {
            m_lastError = m_db.lastError().text();
            m_db.rollback();
            return false;
        }
        return true;
    }

    // The INSERT for n records, prepared once per n.
    QSqlQuery *insertFor(int n)
    {
        auto &slot = m_inserts[n];
        if (slot)
            return slot.get();
        QString sql = QStringLiteral("INSERT INTO messages (id, ts, source, target, to_name, "
                                     "event, data, delivered, remote) VALUES ");
        for (int k = 0; k < n; ++k)
            sql += k ? QStringLiteral(",(?,?,?,?,?,?,?,?,?)")
                     : QStringLiteral("(?,?,?,?,?,?,?,?,?)");
        auto q = std::make_unique<QSqlQuery>(m_db);
        if (!q->prepare(sql)) {
            m_lastError = q->lastError().text();
            m_inserts.erase(n);
            return nullptr;
        }
        slot = std::move(q);
        return slot.get();
    }

    static constexpr int kChunk = 64;
    MessageLog *m_log;
    QSqlDatabase m_db;
    std::map<int, std::unique_ptr<QSqlQuery>> m_inserts;
    QTimer *m_retention = nullptr;
    QTimer *m_tick = nullptr;
    QString m_lastError;
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
    }
    // Schema and the highest id on a connection of this thread, closed again right after.
    {
        QString error;
        const QString name = connectionName(this, "setup");
        {
            QSqlDatabase c = openConnection(m_database, name, &error);
            if (!c.isValid()) {
                QSqlDatabase::removeDatabase(name);
                return QStringLiteral("log_database %1: %2").arg(m_database.describe(), error);
            }
            QSqlQuery q(c);
            for (const char *statement : kSchema) {
                if (!q.exec(QString::fromLatin1(statement))) {
                    error = q.lastError().text();
                    break;
                }
            }
            if (error.isEmpty() && q.exec(QStringLiteral("SELECT MAX(id), MIN(id) FROM messages"))
                && q.next()) {
                m_lastIdAtOpen = q.value(0).toULongLong();
                // Ids below the oldest row were deleted by retention (ids start at 1); an
                // empty table says nothing, and the journal replay only adds newer ones.
                if (!q.value(1).isNull())
                    m_prunedUpTo.store(q.value(1).toULongLong() - 1);
            } else if (error.isEmpty()) {
                error = q.lastError().text();
            }
        }
        QSqlDatabase::removeDatabase(name);
        if (!error.isEmpty())
            return QStringLiteral("log_database %1: %2").arg(m_database.describe(), error);
    }
    if (const QString why = replayJournal(); !why.isEmpty())
        return QStringLiteral("log_database %1: %2").arg(m_database.describe(), why);
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
    // Everything is in the database now (stop() wrote the queue) unless a batch failed.
    m_journal.close(m_committed.load() >= m_lastAppended);
    // Readers' connections of every thread that queried (none may be querying now).
    QSet<QString> readers;
    {
        QMutexLocker lock(&m_mutex);
        readers.swap(m_readerConnections);
    }
    for (const QString &name : std::as_const(readers))
        QSqlDatabase::removeDatabase(name);
}

bool MessageLog::append(const MessageRecord &record)
{
    // The journal line is built before taking the lock, in a buffer each thread keeps.
    thread_local QByteArray line;
    line.resize(0);
    appendRecordJson(line, record);
    QMutexLocker lock(&m_mutex);
    if (!m_writer || qint64(m_queue.size()) >= kMaxQueued)
        return false;
    if (m_journal.isOpen()) {
        const quint64 committed = m_committed.load(std::memory_order_acquire);
        if (m_journal.append(line, record.id, committed)) {
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

std::vector<MessageRecord> MessageLog::takeQueued()
{
    QMutexLocker lock(&m_mutex);
    std::vector<MessageRecord> batch;
    batch.reserve(m_queue.size()); // the next batch is likely as large as this one
    batch.swap(m_queue);
    if (batch.empty())
        m_writerIdle = true;
    return batch;
}

// Journal lines whose id the database lacks are records answered but not committed when the
// process ended: they go into the database before anything else.
QString MessageLog::replayJournal()
{
    QList<QByteArray> lines;
    QString why;
    if (!Journal::readLines(m_database.journal, &lines, &why))
        return why;
    std::map<quint64, MessageRecord> missing; // by id: the two halves, in order, no twice
    for (const QByteArray &line : std::as_const(lines)) {
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        const quint64 id = quint64(o.value(u"id").toInteger());
        if (o.isEmpty() || id <= m_lastIdAtOpen)
            continue;
        MessageRecord r;
        r.id = id;
        r.ts = o.value(u"ts").toInteger();
        r.source = parseSourceName(o.value(u"source").toString()).value_or(EmitSource::Rest);
        r.target = parseTargetName(o.value(u"target").toString()).value_or(EmitTarget::Room);
        r.to = o.value(u"to").isNull() ? QString() : o.value(u"to").toString();
        r.event = o.value(u"event").toString();
        r.data = rawjson::member(line, u"data"); // exactly as sent
        r.delivered = o.value(u"delivered").toInteger();
        r.remote = o.value(u"remote").toString();
        missing.emplace(id, std::move(r));
    }
    if (!missing.empty()) {
        LogWriter writer(this);
        if (const QString error = writer.start(); !error.isEmpty())
            return error;
        {
            QMutexLocker lock(&m_mutex);
            m_queue.clear();
            for (auto &[id, record] : missing)
                m_queue.push_back(std::move(record));
        }
        const quint64 last = missing.rbegin()->first;
        writer.writeQueued();
        const bool ok = m_committed.load() >= last;
        writer.stop();
        if (!ok)
            return QStringLiteral("cannot write the journal's %1 records to the database")
                    .arg(missing.size());
        qCInfo(lcLog).noquote() << "recovered" << missing.size() << "records from the journal";
        m_lastIdAtOpen = last;
    }
    if (const QString error = m_journal.open(m_database.journal); !error.isEmpty())
        qCWarning(lcLog).noquote() << error << "- answers wait for the database commit";
    m_journalHole = 0;
    return {};
}

qint64 MessageLog::queueDepth() const
{
    QMutexLocker lock(&m_mutex);
    return qint64(m_queue.size());
}

void MessageLog::applyRetentionNow()
{
    if (m_writer) {
        QMetaObject::invokeMethod(
                m_writer, [this] { m_writer->retention(); }, Qt::BlockingQueuedConnection);
    }
}

std::optional<QList<MessageRecord>> MessageLog::query(const LogQuery &query, QString *error) const
{
    const QString name = connectionName(this, "reader");
    {
        QMutexLocker lock(&m_mutex);
        m_readerConnections.insert(name);
        // Read your writes: records already answered (journaled) but not yet in the database
        // are waited for, briefly; the writer is asked to commit now rather than at its tick.
        const quint64 wanted = query.upToId ? qMin(*query.upToId, m_lastAppended) : m_lastAppended;
        if (m_committed.load(std::memory_order_acquire) < wanted && m_writer) {
            LogWriter *writer = m_writer;
            QMetaObject::invokeMethod(
                    writer, [writer] { writer->writeQueued(); }, Qt::QueuedConnection);
            QDeadlineTimer deadline(2000);
            while (m_committed.load(std::memory_order_acquire) < wanted && m_writer
                   && m_commitDone.wait(&m_mutex, deadline)) { }
        }
    }
    QSqlDatabase c = openConnection(m_database, name, error);
    if (!c.isValid())
        return std::nullopt;
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
    QSqlQuery q(c);
    q.setForwardOnly(true);
    if (!q.prepare(sql)) {
        *error = q.lastError().text();
        return std::nullopt;
    }
    for (const QVariant &v : std::as_const(values))
        q.addBindValue(v);
    if (!q.exec()) {
        *error = q.lastError().text();
        return std::nullopt;
    }
    QList<MessageRecord> records;
    while (q.next())
        records.append(recordFrom(q));
    if (!ascending)
        std::reverse(records.begin(), records.end());
    return records;
}

MessageLog::RoomHistory MessageLog::roomHistory(const QString &room, std::optional<quint64> since,
                                                quint64 upTo) const
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
    auto records = query(missed, &error);
    if (!records) {
        qCWarning(lcLog).noquote() << "cannot read the history of room" << room << ":" << error;
        history.complete = false;
        return history;
    }
    // Retention may have deleted some of them; a gap this long is not replayed at all.
    history.complete = prunedUpTo() <= *since && records->size() <= kMaxLogReplay;
    if (records->size() <= kMaxLogReplay)
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
