#include "store/MessageLog.h"

#include "base/Logging.h"
#include "store/JournalReplay.h"
#include "store/LogQueries.h"
#include "store/LogSchema.h"
#include "store/LogWriter.h"

#include <QSqlDatabase>
#include <QThread>

#include <utility>

#if defined(Q_OS_LINUX)
#  include <sys/resource.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

namespace sb {

namespace {

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

} // namespace

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

bool MessageLog::open(QString *errorOut)
{
    QString error;
    const auto failed = [this, errorOut, &error] {
        if (errorOut)
            *errorOut = QStringLiteral("log_database %1: %2").arg(m_database.describe(), error);
        return false;
    };
    if (!prepareLogFile(m_database, &error)) {
        if (errorOut)
            *errorOut = error;
        return false;
    }
    if (!createLogSchema(m_database, this, &error))
        return failed();
    LogWriter::Settings settings{m_database,      this,
                                 m_retentionDays, m_maxRows,
                                 m_writeSeconds,  [this](quint64 upTo) { Q_EMIT committed(upTo); }};
    quint64 unreadableUpTo = 0;
    if (!replayJournal(settings, m_state, &unreadableUpTo, &error))
        return failed();
    m_journalLastId = qMax(m_journalLastId, unreadableUpTo);
    // The highest id after the replay: ids go on from there.
    const std::optional<LogBounds> bounds = readLogBounds(m_database, this, &error);
    if (!bounds)
        return failed();
    if (bounds->prunedUpTo)
        m_state.prunedUpTo.store(*bounds->prunedUpTo);
    m_lastIdAtOpen = qMax(bounds->lastId, m_journalLastId);
    if (!m_state.journal.open(m_database.journal, &error))
        qCWarning(lcLog).noquote() << error << "- answers wait for the database commit";
    m_state.journalHole = 0;
    m_state.committed.store(m_lastIdAtOpen, std::memory_order_release);
    m_state.durable.store(m_lastIdAtOpen, std::memory_order_release);
    m_state.lastAppended = m_lastIdAtOpen;

    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("switchboard-log"));
    auto *writer = new LogWriter(std::move(settings), m_state);
    writer->moveToThread(m_thread);
    {
        QMutexLocker lock(&m_state.mutex);
        m_state.writer = writer;
    }
    m_thread->start();
    bool started = false;
    QMetaObject::invokeMethod(
            writer,
            [writer, &started, &error] {
                lowerThreadPriority();
                started = writer->start(&error);
            },
            Qt::BlockingQueuedConnection);
    if (!started) {
        close();
        return failed();
    }
    return true;
}

void MessageLog::close()
{
    if (!m_thread)
        return;
    QMetaObject::invokeMethod(
            m_state.writer,
            [this] {
                m_state.writer->stop();
                QMutexLocker lock(&m_state.mutex);
                delete std::exchange(m_state.writer, nullptr);
            },
            Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    // Everything is in the database now (stop() wrote the queue) unless the database was
    // away: then the journal file stays, and the next open() writes its records.
    m_state.journal.close(m_state.committed.load() >= m_state.lastAppended);
    // Readers' connections of every thread that queried (none may be querying now).
    QSet<QString> readers;
    {
        QMutexLocker lock(&m_state.mutex);
        readers.swap(m_state.readerConnections);
        m_state.queue.clear();
        m_state.held = 0;
    }
    m_state.commitDone.wakeAll();
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
    QMutexLocker lock(&m_state.mutex);
    if (!m_state.writer || m_state.queueDepthLocked() >= kMaxQueued)
        return false;
    if (m_state.journal.isOpen()) {
        const quint64 committed = m_state.committed.load(std::memory_order_acquire);
        if (m_state.journal.append(line, crc, record.id, committed)) {
            // Durable once every earlier record is journaled or in the database.
            if (m_state.journalHole <= committed)
                m_state.durable.store(record.id, std::memory_order_release);
        } else {
            // The writer is far behind (16 MiB of records): this answer waits for the commit.
            m_state.journalHole = record.id;
        }
    }
    m_state.lastAppended = record.id;
    m_state.queue.push_back(record);
    if (m_state.writerIdle) {
        m_state.writerIdle = false;
        LogWriter *writer = m_state.writer;
        QMetaObject::invokeMethod(
                writer, [writer] { writer->wake(); }, Qt::QueuedConnection);
    }
    return true;
}

qint64 MessageLog::queueDepth() const
{
    QMutexLocker lock(&m_state.mutex);
    return m_state.queueDepthLocked();
}

void MessageLog::applyRetentionNow()
{
    if (LogWriter *writer = m_state.writer) {
        QMetaObject::invokeMethod(
                writer, [writer] { writer->retention(); }, Qt::BlockingQueuedConnection);
    }
}

std::optional<QList<MessageRecord>> MessageLog::query(const LogQuery &query, QString *error,
                                                      bool *more) const
{
    return LogQueries(m_database, m_state, this).query(query, error, more);
}

MessageLog::RoomHistory MessageLog::roomHistory(const QString &room, std::optional<quint64> since,
                                                quint64 upTo, qint64 maxBytes) const
{
    return LogQueries(m_database, m_state, this).roomHistory(room, since, upTo, maxBytes);
}

} // namespace sb
