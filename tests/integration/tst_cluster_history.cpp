// sb::ClusterHistory (server/cluster) against a real redis-server: the room's history as the
// cluster's sb_emit function writes it (server/cluster/switchboard.lua), with and without a
// SQLite message log below it, and the blocking RedisSyncClient it asks Redis with
// (docs/ARCHITECTURE.md, "How recovery flows").

#include "RedisServerProcess.h"

#include "cluster/ClusterBus.h"
#include "cluster/ClusterFunctions.h"
#include "cluster/ClusterHistory.h"
#include "redis/RedisSyncClient.h"
#include "store/LogDatabase.h"
#include "store/MessageLog.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace Qt::StringLiterals;
using sb::ClusterHistory;
using sb::MessageLog;
using sb::MessageRecord;
using sb::RedisReply;
using sb::RedisSyncClient;
using sb::RedisUrl;
using sb::RoomEvents;
using sbit::RedisServerProcess;

namespace {

RedisUrl parsed(const QString &text)
{
    QString error;
    const auto url = RedisUrl::parse(text, &error);
    if (!url)
        qFatal("bad test URL %s: %s", qPrintable(text), qPrintable(error));
    return *url;
}

QList<quint64> ids(const QList<MessageRecord> &records)
{
    QList<quint64> out;
    for (const MessageRecord &r : records)
        out << r.id;
    return out;
}

} // namespace

class TestClusterHistory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void completeFromRedis();
    void lastIdWithoutSince();
    void readInPages();
    void trimmedWithoutLogIsIncomplete();
    void gapFilledFromTheLog();
    void logThatLacksTheGapIsIncomplete();
    void streamGoneAsksTheLog();
    void budgetExceededGivesNothing();
    void redisDownAnswersWhatTheLogAnswers();
    void syncClientLogsInAndReconnects();

private:
    // Emits one event through sb_emit (room events go to sb:h:<room>); its id.
    quint64 emitTo(const QString &room, const QByteArray &event, const QByteArray &data);
    QList<quint64> emitMany(const QString &room, int n);
    bool call(const QList<QByteArray> &argv, RedisReply *reply = nullptr);
    // The records of `ids` (as emitted) appended to the log, committed.
    bool logRecords(const QString &room, const QList<quint64> &ids);
    std::unique_ptr<MessageLog> openLog();
    quint64 lastId();

    RedisServerProcess m_redis;
    std::unique_ptr<RedisSyncClient> m_client;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<MessageLog> m_log;
    QHash<quint64, MessageRecord> m_emitted;
};

bool TestClusterHistory::call(const QList<QByteArray> &argv, RedisReply *reply)
{
    QString error;
    const auto r = m_client->command(argv, &error);
    if (!r || r->isError()) {
        qWarning("%s: %s", argv.first().constData(), qPrintable(r ? r->errorText() : error));
        return false;
    }
    if (reply)
        *reply = *r;
    return true;
}

quint64 TestClusterHistory::emitTo(const QString &room, const QByteArray &event,
                                   const QByteArray &data)
{
    const QByteArray ts = QByteArray::number(QDateTime::currentMSecsSinceEpoch());
    RedisReply reply;
    // The arguments exactly as a node sends them (clusterbus::emitCommand).
    sb::EmitRequest request;
    request.target = sb::EmitTarget::Room;
    request.to = room;
    request.event = QString::fromUtf8(event);
    request.data = data;
    request.remote = u"127.0.0.1:1"_s;
    if (!call(sb::clusterbus::emitCommand(request, u"test-node"_s, ts.toLongLong(), 1000), &reply)
        || !reply.isArray() || reply.elements.isEmpty())
        return 0;
    MessageRecord r;
    r.id = quint64(reply.elements.first().toInt());
    r.ts = ts.toLongLong();
    r.to = room;
    r.event = QString::fromUtf8(event);
    r.data = data;
    m_emitted.insert(r.id, r);
    return r.id;
}

QList<quint64> TestClusterHistory::emitMany(const QString &room, int n)
{
    QList<quint64> out;
    for (int i = 0; i < n; ++i) {
        out << emitTo(room, "E", "{\"n\":" + QByteArray::number(i) + '}');
        emitTo(u"other"_s, "O", "1"); // the ids of a room are not consecutive
    }
    return out;
}

quint64 TestClusterHistory::lastId()
{
    RedisReply reply;
    return call({"GET", "sb:id"}, &reply) ? quint64(reply.toInt()) : 0;
}

std::unique_ptr<MessageLog> TestClusterHistory::openLog()
{
    QString error;
    const auto db = sb::LogDatabase::parse(QString(), m_dir->path(), &error);
    if (!db) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    auto log = std::make_unique<MessageLog>(*db, 30, 1000000);
    if (!log->open(&error)) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    return log;
}

bool TestClusterHistory::logRecords(const QString &room, const QList<quint64> &list)
{
    if (!m_log)
        m_log = openLog();
    if (!m_log)
        return false;
    for (quint64 id : list) {
        MessageRecord r = m_emitted.value(id);
        r.to = room;
        if (r.id == 0 || !m_log->append(r))
            return false;
    }
    return QTest::qWaitFor([&] { return m_log->committedId() >= list.last(); }, 5000);
}

void TestClusterHistory::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.lastError()));
    m_client = std::make_unique<RedisSyncClient>(parsed(m_redis.url()));
}

void TestClusterHistory::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_emitted.clear();
    QVERIFY(call({"FLUSHALL"}));
    QVERIFY(call({"FUNCTION", "LOAD", "REPLACE", sb::clusterFunctionLibrary()}));
}

void TestClusterHistory::cleanup()
{
    m_log.reset();
}

void TestClusterHistory::completeFromRedis()
{
    const QList<quint64> room = emitMany(u"r"_s, 5);
    const ClusterHistory history(parsed(m_redis.url()), nullptr, 1000);
    const RoomEvents events = history.roomEvents(u"r"_s, room.at(1), lastId(), 0);
    QVERIFY(events.complete);
    QVERIFY(events.lastIdKnown);
    QCOMPARE(events.lastId, room.last());
    QCOMPARE(ids(events.records), room.mid(2));
    const MessageRecord &first = events.records.first();
    const MessageRecord &emitted = m_emitted.value(room.at(2));
    QCOMPARE(first.event, u"E"_s);
    QCOMPARE(first.data, emitted.data);
    QCOMPARE(first.ts, emitted.ts);
    QCOMPARE(first.to, u"r"_s);
    QCOMPARE(first.target, sb::EmitTarget::Room);

    // Up to an id below the latest: what came later is not part of the answer.
    const RoomEvents upTo = history.roomEvents(u"r"_s, room.at(0), room.at(3), 0);
    QVERIFY(upTo.complete);
    QCOMPARE(upTo.lastId, room.at(3));
    QCOMPARE(ids(upTo.records), room.mid(1, 3));

    // Nothing missed.
    const RoomEvents none = history.roomEvents(u"r"_s, room.last(), lastId(), 0);
    QVERIFY(none.complete);
    QVERIFY(none.records.isEmpty());
    QCOMPARE(none.lastId, room.last());

    // The room's first event (previous id 0) and since 0: all of them.
    const RoomEvents all = history.roomEvents(u"r"_s, 0, lastId(), 0);
    QVERIFY(all.complete);
    QCOMPARE(ids(all.records), room);
}

void TestClusterHistory::lastIdWithoutSince()
{
    const QList<quint64> room = emitMany(u"r"_s, 3);
    const ClusterHistory history(parsed(m_redis.url()), nullptr, 1000);
    const RoomEvents latest = history.roomEvents(u"r"_s, std::nullopt, lastId(), 0);
    QVERIFY(latest.lastIdKnown);
    QVERIFY(latest.records.isEmpty());
    QCOMPARE(latest.lastId, room.last());
    QCOMPARE(history.roomEvents(u"r"_s, std::nullopt, room.at(1) + 1, 0).lastId, room.at(1));
    // A room Redis has never seen, no log: no events.
    const RoomEvents unknown = history.roomEvents(u"nobody"_s, std::nullopt, lastId(), 0);
    QVERIFY(unknown.lastIdKnown);
    QCOMPARE(unknown.lastId, 0u);
}

void TestClusterHistory::readInPages()
{
    const QList<quint64> room = emitMany(u"r"_s, 7);
    const ClusterHistory history(parsed(m_redis.url()), nullptr, 2); // XRANGE ... COUNT 2
    const RoomEvents events = history.roomEvents(u"r"_s, room.first(), lastId(), 0);
    QVERIFY(events.complete);
    QCOMPARE(ids(events.records), room.mid(1));
}

void TestClusterHistory::trimmedWithoutLogIsIncomplete()
{
    const QList<quint64> room = emitMany(u"r"_s, 6);
    QVERIFY(call({"XTRIM", "sb:h:r", "MAXLEN", "3"}));
    const ClusterHistory history(parsed(m_redis.url()), nullptr, 3);
    const RoomEvents gap = history.roomEvents(u"r"_s, room.at(1), lastId(), 0);
    QVERIFY(!gap.complete);
    QVERIFY(gap.records.isEmpty());
    QVERIFY(gap.lastIdKnown);
    QCOMPARE(gap.lastId, room.last());
    // The first held entry's previous event is the client's: nothing is missing.
    const RoomEvents held = history.roomEvents(u"r"_s, room.at(2), lastId(), 0);
    QVERIFY(held.complete);
    QCOMPARE(ids(held.records), room.mid(3));
}

void TestClusterHistory::gapFilledFromTheLog()
{
    const QList<quint64> room = emitMany(u"r"_s, 8);
    QVERIFY(call({"XTRIM", "sb:h:r", "MAXLEN", "3"}));
    QVERIFY(logRecords(u"r"_s, room));
    const ClusterHistory history(parsed(m_redis.url()), m_log.get(), 3);
    const RoomEvents events = history.roomEvents(u"r"_s, room.at(1), lastId(), 0);
    QVERIFY(events.complete);
    QCOMPARE(events.lastId, room.last());
    QCOMPARE(ids(events.records), room.mid(2));
    for (const MessageRecord &r : events.records)
        QCOMPARE(r.data, m_emitted.value(r.id).data);
}

void TestClusterHistory::logThatLacksTheGapIsIncomplete()
{
    // The log of a node that started after the first events: it lacks the event before
    // Redis's first entry.
    const QList<quint64> room = emitMany(u"r"_s, 8);
    QVERIFY(call({"XTRIM", "sb:h:r", "MAXLEN", "3"}));
    QVERIFY(logRecords(u"r"_s, room.mid(0, 3)));
    const ClusterHistory history(parsed(m_redis.url()), m_log.get(), 3);
    const RoomEvents events = history.roomEvents(u"r"_s, room.at(0), lastId(), 0);
    QVERIFY(!events.complete);
    QVERIFY(events.records.isEmpty());
    QCOMPARE(events.lastId, room.last());
}

void TestClusterHistory::streamGoneAsksTheLog()
{
    const QList<quint64> room = emitMany(u"r"_s, 4);
    QVERIFY(logRecords(u"r"_s, room));
    QVERIFY(call({"DEL", "sb:h:r"})); // expired, or Redis lost its data
    const ClusterHistory withLog(parsed(m_redis.url()), m_log.get(), 1000);
    const RoomEvents events = withLog.roomEvents(u"r"_s, room.at(0), lastId(), 0);
    QVERIFY(events.complete);
    QCOMPARE(events.lastId, room.last());
    QCOMPARE(ids(events.records), room.mid(1));
    QCOMPARE(withLog.roomEvents(u"r"_s, std::nullopt, lastId(), 0).lastId, room.last());

    const ClusterHistory withoutLog(parsed(m_redis.url()), nullptr, 1000);
    const RoomEvents unknown = withoutLog.roomEvents(u"r"_s, room.at(0), lastId(), 0);
    QVERIFY(!unknown.complete);
    QVERIFY(unknown.records.isEmpty());
}

void TestClusterHistory::budgetExceededGivesNothing()
{
    const QList<quint64> room = emitMany(u"r"_s, 6);
    const ClusterHistory history(parsed(m_redis.url()), nullptr, 1000);
    qint64 bytes = 0;
    for (quint64 id : room.mid(1)) {
        MessageRecord r = m_emitted.value(id);
        bytes += MessageLog::recordBytes(r);
    }
    const RoomEvents fits = history.roomEvents(u"r"_s, room.at(0), lastId(), bytes);
    QVERIFY(fits.complete);
    QCOMPARE(ids(fits.records), room.mid(1));
    const RoomEvents over = history.roomEvents(u"r"_s, room.at(0), lastId(), bytes - 1);
    QVERIFY(!over.complete);
    QVERIFY(over.records.isEmpty());
    QCOMPARE(over.lastId, room.last());

    // The log part counts too.
    QVERIFY(call({"XTRIM", "sb:h:r", "MAXLEN", "2"}));
    QVERIFY(logRecords(u"r"_s, room));
    const ClusterHistory withLog(parsed(m_redis.url()), m_log.get(), 2);
    QVERIFY(withLog.roomEvents(u"r"_s, room.at(0), lastId(), bytes).complete);
    const RoomEvents logOver = withLog.roomEvents(u"r"_s, room.at(0), lastId(), bytes - 1);
    QVERIFY(!logOver.complete);
    QVERIFY(logOver.records.isEmpty());
}

void TestClusterHistory::redisDownAnswersWhatTheLogAnswers()
{
    const QList<quint64> room = emitMany(u"r"_s, 4);
    const quint64 upTo = lastId();
    QVERIFY(logRecords(u"r"_s, room));
    RedisServerProcess gone; // started and stopped: nothing listens on its port
    QVERIFY2(gone.start(), qPrintable(gone.lastError()));
    const RedisUrl url = parsed(gone.url());
    QVERIFY(gone.stop());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"read from the message log only"_s));

    const ClusterHistory withLog(url, m_log.get(), 1000);
    const RoomEvents events = withLog.roomEvents(u"r"_s, room.at(1), upTo, 0);
    const RoomEvents fromLog = m_log->roomHistory(u"r"_s, room.at(1), upTo, 0);
    QCOMPARE(events.complete, fromLog.complete);
    QCOMPARE(events.lastId, fromLog.lastId);
    QCOMPARE(ids(events.records), ids(fromLog.records));
    QCOMPARE(ids(events.records), room.mid(2));

    // Without a log: nothing is known. A Redis that is down costs nothing per call.
    const ClusterHistory withoutLog(url, nullptr, 1000);
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 100; ++i) {
        const RoomEvents none = withoutLog.roomEvents(u"r"_s, room.at(1), upTo, 0);
        QVERIFY(!none.complete);
        QVERIFY(!none.lastIdKnown);
        QVERIFY(none.records.isEmpty());
    }
    QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
}

void TestClusterHistory::syncClientLogsInAndReconnects()
{
    RedisServerProcess secured;
    RedisServerProcess::Options options;
    options.password = u"p@ss word"_s;
    secured.setOptions(options);
    QVERIFY2(secured.start(), qPrintable(secured.lastError()));
    QString error;
    RedisSyncClient client(parsed(secured.url(3)));
    auto reply = client.command({"SET", "k", QByteArray("v\0w", 3)}, &error);
    QVERIFY2(reply && !reply->isError(), qPrintable(error));
    QByteArray text;
    reply = client.command({"GET", "k"}, &error);
    QVERIFY(reply);
    QCOMPARE(reply->string, QByteArray("v\0w", 3));
    // In db 3, not 0.
    QVERIFY(secured.call({"EXISTS", "k"}, &text));
    QCOMPARE(text, QByteArray("0"));

    RedisSyncClient wrong(parsed(u"redis://:nope@127.0.0.1:%1"_s.arg(secured.port())));
    QVERIFY(!wrong.command({"PING"}, &error));
    QVERIFY2(error.contains(u"AUTH"_s), qPrintable(error));
    QVERIFY(!error.contains(u"nope"_s));

    // Lost: the call fails, and a later one (past kRetryAfterMs) connects again.
    QVERIFY(secured.restart());
    reply = client.command({"PING"}, &error);
    if (!reply) {
        QVERIFY(!client.isConnected());
        QVERIFY(!client.command({"PING"}, &error)); // within kRetryAfterMs: at once
        QTest::qWait(RedisSyncClient::kRetryAfterMs + 50);
        reply = client.command({"PING"}, &error);
    }
    QVERIFY2(reply, qPrintable(error));
    QCOMPARE(reply->string, QByteArray("PONG"));
}

QTEST_GUILESS_MAIN(TestClusterHistory)
#include "tst_cluster_history.moc"
