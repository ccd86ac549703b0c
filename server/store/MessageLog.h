#pragma once

#include "base/Message.h"
#include "store/LogDatabase.h"
#include "store/LogState.h"
#include "store/RecordJson.h"
#include "store/RoomEvents.h"

#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <optional>

class QThread;

namespace sb {

class Histogram;

// What GET /api/log asks for (docs/API.md, "Message log records").
struct LogQuery
{
    // Default byte budget of one query (see MessageLog::recordBytes): about what the answer's
    // body may hold before it is cut short (docs/API.md, "`GET /api/log`: message log").
    static constexpr qint64 kDefaultMaxBytes = 8 << 20;

    QString room;                    // records whose target is this room
    QString user;                    // records whose target is this user
    QString event;                   // records of this event
    std::optional<quint64> sinceId;  // ids above, oldest first
    std::optional<quint64> beforeId; // ids below (paging backwards)
    std::optional<quint64> upToId;   // ids at or below
    int limit = 100;                 // 1..kMaxQueryLimit
    // Rows are read until their bytes would pass this (at least one is always returned);
    // 0 or less: no byte budget, `limit` only.
    qint64 maxBytes = kDefaultMaxBytes;
};

// The message log (the seeds' RTM_LOG). append() copies the record into the memory-mapped
// Journal (in the OS's hands, so a killed process loses nothing) and queues it (any thread,
// cheap); a writer thread with its own database connection writes whatever has queued up in one
// transaction (group commit). A caller answers once durableId() covers its record: at once while
// the journal works, else after the commit. Retention by age and row count runs on the writer
// thread. Queries run on the calling thread with a connection of that thread's own.
//
// Nothing answered is ever dropped (docs/API.md, "Message log records"): a batch the database
// refuses (locked, restarted, unreachable) stays with the writer, ahead of what is queued after
// it, and is tried again on a reopened connection, 100 ms after the failure doubling to 5 s, so
// that ids are committed in order and committedId() never passes one that is missing. The
// INSERTs do nothing for an id already stored (a commit whose answer was lost). While the
// database is away the records wait in memory (and the journal); append() refuses only once
// kMaxQueued records are waiting, those the writer holds included. At open, every journal record
// the database lacks is written first, below the highest stored id too.
//
// This class is the facade; the work is done by its parts: LogDatabase (the setting,
// connections), LogSchema (the file, the tables, the bounds at open), JournalReplay, LogWriter
// (the writer thread, retention), LogQueries (the read side), sharing a LogState.
class MessageLog final : public QObject, public RoomEventSource
{
    Q_OBJECT

public:
    MessageLog(LogDatabase database, qint64 retentionDays, qint64 maxRows,
               QObject *parent = nullptr);
    ~MessageLog() override;

    // Opens the database, creates the schema, reads the highest id and starts the writer.
    // False with *error (which names log_database) when it cannot.
    bool open(QString *error);
    // Writes what is queued, stops the writer. Called by the destructor too.
    void close();

    // Any thread. False when kMaxQueued records wait for the database (the writer is behind,
    // or the database is away): the caller refuses the emit with 503 rather than let memory
    // grow.
    bool append(const MessageRecord &record);

    quint64 lastIdAtOpen() const { return m_lastIdAtOpen; }
    quint64 committedId() const { return m_state.committed.load(std::memory_order_acquire); }
    // Every id up to this one survives a killed process: in the journal or the database.
    quint64 durableId() const
    {
        return qMax(m_state.durable.load(std::memory_order_acquire),
                    m_state.committed.load(std::memory_order_acquire));
    }
    // Records not yet committed: queued, and held by the writer (being written, or waiting to
    // be tried again). The metric switchboard_log_queue_depth.
    qint64 queueDepth() const;
    // Any thread: records matching the query, oldest first; nullopt with *error on failure.
    // Reads its writes: records already appended are waited for (at most 2 s) and, when the
    // database does not have them yet (it is away), the query fails rather than leave them
    // out. When `more` is given it is set to whether rows were left out because of
    // query.maxBytes: the caller pages on (since_id after the last record, or before_id
    // before the first).
    std::optional<QList<MessageRecord>> query(const LogQuery &query, QString *error,
                                              bool *more = nullptr) const;
    // Any thread: what `since` recovery needs of a room that memory no longer holds (RoomEvents):
    // its events with ids in (since, upTo], oldest first, and its latest id up to upTo. `complete`
    // is false when some are gone (retention), more than kMaxLogReplay or than maxBytes, the
    // database lacks some (it is away) or a query failed; `lastIdKnown` false when the
    // database is away.
    using RoomHistory = RoomEvents;
    RoomHistory roomHistory(const QString &room, std::optional<quint64> since, quint64 upTo,
                            qint64 maxBytes = kDefaultReplayBytes) const;
    // RoomEventSource: roomHistory().
    RoomEvents roomEvents(const QString &room, std::optional<quint64> since, quint64 upTo,
                          qint64 maxBytes) const override
    {
        return roomHistory(room, since, upTo, maxBytes);
    }
    // What a record counts against a byte budget: its data, to, event and remote, plus
    // kRecordOverheadBytes for the rest of its JSON (recordJson).
    static qint64 recordBytes(const MessageRecord &record)
    {
        return record.data.size() + record.to.size() + record.event.size() + record.remote.size()
                + kRecordOverheadBytes;
    }
    // Highest id retention has deleted (every id above it that was logged is still there).
    quint64 prunedUpTo() const { return m_state.prunedUpTo.load(std::memory_order_acquire); }
    // Any thread: runs the retention now (tests; the writer runs it every 10 s).
    void applyRetentionNow();
    // Before open(): every batch commit of the writer is observed in this histogram.
    void setWriteHistogram(Histogram *histogram) { m_writeSeconds = histogram; }

    static constexpr qint64 kMaxQueued = 200'000;
    static constexpr int kMaxQueryLimit = 10'000;
    // Most events one join replays from the log; a longer gap answers recovered: false.
    static constexpr int kMaxLogReplay = 10'000;
    // Default byte budget of roomHistory(): a replay past it answers recovered: false.
    static constexpr qint64 kDefaultReplayBytes = 8 << 20;
    static constexpr qint64 kRecordOverheadBytes = 100;
    static constexpr int kRetentionIntervalMs = 10'000;
    static constexpr int kWriteIntervalMs = 5; // group commit: at most this long between batches
    // A failed write is tried again after kRetryFirstMs, doubling up to kRetryMaxMs.
    static constexpr int kRetryFirstMs = 100;
    static constexpr int kRetryMaxMs = 5'000;
    // close() and the journal replay at open() try at most this often, for about this long
    // (a locked SQLite file makes each try wait its busy timeout, 5 s).
    static constexpr int kFlushAttempts = 3;
    static constexpr int kFlushDeadlineMs = 5'000;

Q_SIGNALS:
    // Emitted from the writer thread after each commit: every id up to upTo is durable.
    void committed(quint64 upTo);

private:
    const LogDatabase m_database;
    const qint64 m_retentionDays;
    const qint64 m_maxRows;
    QThread *m_thread = nullptr;
    Histogram *m_writeSeconds = nullptr;
    quint64 m_lastIdAtOpen = 0;
    quint64 m_journalLastId = 0; // highest id of a journal record that could not be read
    // Shared with the writer thread and the queries (which run on the callers' threads, and
    // register their connections and wait for commits even in const functions).
    mutable LogState m_state;
};

} // namespace sb
