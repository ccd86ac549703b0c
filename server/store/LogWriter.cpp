#include "store/LogWriter.h"

#include "base/Logging.h"
#include "metrics/Metrics.h"
#include "store/LogState.h"
#include "store/MessageLog.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>
#include <QVariant>

namespace sb {

LogWriter::LogWriter(Settings settings, LogState &state)
    : m_settings(std::move(settings)),
      m_postgresql(m_settings.database.driver == u"QPSQL"),
      m_state(state)
{ }

LogWriter::~LogWriter() = default;

bool LogWriter::connectDatabase(QString *error)
{
    std::optional<QSqlDatabase> c = openLogConnection(
            m_settings.database, logConnectionName(m_settings.owner, "writer"), error);
    m_db = c ? std::move(*c) : QSqlDatabase();
    return c.has_value();
}

void LogWriter::disconnectDatabase()
{
    m_inserts.clear();
    const QString name = m_db.connectionName();
    m_db = QSqlDatabase();
    if (!name.isEmpty())
        QSqlDatabase::removeDatabase(name);
}

bool LogWriter::start(QString *error)
{
    if (!connectDatabase(error))
        return false;
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
    return true;
}

void LogWriter::wake()
{
    writeQueued();
    if (!m_retry->isActive())
        m_tick->start();
}

void LogWriter::stop()
{
    if (m_retry)
        m_retry->stop();
    if (!flush() && !m_batch.empty()) {
        qCWarning(lcLog).noquote()
                << "could not write ids" << m_batch.front().id << "to" << m_batch.back().id
                << "to the log before stopping:" << m_lastError << "- they stay in"
                << m_settings.database.journal << "and are written at the next start";
    }
    delete m_retention;
    m_retention = nullptr;
    delete m_tick;
    m_tick = nullptr;
    delete m_retry;
    m_retry = nullptr;
    disconnectDatabase();
}

void LogWriter::writeQueued()
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

bool LogWriter::flush()
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

void LogWriter::retention()
{
    if (m_failures > 0 || !m_db.isOpen())
        return; // the database is away: the writes come first
    QSqlQuery q(m_db);
    if (m_settings.retentionDays > 0) {
        // The derived table needs its alias: PostgreSQL before 16 refuses one without.
        const bool prepared = q.prepare(QStringLiteral(
                "DELETE FROM messages WHERE id < (SELECT COALESCE(MIN(id), (SELECT MAX(id) + 1 "
                "FROM messages)) FROM (SELECT id FROM messages WHERE ts >= ? ORDER BY id "
                "LIMIT 1) AS oldest_kept)"));
        q.addBindValue(QDateTime::currentMSecsSinceEpoch()
                       - m_settings.retentionDays * 86'400'000LL);
        // A failed prepare() is the error to report (exec() would only add a confusing one).
        if (!prepared || !q.exec())
            qCWarning(lcLog).noquote() << "retention by age failed:" << q.lastError().text();
    }
    if (m_settings.maxRows > 0) {
        const bool prepared =
                q.prepare(QStringLiteral("DELETE FROM messages WHERE id <= (SELECT id FROM "
                                         "messages ORDER BY id DESC LIMIT 1 OFFSET ?)"));
        q.addBindValue(m_settings.maxRows);
        if (!prepared || !q.exec())
            qCWarning(lcLog).noquote() << "retention by rows failed:" << q.lastError().text();
    }
    // What is gone now: everything below the oldest row, or all that was committed.
    if (q.exec(QStringLiteral("SELECT MIN(id) FROM messages")) && q.next()) {
        const quint64 pruned = q.value(0).isNull()
                ? m_state.committed.load(std::memory_order_acquire)
                : q.value(0).toULongLong() - 1;
        if (pruned > m_state.prunedUpTo.load())
            m_state.prunedUpTo.store(pruned, std::memory_order_release);
    }
}

// Takes what has queued (after what a failed try left) and writes it in one transaction.
LogWriter::Attempt LogWriter::attempt()
{
    m_state.takeQueued(m_batch);
    if (m_batch.empty())
        return Attempt::Nothing;
    if (!reopen() || !writeBatch(m_batch)) {
        failed();
        return Attempt::Failed;
    }
    written();
    return Attempt::Written;
}

bool LogWriter::reopen()
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
    configureLogConnection(m_db, m_settings.database);
    return true;
}

void LogWriter::failed()
{
    if (++m_failures == 1) {
        m_outage.start();
        qCWarning(lcLog).noquote()
                << "cannot write ids" << m_batch.front().id << "to" << m_batch.back().id
                << "to the log (they are kept, and tried again on a new connection from"
                << MessageLog::kRetryFirstMs << "ms doubling to" << MessageLog::kRetryMaxMs
                << "ms until the database takes them):" << m_lastError;
    } else {
        qCDebug(lcLog).noquote() << "log write attempt" << m_failures << "failed:" << m_lastError;
    }
    m_state.markFailing(m_lastError); // queries waiting for these records give up now
    // A broken connection (a restarted PostgreSQL, a terminated backend) is not reused:
    // the next try opens a new one.
    m_inserts.clear();
    if (m_db.isOpen()) {
        m_db.rollback();
        m_db.close();
    }
}

void LogWriter::written()
{
    const quint64 from = m_batch.front().id;
    const quint64 upTo = m_batch.back().id;
    m_state.markCommitted(upTo);
    m_batch.clear();
    if (m_settings.committed)
        m_settings.committed(upTo);
    if (m_failures > 0) {
        qCInfo(lcLog).noquote() << "the log is written again after" << m_failures
                                << "failed attempts in" << m_outage.elapsed() << "ms: ids" << from
                                << "to" << upTo << "committed";
        m_failures = 0;
    }
}

int LogWriter::retryDelayMs() const
{
    return int(qMin<qint64>(qint64(MessageLog::kRetryFirstMs) << qBound(0, m_failures - 1, 16),
                            MessageLog::kRetryMaxMs));
}

bool LogWriter::writeBatch(const std::vector<MessageRecord> &batch)
{
    const Histogram::Timer timer(m_settings.writeSeconds); // switchboard_log_write_seconds
    if (!m_db.transaction()) {
        m_lastError = m_db.lastError().text();
        return false;
    }
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
        for (int k = 0; k < n; ++k)
            bindRecord(q, i, batch[done + size_t(k)]);
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

// The record's nine values, from position i on.
void LogWriter::bindRecord(QSqlQuery *q, int &i, const MessageRecord &r) const
{
    q->bindValue(i++, qint64(r.id));
    q->bindValue(i++, r.ts);
    q->bindValue(i++, sourceName(r.source));
    q->bindValue(i++, targetName(r.target));
    q->bindValue(i++, r.to.isNull() ? QVariant(QMetaType::fromType<QString>()) : r.to);
    q->bindValue(i++, r.event);
    QString data = QString::fromUtf8(r.data);
    // PostgreSQL text cannot hold U+0000: stored as U+FFFD, as invalid UTF-8 is,
    // rather than refused forever (which would hold up every later record).
    if (m_postgresql && data.contains(QChar(0)))
        data.replace(QChar(0), QChar::ReplacementCharacter);
    q->bindValue(i++, data);
    q->bindValue(i++, r.delivered);
    q->bindValue(i++, r.remote);
    q->bindValue(i++, r.node.isNull() ? QVariant(QMetaType::fromType<QString>()) : r.node);
}

// The INSERT for n records, prepared once per n and kind. Where the database may have some
// of the ids already, the INSERT leaves those rows as they are (ON CONFLICT (id) DO
// NOTHING): every try after a failed one (the commit may have gone through with its answer
// lost) and the journal replay. A batch tried for the first time holds ids above any the
// database has (ids go on from the highest at open, batches commit in order) and uses the
// plain INSERT: PostgreSQL's speculative insertion costs about 15% of the commit rate
// (docs/performance.md), SQLite's nothing measurable. Should a plain one meet an id all the
// same, it fails, and the next try does not.
QSqlQuery *LogWriter::insertFor(int n)
{
    const bool idempotent = m_alwaysIdempotent || m_failures > 0;
    const int key = 2 * n + (idempotent ? 1 : 0);
    auto &slot = m_inserts[key];
    if (slot)
        return slot.get();
    QString sql = QStringLiteral("INSERT INTO messages (id, ts, source, target, to_name, "
                                 "event, data, delivered, remote, node) VALUES ");
    for (int k = 0; k < n; ++k)
        sql += k ? QStringLiteral(",(?,?,?,?,?,?,?,?,?,?)")
                 : QStringLiteral("(?,?,?,?,?,?,?,?,?,?)");
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

} // namespace sb
