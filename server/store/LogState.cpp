#include "store/LogState.h"

namespace sb {

void LogState::takeQueued(std::vector<MessageRecord> &batch)
{
    QMutexLocker lock(&mutex);
    if (batch.empty()) {
        batch.reserve(queue.size()); // the next batch is likely as large as this one
        batch.swap(queue);
    } else {
        // Records a failed try left come first: they have the lower ids.
        batch.insert(batch.end(), std::make_move_iterator(queue.begin()),
                     std::make_move_iterator(queue.end()));
        queue.clear();
    }
    held = qint64(batch.size());
    if (batch.empty())
        writerIdle = true;
}

void LogState::markCommitted(quint64 upTo)
{
    {
        QMutexLocker lock(&mutex);
        committed.store(upTo, std::memory_order_release);
        held = 0;
        writeError.clear();
        writeFailing.store(false, std::memory_order_release);
    }
    commitDone.wakeAll();
}

void LogState::markFailing(const QString &error)
{
    {
        QMutexLocker lock(&mutex);
        writeError = error;
        writeFailing.store(true, std::memory_order_release);
    }
    commitDone.wakeAll();
}

void LogState::clearQueue(bool clearFailure)
{
    QMutexLocker lock(&mutex);
    queue.clear();
    held = 0;
    if (clearFailure) {
        writeError.clear();
        writeFailing.store(false);
    }
}

} // namespace sb
