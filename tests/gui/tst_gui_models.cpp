// The console's models and helpers on their own: ring buffer and batching of the log,
// filters, export, JSON checking and pretty-printing, reading admin-stream frames.
#include "backend/AdminFrameReader.h"
#include "backend/RemoteBackend.h"
#include "models/ConnectionsModel.h"
#include "models/LogFilterProxy.h"
#include "models/LogModel.h"
#include "models/NodesModel.h"
#include "models/RoomsModel.h"
#include "util/JsonText.h"
#include "util/LogExport.h"
#include "widgets/LogPanel.h"
#include "widgets/NodesPanel.h"

#include <QLabel>
#include <QPushButton>
#include <QTableView>

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace sb::ui;

class TstGuiModels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void logRingKeepsTheNewestInOneInsertPerBatch();
    void logSkipsWhatItAlreadyHas();
    void logPauseHoldsAndBounds();
    void logPrependOlder();
    void logFilters();
    void exportCsvAndJson();
    void jsonCheckSaysWhere_data();
    void jsonCheckSaysWhere();
    void prettyKeepsDigitsAndOrder();
    void frameReaderKeepsRawData();
    void connectionsAndRoomsFollowChanges();
    void largeBatchesReset();
    void nodesFromFrames();
    void nodesPanelAttaches();
    void logNodeColumnOnlyInACluster();
};

namespace {

LogRecord rec(quint64 id, const QString &target = QStringLiteral("room"),
              const QString &to = QStringLiteral("r"), const QString &event = QStringLiteral("e"),
              const QByteArray &data = "null")
{
    LogRecord r;
    r.id = id;
    r.ts = 1700000000000 + qint64(id);
    r.source = QStringLiteral("rest");
    r.target = target;
    r.to = to;
    r.event = event;
    r.data = data;
    r.delivered = 1;
    r.remote = QStringLiteral("127.0.0.1:5000");
    return r;
}

QList<LogRecord> range(quint64 from, quint64 to)
{
    QList<LogRecord> out;
    for (quint64 id = from; id <= to; ++id)
        out.append(rec(id));
    return out;
}

} // namespace

void TstGuiModels::logRingKeepsTheNewestInOneInsertPerBatch()
{
    LogModel log;
    log.setCapacity(1000);
    QSignalSpy inserts(&log, &QAbstractItemModel::rowsInserted);
    QSignalSpy removes(&log, &QAbstractItemModel::rowsRemoved);
    log.append(range(1, 600));
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(removes.count(), 0);
    log.append(range(601, 1200)); // 200 over capacity: one removal, one insert
    QCOMPARE(inserts.count(), 2);
    QCOMPARE(removes.count(), 1);
    QCOMPARE(log.rowCount(), 1000);
    QCOMPARE(log.at(0).id, quint64(201));
    QCOMPARE(log.at(999).id, quint64(1200));
    log.append(range(1201, 5000)); // one batch larger than the ring
    QCOMPARE(log.rowCount(), 1000);
    QCOMPARE(log.at(0).id, quint64(4001));
    QCOMPARE(log.droppedCount(), quint64(2800));
    QCOMPARE(inserts.count(), 3);
}

void TstGuiModels::logSkipsWhatItAlreadyHas()
{
    LogModel log;
    log.reset(range(1, 100));
    log.append(range(90, 110)); // a batch overlapping the snapshot
    QCOMPARE(log.rowCount(), 110);
    QCOMPARE(log.at(109).id, quint64(110));
}

void TstGuiModels::logPauseHoldsAndBounds()
{
    LogModel log;
    log.setCapacity(100);
    log.append(range(1, 10));
    log.setPaused(true);
    QSignalSpy inserts(&log, &QAbstractItemModel::rowsInserted);
    log.append(range(11, 20));
    log.append(range(21, 30));
    QCOMPARE(inserts.count(), 0);
    QCOMPARE(log.rowCount(), 10);
    QCOMPARE(log.pendingCount(), 20);
    log.append(range(31, 200)); // the waiting queue is bounded by the ring too
    QCOMPARE(log.pendingCount(), 100);
    log.setPaused(false);
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(log.rowCount(), 100);
    QCOMPARE(log.at(99).id, quint64(200));
    QCOMPARE(log.at(0).id, quint64(101));
}

void TstGuiModels::logPrependOlder()
{
    LogModel log;
    log.setCapacity(300);
    log.append(range(201, 300));
    QSignalSpy inserts(&log, &QAbstractItemModel::rowsInserted);
    QVERIFY(log.prepend(range(101, 200)));
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(log.rowCount(), 200);
    QCOMPARE(log.oldestId(), quint64(101));
    QVERIFY(log.prepend(range(1, 150))); // only the older ones, as many as fit
    QCOMPARE(log.rowCount(), 300);
    QCOMPARE(log.oldestId(), quint64(1));
    QVERIFY(!log.prepend(range(1, 5))); // full
}

void TstGuiModels::logFilters()
{
    LogModel log;
    log.append({rec(1, QStringLiteral("room"), QStringLiteral("hr:1"), QStringLiteral("a"),
                    R"({"t":"Hello"})"),
                rec(2, QStringLiteral("user"), QStringLiteral("SCOTT"), QStringLiteral("a")),
                rec(3, QStringLiteral("room"), QStringLiteral("hr:1"), QStringLiteral("b")),
                rec(4, QStringLiteral("all"), QString(), QStringLiteral("a")),
                rec(5, QStringLiteral("room"), QStringLiteral("hr:10"), QStringLiteral("a"))});
    LogFilterProxy proxy(&log);
    QCOMPARE(proxy.rowCount(), 5);
    proxy.setRoom(QStringLiteral("hr:1"));
    QCOMPARE(proxy.rowCount(), 2); // exact: hr:10 is another room
    proxy.setEvent(QStringLiteral("a"));
    QCOMPARE(proxy.rowCount(), 1);
    proxy.setRoom(QString());
    QCOMPARE(proxy.rowCount(), 4);
    proxy.setUser(QStringLiteral("SCOTT"));
    QCOMPARE(proxy.rowCount(), 1);
    proxy.setUser(QString());
    proxy.setEvent(QString());
    proxy.setText(QStringLiteral("hello"));
    QCOMPARE(proxy.rowCount(), 1);
    QVERIFY(proxy.isFiltering());
    // New rows are filtered as they come.
    log.append({rec(6, QStringLiteral("room"), QStringLiteral("x"), QStringLiteral("e"),
                    R"("HELLO again")")});
    QCOMPARE(proxy.rowCount(), 2);
}

void TstGuiModels::exportCsvAndJson()
{
    QList<LogRecord> records{rec(7, QStringLiteral("room"), QStringLiteral("a,b"),
                                 QStringLiteral("say \"hi\""),
                                 R"({"n":12345678901234567890123,"x":1.0})"),
                             rec(8, QStringLiteral("all"), QString(), QStringLiteral("e"), "null")};
    const QByteArray csv = logexport::csv(records);
    const QList<QByteArray> lines = csv.split('\n');
    QCOMPARE(lines.at(0), QByteArray("id,ts,time,source,target,to,event,delivered,remote,data\r"));
    QVERIFY2(lines.at(1).startsWith("7,1700000000007,2023-11-14T22:13:20.007Z,rest,room,\"a,b\","
                                    "\"say \"\"hi\"\"\",1,"),
             lines.at(1).constData());
    QVERIFY(lines.at(1).contains(R"("{""n"":12345678901234567890123,""x"":1.0}")"));
    const QByteArray json = logexport::json(records);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(doc.array().size(), 2);
    QVERIFY(json.contains(R"("data":{"n":12345678901234567890123,"x":1.0})"));
    QVERIFY(doc.array().at(1).toObject().value(QStringLiteral("to")).isNull());
    QCOMPARE(logexport::json({}), QByteArray("[]\n"));
}

void TstGuiModels::jsonCheckSaysWhere_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::newRow("object") << QStringLiteral("{\"a\": [1, 2.50, null]}") << true << 0 << 0;
    QTest::newRow("scalar") << QStringLiteral("42") << true << 0 << 0;
    QTest::newRow("string") << QStringLiteral("\"x\"") << true << 0 << 0;
    QTest::newRow("trailing comma") << QStringLiteral("{\"a\": 1,}") << false << 1 << 9;
    QTest::newRow("second line") << QStringLiteral("{\n  \"a\": tru\n}") << false << 2 << 10;
    QTest::newRow("two values") << QStringLiteral("1 2") << false << 1 << 3;
    QTest::newRow("unicode column")
            << QStringLiteral("[\"\u00e4\u00f6\u00fc\" x]") << false << 1 << 8;
}

void TstGuiModels::jsonCheckSaysWhere()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(int, line);
    QFETCH(int, column);
    const jsontext::Check check = jsontext::check(text);
    QCOMPARE(check.ok, ok);
    if (!ok) {
        QVERIFY(!check.message.isEmpty());
        QCOMPARE(check.line, line);
        QVERIFY2(qAbs(check.column - column) <= 1,
                 qPrintable(QStringLiteral("column %1, expected about %2")
                                    .arg(check.column)
                                    .arg(column)));
    }
}

void TstGuiModels::prettyKeepsDigitsAndOrder()
{
    const QString out =
            jsontext::pretty(R"({"z":1.0,"a":[12345678901234567890123,{}],"s":"x,{y}:"})");
    QCOMPARE(out,
             QStringLiteral(
                     "{\n  \"z\": 1.0,\n  \"a\": [\n    12345678901234567890123,\n    {}\n  ],\n"
                     "  \"s\": \"x,{y}:\"\n}"));
    QCOMPARE(jsontext::pretty("null"), QStringLiteral("null"));
    QCOMPARE(jsontext::pretty("\"a\\\"b\""), QStringLiteral("\"a\\\"b\""));
}

void TstGuiModels::frameReaderKeepsRawData()
{
    const QByteArray frame =
            R"({"type":"messages","records":[)"
            R"({"id":5,"ts":1,"source":"rest","target":"room","to":"r","event":"e","data":{"big":123456789012345678901234,"f":1.0},"delivered":2,"remote":"1.2.3.4:5"},)"
            R"({"id":6,"ts":2,"source":"compat","target":"legacy","to":null,"event":"websocket::message","data":"[x]","delivered":0,"remote":"1.2.3.4:6"}],"dropped":3})";
    const AdminFrameReader::Frame f = AdminFrameReader::read(frame);
    QCOMPARE(f.type, QStringLiteral("messages"));
    QCOMPARE(f.records.size(), 2);
    QCOMPARE(f.records.at(0).data, QByteArray(R"({"big":123456789012345678901234,"f":1.0})"));
    QCOMPARE(f.records.at(0).delivered, 2);
    QCOMPARE(f.records.at(1).data, QByteArray(R"("[x]")"));
    QCOMPARE(f.records.at(1).to, QString());
    QCOMPARE(f.dropped, quint64(3));

    const AdminFrameReader::Frame joined = AdminFrameReader::read(
            R"({"type":"room.joined","room":"r","connection":"c7","user":"U","session":"S"})");
    QVERIFY(joined.live);
    QCOMPARE(joined.live->kind, LiveChange::Kind::Joined);
    QCOMPARE(joined.live->connection.id, QStringLiteral("c7"));
    QVERIFY(AdminFrameReader::read("{\"type\":\"nope\"}").type.isEmpty());
    QVERIFY(AdminFrameReader::read("not json").type.isEmpty());
}

void TstGuiModels::connectionsAndRoomsFollowChanges()
{
    ConnectionsModel connections;
    RoomsModel rooms;
    ConnectionInfo c1;
    c1.id = QStringLiteral("c1");
    c1.user = QStringLiteral("A");
    c1.session = QStringLiteral("s");
    c1.rooms = {QStringLiteral("r1")};
    connections.reset({c1});
    rooms.reset({c1});
    QCOMPARE(rooms.memberCount(QStringLiteral("r1")), 1);

    LiveChange open;
    open.kind = LiveChange::Kind::Opened;
    open.connection.id = QStringLiteral("c2");
    LiveChange join;
    join.kind = LiveChange::Kind::Joined;
    join.connection.id = QStringLiteral("c2");
    join.room = QStringLiteral("r1");
    join.user = QStringLiteral("B");
    join.session = QStringLiteral("t");
    QSignalSpy roomInserts(&rooms, &QAbstractItemModel::rowsInserted);
    connections.apply({open, join});
    rooms.apply({open, join});
    QCOMPARE(connections.rowCount(), 2);
    QCOMPARE(connections.find(QStringLiteral("c2"))->user, QStringLiteral("B"));
    QCOMPARE(connections.find(QStringLiteral("c2"))->rooms, QStringList{QStringLiteral("r1")});
    QCOMPARE(rooms.memberCount(QStringLiteral("r1")), 2);
    QCOMPARE(roomInserts.count(), 1); // one member row under r1

    LiveChange close;
    close.kind = LiveChange::Kind::Closed;
    close.connection.id = QStringLiteral("c1");
    connections.apply({close});
    rooms.apply({close}); // no room.left came first: the close takes it out of its rooms
    QCOMPARE(connections.rowCount(), 1);
    QCOMPARE(rooms.memberCount(QStringLiteral("r1")), 1);
    LiveChange leave;
    leave.kind = LiveChange::Kind::Left;
    leave.connection.id = QStringLiteral("c2");
    leave.room = QStringLiteral("r1");
    rooms.apply({leave});
    connections.apply({leave});
    QCOMPARE(rooms.rowCount(), 0);
    QVERIFY(connections.find(QStringLiteral("c2"))->rooms.isEmpty());
}

void TstGuiModels::largeBatchesReset()
{
    ConnectionsModel connections;
    RoomsModel rooms;
    QList<LiveChange> changes;
    for (int i = 0; i < 5000; ++i) {
        LiveChange open;
        open.kind = LiveChange::Kind::Opened;
        open.connection.id = QStringLiteral("c%1").arg(i);
        changes.append(open);
        LiveChange join;
        join.kind = LiveChange::Kind::Joined;
        join.connection.id = open.connection.id;
        join.room = QStringLiteral("room%1").arg(i % 10);
        join.user = QStringLiteral("u%1").arg(i);
        changes.append(join);
    }
    for (int i = 0; i < 5000; i += 2) {
        LiveChange close;
        close.kind = LiveChange::Kind::Closed;
        close.connection.id = QStringLiteral("c%1").arg(i);
        changes.append(close);
    }
    QSignalSpy resets(&connections, &QAbstractItemModel::modelReset);
    QSignalSpy inserts(&connections, &QAbstractItemModel::rowsInserted);
    connections.apply(changes);
    rooms.apply(changes);
    QCOMPARE(resets.count(), 1);
    QCOMPARE(inserts.count(), 0);
    QCOMPARE(connections.rowCount(), 2500);
    QVERIFY(!connections.find(QStringLiteral("c0")));
    QVERIFY(connections.find(QStringLiteral("c1")));
    QCOMPARE(connections.at(0).id, QStringLiteral("c1"));
    QCOMPARE(rooms.rowCount(), 5); // odd i: rooms 1, 3, 5, 7, 9
    QCOMPARE(rooms.memberCount(QStringLiteral("room1")), 500);
}

namespace {

QByteArray nodeJson(const char *name, int number, qint64 lastSeenMs, int connections = 3)
{
    return QByteArray(R"({"node":")") + name + R"(","number":)" + QByteArray::number(number)
            + R"(,"address":"127.0.0.1:1808)" + QByteArray::number(number)
            + R"(","version":"0.1.0","connections":)" + QByteArray::number(connections)
            + R"(,"rooms":2,"uptime_s":3725,"last_seen_ms":)" + QByteArray::number(lastSeenMs)
            + '}';
}

constexpr qint64 kSeen = 1700000010000; // the cluster's clock
constexpr qint64 kLocal = 5000000;      // this machine's clock, on purpose unrelated

} // namespace

void TstGuiModels::nodesFromFrames()
{
    const QByteArray snapshot =
            R"({"type":"snapshot","connections":[],"rooms":[],"stats":{},"log":[{"id":1,"ts":1,)"
            R"("source":"rest","target":"all","to":null,"event":"e","data":null,"delivered":0,)"
            R"("remote":"x","node":"a"}],"nodes":[)"
            + nodeJson("a", 1, kSeen) + ',' + nodeJson("b", 2, kSeen - 500) + "]}";
    AdminFrameReader::Frame f = AdminFrameReader::read(snapshot);
    QCOMPARE(f.type, QStringLiteral("snapshot"));
    QCOMPARE(f.snapshot.log.first().node, QStringLiteral("a"));
    QCOMPARE(f.snapshot.nodes.size(), 2);
    QCOMPARE(f.snapshot.nodes.at(1).address, QStringLiteral("127.0.0.1:18082"));

    NodesModel nodes;
    nodes.reset(f.snapshot.nodes, kLocal);
    QVERIFY(nodes.isCluster());
    QCOMPARE(nodes.rowCount(), 2);
    QCOMPARE(nodes.columnCount(), int(NodesModel::ColumnCount));
    QCOMPARE(nodes.index(0, NodesModel::Node).data().toString(), QStringLiteral("a"));
    QCOMPARE(nodes.index(0, NodesModel::Uptime).data().toString(), QStringLiteral("1 h 2 min"));
    QCOMPARE(nodes.index(1, NodesModel::Health).data().toString(), QStringLiteral("live"));
    QCOMPARE(nodes.liveCount(), 2);
    nodes.setAttachedNode(QStringLiteral("a"));
    QCOMPARE(nodes.index(0, NodesModel::Health).data().toString(),
             QStringLiteral("live, attached"));
    QVERIFY(nodes.index(0, 0).data(NodesModel::AttachedRole).toBool());
    QVERIFY(!nodes.index(1, 0).data(NodesModel::AttachedRole).toBool());

    // Node a beats on, b stops: b turns gone once its last beat is old on the cluster's clock.
    f = AdminFrameReader::read(R"({"type":"nodes","nodes":[)" + nodeJson("a", 1, kSeen + 6000, 4)
                               + "]}");
    QCOMPARE(f.type, QStringLiteral("nodes"));
    nodes.update(f.nodes, kLocal + 6000);
    QCOMPARE(nodes.rowCount(), 2);
    QCOMPARE(nodes.index(0, NodesModel::Connections).data().toLongLong(), 4);
    QCOMPARE(nodes.index(1, NodesModel::Health).data().toString(), QStringLiteral("gone"));
    QCOMPARE(nodes.liveCount(), 1);
    // No frames for a while (the stream is gone): every node ages.
    nodes.refresh(kLocal + 6000 + NodesModel::kGoneAfterMs + 1);
    QCOMPARE(nodes.liveCount(), 0);
    QCOMPARE(nodes.index(0, NodesModel::Health).data().toString(),
             QStringLiteral("gone, attached"));
    // A node that joins is added; b comes back.
    const QByteArray joined =
            "[" + nodeJson("c", 3, kSeen + 12000) + ',' + nodeJson("b", 2, kSeen + 12000) + "]";
    nodes.update(AdminFrameReader::nodes(QJsonDocument::fromJson(joined).array()), kLocal + 9000);
    QCOMPARE(nodes.rowCount(), 3);
    QCOMPARE(nodes.rowOf(QStringLiteral("c")), 2);
    QVERIFY(nodes.isLive(1) && nodes.isLive(2) && !nodes.isLive(0));

    // A single node: the snapshot has no nodes.
    f = AdminFrameReader::read(R"({"type":"snapshot","connections":[],"log":[],"stats":{}})");
    QVERIFY(f.snapshot.nodes.isEmpty());
    nodes.reset(f.snapshot.nodes, kLocal);
    QVERIFY(!nodes.isCluster());
    QCOMPARE(nodes.rowCount(), 0);
    QCOMPARE(NodesModel::uptimeText(59), QStringLiteral("59 s"));
    QCOMPARE(NodesModel::uptimeText(2 * 86400 + 7200), QStringLiteral("2 d 2 h"));
}

void TstGuiModels::nodesPanelAttaches()
{
    // A remote backend (never started: attaching only needs the address).
    RemoteBackend backend(QUrl(QStringLiteral("https://console.example:9443")),
                          QStringLiteral("k"));
    NodesModel nodes;
    NodesPanel panel(&backend, &nodes);
    QVERIFY(panel.attachButton()->isHidden());
    nodes.reset(AdminFrameReader::nodes(QJsonDocument::fromJson("[" + nodeJson("a", 1, kSeen) + ','
                                                                + nodeJson("b", 2, kSeen) + "]")
                                                .array()),
                kLocal);
    nodes.setAttachedNode(QStringLiteral("a"));
    QVERIFY(!panel.attachButton()->isHidden());
    QVERIFY(panel.summary()->text().contains(u"2"));
    panel.selectNode(QStringLiteral("a"));
    QVERIFY(!panel.attachButton()->isEnabled()); // already attached there
    panel.selectNode(QStringLiteral("b"));
    QVERIFY(panel.attachButton()->isEnabled());
    panel.attachToSelected();
    // Same scheme and key, the node's address.
    QCOMPARE(backend.address(), QStringLiteral("https://127.0.0.1:18082"));
    QCOMPARE(backend.rest()->apiKey(), QStringLiteral("k"));
    backend.stop();
    QCOMPARE(RemoteBackend::nodeBaseUrl(QUrl(QStringLiteral("http://db.example:8080")),
                                        QStringLiteral("0.0.0.0:8081")),
             QUrl(QStringLiteral("http://db.example:8081")));
    QVERIFY(RemoteBackend::nodeBaseUrl(QUrl(QStringLiteral("http://h:1")), QString()).isEmpty());
}

void TstGuiModels::logNodeColumnOnlyInACluster()
{
    LogModel log;
    RemoteBackend backend(QUrl(QStringLiteral("http://127.0.0.1:1")), QString());
    LogPanel panel(&backend, &log);
    QSignalSpy changes(&log, &LogModel::hasNodesChanged);
    log.reset(range(1, 3));
    QVERIFY(!log.hasNodes());
    QCOMPARE(changes.count(), 0);
    QVERIFY(panel.view()->isColumnHidden(LogModel::Node));
    QCOMPARE(log.headerData(LogModel::Node, Qt::Horizontal).toString(), QStringLiteral("Node"));

    LogRecord r = rec(4);
    r.node = QStringLiteral("b");
    log.append({r});
    QVERIFY(log.hasNodes());
    QCOMPARE(changes.count(), 1);
    QVERIFY(!panel.view()->isColumnHidden(LogModel::Node));
    QCOMPARE(log.index(3, LogModel::Node).data().toString(), QStringLiteral("b"));
    QVERIFY(log.index(0, LogModel::Node).data().toString().isEmpty());
    QVERIFY(LogPanel::detailText(r).contains(u"node b"));

    log.clear();
    QVERIFY(!log.hasNodes());
    QVERIFY(panel.view()->isColumnHidden(LogModel::Node));
}

QTEST_MAIN(TstGuiModels)
#include "tst_gui_models.moc"
