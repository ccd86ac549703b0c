#pragma once

#include "store/LogDatabase.h"
#include "store/MessageLog.h"

#include <QList>
#include <QString>
#include <QVariantList>

#include <optional>

namespace sb {

struct LogState;

// The read side of the message log: GET /api/log pages and the room histories `since`
// recovery seeds from, each cut to a byte budget (MessageLog::recordBytes). Any thread, each
// with its own reader connection (named in LogState::readerConnections, which close()
// removes). Reads its writes: records already appended are waited for (at most 2 s), and
// while the database lacks some of them the query fails rather than leave them out.
class LogQueries
{
public:
    LogQueries(const LogDatabase &database, LogState &state, const void *owner)
        : m_database(database), m_state(state), m_owner(owner)
    { }

    // MessageLog::query().
    std::optional<QList<MessageRecord>> query(const LogQuery &query, QString *error,
                                              bool *more) const;
    // MessageLog::roomHistory().
    MessageLog::RoomHistory roomHistory(const QString &room, std::optional<quint64> since,
                                        quint64 upTo, qint64 maxBytes) const;

private:
    // Waits (briefly) for the records the query may cover to be committed; false with *error
    // while the database lacks some.
    bool waitForWrites(const LogQuery &query, QString *error) const;
    // The SELECT of the query, its bound values in *values.
    static QString selectSql(const LogQuery &query, QVariantList *values);
    // Runs the SELECT on this thread's reader connection `name` (opened again once when the
    // database dropped it) and reads rows within the query's byte budget.
    std::optional<QList<MessageRecord>> readRows(const QString &name, const QString &sql,
                                                 const QVariantList &values, const LogQuery &query,
                                                 QString *error, bool *more) const;

    const LogDatabase &m_database;
    LogState &m_state;
    const void *m_owner;
};

} // namespace sb
