#include "store/LogQueries.h"

#include "base/Logging.h"
#include "store/LogState.h"
#include "store/LogWriter.h"

#include <QDeadlineTimer>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>

#include <algorithm>

namespace sb {

namespace {

MessageRecord recordFrom(const QSqlQuery &q)
{
    MessageRecord r;
    r.id = q.value(0).toULongLong();
    r.ts = q.value(1).toLongLong();
    r.source = parseSourceName(q.value(2).toString()).value_or(EmitSource::Rest);
    r.target = parseTargetName(q.value(3).toString()).value_or(EmitTarget::Room);
    r.to = q.value(4).isNull() ? QString() : q.value(4).toString();
    r.event = q.value(5).toString();
    r.data = q.value(6).toString().toUtf8();
    r.delivered = q.value(7).toLongLong();
    r.remote = q.value(8).toString();
    r.node = q.value(9).isNull() ? QString() : q.value(9).toString();
    return r;
}

} // namespace

std::optional<QList<MessageRecord>> LogQueries::query(const LogQuery &query, QString *error,
                                                      bool *more) const
{
    if (more)
        *more = false;
    const QString name = logConnectionName(m_owner, "reader");
    {
        QMutexLocker lock(&m_state.mutex);
        m_state.readerConnections.insert(name);
    }
    if (!waitForWrites(query, error))
        return std::nullopt;
    QVariantList values;
    const QString sql = selectSql(query, &values);
    return readRows(name, sql, values, query, error, more);
}

// Read your writes: records already appended (answered, or about to be) but not yet in the
// database are waited for, briefly; the writer is asked to commit now rather than at its
// tick. Records the database lacks would be a gap in the answer (and in a `since` replay):
// while they are missing, the query fails instead.
bool LogQueries::waitForWrites(const LogQuery &query, QString *error) const
{
    QMutexLocker lock(&m_state.mutex);
    quint64 wanted = m_state.lastAppended;
    if (query.upToId)
        wanted = qMin(wanted, *query.upToId);
    if (query.beforeId)
        wanted = qMin(wanted, *query.beforeId > 0 ? *query.beforeId - 1 : 0);
    const auto waiting = [this, wanted] {
        return m_state.committed.load(std::memory_order_acquire) < wanted && m_state.writer
                && !m_state.writeFailing.load(std::memory_order_acquire);
    };
    if (waiting()) {
        LogWriter *writer = m_state.writer;
        QMetaObject::invokeMethod(
                writer, [writer] { writer->writeQueued(); }, Qt::QueuedConnection);
        QDeadlineTimer deadline(2000);
        while (waiting() && m_state.commitDone.wait(&m_state.mutex, deadline)) { }
    }
    const quint64 committed = m_state.committed.load(std::memory_order_acquire);
    if (committed >= wanted)
        return true;
    if (error)
        *error = QStringLiteral("the message log database does not have ids %1 to %2 yet%3")
                         .arg(committed + 1)
                         .arg(wanted)
                         .arg(m_state.writeError.isEmpty() ? QString()
                                                           : QStringLiteral(" (writes fail: %1)")
                                                                     .arg(m_state.writeError));
    return false;
}

QString LogQueries::selectSql(const LogQuery &query, QVariantList *values)
{
    QStringList where;
    if (!query.room.isNull()) {
        where << QStringLiteral("target = 'room' AND to_name = ?");
        *values << query.room;
    }
    if (!query.user.isNull()) {
        where << QStringLiteral("target = 'user' AND to_name = ?");
        *values << query.user;
    }
    if (!query.event.isNull()) {
        where << QStringLiteral("event = ?");
        *values << query.event;
    }
    if (query.sinceId) {
        where << QStringLiteral("id > ?");
        *values << qint64(*query.sinceId);
    }
    if (query.beforeId) {
        where << QStringLiteral("id < ?");
        *values << qint64(*query.beforeId);
    }
    if (query.upToId) {
        where << QStringLiteral("id <= ?");
        *values << qint64(*query.upToId);
    }
    // Oldest first after since_id; otherwise the newest `limit`, turned around by readRows().
    const bool ascending = query.sinceId.has_value();
    QString sql = QStringLiteral("SELECT id, ts, source, target, to_name, event, data, "
                                 "delivered, remote, node FROM messages");
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += ascending ? QStringLiteral(" ORDER BY id ASC") : QStringLiteral(" ORDER BY id DESC");
    sql += QStringLiteral(" LIMIT %1").arg(std::clamp(query.limit, 1, MessageLog::kMaxQueryLimit));
    return sql;
}

std::optional<QList<MessageRecord>> LogQueries::readRows(const QString &name, const QString &sql,
                                                         const QVariantList &values,
                                                         const LogQuery &query, QString *error,
                                                         bool *more) const
{
    QString why;
    const auto failed = [&why, error] {
        if (error)
            *error = why;
        return std::nullopt;
    };
    // Twice at most: a connection the database dropped (a restart, a terminated backend) is
    // opened again once.
    for (int attempt = 0;; ++attempt) {
        std::optional<QSqlDatabase> c = openLogConnection(m_database, name, &why);
        if (!c)
            return failed();
        QSqlQuery q(*c);
        q.setForwardOnly(true); // rows one at a time (single-row mode with QPSQL)
        bool ok = q.prepare(sql);
        if (ok) {
            for (const QVariant &v : values)
                q.addBindValue(v);
            ok = q.exec();
        }
        if (!ok) {
            why = q.lastError().text();
            q = QSqlQuery();
            c->close();
            if (attempt == 0)
                continue;
            return failed();
        }
        // Rows are read until the next one would pass the byte budget: an answer never holds
        // much more than maxBytes, however large the records (but always one, if any).
        QList<MessageRecord> records;
        qint64 bytes = 0;
        while (q.next()) {
            MessageRecord r = recordFrom(q);
            const qint64 size = MessageLog::recordBytes(r);
            if (query.maxBytes > 0 && !records.isEmpty() && bytes + size > query.maxBytes) {
                if (more)
                    *more = true;
                break;
            }
            bytes += size;
            records.append(std::move(r));
        }
        if (q.lastError().isValid()) {
            why = q.lastError().text();
            return failed();
        }
        if (!query.sinceId.has_value()) // read newest first
            std::reverse(records.begin(), records.end());
        return records;
    }
}

MessageLog::RoomHistory LogQueries::roomHistory(const QString &room, std::optional<quint64> since,
                                                quint64 upTo, qint64 maxBytes) const
{
    MessageLog::RoomHistory history;
    QString error;
    LogQuery newest;
    newest.room = room;
    newest.upToId = upTo;
    newest.limit = 1;
    const auto latest = query(newest, &error, nullptr);
    if (!latest) {
        qCWarning(lcLog).noquote() << "cannot read the history of room" << room << ":" << error;
        history.complete = false;
        history.lastIdKnown = false;
        return history;
    }
    history.lastId = latest->isEmpty() ? 0 : latest->constFirst().id;
    if (!since || *since >= history.lastId)
        return history;
    LogQuery missed;
    missed.room = room;
    missed.sinceId = since;
    missed.upToId = upTo;
    missed.limit = MessageLog::kMaxLogReplay + 1;
    missed.maxBytes = maxBytes;
    bool more = false;
    auto records = query(missed, &error, &more);
    if (!records) {
        qCWarning(lcLog).noquote() << "cannot read the history of room" << room << ":" << error;
        history.complete = false;
        return history;
    }
    qint64 bytes = 0;
    for (const MessageRecord &r : std::as_const(*records))
        bytes += MessageLog::recordBytes(r);
    // Retention may have deleted some of them; a gap this long (in events or bytes) is not
    // replayed at all: all of it, or nothing and recovered: false.
    history.complete = m_state.prunedUpTo.load(std::memory_order_acquire) <= *since && !more
            && records->size() <= MessageLog::kMaxLogReplay && (maxBytes <= 0 || bytes <= maxBytes);
    if (history.complete)
        history.records = std::move(*records);
    return history;
}

} // namespace sb
