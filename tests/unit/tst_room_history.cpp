// Unit tests of sb::RoomHistory, the single-node history store, through the HistoryStore
// interface the hub uses: ordering ids, appends, reads after an id within a byte budget, the
// message log below memory (needLog, holds, seeding), eviction over all rooms, presence.

#include "store/RoomHistory.h"

#include <QtTest>

#include <algorithm>
#include <memory>

using namespace Qt::StringLiterals;
using sb::HistoryQuery;
using sb::HistoryRead;
using sb::HistoryStore;
using sb::RoomHistory;

namespace {

QByteArray wireOf(quint64 id, qsizetype size = 16)
{
    QByteArray w = QByteArray::number(id) + ':';
    return w + QByteArray(qMax<qsizetype>(0, size - w.size()), 'x');
}

HistoryQuery after(std::optional<quint64> since, quint64 covered = 0, bool mayAskLog = false)
{
    HistoryQuery q;
    q.since = since;
    q.logCoveredUpTo = covered;
    q.mayAskLog = mayAskLog;
    return q;
}

// Appends `n` events to `room` with fresh ids; returns the ids.
QList<quint64> appendEvents(HistoryStore &store, const QString &room, int n, qsizetype size = 16)
{
    QList<quint64> ids;
    for (int i = 0; i < n; ++i) {
        const quint64 id = store.nextId();
        store.append(room, id, wireOf(id, size));
        ids.append(id);
    }
    return ids;
}

// A read that answered no events, only the room's last id. QTest checks: a caller that goes on
// after it tests QTest::currentTestFailed().
void verifyOnlyLastId(const HistoryRead &r, quint64 lastId)
{
    QVERIFY(r.events.isEmpty());
    QCOMPARE(r.lastId, lastId);
}

} // namespace

class TestRoomHistory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void idsIncreaseAndContinueAfterTheLog();
    void readAfterAnId();
    void perRoomLimitDropsTheOldest();
    void readOverTheByteBudgetReturnsNothing();
    void noEventsForAReaderThatGetsThemLive();
    void idsNeverGivenAreNotComplete();
    void unknownRoomAfterRestartAsksTheLogThenSeeds();
    void needLogHoldsLaterEventsUntilReleased();
    void memoryIsBoundedOverAllRooms();
    void manyRoomsForgetTheOldestRecords();
    void presenceOnePerUserAndSession();
};

void TestRoomHistory::idsIncreaseAndContinueAfterTheLog()
{
    RoomHistory history;
    HistoryStore &store = history;
    QCOMPARE(store.lastId(), quint64(0));
    QCOMPARE(store.nextId(), quint64(1));
    QCOMPARE(store.nextId(), quint64(2));
    store.continueAfter(1000);
    QCOMPARE(store.lastId(), quint64(1000));
    QCOMPARE(store.nextId(), quint64(1001));
    store.continueAfter(5); // never goes back
    QCOMPARE(store.nextId(), quint64(1002));
}

void TestRoomHistory::readAfterAnId()
{
    RoomHistory history;
    HistoryStore &store = history;
    const QList<quint64> ids = appendEvents(store, u"R"_s, 5);
    appendEvents(store, u"other"_s, 2);
    QCOMPARE(store.historyRooms(), 2);

    HistoryRead r = store.read(u"R"_s, after(ids[1]));
    QVERIFY(!r.needLog);
    QVERIFY(r.complete);
    QVERIFY(!r.tooLarge);
    QCOMPARE(r.lastId, ids[4]);
    QCOMPARE(r.events, (QList<QByteArray>{wireOf(ids[2]), wireOf(ids[3]), wireOf(ids[4])}));

    r = store.read(u"R"_s, after(ids[4])); // up to date
    QVERIFY(r.complete);
    QVERIFY(r.events.isEmpty());
    r = store.read(u"R"_s, after(std::nullopt)); // no replay asked: only the last id
    QVERIFY(r.events.isEmpty());
    QCOMPARE(r.lastId, ids[4]);
    r = store.read(u"nothing-here"_s, after(0));
    QVERIFY(r.complete);
    QCOMPARE(r.lastId, quint64(0));
}

void TestRoomHistory::perRoomLimitDropsTheOldest()
{
    RoomHistory history(3);
    HistoryStore &store = history;
    const QList<quint64> ids = appendEvents(store, u"R"_s, 5);
    HistoryRead r = store.read(u"R"_s, after(ids[0]));
    QVERIFY(!r.complete); // ids[1] is missed and gone
    QCOMPARE(r.events, (QList<QByteArray>{wireOf(ids[2]), wireOf(ids[3]), wireOf(ids[4])}));
    r = store.read(u"R"_s, after(ids[1]));
    QVERIFY(r.complete);
    QCOMPARE(r.events.size(), 3);
    // The log replayed what memory lost: complete again.
    r = store.read(u"R"_s, after(ids[0], ids[1]));
    QVERIFY(r.complete);
    QCOMPARE(r.events.size(), 3);
    QCOMPARE(history.bytes(), qint64(3 * 16));
}

void TestRoomHistory::readOverTheByteBudgetReturnsNothing()
{
    RoomHistory history;
    HistoryStore &store = history;
    const QList<quint64> ids = appendEvents(store, u"R"_s, 6, 1000);
    HistoryQuery q = after(ids[2]);
    q.maxBytes = 3000; // three events fit
    HistoryRead r = store.read(u"R"_s, q);
    QVERIFY(r.complete);
    QVERIFY(!r.tooLarge);
    QCOMPARE(r.events.size(), 3);
    q.since = ids[0];
    r = store.read(u"R"_s, q);
    QVERIFY(!r.complete);
    QVERIFY(r.tooLarge);
    verifyOnlyLastId(r, ids[5]);
}

void TestRoomHistory::noEventsForAReaderThatGetsThemLive()
{
    RoomHistory history;
    HistoryStore &store = history;
    const QList<quint64> ids = appendEvents(store, u"R"_s, 3);
    HistoryQuery q = after(ids[0]);
    q.wantEvents = false;
    const HistoryRead r = store.read(u"R"_s, q);
    QVERIFY(r.complete);
    verifyOnlyLastId(r, ids[2]);
}

void TestRoomHistory::idsNeverGivenAreNotComplete()
{
    RoomHistory history;
    HistoryStore &store = history;
    appendEvents(store, u"R"_s, 3);
    const HistoryRead r = store.read(u"R"_s, after(99)); // another log, or one since wiped
    QVERIFY(!r.complete);
    QVERIFY(r.events.isEmpty());
}

// After a restart on a non-empty log, memory knows nothing up to the log's last id: a read of a
// room it has no record of asks the log (up to that mark), is seeded with the room's last id,
// and reads again with the log covering up to the mark.
void TestRoomHistory::unknownRoomAfterRestartAsksTheLogThenSeeds()
{
    RoomHistory history;
    HistoryStore &store = history;
    store.continueAfter(5);
    HistoryRead r = store.read(u"quiet"_s, after(0, 0, true));
    QVERIFY(r.needLog);
    QCOMPARE(r.needLogUpTo, quint64(5));
    // Without the log: what memory holds, not complete.
    r = store.read(u"quiet"_s, after(0, 0, false));
    QVERIFY(!r.needLog);
    QVERIFY(!r.complete);

    store.seedRoom(u"quiet"_s, 3); // the room's latest event in the log
    QCOMPARE(store.historyRooms(), 1);
    r = store.read(u"quiet"_s, after(0, 5, true));
    QVERIFY(!r.needLog);
    QVERIFY(r.complete);
    QCOMPARE(r.lastId, quint64(3));
    // A second reader with `since` below the mark is asked up to the mark, not the room's
    // lastId (which it would be asked again and again).
    r = store.read(u"quiet"_s, after(0, 0, true));
    QVERIFY(r.needLog);
    QCOMPARE(r.needLogUpTo, quint64(5));
    store.release(u"quiet"_s, r.needLogUpTo);
    store.seedRoom(u"quiet"_s, 1); // a record exists: seeding changes nothing
    QCOMPARE(store.read(u"quiet"_s, after(std::nullopt)).lastId, quint64(3));
}

// A needLog answer holds the room's events after needLogUpTo, past the per-room limit, until
// the reader reads again (or release()): the log and memory meet however fast events come.
void TestRoomHistory::needLogHoldsLaterEventsUntilReleased()
{
    RoomHistory history(2);
    HistoryStore &store = history;
    QList<quint64> ids = appendEvents(store, u"R"_s, 3); // ids[0] dropped
    HistoryRead r = store.read(u"R"_s, after(0, 0, true));
    QVERIFY(r.needLog);
    QCOMPARE(r.needLogUpTo, ids[2]);
    ids += appendEvents(store, u"R"_s, 3); // held despite history_per_room = 2
    r = store.read(u"R"_s, after(0, ids[2], true));
    QVERIFY(!r.needLog);
    QVERIFY(r.complete);
    QCOMPARE(r.events, (QList<QByteArray>{wireOf(ids[3]), wireOf(ids[4]), wireOf(ids[5])}));
    store.release(u"R"_s, ids[2]);
    ids += appendEvents(store, u"R"_s, 1);
    r = store.read(u"R"_s, after(ids[4]));
    QVERIFY(r.complete);
    QCOMPARE(r.events, (QList<QByteArray>{wireOf(ids[5]), wireOf(ids[6])}));
    r = store.read(u"R"_s, after(ids[3]));
    QVERIFY(!r.complete); // ids[4] went once the hold ended
}

void TestRoomHistory::memoryIsBoundedOverAllRooms()
{
    RoomHistory history;
    HistoryStore &store = history;
    QList<quint64> ids;
    for (int i = 0; i < 100; ++i)
        ids += appendEvents(store, u"room%1"_s.arg(i), 1, 1024 * 1024);
    QVERIFY(history.bytes() <= RoomHistory::kMaxBytes);
    QVERIFY(history.bytes() >= 60 * 1024 * 1024);
    HistoryRead r = store.read(u"room0"_s, after(0));
    QVERIFY(!r.complete); // the oldest room lost its event, not its last id
    QVERIFY(r.events.isEmpty());
    QCOMPARE(r.lastId, ids[0]);
    r = store.read(u"room99"_s, after(0));
    QVERIFY(r.complete);
    QCOMPARE(r.events.size(), 1);
}

void TestRoomHistory::manyRoomsForgetTheOldestRecords()
{
    RoomHistory history;
    HistoryStore &store = history;
    store.addPresence(u"kept"_s, u"m"_s, u"s"_s);
    const quint64 keptId = appendEvents(store, u"kept"_s, 1).first();
    const int rooms = int(RoomHistory::kMaxRooms) + 20000;
    QList<quint64> ids;
    for (int i = 0; i < rooms; ++i)
        ids += appendEvents(store, u"r%1"_s.arg(i), 1);
    QVERIFY2(store.historyRooms() <= RoomHistory::kMaxRooms,
             qPrintable(QString::number(store.historyRooms())));
    HistoryRead r = store.read(u"r0"_s, after(0)); // forgotten: events may have been missed
    QVERIFY(!r.complete);
    QCOMPARE(r.lastId, quint64(0));
    r = store.read(u"r0"_s, after(0, 0, true)); // so the log is asked
    QVERIFY(r.needLog);
    QVERIFY(r.needLogUpTo >= ids[0]);
    r = store.read(u"r%1"_s.arg(rooms - 1), after(ids[rooms - 2]));
    QVERIFY(r.complete);
    QCOMPARE(r.events, QList<QByteArray>{wireOf(ids.last())});
    // A room anyone is present in keeps its record whatever the pressure.
    QCOMPARE(store.read(u"kept"_s, after(std::nullopt)).lastId, keptId);
}

void TestRoomHistory::presenceOnePerUserAndSession()
{
    RoomHistory history;
    HistoryStore &store = history;
    store.addPresence(u"R"_s, u"alice"_s, u"s1"_s);
    store.addPresence(u"R"_s, u"alice"_s, u"s1"_s); // second tab, same session
    store.addPresence(u"R"_s, u"alice"_s, u"s2"_s);
    store.addPresence(u"R"_s, u"bob"_s, u"s1"_s);
    store.addPresence(u"other"_s, u"carol"_s, u"s3"_s);
    QList<QPair<QString, QString>> got = store.presence(u"R"_s);
    std::sort(got.begin(), got.end());
    QCOMPARE(got,
             (QList<QPair<QString, QString>>{
                     {u"alice"_s, u"s1"_s}, {u"alice"_s, u"s2"_s}, {u"bob"_s, u"s1"_s}}));

    store.removePresence(u"R"_s, u"alice"_s, u"s1"_s); // one tab left: still present
    QCOMPARE(store.presence(u"R"_s).size(), 3);
    store.removePresence(u"R"_s, u"alice"_s, u"s1"_s);
    store.removePresence(u"R"_s, u"nobody"_s, u"s"_s); // not present: nothing happens
    QCOMPARE(store.presence(u"R"_s).size(), 2);
    store.removePresence(u"R"_s, u"alice"_s, u"s2"_s);
    store.removePresence(u"R"_s, u"bob"_s, u"s1"_s);
    QVERIFY(store.presence(u"R"_s).isEmpty());
    QCOMPARE(store.presence(u"other"_s).size(), 1);
    QVERIFY(store.presence(u"never"_s).isEmpty());
}

QTEST_GUILESS_MAIN(TestRoomHistory)
#include "tst_room_history.moc"
