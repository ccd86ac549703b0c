#pragma once

#include "base/Message.h"
#include "store/Journal.h"

#include <QMutex>
#include <QSet>
#include <QString>
#include <QWaitCondition>

#include <atomic>
#include <vector>

namespace sb {

class LogWriter;

// What the parts of the message log share across threads: the records waiting for the
// database (queued by append(), held by the writer until committed), the journal, and the
// marks. Fields marked (mutex) are used under `mutex` only; the atomics from any thread.
struct LogState
{
    mutable QMutex mutex;
    QWaitCondition commitDone; // with mutex: a batch was committed, or writes fail

    std::vector<MessageRecord> queue; // (mutex) appended, not yet taken by the writer
    qint64 held = 0;                  // (mutex) records the writer has taken and not committed
    QString writeError;          // (mutex) while writes fail: the database's last error, else empty
    bool writerIdle = true;      // (mutex) the writer's timer is stopped: append() wakes it
    LogWriter *writer = nullptr; // (mutex) while open
    Journal journal;             // (mutex)
    quint64 journalHole = 0;     // (mutex) highest id that could not be journaled
    quint64 lastAppended = 0;    // (mutex)
    QSet<QString> readerConnections; // (mutex) reader connection names, closed by close()

    std::atomic<bool> writeFailing{false};
    std::atomic<quint64> committed{0};  // every id up to this one is in the database
    std::atomic<quint64> durable{0};    // every id up to this one is journaled or committed
    std::atomic<quint64> prunedUpTo{0}; // highest id retention has deleted

    qint64 queueDepthLocked() const { return qint64(queue.size()) + held; }

    // The writer takes what is queued, after the records it still holds (`batch`); with
    // nothing left it is marked idle.
    void takeQueued(std::vector<MessageRecord> &batch);
    // The writer committed every record it held, up to upTo. Wakes the queries waiting.
    void markCommitted(quint64 upTo);
    // A write failed with `error`: the queries waiting for it give up now.
    void markFailing(const QString &error);
    // Nothing queued or held, no failure (the state close() and the journal replay leave).
    void clearQueue(bool clearFailure);
};

} // namespace sb
