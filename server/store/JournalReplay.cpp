#include "store/JournalReplay.h"

#include "base/Logging.h"
#include "store/Journal.h"
#include "store/LogState.h"
#include "store/RecordJson.h"

#include <map>

namespace sb {

namespace {

using RecordsById = std::map<quint64, MessageRecord>;

// The journal's records by id: the two halves, in order, none twice.
bool readJournal(const QString &path, RecordsById *records, quint64 *unreadableUpTo, QString *error)
{
    QList<QByteArray> lines;
    int dropped = 0;
    if (!Journal::readLines(path, &lines, error, &dropped))
        return false;
    if (dropped > 0)
        qCInfo(lcLog).noquote() << "the journal ended in a record cut short (never answered):"
                                << "left out";
    int unreadable = 0;
    for (const QByteArray &line : std::as_const(lines)) {
        if (std::optional<MessageRecord> r = parseRecordJson(line)) {
            records->insert_or_assign(r->id, std::move(*r));
        } else {
            ++unreadable;
            *unreadableUpTo = qMax(*unreadableUpTo, recordJsonId(line));
        }
    }
    if (unreadable > 0)
        qCWarning(lcLog).noquote() << unreadable << "journal records could not be read: skipped";
    return true;
}

// Writes the records through a writer of this thread that leaves the ids the database has
// alone. *inserted: the rows the database lacked.
bool writeRecords(const LogWriter::Settings &settings, LogState &state, RecordsById records,
                  qint64 *inserted, QString *error)
{
    LogWriter writer(settings, state);
    writer.setAlwaysIdempotent();
    if (!writer.connectDatabase(error)) {
        writer.disconnectDatabase();
        return false;
    }
    const size_t count = records.size();
    {
        QMutexLocker lock(&state.mutex);
        state.queue.clear();
        for (auto &[id, record] : records)
            state.queue.push_back(std::move(record));
    }
    const bool ok = writer.flush();
    writer.disconnectDatabase();
    state.clearQueue(true);
    *inserted = writer.inserted();
    if (!ok && error)
        *error = QStringLiteral("cannot write the journal's %1 records to the database").arg(count);
    return ok;
}

} // namespace

bool replayJournal(const LogWriter::Settings &settings, LogState &state, quint64 *unreadableUpTo,
                   QString *error)
{
    *unreadableUpTo = 0;
    RecordsById records;
    if (!readJournal(settings.database.journal, &records, unreadableUpTo, error))
        return false;
    if (records.empty())
        return true;
    qint64 inserted = 0;
    if (!writeRecords(settings, state, std::move(records), &inserted, error))
        return false;
    if (inserted > 0)
        qCInfo(lcLog).noquote() << "recovered" << inserted
                                << "records from the journal (the database lacked them)";
    return true;
}

} // namespace sb
