#include "cluster/ClusterHistory.h"

#include "base/Logging.h"
#include "redis/RedisSyncClient.h"
#include "store/MessageLog.h"

#include <QDeadlineTimer>

#include <atomic>
#include <memory>

using namespace Qt::StringLiterals;

namespace sb {

// One entry of sb:h:<room>: the event and the id of the room's event before it (0: unknown).
struct ClusterHistory::Entry
{
    quint64 prev = 0;
    MessageRecord record;
};

// What Redis answered for (since, upTo].
struct ClusterHistory::Read
{
    bool failed = false; // Redis could not be asked (why)
    QString why;
    quint64 lastId = 0; // the room's latest id up to upTo; 0: the stream has none
    QList<Entry> entries;
    qint64 bytes = 0;
    bool over = false; // past maxBytes or kMaxReplay: entries cut short
};

namespace {

std::atomic<quint64> g_serial{0};

QByteArray streamKey(const QString &room)
{
    return "sb:h:" + room.toUtf8();
}

QByteArray streamId(quint64 id)
{
    return QByteArray::number(id) + "-0";
}

std::optional<quint64> parseId(const QByteArray &id)
{
    const qsizetype dash = id.indexOf('-');
    bool ok = false;
    const quint64 value = (dash < 0 ? id : id.left(dash)).toULongLong(&ok);
    return ok ? std::optional<quint64>(value) : std::nullopt;
}

// An XRANGE element as sb_emit writes it: [id, [p, prev, e, event, d, data, t, ts]].
bool parseEntry(const RedisReply &element, const QString &room, quint64 *prev,
                MessageRecord *record)
{
    if (!element.isArray() || element.elements.size() != 2 || !element.elements[1].isArray())
        return false;
    const std::optional<quint64> id = parseId(element.elements[0].string);
    if (!id)
        return false;
    record->id = *id;
    record->target = EmitTarget::Room;
    record->to = room;
    const QList<RedisReply> &fields = element.elements[1].elements;
    for (qsizetype i = 0; i + 1 < fields.size(); i += 2) {
        const QByteArray &name = fields[i].string;
        const QByteArray &value = fields[i + 1].string;
        if (name == "p")
            *prev = value.toULongLong();
        else if (name == "e")
            record->event = QString::fromUtf8(value);
        else if (name == "d")
            record->data = value;
        else if (name == "t")
            record->ts = value.toLongLong();
    }
    return true;
}

// XRANGE/XREVRANGE as entries; nullopt with *why when Redis failed or answered otherwise.
template<typename Entry>
std::optional<QList<Entry>> range(RedisSyncClient &redis, const QList<QByteArray> &argv,
                                  const QString &room, QString *why)
{
    const std::optional<RedisReply> reply = redis.command(argv, why);
    if (!reply)
        return std::nullopt;
    if (!reply->isArray()) {
        *why = reply->isError()
                ? reply->errorText()
                : u"redis: unexpected reply to %1"_s.arg(QString::fromUtf8(argv.first()));
        return std::nullopt;
    }
    QList<Entry> entries;
    entries.reserve(reply->elements.size());
    for (const RedisReply &element : reply->elements) {
        Entry entry;
        if (!parseEntry(element, room, &entry.prev, &entry.record)) {
            *why = u"redis: a malformed entry in %1"_s.arg(QString::fromUtf8(argv.at(1)));
            return std::nullopt;
        }
        entries.append(std::move(entry));
    }
    return entries;
}

bool overBudget(qint64 bytes, qint64 maxBytes)
{
    return maxBytes > 0 && bytes > maxBytes;
}

} // namespace

ClusterHistory::ClusterHistory(RedisUrl redis, const RoomEventSource *log, qint64 historyPerRoom)
    : m_url(std::move(redis)), m_log(log), m_historyPerRoom(historyPerRoom), m_serial(++g_serial)
{ }

ClusterHistory::~ClusterHistory() = default;

RedisSyncClient &ClusterHistory::client() const
{
    struct PerThread
    {
        quint64 owner = 0;
        std::unique_ptr<RedisSyncClient> client;
    };
    thread_local PerThread mine;
    if (!mine.client || mine.owner != m_serial) {
        mine.client = std::make_unique<RedisSyncClient>(m_url);
        mine.owner = m_serial;
    }
    return *mine.client;
}

RoomEvents ClusterHistory::roomEvents(const QString &room, std::optional<quint64> since,
                                      quint64 upTo, qint64 maxBytes) const
{
    RedisSyncClient &redis = client();
    QString why;
    const auto latest = range<Entry>(
            redis, {"XREVRANGE", streamKey(room), streamId(upTo), "-", "COUNT", "1"}, room, &why);
    if (!latest)
        return withoutRedis(room, since, upTo, maxBytes, why);
    if (latest->isEmpty()) // expired, never written, or Redis lost its data
        return streamGone(room, since, upTo, maxBytes);
    RoomEvents out;
    out.lastId = latest->constFirst().record.id;
    if (!since || *since >= out.lastId)
        return out;
    Read read = readAfter(redis, room, *since, upTo, maxBytes);
    if (read.failed)
        return withoutRedis(room, since, upTo, maxBytes, read.why);
    read.lastId = out.lastId;
    return withGap(room, *since, std::move(read), maxBytes);
}

// The stream's entries in (since, upTo], in pages, stopping past maxBytes or kMaxReplay.
ClusterHistory::Read ClusterHistory::readAfter(RedisSyncClient &redis, const QString &room,
                                               quint64 since, quint64 upTo, qint64 maxBytes) const
{
    Read read;
    const QByteArray page =
            QByteArray::number(qBound(qint64(1), m_historyPerRoom, qint64(kPageSize)));
    quint64 from = since + 1;
    while (from <= upTo) {
        const auto entries = range<Entry>(
                redis, {"XRANGE", streamKey(room), streamId(from), streamId(upTo), "COUNT", page},
                room, &read.why);
        if (!entries) {
            read.failed = true;
            return read;
        }
        for (const Entry &entry : *entries)
            read.bytes += MessageLog::recordBytes(entry.record);
        read.entries.append(*entries);
        if (overBudget(read.bytes, maxBytes) || read.entries.size() > kMaxReplay) {
            read.over = true;
            return read;
        }
        if (entries->size() < page.toInt())
            break;
        from = entries->constLast().record.id + 1;
    }
    return read;
}

// Redis holds the room's events from the first entry on; what lies between `since` and the
// event before it (the stream was trimmed, or the room's earlier events expired) comes from
// the log, which must reach up to that event.
RoomEvents ClusterHistory::withGap(const QString &room, quint64 since, Read read,
                                   qint64 maxBytes) const
{
    RoomEvents out;
    out.lastId = read.lastId;
    // Past the budget, trimmed while being read (an entry whose previous event is not the
    // entry before it), or gone since the latest id was read: not all of the gap.
    bool chained = !read.entries.isEmpty();
    for (qsizetype i = 1; chained && i < read.entries.size(); ++i)
        chained = read.entries[i].prev == read.entries[i - 1].record.id;
    if (read.over || !chained) {
        out.complete = false;
        return out;
    }
    QList<MessageRecord> older;
    {
        const Entry &first = read.entries.constFirst();
        // prev 0: Redis does not know the room's event before the first entry (if any).
        const bool knownBelow = first.prev > 0;
        const quint64 gapTop = knownBelow ? first.prev : first.record.id - 1;
        if (gapTop > since && !m_log && (knownBelow || since > 0)) {
            out.complete = false;
            return out;
        }
        if (gapTop > since && m_log) {
            const qint64 left = maxBytes > 0 ? qMax<qint64>(1, maxBytes - read.bytes) : maxBytes;
            RoomEvents below = m_log->roomEvents(room, since, gapTop, left);
            // The log must hold the event before Redis's first (a log of this node only
            // starts with the node).
            const bool reaches = !knownBelow || below.lastId == first.prev;
            if (!below.complete || !below.lastIdKnown || !reaches) {
                out.complete = false;
                return out;
            }
            older = std::move(below.records);
        }
    }
    qint64 bytes = read.bytes;
    for (const MessageRecord &r : std::as_const(older))
        bytes += MessageLog::recordBytes(r);
    if (overBudget(bytes, maxBytes)) {
        out.complete = false;
        return out;
    }
    out.records = std::move(older);
    out.records.reserve(out.records.size() + read.entries.size());
    for (Entry &entry : read.entries)
        out.records.append(std::move(entry.record));
    return out;
}

// Redis holds nothing of the room up to upTo: the log answers. Without one, a room seen
// by no one is taken as empty, and a `since` above 0 as possibly missing events.
RoomEvents ClusterHistory::streamGone(const QString &room, std::optional<quint64> since,
                                      quint64 upTo, qint64 maxBytes) const
{
    if (m_log)
        return m_log->roomEvents(room, since, upTo, maxBytes);
    RoomEvents out;
    out.complete = !since || *since == 0;
    return out;
}

RoomEvents ClusterHistory::withoutRedis(const QString &room, std::optional<quint64> since,
                                        quint64 upTo, qint64 maxBytes, const QString &why) const
{
    // At most one warning per thread every 10 s: a Redis that is down is asked by every join.
    thread_local qint64 warnedAtMs = -1;
    const qint64 now = QDeadlineTimer::current().deadline();
    if (warnedAtMs < 0 || now - warnedAtMs >= 10'000) {
        warnedAtMs = now;
        qCWarning(lcServer).noquote() << "cluster: the history of room" << escapeLogText(room)
                                      << "is read from the message log only:" << why;
    }
    if (m_log)
        return m_log->roomEvents(room, since, upTo, maxBytes);
    RoomEvents out;
    out.complete = false;
    out.lastIdKnown = false;
    return out;
}

} // namespace sb
