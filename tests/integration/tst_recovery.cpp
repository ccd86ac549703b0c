// `join` with `since` from outside the process (docs/API.md, "Recovery and history"): missed room
// events are replayed in order before `joined`, from memory when it still holds them and from the
// message log when it does not (an old `since`, a restart, a kill -9); live events follow with no
// gap and no duplicate even while emits race the join; a gap the log no longer holds (retention)
// answers recovered: false.

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "ServerProcess.h"
#include "TestSupport.h"
#include "WsClient.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>
#include <QThread>

#include <atomic>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

// Emits to one room from its own thread and connection until told to stop.
class Emitter final : public QThread
{
public:
    Emitter(QString host, quint16 port, QByteArray key, QString room)
        : m_host(std::move(host)), m_port(port), m_key(std::move(key)), m_room(std::move(room))
    { }
    void stopEmitting() { m_stop = true; }
    int failures() const { return m_failures; }
    int sent() const { return m_sent; }

protected:
    void run() override
    {
        HttpClient api(m_host, m_port);
        api.setDefaultHeader("X-API-Key", m_key);
        while (!m_stop) {
            const HttpResponse r = api.postJson(
                    "/api/emit/room",
                    {{u"room"_s, m_room}, {u"event"_s, u"Race"_s}, {u"data"_s, m_sent.load()}});
            if (r.status == 200)
                ++m_sent;
            else
                ++m_failures;
        }
    }

private:
    QString m_host;
    quint16 m_port;
    QByteArray m_key;
    QString m_room;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_failures{0};
    std::atomic<int> m_sent{0};
};

} // namespace

class TestRecovery : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void afterRestartFromTheLog();
    void quietRoomAfterRestartJoinedTwiceWithSince();
    void afterKillMinus9FromTheLog();
    void olderThanMemoryFromTheLog();
    void racingEmitsNoGapNoDuplicate();
    void retentionMakesTheGapUnrecoverable();

private:
    static QList<qint64> emitMany(HttpClient &api, const QString &room, int n,
                                  const QString &event = u"Missed"_s);
    // Joins `room` on a new client with `since`; *replayed gets the event ids that came
    // before `joined`, *joined the joined frame.
    static std::unique_ptr<WsClient> joinSince(const ServerProcess &server, HttpClient &api,
                                               const QString &room, qint64 since,
                                               QList<qint64> *replayed, QJsonObject *joined);
    static QList<qint64> logIds(HttpClient &api, const QString &room, qint64 since);
    // The joined frame of a join with since: type joined, recovered and last_id as given.
    static void verifyJoined(const QJsonObject &joined, bool recovered, qint64 lastId);
    // Joins `room` on a new client with `since` and checks that it recovered, replaying
    // `expected`.
    static void verifyRecoveredJoin(const ServerProcess &server, HttpClient &api,
                                    const QString &room, qint64 since,
                                    const QList<qint64> &expected);

    // A server started with --log-level warning and extraArgs, its API client, and the ids of
    // n events emitted into a fresh room (uniqueName(roomPrefix)); error: what failed.
    struct Emitted
    {
        ServerProcess server;
        std::unique_ptr<HttpClient> api;
        QString room;
        QList<qint64> ids;
        QString error;

        Emitted(const QStringList &extraArgs, const QString &roomPrefix, int n);
        Q_DISABLE_COPY_MOVE(Emitted)
    };
};

void TestRecovery::verifyJoined(const QJsonObject &joined, bool recovered, qint64 lastId)
{
    QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(joined.value(u"recovered"_s).toBool(), recovered);
    QCOMPARE(joined.value(u"last_id"_s).toInteger(), lastId);
}

void TestRecovery::verifyRecoveredJoin(const ServerProcess &server, HttpClient &api,
                                       const QString &room, qint64 since,
                                       const QList<qint64> &expected)
{
    QList<qint64> replayed;
    QJsonObject joined;
    const auto client = joinSince(server, api, room, since, &replayed, &joined);
    QVERIFY(client);
    QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
    QCOMPARE(replayed, expected);
}

TestRecovery::Emitted::Emitted(const QStringList &extraArgs, const QString &roomPrefix, int n)
{
    if (!server.start(QStringList{u"--log-level"_s, u"warning"_s} + extraArgs)) {
        error = server.lastError();
        return;
    }
    api = server.client();
    room = uniqueName(roomPrefix);
    ids = emitMany(*api, room, n);
    if (ids.size() != n)
        error = u"%1 of %2 emits answered"_s.arg(ids.size()).arg(n);
}

QList<qint64> TestRecovery::emitMany(HttpClient &api, const QString &room, int n,
                                     const QString &event)
{
    QList<qint64> ids;
    for (int i = 0; i < n; ++i) {
        const HttpResponse r = api.postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, event}, {u"data"_s, i}});
        if (r.status != 200)
            return {};
        ids << r.object().value(u"id"_s).toInteger();
    }
    return ids;
}

std::unique_ptr<WsClient> TestRecovery::joinSince(const ServerProcess &server, HttpClient &api,
                                                  const QString &room, qint64 since,
                                                  QList<qint64> *replayed, QJsonObject *joined)
{
    const QByteArray token = registerToken(api, room, uniqueName(u"u"_s), u"s1"_s);
    if (token.isEmpty())
        return nullptr;
    auto client = std::make_unique<WsClient>();
    if (!client->open(server.wsUrl(u"/ws"_s)))
        return nullptr;
    *joined = client->join(token, since, 15000);
    const qint64 lastId = joined->value(u"last_id"_s).toInteger();
    // Frames are queued in arrival order: the replay is what arrived before `joined`, and
    // every replayed id is at most last_id (live events that came in the same read are not).
    replayed->clear();
    for (const WsFrame &f : client->frames()) {
        const qint64 id = f.object.value(u"id"_s).toInteger();
        if (f.type() == u"event" && id <= lastId)
            replayed->append(id);
    }
    return client;
}

QList<qint64> TestRecovery::logIds(HttpClient &api, const QString &room, qint64 since)
{
    QList<qint64> ids;
    for (;;) {
        const HttpResponse r = api.get("/api/log?limit=1000&since_id=" + QByteArray::number(since)
                                       + "&room=" + encodeSegment(room));
        const QJsonArray records = r.object().value(u"records"_s).toArray();
        if (r.status != 200 || records.isEmpty())
            return ids;
        for (const QJsonValue &v : records)
            ids << v.toObject().value(u"id"_s).toInteger();
        since = ids.last();
    }
}

void TestRecovery::afterRestartFromTheLog()
{
    ServerProcess server;
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
    const QString room = uniqueName(u"rec:restart"_s);
    {
        auto api = server.client();
        const QList<qint64> ids = emitMany(*api, room, 5);
        QCOMPARE(ids.size(), 5);
        QCOMPARE(server.stop(), 0);
        QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
        auto again = server.client();

        // Memory is empty after the restart: the log replays what came after since.
        QList<qint64> replayed;
        QJsonObject joined;
        auto client = joinSince(server, *again, room, ids.at(1), &replayed, &joined);
        QVERIFY(client);
        verifyJoined(joined, true, ids.last());
        QCOMPARE(replayed, ids.mid(2));
        const QList<WsFrame> events = client->take(u"event"_s);
        QCOMPARE(events.size(), 3);
        const QJsonObject third = events.first().object;
        QCOMPARE(third.value(u"event"_s).toString(), u"Missed"_s);
        QCOMPARE(third.value(u"room"_s).toString(), room);
        QCOMPARE(third.value(u"data"_s).toInteger(), 2);
        QVERIFY(third.value(u"ts"_s).toInteger() > 0);

        // A join with no since learns the room's latest id from the log too.
        QList<qint64> none;
        QJsonObject plain;
        auto other = joinSince(server, *again, room, -1, &none, &plain);
        QVERIFY(other);
        QCOMPARE(plain.value(u"last_id"_s).toInteger(), ids.last());
        QVERIFY(none.isEmpty());

        // Live events continue after the replay.
        const QList<qint64> live = emitMany(*again, room, 1, u"Live"_s);
        QCOMPARE(live.size(), 1);
        QCOMPARE(live.first(), ids.last() + 1);
        const QJsonObject event = client->waitForFrame(u"event"_s);
        QCOMPARE(event.value(u"id"_s).toInteger(), live.first());
    }
}

// Found by bench/soak.sh: after a restart on a non-empty log, the second join with `since` of
// a room that had no event since the restart never got `joined` (its I/O thread spun).
void TestRecovery::quietRoomAfterRestartJoinedTwiceWithSince()
{
    ServerProcess server;
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
    auto api = server.client();
    QCOMPARE(emitMany(*api, uniqueName(u"rec:busy"_s), 1).size(), 1); // the log is not empty
    QCOMPARE(server.stop(), 0);
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
    auto again = server.client();
    const QString room = uniqueName(u"rec:quiet"_s);
    for (int i = 0; i < 3; ++i) {
        QList<qint64> replayed;
        QJsonObject joined;
        auto client = joinSince(server, *again, room, 0, &replayed, &joined);
        QVERIFY(client);
        QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
        QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
        QVERIFY(replayed.isEmpty());
    }
    QCOMPARE(again->get("/api/health").status, 200);
}

void TestRecovery::afterKillMinus9FromTheLog()
{
    Emitted started({}, u"rec:kill"_s, 60);
    QVERIFY2(started.error.isEmpty(), qPrintable(started.error));
    auto &[server, api, room, ids, error] = started;
    server.kill(); // right after the last answer: some records are only in the journal
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
    auto again = server.client();
    verifyRecoveredJoin(server, *again, room, ids.at(9), ids.mid(10));
}

void TestRecovery::olderThanMemoryFromTheLog()
{
    Emitted started({u"--history-per-room"_s, u"5"_s}, u"rec:deep"_s, 30);
    QVERIFY2(started.error.isEmpty(), qPrintable(started.error));
    auto &[server, api, room, ids, error] = started;

    // Memory holds the last 5: the 22 before them come from the log, in one ordered run.
    QList<qint64> replayed;
    QJsonObject joined;
    auto client = joinSince(server, *api, room, ids.at(2), &replayed, &joined);
    QVERIFY(client);
    QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
    QCOMPARE(joined.value(u"last_id"_s).toInteger(), ids.last());
    QCOMPARE(replayed, ids.mid(3));

    // The replayed frames are the live frames: same members, data as sent.
    const QList<WsFrame> events = client->take(u"event"_s);
    QCOMPARE(events.size(), 27);
    for (int i = 0; i < events.size(); ++i) {
        const QJsonObject e = events.at(i).object;
        QCOMPARE(e.value(u"data"_s).toInteger(), i + 3);
        QCOMPARE(e.keys(),
                 (QStringList{u"data"_s, u"event"_s, u"id"_s, u"room"_s, u"ts"_s, u"type"_s}));
    }

    // Within memory: no log needed, same answer.
    verifyRecoveredJoin(server, *api, room, ids.at(27), ids.mid(28));
}

void TestRecovery::racingEmitsNoGapNoDuplicate()
{
    Emitted started({u"--history-per-room"_s, u"20"_s}, u"rec:race"_s, 10);
    QVERIFY2(started.error.isEmpty(), qPrintable(started.error));
    auto &[server, api, room, before, error] = started;

    Emitter emitter(server.host(), server.port(), server.apiKey(), room);
    emitter.start();
    struct Joiner
    {
        std::unique_ptr<WsClient> client;
        qint64 since = 0;
    };
    std::vector<Joiner> joiners;
    // Each joins while emits keep coming, with a since far enough back that part of the
    // replay is no longer in memory (20 per room) and comes from the log.
    for (int i = 0; i < 8; ++i) {
        QTest::qWait(150);
        const QList<qint64> recent = logIds(*api, room, 0);
        QVERIFY(!recent.isEmpty());
        const qint64 since = recent.size() > 45 ? recent.at(recent.size() - 45) : before.first();
        QList<qint64> replayed;
        QJsonObject joined;
        auto client = joinSince(server, *api, room, since, &replayed, &joined);
        QVERIFY(client);
        QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
        QCOMPARE(joined.value(u"recovered"_s).toBool(), true);
        joiners.push_back(Joiner{std::move(client), since});
    }
    QTest::qWait(300);
    emitter.stopEmitting();
    QVERIFY(emitter.wait(15000));
    QCOMPARE(emitter.failures(), 0);
    QVERIFY(emitter.sent() > 20);

    const QList<qint64> all = logIds(*api, room, 0);
    for (Joiner &j : joiners) {
        // Every room event after since, exactly once and in order: replay, then live.
        QList<qint64> expected;
        for (qint64 id : all) {
            if (id > j.since)
                expected << id;
        }
        QTRY_COMPARE_WITH_TIMEOUT(j.client->count(u"event"_s), int(expected.size()), 10000);
        QList<qint64> got;
        for (const WsFrame &f : j.client->take(u"event"_s))
            got << f.object.value(u"id"_s).toInteger();
        QCOMPARE(got, expected);
    }
}

void TestRecovery::retentionMakesTheGapUnrecoverable()
{
    Emitted started({u"--history-per-room"_s, u"3"_s, u"--log-max-rows"_s, u"10"_s},
                    u"rec:retention"_s, 30);
    QVERIFY2(started.error.isEmpty(), qPrintable(started.error));
    auto &[server, api, room, ids, error] = started;
    // Retention runs in the background at least every 10 s: the oldest 20 rows go.
    QTRY_COMPARE_WITH_TIMEOUT(logIds(*api, room, 0), ids.mid(20), 25000);

    QList<qint64> replayed;
    QJsonObject joined;
    auto gone = joinSince(server, *api, room, ids.at(4), &replayed, &joined);
    QVERIFY(gone);
    verifyJoined(joined, false, ids.last());

    // A since within what the log still holds recovers, from log and memory.
    verifyRecoveredJoin(server, *api, room, ids.at(21), ids.mid(22));
}

QTEST_MAIN(TestRecovery)
#include "tst_recovery.moc"
