#pragma once

#include "backend/ConsoleTypes.h"
#include "models/TableColumns.h"

#include <deque>

namespace sb::ui {

// The live message log: a bounded ring of records, oldest first. Records arrive in batches
// and each batch is one insert (plus at most one removal of the oldest rows when the ring is
// full), never one model signal per message. While paused, batches wait in a bounded queue
// and are shown on resume. Older history (GET /api/log) is prepended in one insert.
class LogModel final : public FlatTableModel
{
    Q_OBJECT

public:
    enum Column { Id, Time, Node, Source, Target, To, Event, Delivered, Data, Remote, ColumnCount };
    enum Role { RecordIdRole = Qt::UserRole + 1 };
    static constexpr qsizetype kDefaultCapacity = 50000;

    explicit LogModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    void setCapacity(qsizetype capacity);
    qsizetype capacity() const { return m_capacity; }

    // Replaces everything (a new snapshot).
    void reset(const QList<LogRecord> &records);
    // Newer records: appended, in one insert. Records at or below the newest id are skipped.
    void append(const QList<LogRecord> &records);
    // Older records (oldest first), put before the oldest row; false when the ring is full.
    bool prepend(const QList<LogRecord> &records);
    void clear();

    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    qsizetype pendingCount() const { return qsizetype(m_pending.size()); }

    const LogRecord &at(int row) const { return m_rows.at(std::size_t(row)); }
    quint64 oldestId() const { return m_rows.empty() ? 0 : m_rows.front().id; }
    quint64 newestId() const { return m_newestId; }
    // Records the server could not batch (admin stream "dropped"), plus ring evictions.
    quint64 droppedCount() const { return m_dropped; }
    void addDropped(quint64 n);
    // Whether any row carries a node (records of a cluster); the Node column shows only then.
    bool hasNodes() const { return m_hasNodes; }

    // The full date and time of a record, as the tooltip and the detail pane show it.
    static QString timeText(qint64 ts);

Q_SIGNALS:
    void countsChanged();
    void hasNodesChanged(bool hasNodes);

private:
    int size() const override { return int(m_rows.size()); }
    void insertNow(std::deque<LogRecord> &&batch);
    // Notes the nodes of `records`; false: start over (after a reset or clear).
    template<typename Records>
    void noteNodes(const Records &records, bool keep = true);

    std::deque<LogRecord> m_rows;
    std::deque<LogRecord> m_pending; // while paused
    qsizetype m_capacity = kDefaultCapacity;
    quint64 m_newestId = 0;
    quint64 m_dropped = 0;
    bool m_paused = false;
    bool m_hasNodes = false;
};

} // namespace sb::ui
