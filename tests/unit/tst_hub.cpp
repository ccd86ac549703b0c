// Unit tests of sb::Hub: memberships, routing of emits to the shards' sinks, ids, history
// replay, revocation and counters. The sinks are fakes that record what they are handed.

#include "auth/RevocationList.h"
#include "hub/Hub.h"
#include "store/RoomHistory.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>

using namespace Qt::StringLiterals;
using sb::ConnectionKind;
using sb::ConnId;
using sb::Delivery;
using sb::EmitRequest;
using sb::EmitResult;
using sb::EmitSource;
using sb::EmitTarget;
using sb::Hub;
using sb::JoinResult;
using sb::RoomHistory;
using sb::TokenClaims;

namespace {

class FakeSink : public sb::DeliverySink
{
public:
    bool hasRoomFor(qint64 writes) const override
    {
        asked.append(writes);
        return !full;
    }
    void enqueue(Delivery &&delivery) override { deliveries.append(std::move(delivery)); }

    bool full = false;
    mutable QList<qint64> asked;
    QList<Delivery> deliveries;
};

// The payload of one unmasked server frame (FIN set) of the given opcode, or null.
QByteArray framePayload(const QByteArray &wire, int opcode = 0x1)
{
    if (wire.size() < 2 || quint8(wire[0]) != (0x80 | opcode) || (quint8(wire[1]) & 0x80))
        return {};
    quint64 len = quint8(wire[1]) & 0x7F;
    qsizetype pos = 2;
    if (len == 126) {
        len = (quint64(quint8(wire[2])) << 8) | quint8(wire[3]);
        pos = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | quint8(wire[2 + i]);
        pos = 10;
    }
    if (quint64(wire.size() - pos) != len)
        return {};
    return wire.mid(pos);
}

QJsonObject frameJson(const QByteArray &wire)
{
    return QJsonDocument::fromJson(framePayload(wire)).object();
}

QList<ConnId> sorted(QList<ConnId> ids)
{
    std::sort(ids.begin(), ids.end());
    return ids;
}

// The connections a delivery really reaches (its targets minus the excluded sender).
QList<ConnId> reached(const Delivery &d)
{
    QList<ConnId> out;
    for (ConnId id : d.targets) {
        if (id != d.exclude)
            out.append(id);
    }
    return sorted(out);
}

QList<ConnId> reachedAll(const QList<Delivery> &deliveries)
{
    QList<ConnId> out;
    for (const Delivery &d : deliveries)
        out += reached(d);
    return sorted(out);
}

TokenClaims claims(const QString &user, const QString &room, const QString &session,
                   bool publish = false)
{
    return TokenClaims{user, room, session, 0, 0, publish};
}

EmitRequest emitTo(EmitTarget target, const QString &to,
                   const QString &event = u"websocket::message"_s,
                   const QByteArray &data = "null"_ba)
{
    EmitRequest r;
    r.target = target;
    r.to = to;
    r.event = event;
    r.data = data;
    return r;
}

struct Fixture
{
    explicit Fixture(qint64 historyPerRoom = 1000) : history(historyPerRoom), hub(history)
    {
        hub.setSinks({&s0, &s1});
    }
    Q_DISABLE_COPY_MOVE(Fixture)

    ConnId open(int shard, ConnectionKind kind = ConnectionKind::Native)
    {
        return hub.openConnection(shard, kind, u"127.0.0.1:%1"_s.arg(40000 + shard), QString(),
                                  std::make_shared<sb::ConnectionCounters>());
    }
    ConnId joined(int shard, const QString &user, const QString &room, const QString &session)
    {
        const ConnId id = open(shard);
        const JoinResult r = hub.join(id, claims(user, room, session), std::nullopt);
        if (r.status != JoinResult::Status::Joined)
            qFatal("test setup: join failed");
        return id;
    }
    // What a join of the open connection id with claims(user, room, session), no since, answers.
    JoinResult::Status joinAlso(ConnId id, const QString &user, const QString &room,
                                const QString &session)
    {
        return hub.join(id, claims(user, room, session), std::nullopt).status;
    }
    void clear()
    {
        s0.deliveries.clear();
        s1.deliveries.clear();
    }
    QList<Delivery> all() const { return s0.deliveries + s1.deliveries; }

    FakeSink s0, s1;
    RoomHistory history;
    Hub hub;
};

// Publishes e on a cleared fixture: it reaches no one, no shard is handed anything. The result
// goes to *result when asked for.
void verifyReachesNobody(Fixture &f, const EmitRequest &e, EmitResult *result = nullptr)
{
    f.clear();
    const EmitResult r = f.hub.publish(e);
    if (result)
        *result = r;
    QCOMPARE(r.delivered, 0);
    QVERIFY(f.all().isEmpty());
}

} // namespace

class TestHub : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void openConnectionsGetDistinctIds();
    void roomEmitReachesMembersOnTheirShards();
    void userEmitReachesEveryConnectionOfTheUser();
    void allEmitReachesOnlyJoinedNativeConnections();
    void connectionEmit();
    void idsStrictlyIncreaseAndShardsSeeThemInOrder();
    void eventFrameShape();
    void clientEmitExcludesTheSender();
    void legacyPushReachesOnlyLegacyConnections();
    void broadcastReachesRoomAndLegacy();
    void oneUserPerConnection();
    void presenceHasUniquePairs();
    void leave();
    void revokeRemovesOnlyTheMatchingTriple();
    void closeConnectionRemovesMemberships();
    void joinSinceReplaysMissedRoomEvents();
    void recoveredIsFalseOnceEventsWereEvicted();
    void historyMemoryIsBoundedOverAllRooms();
    void manyRoomsEvictOldestRecordsInOrder();
    void replayOverBudgetReplaysNothing();
    void secondJoinSinceAfterRestartTerminates();
    void revocationIsCheckedAgainUnderTheHubLock();
    void leavingTheLastRoomEndsUserAndAllEmits();
    void rejoinOfAJoinedRoomReplaysNothing();
    void statsCounters();
    void fullSinkRejectsAndChangesNothing();
    void fullSinkOfAnUninvolvedShardDoesNotBlock();
    void recordObserverSeesAcceptedEmits();
    void mayPublishFollowsTheToken();
    void connectionSnapshots();
    void setLastIdContinuesIds();
};

void TestHub::openConnectionsGetDistinctIds()
{
    Fixture f;
    QCOMPARE(f.hub.shardCount(), 2);
    QSet<ConnId> ids;
    for (int i = 0; i < 10; ++i) {
        const ConnId id = f.open(i % 2, i == 3 ? ConnectionKind::Legacy : ConnectionKind::Native);
        QVERIFY(id != 0);
        ids.insert(id);
    }
    QCOMPARE(ids.size(), 10);
    QCOMPARE(f.hub.openCount(), 10);
    QCOMPARE(f.hub.stats().connections, 9);
    QCOMPARE(f.hub.stats().legacyConnections, 1);
}

void TestHub::roomEmitReachesMembersOnTheirShards()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    const ConnId b = f.joined(1, u"alice"_s, u"R1"_s, u"s2"_s);
    const ConnId c = f.joined(0, u"bob"_s, u"R1"_s, u"s3"_s);
    const ConnId d = f.joined(1, u"carol"_s, u"R2"_s, u"s4"_s);
    f.open(0, ConnectionKind::Legacy);
    f.open(1);
    f.clear();

    const EmitResult r = f.hub.publish(emitTo(EmitTarget::Room, u"R1"_s));
    QVERIFY(r.accepted);
    QVERIFY(r.id > 0);
    QCOMPARE(r.delivered, 3);
    QCOMPARE(r.legacyDelivered, 0);
    QCOMPARE(f.s0.deliveries.size(), 1);
    QCOMPARE(f.s1.deliveries.size(), 1);
    QCOMPARE(reached(f.s0.deliveries[0]), sorted({a, c}));
    QCOMPARE(reached(f.s1.deliveries[0]), QList<ConnId>{b});
    // One frame, built once, shared by the shards.
    QCOMPARE(f.s0.deliveries[0].wire, f.s1.deliveries[0].wire);
    QVERIFY(f.s0.deliveries[0].countsAsSent);
    QCOMPARE(f.s0.deliveries[0].closeCode, quint16(0));
    QCOMPARE(frameJson(f.s0.deliveries[0].wire).value(u"id").toInteger(), qint64(r.id));

    f.clear();
    const EmitResult r2 = f.hub.publish(emitTo(EmitTarget::Room, u"R2"_s));
    QCOMPARE(r2.delivered, 1);
    QVERIFY(f.s0.deliveries.isEmpty()); // nothing handed to a shard without members
    QCOMPARE(reachedAll(f.s1.deliveries), QList<ConnId>{d});

    EmitResult empty;
    verifyReachesNobody(f, emitTo(EmitTarget::Room, u"nobody-here"_s), &empty);
    QVERIFY(empty.accepted);
    QVERIFY(empty.id > r2.id);
}

void TestHub::userEmitReachesEveryConnectionOfTheUser()
{
    Fixture f;
    const ConnId a1 = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    const ConnId a2 = f.joined(1, u"alice"_s, u"R2"_s, u"s2"_s);
    const ConnId a3 = f.joined(1, u"alice"_s, u"R3"_s, u"s1"_s);
    f.joined(0, u"bob"_s, u"R1"_s, u"s3"_s);
    f.joined(1, u"Alice"_s, u"R1"_s, u"s4"_s); // names are case-sensitive
    f.open(0, ConnectionKind::Legacy);
    f.clear();

    const EmitResult r = f.hub.publish(emitTo(EmitTarget::User, u"alice"_s));
    QCOMPARE(r.delivered, 3);
    QCOMPARE(reachedAll(f.s0.deliveries), QList<ConnId>{a1});
    QCOMPARE(reachedAll(f.s1.deliveries), sorted({a2, a3}));

    verifyReachesNobody(f, emitTo(EmitTarget::User, u"nobody"_s));
}

void TestHub::allEmitReachesOnlyJoinedNativeConnections()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    const ConnId b = f.joined(1, u"bob"_s, u"R2"_s, u"s2"_s);
    const ConnId c = f.joined(1, u"carol"_s, u"R2"_s, u"s3"_s);
    const ConnId neverJoined0 = f.open(0);
    const ConnId neverJoined1 = f.open(1);
    const ConnId legacy0 = f.open(0, ConnectionKind::Legacy);
    const ConnId legacy1 = f.open(1, ConnectionKind::Legacy);
    f.clear();

    const EmitResult r = f.hub.publish(emitTo(EmitTarget::All, QString()));
    QVERIFY(r.accepted);
    QCOMPARE(r.delivered, 3);
    QCOMPARE(r.legacyDelivered, 0);
    const QList<ConnId> got = reachedAll(f.all());
    QCOMPARE(got, sorted({a, b, c}));
    for (ConnId id : {neverJoined0, neverJoined1, legacy0, legacy1})
        QVERIFY(!got.contains(id));
    QCOMPARE(reachedAll(f.s0.deliveries), QList<ConnId>{a});
    QCOMPARE(reachedAll(f.s1.deliveries), sorted({b, c}));
    QVERIFY(!frameJson(f.s0.deliveries[0].wire).contains(u"room"));
}

void TestHub::connectionEmit()
{
    Fixture f;
    f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    const ConnId b = f.joined(1, u"bob"_s, u"R1"_s, u"s2"_s);
    const ConnId legacy = f.open(1, ConnectionKind::Legacy);
    f.clear();

    EmitResult r = f.hub.publish(emitTo(EmitTarget::Connection, sb::connectionIdText(b)));
    QVERIFY(r.accepted);
    QCOMPARE(r.delivered, 1);
    QVERIFY(f.s0.deliveries.isEmpty());
    QCOMPARE(reachedAll(f.s1.deliveries), QList<ConnId>{b});
    QVERIFY(!frameJson(f.s1.deliveries[0].wire).contains(u"room"));

    // Unknown ids and legacy connections: accepted with nothing delivered.
    for (const QString &to : {u"c999999"_s, u"nonsense"_s, sb::connectionIdText(legacy)}) {
        f.clear();
        r = f.hub.publish(emitTo(EmitTarget::Connection, to));
        QVERIFY2(r.accepted, qPrintable(to));
        QVERIFY(r.id > 0);
        QCOMPARE(r.delivered, 0);
        QVERIFY2(f.all().isEmpty(), qPrintable(to));
    }
}

void TestHub::idsStrictlyIncreaseAndShardsSeeThemInOrder()
{
    Fixture f;
    f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    f.joined(1, u"bob"_s, u"R1"_s, u"s2"_s);
    f.joined(1, u"bob"_s, u"R2"_s, u"s2"_s);
    f.clear();

    quint64 last = 0;
    QList<quint64> ids;
    for (int i = 0; i < 30; ++i) {
        const EmitTarget t = std::array{EmitTarget::Room, EmitTarget::User, EmitTarget::All}[i % 3];
        const QString to = t == EmitTarget::Room ? (i % 2 ? u"R1"_s : u"R2"_s)
                : t == EmitTarget::User          ? u"bob"_s
                                                 : QString();
        const EmitResult r = f.hub.publish(emitTo(t, to));
        QVERIFY(r.id > last);
        last = r.id;
        ids.append(r.id);
    }
    QCOMPARE(f.hub.stats().lastId, last);
    for (FakeSink *sink : {&f.s0, &f.s1}) {
        qint64 previous = 0;
        QVERIFY(!sink->deliveries.isEmpty());
        for (const Delivery &d : sink->deliveries) {
            const qint64 id = frameJson(d.wire).value(u"id").toInteger();
            QVERIFY(ids.contains(quint64(id)));
            QVERIFY2(id > previous, "a shard received events out of id order");
            previous = id;
        }
    }
}

void TestHub::eventFrameShape()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"hr:emp:\"1\""_s, u"s1"_s);
    f.clear();
    const QByteArray data = R"({"z":1.0,"a":123456789012345678901234567890,"s":"x\"y"})"_ba;
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const EmitResult r = f.hub.publish(
            emitTo(EmitTarget::Room, u"hr:emp:\"1\""_s, u"Refresh \"Emp\" ü"_s, data));
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(f.s0.deliveries.size(), 1);
    const QByteArray payload = framePayload(f.s0.deliveries[0].wire);
    QVERIFY2(!payload.isEmpty(), "not an unmasked FIN text frame");
    QCOMPARE(reached(f.s0.deliveries[0]), QList<ConnId>{a});

    const QJsonObject o = QJsonDocument::fromJson(payload).object();
    QCOMPARE(o.value(u"type").toString(), u"event"_s);
    QCOMPARE(o.value(u"id").toInteger(), qint64(r.id));
    QCOMPARE(o.value(u"event").toString(), u"Refresh \"Emp\" ü"_s);
    QCOMPARE(o.value(u"room").toString(), u"hr:emp:\"1\""_s);
    QVERIFY(o.value(u"ts").toInteger() >= before && o.value(u"ts").toInteger() <= after);
    // data is the text the caller sent, digits and key order untouched.
    QVERIFY2(payload.contains(QByteArray(R"("data":)" + data)), payload.constData());

    // A user emit has no room key; absent data is null.
    f.clear();
    f.hub.publish(emitTo(EmitTarget::User, u"alice"_s, u"e"_s, "null"_ba));
    const QJsonObject u = frameJson(f.s0.deliveries[0].wire);
    QVERIFY(!u.contains(u"room"));
    QVERIFY(u.contains(u"data"));
    QVERIFY(u.value(u"data").isNull());
}

void TestHub::clientEmitExcludesTheSender()
{
    Fixture f;
    const ConnId sender = f.open(0);
    QCOMPARE(f.hub.join(sender, claims(u"alice"_s, u"R"_s, u"s1"_s, true), std::nullopt).status,
             JoinResult::Status::Joined);
    const ConnId c = f.joined(0, u"bob"_s, u"R"_s, u"s2"_s);
    const ConnId b = f.joined(1, u"carol"_s, u"R"_s, u"s3"_s);
    const ConnId sameUser = f.joined(1, u"alice"_s, u"R"_s, u"s1"_s); // another tab of the sender
    f.clear();

    EmitRequest req = emitTo(EmitTarget::Room, u"R"_s);
    req.source = EmitSource::Ws;
    req.exclude = sender;
    const EmitResult r = f.hub.publish(req);
    QVERIFY(r.accepted);
    QCOMPARE(r.delivered, 3);
    const QList<ConnId> got = reachedAll(f.all());
    QCOMPARE(got, sorted({c, b, sameUser}));
    QVERIFY(!got.contains(sender));
    QCOMPARE(f.hub.stats().messagesOut, quint64(3));
}

void TestHub::legacyPushReachesOnlyLegacyConnections()
{
    Fixture f;
    f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.open(1);
    const ConnId l0 = f.open(0, ConnectionKind::Legacy);
    const ConnId l1 = f.open(1, ConnectionKind::Legacy);
    const ConnId l2 = f.open(1, ConnectionKind::Legacy);
    f.clear();

    EmitRequest req;
    req.target = EmitTarget::Legacy;
    req.eventFrame = false;
    req.event = u"websocket::message"_s;
    req.source = EmitSource::Compat;
    req.legacyText = R"({"message":"hello world"})"_ba;
    req.data = req.legacyText;
    const EmitResult r = f.hub.publish(req);
    QVERIFY(r.accepted);
    QVERIFY(r.id > 0);
    QCOMPARE(r.delivered, 0);
    QCOMPARE(r.legacyDelivered, 3);
    QCOMPARE(reachedAll(f.s0.deliveries), QList<ConnId>{l0});
    QCOMPARE(reachedAll(f.s1.deliveries), sorted({l1, l2}));
    for (const Delivery &d : f.all())
        QCOMPARE(framePayload(d.wire), req.legacyText); // the text as is, not an event frame

    // Native emits never reach legacy connections.
    for (EmitTarget t : {EmitTarget::Room, EmitTarget::All, EmitTarget::User}) {
        f.clear();
        f.hub.publish(emitTo(t,
                             t == EmitTarget::Room           ? u"R"_s
                                     : t == EmitTarget::User ? u"alice"_s
                                                             : QString()));
        const QList<ConnId> got = reachedAll(f.all());
        for (ConnId id : {l0, l1, l2})
            QVERIFY(!got.contains(id));
    }
    verifyReachesNobody(f, emitTo(EmitTarget::Connection, sb::connectionIdText(l1)));
}

void TestHub::broadcastReachesRoomAndLegacy()
{
    // POST /api/broadcast: the room gets an event frame, every legacy connection the text.
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"chan"_s, u"s1"_s);
    f.joined(1, u"bob"_s, u"other"_s, u"s2"_s);
    const ConnId l1 = f.open(1, ConnectionKind::Legacy);
    f.clear();

    EmitRequest req = emitTo(EmitTarget::Room, u"chan"_s, u"ev"_s, R"({"k":1})"_ba);
    req.legacyText = R"({"channel":"chan","eventName":"ev","payload":{"k":1}})"_ba;
    const EmitResult r = f.hub.publish(req);
    QCOMPARE(r.delivered, 1);
    QCOMPARE(r.legacyDelivered, 1);
    QCOMPARE(f.s0.deliveries.size(), 1);
    QCOMPARE(reached(f.s0.deliveries[0]), QList<ConnId>{a});
    QCOMPARE(frameJson(f.s0.deliveries[0].wire).value(u"type").toString(), u"event"_s);
    QCOMPARE(f.s1.deliveries.size(), 1);
    QCOMPARE(reached(f.s1.deliveries[0]), QList<ConnId>{l1});
    QCOMPARE(framePayload(f.s1.deliveries[0].wire), req.legacyText);
    QCOMPARE(f.hub.stats().messagesIn, quint64(1));
}

void TestHub::oneUserPerConnection()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    const JoinResult other = f.hub.join(a, claims(u"bob"_s, u"R2"_s, u"s9"_s), std::nullopt);
    QCOMPARE(other.status, JoinResult::Status::Forbidden);
    QVERIFY(f.hub.roomMembers(u"R2"_s).isEmpty());
    QCOMPARE(f.hub.connection(a)->rooms, QStringList{u"R1"_s});
    QCOMPARE(f.hub.connection(a)->user, u"alice"_s);
    // Also for a room the connection is already in.
    QCOMPARE(f.joinAlso(a, u"bob"_s, u"R1"_s, u"s1"_s), JoinResult::Status::Forbidden);
    QCOMPARE(f.hub.roomMembers(u"R1"_s).size(), 1);
    QCOMPARE(f.hub.roomMembers(u"R1"_s)[0].user, u"alice"_s);

    // The same user may join more rooms, even with another session.
    QCOMPARE(f.joinAlso(a, u"alice"_s, u"R2"_s, u"s2"_s), JoinResult::Status::Joined);
    QCOMPARE(f.hub.connection(a)->rooms, (QStringList{u"R1"_s, u"R2"_s}));
    f.clear();
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::User, u"bob"_s)).delivered, 0);

    // An unknown connection is Gone.
    QCOMPARE(f.joinAlso(987654, u"x"_s, u"R"_s, u"s"_s), JoinResult::Status::Gone);
}

void TestHub::presenceHasUniquePairs()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.joined(1, u"alice"_s, u"R"_s, u"s1"_s); // second tab, same session
    f.joined(0, u"alice"_s, u"R"_s, u"s2"_s);
    f.joined(1, u"bob"_s, u"R"_s, u"s1"_s);
    f.joined(1, u"carol"_s, u"other"_s, u"s3"_s);
    const ConnId outsider = f.joined(0, u"dave"_s, u"other"_s, u"s4"_s);

    const auto members = f.hub.presence(a, u"R"_s);
    QVERIFY(members.has_value());
    QList<QPair<QString, QString>> got = *members;
    std::sort(got.begin(), got.end());
    const QList<QPair<QString, QString>> expected = {
            {u"alice"_s, u"s1"_s}, {u"alice"_s, u"s2"_s}, {u"bob"_s, u"s1"_s}};
    QCOMPARE(got, expected);

    QVERIFY(!f.hub.presence(outsider, u"R"_s).has_value()); // not joined: forbidden
    QVERIFY(!f.hub.presence(a, u"no-such-room"_s).has_value());
    QCOMPARE(f.hub.roomMembers(u"R"_s).size(), 4); // members are per connection
}

void TestHub::leave()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    QCOMPARE(f.joinAlso(a, u"alice"_s, u"R2"_s, u"s1"_s), JoinResult::Status::Joined);
    const ConnId b = f.joined(1, u"bob"_s, u"R1"_s, u"s2"_s);

    QVERIFY(f.hub.leave(a, u"R1"_s));
    QVERIFY(!f.hub.leave(a, u"R1"_s));
    QVERIFY(!f.hub.leave(a, u"never-joined"_s));
    QVERIFY(!f.hub.presence(a, u"R1"_s).has_value());
    QCOMPARE(f.hub.connection(a)->rooms, QStringList{u"R2"_s});
    f.clear();
    const EmitResult r = f.hub.publish(emitTo(EmitTarget::Room, u"R1"_s));
    QCOMPARE(r.delivered, 1);
    QCOMPARE(reachedAll(f.all()), QList<ConnId>{b});
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::Room, u"R2"_s)).delivered, 1);

    // Leaving the last member removes the room.
    QVERIFY(f.hub.leave(a, u"R2"_s));
    QCOMPARE(f.hub.stats().rooms, 1);
    QCOMPARE(f.hub.rooms().size(), 1);
    QCOMPARE(f.hub.rooms()[0].room, u"R1"_s);
}

void TestHub::revokeRemovesOnlyTheMatchingTriple()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    const ConnId e = f.joined(1, u"alice"_s, u"R"_s, u"s1"_s); // same triple, other shard
    const ConnId b = f.joined(1, u"alice"_s, u"R"_s, u"s2"_s); // other session
    const ConnId c = f.joined(0, u"bob"_s, u"R"_s, u"s1"_s);   // other user
    QCOMPARE(f.joinAlso(a, u"alice"_s, u"R2"_s, u"s1"_s), JoinResult::Status::Joined); // other room
    f.clear();

    QCOMPARE(f.hub.revoke(u"R"_s, u"alice"_s, u"s1"_s), 2);
    // Each affected connection gets {"type":"left","room":R,"reason":"revoked"}.
    QCOMPARE(f.s0.deliveries.size(), 1);
    QCOMPARE(f.s1.deliveries.size(), 1);
    QCOMPARE(reached(f.s0.deliveries[0]), QList<ConnId>{a});
    QCOMPARE(reached(f.s1.deliveries[0]), QList<ConnId>{e});
    for (const Delivery &d : f.all()) {
        const QJsonObject o = frameJson(d.wire);
        QCOMPARE(o,
                 (QJsonObject{{u"type"_s, u"left"_s},
                              {u"room"_s, u"R"_s},
                              {u"reason"_s, u"revoked"_s}}));
        QVERIFY(!d.countsAsSent); // not an event frame
        QCOMPARE(d.closeCode, quint16(0));
    }
    QList<ConnId> members;
    for (const sb::RoomMember &m : f.hub.roomMembers(u"R"_s))
        members.append(m.id);
    QCOMPARE(sorted(members), sorted({b, c}));
    QCOMPARE(f.hub.connection(a)->rooms, QStringList{u"R2"_s});
    QCOMPARE(f.hub.connection(e)->rooms, QStringList());

    // No match: nothing enqueued.
    f.clear();
    QCOMPARE(f.hub.revoke(u"R"_s, u"alice"_s, u"s1"_s), 0);
    QCOMPARE(f.hub.revoke(u"R"_s, u"alice"_s, u"s9"_s), 0);
    QCOMPARE(f.hub.revoke(u"nope"_s, u"alice"_s, u"s2"_s), 0);
    QVERIFY(f.all().isEmpty());
    QCOMPARE(f.hub.stats().messagesIn, quint64(0));
    QCOMPARE(f.hub.stats().lastId, quint64(0)); // a revocation is not an emit

    f.clear();
    const EmitResult r = f.hub.publish(emitTo(EmitTarget::Room, u"R"_s));
    QCOMPARE(r.delivered, 2);
    QCOMPARE(reachedAll(f.all()), sorted({b, c}));
}

void TestHub::closeConnectionRemovesMemberships()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    QCOMPARE(f.joinAlso(a, u"alice"_s, u"R2"_s, u"s1"_s), JoinResult::Status::Joined);
    const ConnId b = f.joined(1, u"bob"_s, u"R1"_s, u"s2"_s);
    QCOMPARE(f.hub.stats().rooms, 2);
    QCOMPARE(f.hub.stats().users, 2);
    QCOMPARE(f.hub.stats().connections, 2);

    QStringList left = f.hub.closeConnection(a);
    left.sort();
    QCOMPARE(left, (QStringList{u"R1"_s, u"R2"_s}));
    QVERIFY(!f.hub.connection(a).has_value());
    QCOMPARE(f.hub.connections().size(), 1);
    QCOMPARE(f.hub.stats().connections, 1);
    QCOMPARE(f.hub.stats().rooms, 1); // R2 had only a: gone
    QCOMPARE(f.hub.stats().users, 1);
    QCOMPARE(f.hub.openCount(), 1);
    QVERIFY(f.hub.roomMembers(u"R2"_s).isEmpty());
    QCOMPARE(f.hub.rooms().size(), 1);

    f.clear();
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::Room, u"R1"_s)).delivered, 1);
    QCOMPARE(reachedAll(f.all()), QList<ConnId>{b});
    f.clear();
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::User, u"alice"_s)).delivered, 0);
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::All, QString())).delivered, 1);
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::Connection, sb::connectionIdText(a))).delivered, 0);

    QVERIFY(f.hub.closeConnection(a).isEmpty()); // twice: nothing
    QCOMPARE(f.hub.stats().connections, 1);
    f.hub.closeConnection(b);
    QCOMPARE(f.hub.stats().rooms, 0);
    QCOMPARE(f.hub.stats().users, 0);
    QCOMPARE(f.hub.stats().connections, 0);
    QVERIFY(f.hub.rooms().isEmpty());
}

void TestHub::joinSinceReplaysMissedRoomEvents()
{
    Fixture f;
    f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.clear();
    QList<quint64> ids;
    for (int i = 0; i < 5; ++i) {
        ids.append(f.hub.publish(emitTo(EmitTarget::Room, u"R"_s, u"e%1"_s.arg(i),
                                        QByteArray::number(i)))
                           .id);
        f.hub.publish(emitTo(EmitTarget::Room, u"other"_s)); // interleaved ids of another room
        f.hub.publish(emitTo(EmitTarget::All, QString()));
    }
    const QList<QByteArray> delivered = [&] {
        QList<QByteArray> out;
        for (const Delivery &d : f.s0.deliveries) {
            if (frameJson(d.wire).value(u"room").toString() == u"R")
                out.append(d.wire);
        }
        return out;
    }();
    QCOMPARE(delivered.size(), 5);

    const ConnId late = f.open(1);
    JoinResult r = f.hub.join(late, claims(u"bob"_s, u"R"_s, u"s2"_s), ids[1]);
    QCOMPARE(r.status, JoinResult::Status::Joined);
    QVERIFY(r.recovered);
    QCOMPARE(r.lastId, ids[4]);
    QCOMPARE(r.replay.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(frameJson(r.replay[i]).value(u"id").toInteger(), qint64(ids[2 + i]));
        QCOMPARE(frameJson(r.replay[i]).value(u"event").toString(), u"e%1"_s.arg(2 + i));
        QCOMPARE(r.replay[i], delivered[2 + i]); // the same frame the members got
    }

    // since = an id between room events (another room's id): the later room events only.
    const ConnId late2 = f.open(0);
    r = f.hub.join(late2, claims(u"carol"_s, u"R"_s, u"s3"_s), ids[3] + 1);
    QVERIFY(r.recovered);
    QCOMPARE(r.replay.size(), 1);
    QCOMPARE(frameJson(r.replay[0]).value(u"id").toInteger(), qint64(ids[4]));

    // Up to date: nothing to replay.
    const ConnId late3 = f.open(0);
    r = f.hub.join(late3, claims(u"dave"_s, u"R"_s, u"s4"_s), ids[4]);
    QVERIFY(r.recovered);
    QVERIFY(r.replay.isEmpty());
    QCOMPARE(r.lastId, ids[4]);

    // since 0: everything held (nothing was evicted).
    const ConnId late4 = f.open(1);
    r = f.hub.join(late4, claims(u"erin"_s, u"R"_s, u"s5"_s), 0);
    QVERIFY(r.recovered);
    QCOMPARE(r.replay.size(), 5);

    // Without since: no replay, but the room's last id.
    const ConnId late5 = f.open(1);
    r = f.hub.join(late5, claims(u"fred"_s, u"R"_s, u"s6"_s), std::nullopt);
    QVERIFY(r.replay.isEmpty());
    QCOMPARE(r.lastId, ids[4]);

    // A room that never had an event.
    const ConnId late6 = f.open(1);
    r = f.hub.join(late6, claims(u"gina"_s, u"quiet"_s, u"s7"_s), 5);
    QCOMPARE(r.status, JoinResult::Status::Joined);
    QVERIFY(r.replay.isEmpty());
    QCOMPARE(r.lastId, quint64(0));

    // Replays are not deliveries: no counters move.
    const sb::HubStats s = f.hub.stats();
    QCOMPARE(s.messagesIn, quint64(15));
}

void TestHub::recoveredIsFalseOnceEventsWereEvicted()
{
    Fixture f(3); // history_per_room = 3
    f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    QList<quint64> ids;
    for (int i = 0; i < 5; ++i)
        ids.append(f.hub.publish(emitTo(EmitTarget::Room, u"R"_s)).id);
    // Held: ids[2..4]; ids[0], ids[1] evicted.

    JoinResult r = f.hub.join(f.open(1), claims(u"bob"_s, u"R"_s, u"s2"_s), ids[0]);
    QVERIFY(!r.recovered); // ids[1] is missed and gone
    QCOMPARE(r.replay.size(), 3);
    QCOMPARE(frameJson(r.replay.first()).value(u"id").toInteger(), qint64(ids[2]));
    QCOMPARE(frameJson(r.replay.last()).value(u"id").toInteger(), qint64(ids[4]));

    r = f.hub.join(f.open(1), claims(u"carol"_s, u"R"_s, u"s3"_s), 0);
    QVERIFY(!r.recovered);

    r = f.hub.join(f.open(1), claims(u"dave"_s, u"R"_s, u"s4"_s), ids[1]);
    QVERIFY(r.recovered); // everything after ids[1] is still held
    QCOMPARE(r.replay.size(), 3);

    r = f.hub.join(f.open(0), claims(u"erin"_s, u"R"_s, u"s5"_s), ids[3]);
    QVERIFY(r.recovered);
    QCOMPARE(r.replay.size(), 1);
    QCOMPARE(r.lastId, ids[4]);
}

void TestHub::historyMemoryIsBoundedOverAllRooms()
{
    Fixture f(1000);
    // 1 MiB events in 100 rooms with no members: far more than the 64 MiB budget.
    const QByteArray big = '"' + QByteArray(1024 * 1024, 'x') + '"';
    QList<quint64> ids;
    for (int i = 0; i < 100; ++i)
        ids.append(f.hub.publish(emitTo(EmitTarget::Room, u"room%1"_s.arg(i), u"e"_s, big)).id);
    // The oldest rooms lost their event: recovered is false for them...
    JoinResult r = f.hub.join(f.open(0), claims(u"a"_s, u"room0"_s, u"s"_s), 0);
    QVERIFY(!r.recovered);
    QVERIFY(r.replay.isEmpty());
    QCOMPARE(r.lastId, ids[0]);
    // ...while the newest are still held.
    r = f.hub.join(f.open(1), claims(u"b"_s, u"room99"_s, u"s"_s), 0);
    QVERIFY(r.recovered);
    QCOMPARE(r.replay.size(), 1);
    // What is held fits the budget.
    int held = 0;
    for (int i = 0; i < 100; ++i) {
        const JoinResult j =
                f.hub.join(f.open(0), claims(u"c%1"_s.arg(i), u"room%1"_s.arg(i), u"s"_s), 0);
        held += int(j.replay.size());
    }
    QVERIFY2(held <= RoomHistory::kMaxBytes / (1024 * 1024), qPrintable(QString::number(held)));
    QVERIFY(held >= 60);
}

// Past RoomHistory::kMaxRooms rooms with history, each emit evicts the oldest entry of the order
// (O(1)) instead of scanning every room under the lock: the rooms with a record stay bounded,
// the newest rooms keep their events and the oldest are forgotten (recovered: false).
void TestHub::manyRoomsEvictOldestRecordsInOrder()
{
    Fixture f(1000);
    const int rooms = int(RoomHistory::kMaxRooms) + 20000;
    QList<quint64> ids;
    ids.reserve(rooms);
    for (int i = 0; i < rooms; ++i) {
        const EmitResult r = f.hub.publish(emitTo(EmitTarget::Room, u"r%1"_s.arg(i)));
        QVERIFY(r.accepted);
        ids.append(r.id);
        if ((i & 0x3fff) == 0)
            f.clear();
    }
    f.clear();
    QVERIFY2(f.hub.historyRooms() <= RoomHistory::kMaxRooms,
             qPrintable(QString::number(f.hub.historyRooms())));
    // The first rooms are forgotten: a join with since cannot be recovered from memory...
    JoinResult oldest = f.hub.join(f.open(0), claims(u"a"_s, u"r0"_s, u"s"_s), 0);
    QVERIFY(!oldest.recovered);
    QVERIFY(oldest.replay.isEmpty());
    // ...and the newest keep their event.
    JoinResult newest =
            f.hub.join(f.open(1), claims(u"b"_s, u"r%1"_s.arg(rooms - 1), u"s"_s), ids[rooms - 2]);
    QVERIFY(newest.recovered);
    QCOMPARE(newest.replay.size(), 1);
    QCOMPARE(frameJson(newest.replay.first()).value(u"id").toInteger(), qint64(ids.last()));
    // A room with a member keeps its record whatever the pressure.
    const ConnId member = f.joined(0, u"m"_s, u"kept"_s, u"s"_s);
    Q_UNUSED(member);
    const quint64 keptId = f.hub.publish(emitTo(EmitTarget::Room, u"kept"_s)).id;
    for (int i = 0; i < 2 * int(RoomHistory::kMaxRooms); ++i) {
        f.hub.publish(emitTo(EmitTarget::Room, u"x%1"_s.arg(i)));
        if ((i & 0x3fff) == 0)
            f.clear();
    }
    f.clear();
    const JoinResult kept = f.hub.join(f.open(1), claims(u"k"_s, u"kept"_s, u"s2"_s), 0);
    QCOMPARE(kept.lastId, keptId);
    QVERIFY(f.hub.historyRooms() <= RoomHistory::kMaxRooms + 1);
}

// A join whose missed events pass the replay budget (max_queue_bytes) would only be closed as
// a slow client halfway: it replays nothing and answers recovered: false.
void TestHub::replayOverBudgetReplaysNothing()
{
    Fixture f(1000);
    f.hub.setReplayBudget(1024 * 1024);
    const QByteArray big = '"' + QByteArray(300 * 1024, 'x') + '"';
    const quint64 first = f.hub.publish(emitTo(EmitTarget::Room, u"R"_s, u"e"_s, big)).id;
    for (int i = 0; i < 5; ++i)
        f.hub.publish(emitTo(EmitTarget::Room, u"R"_s, u"e"_s, big));
    // Three events (900 KiB) fit, six do not.
    JoinResult r = f.hub.join(f.open(0), claims(u"a"_s, u"R"_s, u"s"_s), first + 2);
    QVERIFY(r.recovered);
    QCOMPARE(r.replay.size(), 3);
    r = f.hub.join(f.open(0), claims(u"b"_s, u"R"_s, u"s"_s), 0);
    QCOMPARE(r.status, JoinResult::Status::Joined);
    QVERIFY(!r.recovered);
    QVERIFY(r.replayTooLarge);
    QVERIFY(r.replay.isEmpty());
    QCOMPARE(r.lastId, first + 5);
}

// After a restart on a non-empty log, memory knows nothing below the last id. A room seeded
// from the log by a first join has a lastId below that mark: a second join with `since` must
// be asked for the log up to the mark, not up to the room's lastId (which it would be asked
// again and again: the I/O thread spun, found by bench/soak.sh).
void TestHub::secondJoinSinceAfterRestartTerminates()
{
    Fixture f(1000);
    f.hub.setLogBacked(true);
    f.hub.setLastId(5); // the log's last id at start
    for (const QString &user : {u"a"_s, u"b"_s}) {
        const ConnId c = f.open(0);
        quint64 covered = 0;
        JoinResult r;
        int asked = 0;
        for (; asked < 4; ++asked) {
            r = f.hub.join(c, claims(user, u"quiet"_s, u"s"_s), 0, covered);
            if (r.status != JoinResult::Status::NeedLog)
                break;
            QVERIFY(r.needLogUpTo >= 5);
            f.hub.seedRoom(u"quiet"_s, 0); // the log has no event of this room
            covered = r.needLogUpTo;
        }
        QCOMPARE(r.status, JoinResult::Status::Joined);
        QCOMPARE(asked, 1);
        QVERIFY(r.recovered);
        QVERIFY(r.replay.isEmpty());
    }
    // Memory keeps the room's later events for a join that read the log up to the mark.
    const quint64 id = f.hub.publish(emitTo(EmitTarget::Room, u"quiet"_s)).id;
    QCOMPARE(id, quint64(6));
    const ConnId c = f.open(1);
    JoinResult r = f.hub.join(c, claims(u"c"_s, u"quiet"_s, u"s"_s), 0);
    QCOMPARE(r.status, JoinResult::Status::NeedLog);
    r = f.hub.join(c, claims(u"c"_s, u"quiet"_s, u"s"_s), 0, r.needLogUpTo);
    QCOMPARE(r.status, JoinResult::Status::Joined);
    QCOMPARE(r.replay.size(), 0); // the log covered up to the room's newest event (6)
    // Asked too often, the join goes on with memory alone.
    const ConnId d = f.open(1);
    r = f.hub.join(d, claims(u"d"_s, u"quiet"_s, u"s"_s), 0, 0, true);
    QCOMPARE(r.status, JoinResult::Status::Joined);
}

void TestHub::revocationIsCheckedAgainUnderTheHubLock()
{
    // The token was checked before the unregister; the join lands after it.
    sb::RevocationList revocations({}, 604800);
    FakeSink sink;
    RoomHistory history(1000);
    Hub hub(history, &revocations);
    hub.setSinks({&sink});
    const ConnId id = hub.openConnection(0, ConnectionKind::Native, u"127.0.0.1:1"_s, QString(),
                                         std::make_shared<sb::ConnectionCounters>());
    TokenClaims c = claims(u"alice"_s, u"R"_s, u"s1"_s);
    c.issuedAt = 1000;
    revocations.revoke(u"R"_s, u"alice"_s, u"s1"_s, 1000);
    QCOMPARE(hub.join(id, c, std::nullopt).status, JoinResult::Status::Revoked);
    QVERIFY(hub.roomMembers(u"R"_s).isEmpty());
    c.issuedAt = 1001; // issued after the unregister: fine
    QCOMPARE(hub.join(id, c, std::nullopt).status, JoinResult::Status::Joined);
}

void TestHub::leavingTheLastRoomEndsUserAndAllEmits()
{
    Fixture f;
    const ConnId id = f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    QCOMPARE(f.hub.stats().users, qint64(1));
    QVERIFY(f.hub.leave(id, u"R"_s));
    QCOMPARE(f.hub.stats().users, qint64(0));
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::User, u"alice"_s)).delivered, qint64(0));
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::All, QString())).delivered, qint64(0));
    // Still alice's connection: another user's token is refused, alice's joins again.
    QCOMPARE(f.joinAlso(id, u"bob"_s, u"R"_s, u"s2"_s), JoinResult::Status::Forbidden);
    QCOMPARE(f.joinAlso(id, u"alice"_s, u"R"_s, u"s1"_s), JoinResult::Status::Joined);
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::User, u"alice"_s)).delivered, qint64(1));
}

void TestHub::rejoinOfAJoinedRoomReplaysNothing()
{
    Fixture f;
    const ConnId id = f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.hub.publish(emitTo(EmitTarget::Room, u"R"_s));
    f.hub.publish(emitTo(EmitTarget::Room, u"R"_s));
    const JoinResult r = f.hub.join(id, claims(u"alice"_s, u"R"_s, u"s1"_s), 0);
    QCOMPARE(r.status, JoinResult::Status::Joined);
    QVERIFY(r.replay.isEmpty());
    QVERIFY(r.recovered);
}

void TestHub::statsCounters()
{
    Fixture f;
    const sb::HubStats zero = f.hub.stats();
    QCOMPARE(zero.messagesIn, quint64(0));
    QCOMPARE(zero.messagesOut, quint64(0));
    QCOMPARE(zero.lastId, quint64(0));
    QCOMPARE(zero.connections, 0);

    f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    f.joined(1, u"alice"_s, u"R1"_s, u"s2"_s);
    f.joined(1, u"bob"_s, u"R2"_s, u"s3"_s);
    f.open(0); // never joined
    f.open(1, ConnectionKind::Legacy);

    sb::HubStats s = f.hub.stats();
    QCOMPARE(s.connections, 4);
    QCOMPARE(s.legacyConnections, 1);
    QCOMPARE(s.rooms, 2);
    QCOMPARE(s.users, 2);

    f.hub.publish(emitTo(EmitTarget::Room, u"R1"_s));            // 2
    f.hub.publish(emitTo(EmitTarget::User, u"bob"_s));           // 1
    f.hub.publish(emitTo(EmitTarget::All, QString()));           // 3
    f.hub.publish(emitTo(EmitTarget::Room, u"empty"_s));         // 0, still accepted
    f.hub.publish(emitTo(EmitTarget::Connection, u"c424242"_s)); // 0
    EmitRequest legacy;
    legacy.target = EmitTarget::Legacy;
    legacy.eventFrame = false;
    legacy.legacyText = "x"_ba;
    f.hub.publish(legacy); // legacy pushes are not event frames
    s = f.hub.stats();
    QCOMPARE(s.messagesIn, quint64(6));
    QCOMPARE(s.messagesOut, quint64(6));
    QCOMPARE(s.lastId, quint64(6));

    // Joins, leaves, presence and revocations move no message counter.
    f.hub.revoke(u"R1"_s, u"alice"_s, u"s1"_s);
    s = f.hub.stats();
    QCOMPARE(s.messagesIn, quint64(6));
    QCOMPARE(s.messagesOut, quint64(6));
}

void TestHub::fullSinkRejectsAndChangesNothing()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.joined(1, u"bob"_s, u"R"_s, u"s2"_s);
    f.open(1, ConnectionKind::Legacy);
    int observed = 0;
    f.hub.setRecordObserver([&](const sb::MessageRecord &) { ++observed; });
    const EmitResult first = f.hub.publish(emitTo(EmitTarget::Room, u"R"_s));
    QVERIFY(first.accepted);
    QCOMPARE(observed, 1);
    const sb::HubStats before = f.hub.stats();
    f.clear();

    f.s1.full = true;
    QList<EmitRequest> requests = {emitTo(EmitTarget::Room, u"R"_s),
                                   emitTo(EmitTarget::User, u"bob"_s),
                                   emitTo(EmitTarget::All, QString())};
    EmitRequest legacy;
    legacy.target = EmitTarget::Legacy;
    legacy.eventFrame = false;
    legacy.legacyText = "x"_ba;
    requests.append(legacy);
    for (const EmitRequest &req : requests) {
        const EmitResult r = f.hub.publish(req);
        QVERIFY(!r.accepted);
        QCOMPARE(r.id, quint64(0));
        QCOMPARE(r.delivered, 0);
        QCOMPARE(r.legacyDelivered, 0);
    }
    QVERIFY(!f.s1.asked.isEmpty()); // the hub asked the sink
    QVERIFY2(f.all().isEmpty(), "a rejected emit was partly delivered");
    const sb::HubStats during = f.hub.stats();
    QCOMPARE(during.messagesIn, before.messagesIn);
    QCOMPARE(during.messagesOut, before.messagesOut);
    QCOMPARE(during.lastId, before.lastId);
    QCOMPARE(observed, 1);
    // Nothing entered the room's history either.
    JoinResult j = f.hub.join(f.open(0), claims(u"carol"_s, u"R"_s, u"s3"_s), first.id);
    QVERIFY(j.replay.isEmpty());
    QCOMPARE(j.lastId, first.id);

    // Room again: no id was consumed.
    f.s1.full = false;
    f.clear();
    const EmitResult next = f.hub.publish(emitTo(EmitTarget::Room, u"R"_s));
    QVERIFY(next.accepted);
    QCOMPARE(next.id, first.id + 1);
    QCOMPARE(next.delivered, 3);
    QVERIFY(reachedAll(f.all()).contains(a));
}

void TestHub::fullSinkOfAnUninvolvedShardDoesNotBlock()
{
    Fixture f;
    const ConnId a = f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.joined(1, u"bob"_s, u"elsewhere"_s, u"s2"_s);
    f.clear();
    f.s1.full = true;
    const EmitResult r = f.hub.publish(emitTo(EmitTarget::Room, u"R"_s));
    QVERIFY(r.accepted);
    QCOMPARE(r.delivered, 1);
    QCOMPARE(reachedAll(f.s0.deliveries), QList<ConnId>{a});
    QVERIFY(f.s1.deliveries.isEmpty());
    // The hub asks for the number of writes it hands over.
    QVERIFY(!f.s0.asked.isEmpty());
    QCOMPARE(f.s0.asked.last(), qint64(1));
}

void TestHub::recordObserverSeesAcceptedEmits()
{
    Fixture f;
    f.joined(0, u"alice"_s, u"R"_s, u"s1"_s);
    f.joined(1, u"bob"_s, u"R"_s, u"s2"_s);
    QList<sb::MessageRecord> records;
    f.hub.setRecordObserver([&](const sb::MessageRecord &r) { records.append(r); });

    EmitRequest room = emitTo(EmitTarget::Room, u"R"_s, u"ev"_s, R"({"b":1,"a":1.0})"_ba);
    room.remote = u"10.0.0.1:1234"_s;
    const EmitResult r1 = f.hub.publish(room);
    EmitRequest all = emitTo(EmitTarget::All, QString(), u"ev2"_s);
    all.source = EmitSource::Notify;
    const EmitResult r2 = f.hub.publish(all);
    const EmitResult r3 = f.hub.publish(emitTo(EmitTarget::User, u"alice"_s));

    QCOMPARE(records.size(), 3);
    QCOMPARE(records[0].id, r1.id);
    QCOMPARE(records[0].target, EmitTarget::Room);
    QCOMPARE(records[0].to, u"R"_s);
    QCOMPARE(records[0].event, u"ev"_s);
    QCOMPARE(records[0].data, R"({"b":1,"a":1.0})"_ba);
    QCOMPARE(records[0].delivered, 2);
    QCOMPARE(records[0].remote, u"10.0.0.1:1234"_s);
    QCOMPARE(records[0].source, EmitSource::Rest);
    QCOMPARE(records[1].id, r2.id);
    QCOMPARE(records[1].target, EmitTarget::All);
    QVERIFY(records[1].to.isNull());
    QCOMPARE(records[1].source, EmitSource::Notify);
    QCOMPARE(records[2].id, r3.id);
    QCOMPARE(records[2].to, u"alice"_s);
    QCOMPARE(records[2].delivered, 1);
    QVERIFY(records[0].ts > 0);
}

void TestHub::mayPublishFollowsTheToken()
{
    Fixture f;
    const ConnId a = f.open(0);
    QCOMPARE(f.hub.join(a, claims(u"alice"_s, u"R1"_s, u"s1"_s, true), std::nullopt).status,
             JoinResult::Status::Joined);
    QCOMPARE(f.hub.join(a, claims(u"alice"_s, u"R2"_s, u"s1"_s, false), std::nullopt).status,
             JoinResult::Status::Joined);
    QVERIFY(f.hub.mayPublish(a, u"R1"_s));
    QVERIFY(!f.hub.mayPublish(a, u"R2"_s));
    QVERIFY(!f.hub.mayPublish(a, u"R3"_s));
    const ConnId b = f.joined(1, u"bob"_s, u"R1"_s, u"s2"_s);
    QVERIFY(!f.hub.mayPublish(b, u"R1"_s));
    QVERIFY(f.hub.leave(a, u"R1"_s));
    QVERIFY(!f.hub.mayPublish(a, u"R1"_s));
}

void TestHub::connectionSnapshots()
{
    Fixture f;
    const ConnId never = f.open(1);
    const ConnId a = f.joined(0, u"alice"_s, u"R1"_s, u"s1"_s);
    QCOMPARE(f.joinAlso(a, u"alice"_s, u"R0"_s, u"s1"_s), JoinResult::Status::Joined);
    const ConnId b = f.joined(1, u"bob"_s, u"R1"_s, u"s2"_s);
    const ConnId legacy = f.open(0, ConnectionKind::Legacy);

    const QList<sb::ConnectionSnapshot> all = f.hub.connections();
    QCOMPARE(all.size(), 3); // legacy connections are not listed
    QList<ConnId> ids;
    for (const auto &c : all)
        ids.append(c.id);
    QCOMPARE(sorted(ids), sorted({never, a, b}));
    QVERIFY(!f.hub.connection(legacy).has_value());

    const auto n = f.hub.connection(never);
    QVERIFY(n.has_value());
    QVERIFY(n->user.isNull());
    QVERIFY(n->session.isNull());
    QVERIFY(n->origin.isNull());
    QVERIFY(n->rooms.isEmpty());
    QCOMPARE(n->remote, u"127.0.0.1:40001"_s);
    QVERIFY(n->sinceMs > 0);

    const auto sa = f.hub.connection(a);
    QCOMPARE(sa->user, u"alice"_s);
    QCOMPARE(sa->session, u"s1"_s);
    QCOMPARE(sa->rooms, (QStringList{u"R0"_s, u"R1"_s}));

    QCOMPARE(f.hub.connections(u"R1"_s).size(), 2);
    QCOMPARE(f.hub.connections(u"R0"_s).size(), 1);
    QCOMPARE(f.hub.connections(QString(), u"bob"_s).size(), 1);
    QCOMPARE(f.hub.connections(QString(), u"bob"_s)[0].id, b);
    QCOMPARE(f.hub.connections(u"R0"_s, u"bob"_s).size(), 0);

    const QList<sb::RoomSummary> rooms = f.hub.rooms();
    QCOMPARE(rooms.size(), 2);
    const auto r1 =
            std::find_if(rooms.begin(), rooms.end(), [](const auto &r) { return r.room == u"R1"; });
    QVERIFY(r1 != rooms.end());
    QCOMPARE(r1->connections, 2);
    QCOMPARE(r1->users, 2);
}

void TestHub::setLastIdContinuesIds()
{
    Fixture f;
    f.hub.setLastId(1000);
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::All, QString())).id, quint64(1001));
    f.hub.setLastId(5); // never goes back
    QCOMPARE(f.hub.publish(emitTo(EmitTarget::All, QString())).id, quint64(1002));
}

QTEST_GUILESS_MAIN(TestHub)
#include "tst_hub.moc"
