#pragma once

#include "base/Message.h"
#include "store/LogDatabase.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSqlDatabase>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <vector>

class QSqlQuery;
class QTimer;

namespace sb {

class Histogram;
struct LogState;

// The message log's writer: lives on the log's thread with its own connection, and writes what
// has queued up in LogState in one transaction (group commit). The records it has taken from
// the queue stay with it until they are committed: a failed write closes the connection and
// tries again later (MessageLog::kRetryFirstMs doubling to kRetryMaxMs) with them and whatever
// was queued since, in id order, so that the committed mark never passes a missing id.
// Retention by age and row count runs here too.
class LogWriter final : public QObject
{
public:
    struct Settings
    {
        LogDatabase database;
        const void *owner = nullptr; // the log: names the connection
        qint64 retentionDays = 0;
        qint64 maxRows = 0;
        Histogram *writeSeconds = nullptr; // every batch commit is observed in it (may be null)
        std::function<void(quint64 upTo)> committed; // on this thread, after each commit
    };

    LogWriter(Settings settings, LogState &state);
    ~LogWriter() override;

    // The connection only (the journal replay at open uses that).
    bool connectDatabase(QString *error);
    void disconnectDatabase();
    // The journal replay: every write leaves the ids the database has alone.
    void setAlwaysIdempotent() { m_alwaysIdempotent = true; }

    // On the writer's thread: connects and starts the timers.
    bool start(QString *error);
    // The first record after a quiet spell: written at once, then the timer runs.
    void wake();
    // Writes what is left, trying a bounded number of times, and closes the connection.
    // What cannot be written stays in the journal file, which the next start replays.
    void stop();
    // The tick, a wake, a query that wants its writes: writes what has queued, unless a failed
    // write is being waited out (the retry timer comes back then).
    void writeQueued();
    // Writes until nothing is left, at most MessageLog::kFlushAttempts failed tries within
    // about kFlushDeadlineMs, waiting in between (this thread's events wait too). True when every
    // record taken is committed.
    bool flush();
    // Deletes what is older than retentionDays and more than maxRows, and moves prunedUpTo.
    void retention();

    // Rows the last successful writes inserted (ids the database already had are not).
    qint64 inserted() const { return m_inserted; }

private:
    enum class Attempt { Nothing, Written, Failed };

    Attempt attempt();
    bool reopen();
    void failed();
    void written();
    int retryDelayMs() const;
    bool writeBatch(const std::vector<MessageRecord> &batch);
    void bindRecord(QSqlQuery *q, int &i, const MessageRecord &r) const;
    QSqlQuery *insertFor(int n);

    static constexpr int kChunk = 64;
    const Settings m_settings;
    const bool m_postgresql; // U+0000 in data is stored as U+FFFD
    LogState &m_state;
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

} // namespace sb
