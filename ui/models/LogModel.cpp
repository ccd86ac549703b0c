#include "models/LogModel.h"

#include <QDateTime>

namespace sb::ui {

namespace {
// The data column shows the start of the JSON text; the detail pane shows all of it.
constexpr qsizetype kDataPreviewChars = 200;

// Header texts by column (LogModel::Column).
constexpr const char *kHeaders[] = {
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Id"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Time"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Node"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Source"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Target"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "To"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Event"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Delivered"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Data"),
        QT_TRANSLATE_NOOP("sb::ui::LogModel", "Remote"),
};
static_assert(std::size(kHeaders) == LogModel::ColumnCount);
} // namespace

LogModel::LogModel(QObject *parent) : FlatTableModel(kHeaders, parent) { }

QString LogModel::timeText(qint64 ts)
{
    return QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
}

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || std::size_t(index.row()) >= m_rows.size())
        return {};
    const LogRecord &r = m_rows[std::size_t(index.row())];
    if (role == RecordIdRole)
        return r.id;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id:
            return r.id;
        case Time: // the date is in the tooltip and the detail pane
            return QDateTime::fromMSecsSinceEpoch(r.ts).toString(QStringLiteral("HH:mm:ss.zzz"));
        case Node:
            return r.node;
        case Source:
            return r.source;
        case Target:
            return r.target;
        case To:
            return r.to;
        case Event:
            return r.event;
        case Delivered:
            return r.delivered;
        case Data: {
            if (r.data.size() <= kDataPreviewChars)
                return QString::fromUtf8(r.data);
            return QString(QString::fromUtf8(r.data.left(kDataPreviewChars)) + QChar(0x2026));
        }
        case Remote:
            return r.remote;
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Time)
        return timeText(r.ts);
    if (role == Qt::TextAlignmentRole && (index.column() == Id || index.column() == Delivered))
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

template<typename Records>
void LogModel::noteNodes(const Records &records, bool keep)
{
    bool has = keep && m_hasNodes;
    for (auto it = records.begin(); it != records.end() && !has; ++it)
        has = !it->node.isEmpty();
    if (has == m_hasNodes)
        return;
    m_hasNodes = has;
    Q_EMIT hasNodesChanged(has);
}

void LogModel::setCapacity(qsizetype capacity)
{
    m_capacity = qMax<qsizetype>(100, capacity);
    if (qsizetype(m_rows.size()) > m_capacity) {
        const int excess = int(qsizetype(m_rows.size()) - m_capacity);
        beginRemoveRows({}, 0, excess - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + excess);
        endRemoveRows();
    }
}

void LogModel::reset(const QList<LogRecord> &records)
{
    beginResetModel();
    m_rows.assign(records.cbegin(), records.cend());
    if (qsizetype(m_rows.size()) > m_capacity)
        m_rows.erase(m_rows.begin(), m_rows.end() - m_capacity);
    m_pending.clear();
    m_newestId = m_rows.empty() ? 0 : m_rows.back().id;
    endResetModel();
    noteNodes(m_rows, false);
    Q_EMIT countsChanged();
}

void LogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_pending.clear();
    m_dropped = 0;
    endResetModel();
    noteNodes(m_rows, false);
    Q_EMIT countsChanged();
}

void LogModel::addDropped(quint64 n)
{
    if (n == 0)
        return;
    m_dropped += n;
    Q_EMIT countsChanged();
}

void LogModel::append(const QList<LogRecord> &records)
{
    std::deque<LogRecord> batch;
    for (const LogRecord &r : records) {
        if (r.id <= m_newestId)
            continue; // already shown (a snapshot overlaps the first batch)
        batch.push_back(r);
        m_newestId = r.id;
    }
    if (batch.empty())
        return;
    if (m_paused) {
        for (LogRecord &r : batch)
            m_pending.push_back(std::move(r));
        if (qsizetype(m_pending.size()) > m_capacity) {
            const qsizetype excess = qsizetype(m_pending.size()) - m_capacity;
            m_pending.erase(m_pending.begin(), m_pending.begin() + excess);
            m_dropped += quint64(excess);
        }
        Q_EMIT countsChanged();
        return;
    }
    insertNow(std::move(batch));
}

void LogModel::insertNow(std::deque<LogRecord> &&batch)
{
    if (qsizetype(batch.size()) > m_capacity) {
        const qsizetype excess = qsizetype(batch.size()) - m_capacity;
        batch.erase(batch.begin(), batch.begin() + excess);
        m_dropped += quint64(excess);
    }
    // Make room first (one removal of the oldest rows), then one insert at the end.
    const qsizetype overflow = qsizetype(m_rows.size() + batch.size()) - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, int(overflow) - 1);
        m_rows.erase(m_rows.begin(), m_rows.begin() + overflow);
        endRemoveRows();
    }
    noteNodes(batch);
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(batch.size()) - 1);
    for (LogRecord &r : batch)
        m_rows.push_back(std::move(r));
    endInsertRows();
    Q_EMIT countsChanged();
}

bool LogModel::prepend(const QList<LogRecord> &records)
{
    const quint64 oldest = oldestId();
    QList<LogRecord> older;
    for (const LogRecord &r : records) {
        if (oldest == 0 || r.id < oldest)
            older.append(r);
    }
    const qsizetype room = m_capacity - qsizetype(m_rows.size());
    if (room <= 0 || older.isEmpty())
        return false;
    if (older.size() > room)
        older = older.mid(older.size() - room); // keep the newest of the older ones
    beginInsertRows({}, 0, int(older.size()) - 1);
    m_rows.insert(m_rows.begin(), older.cbegin(), older.cend());
    endInsertRows();
    noteNodes(older);
    if (m_newestId == 0)
        m_newestId = m_rows.back().id;
    Q_EMIT countsChanged();
    return true;
}

void LogModel::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    if (!paused && !m_pending.empty())
        insertNow(std::exchange(m_pending, {}));
    Q_EMIT countsChanged();
}

} // namespace sb::ui
