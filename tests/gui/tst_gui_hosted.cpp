// The console hosting a real server: its models follow real WebSocket clients and REST emits.
#include "ApiHelpers.h"
#include "GuiTestSupport.h"
#include "HttpClient.h"
#include "MainWindow.h"
#include "WsClient.h"
#include "models/ConnectionsModel.h"
#include "models/LogFilterProxy.h"
#include "models/LogModel.h"
#include "models/NodesModel.h"
#include "models/RoomsModel.h"
#include "widgets/ConnectionsPanel.h"
#include "widgets/LogPanel.h"
#include "widgets/NodesPanel.h"
#include "widgets/SettingsDialog.h"
#include "widgets/StatusPanel.h"

#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QSettings>

#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

using namespace sbgui;
using sb::ui::ConnectionsModel;
using sb::ui::LogModel;
using sb::ui::RoomsModel;

class TstGuiHosted : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void modelsFollowConnectionsAndRooms();
    void logArrivesInBatches();
    void disconnectFromTheConsole();
    void stopAndStartAgain();
    void settingsAreSavedAndApplied();
};

namespace {

std::unique_ptr<sbit::WsClient> joinAs(quint16 port, sbit::HttpClient &api, const QString &room,
                                       const QString &user, const QString &session)
{
    const QByteArray token = sbit::registerToken(api, room, user, session);
    if (token.isEmpty())
        return nullptr;
    auto ws = std::make_unique<sbit::WsClient>();
    if (!ws->open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port))))
        return nullptr;
    if (ws->join(token).value(u"type").toString() != u"joined")
        return nullptr;
    return ws;
}

sbit::HttpClient *apiFor(quint16 port, QObject *parent)
{
    auto *api = new sbit::HttpClient(QStringLiteral("127.0.0.1"), port, false, parent);
    api->setDefaultHeader("X-API-Key", kApiKey);
    return api;
}

} // namespace

void TstGuiHosted::modelsFollowConnectionsAndRooms()
{
    HostedServer server;
    sb::ui::MainWindow window(server.backend());
    window.show();
    QVERIFY2(server.start(), qPrintable(server.backend()->stateDetail()));
    QCOMPARE(server.backend()->state(), sb::ui::ConsoleBackend::State::Live);
    QVERIFY(window.statusPanel()->stateText().contains(u"LIVE"));
    // A single node: no nodes, no Node column, and a hosted console cannot switch nodes.
    QVERIFY(!window.nodesModel()->isCluster());
    QVERIFY(window.nodesDock()->isHidden());
    QVERIFY(window.nodesPanel()->summary()->text().contains(u"Single node"));
    QString why;
    QVERIFY(!server.backend()->canAttachToNode(&why));
    QVERIFY(!why.isEmpty());
    QVERIFY(window.logPanel()->view()->isColumnHidden(LogModel::Node));
    std::unique_ptr<sbit::HttpClient> api(apiFor(server.port(), nullptr));

    auto alice = joinAs(server.port(), *api, QStringLiteral("hr:emp:1"), QStringLiteral("ALICE"),
                        QStringLiteral("s1"));
    QVERIFY(alice);
    auto bob = joinAs(server.port(), *api, QStringLiteral("hr:emp:1"), QStringLiteral("BOB"),
                      QStringLiteral("s2"));
    QVERIFY(bob);
    auto carol = joinAs(server.port(), *api, QStringLiteral("tenant:ACME"), QStringLiteral("CAROL"),
                        QStringLiteral("s3"));
    QVERIFY(carol);

    ConnectionsModel *connections = window.connectionsModel();
    RoomsModel *rooms = window.roomsModel();
    QTRY_COMPARE(connections->rowCount(), 3);
    QTRY_COMPARE(rooms->rowCount(), 2);
    QCOMPARE(rooms->memberCount(QStringLiteral("hr:emp:1")), 2);
    QCOMPARE(rooms->memberCount(QStringLiteral("tenant:ACME")), 1);
    QStringList users;
    for (int row = 0; row < connections->rowCount(); ++row) {
        users << connections->at(row).user;
        QVERIFY(!connections->at(row).rooms.isEmpty());
        QVERIFY(connections->at(row).remote.startsWith(u"127.0.0.1:"));
    }
    users.sort();
    QCOMPARE(
            users,
            (QStringList{QStringLiteral("ALICE"), QStringLiteral("BOB"), QStringLiteral("CAROL")}));
    QCOMPARE(connections->users(), users);

    // The members of a room, with user and session, as children of the room.
    const QModelIndex hr = rooms->index(rooms->roomNames().indexOf(u"hr:emp:1") == 0 ? 0 : 1, 0);
    QCOMPARE(hr.data(RoomsModel::RoomRole).toString(), QStringLiteral("hr:emp:1"));
    QCOMPARE(rooms->rowCount(hr), 2);

    // The filter of the connections table.
    window.connectionsPanel()->setFilterText(QStringLiteral("carol"));
    QCOMPARE(window.connectionsPanel()->view()->model()->rowCount(), 1);
    window.connectionsPanel()->setFilterText(QString());

    // A leave and a close: the tree and the table follow.
    bob->send(QJsonObject{{QStringLiteral("type"), QStringLiteral("leave")},
                          {QStringLiteral("room"), QStringLiteral("hr:emp:1")}});
    QTRY_COMPARE(rooms->memberCount(QStringLiteral("hr:emp:1")), 1);
    carol->close();
    QTRY_COMPARE(connections->rowCount(), 2);
    QTRY_COMPARE(rooms->rowCount(), 1);
    QCOMPARE(rooms->roomNames(), QStringList{QStringLiteral("hr:emp:1")});

    // The counters polled from /api/connections.
    QVERIFY(api->request("POST", "/api/emit/room",
                         sbit::json({{QStringLiteral("room"), QStringLiteral("hr:emp:1")},
                                     {QStringLiteral("event"), QStringLiteral("e")}}))
                    .status
            == 200);
    QVERIFY(alice->waitForFrame(QStringLiteral("event")).value(u"event").toString() == u"e");
    QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (int row = 0; row < connections->rowCount(); ++row) {
                    if (connections->at(row).user == u"ALICE")
                        return connections->at(row).sent >= 1;
                }
                return false;
            }(),
            10000);
}

void TstGuiHosted::logArrivesInBatches()
{
    HostedServer server;
    sb::ui::MainWindow window(server.backend());
    window.show();
    QVERIFY(server.start());
    std::unique_ptr<sbit::HttpClient> api(apiFor(server.port(), nullptr));
    LogModel *log = window.logModel();
    QSignalSpy inserts(log, &QAbstractItemModel::rowsInserted);

    constexpr int kEmits = 600;
    for (int i = 1; i <= kEmits; ++i) {
        const QString room =
                i % 3 == 0 ? QStringLiteral("ops") : QStringLiteral("hr:emp:%1").arg(i % 2);
        const QByteArray body = R"({"room":")" + room.toUtf8() + R"(","event":"tick","data":{"i":)"
                + QByteArray::number(i) + R"(,"big":123456789012345678901234567890}})";
        const sbit::HttpResponse r = api->request("POST", "/api/emit/room", body);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(log->rowCount(), kEmits, 15000);
    // Batched: far fewer model inserts than records (one per admin-stream flush at most).
    QVERIFY2(inserts.count() < kEmits / 5, qPrintable(QString::number(inserts.count())));
    // Ids in order; data exactly as sent (digits beyond 2^64 intact).
    for (int row = 1; row < log->rowCount(); ++row)
        QVERIFY(log->at(row).id > log->at(row - 1).id);
    QCOMPARE(log->at(0).data, QByteArray(R"({"i":1,"big":123456789012345678901234567890})"));
    QCOMPARE(log->at(0).source, QStringLiteral("rest"));

    // Filters: room, event, text; combined.
    sb::ui::LogPanel *panel = window.logPanel();
    panel->setRoomFilter(QStringLiteral("ops"));
    QCOMPARE(panel->proxy()->rowCount(), kEmits / 3);
    panel->proxy()->setText(QStringLiteral("\"i\":300,"));
    QCOMPARE(panel->proxy()->rowCount(), 1);
    panel->proxy()->setText(QString());
    panel->setRoomFilter(QString());
    QCOMPARE(panel->proxy()->rowCount(), kEmits);

    // Detail pane: the record's data pretty-printed, digits intact.
    panel->view()->selectRow(0);
    QTRY_VERIFY(
            panel->detail()->toPlainText().contains(u"\"big\": 123456789012345678901234567890"));

    // Pause holds new records; resume shows them.
    panel->setPaused(true);
    QVERIFY(api->request("POST", "/api/emit/all", R"({"event":"while-paused"})").status == 200);
    QTRY_COMPARE(log->pendingCount(), 1);
    QCOMPARE(log->rowCount(), kEmits);
    panel->setPaused(false);
    QCOMPARE(log->rowCount(), kEmits + 1);
    QCOMPARE(log->at(kEmits).event, QStringLiteral("while-paused"));
    QCOMPARE(log->at(kEmits).target, QStringLiteral("all"));

    // Older history from /api/log: clear the view, load pages back to the start.
    log->clear();
    QVERIFY(api->request("POST", "/api/emit/room", R"({"room":"ops","event":"newest"})").status
            == 200);
    QTRY_COMPARE(log->rowCount(), 1);
    const int pages = (kEmits + 1) / 200 + 2;
    for (int i = 0; i < pages && !panel->reachedStart(); ++i) {
        panel->loadOlder();
        QTRY_VERIFY(!panel->isLoadingOlder());
    }
    QVERIFY(panel->reachedStart());
    QCOMPARE(log->rowCount(), kEmits + 2);
    QCOMPARE(log->at(0).id, quint64(1));
}

void TstGuiHosted::disconnectFromTheConsole()
{
    HostedServer server;
    sb::ui::MainWindow window(server.backend());
    QVERIFY(server.start());
    std::unique_ptr<sbit::HttpClient> api(apiFor(server.port(), nullptr));
    auto dave = joinAs(server.port(), *api, QStringLiteral("r"), QStringLiteral("DAVE"),
                       QStringLiteral("s"));
    QVERIFY(dave);
    QTRY_COMPARE(window.connectionsModel()->rowCount(), 1);
    const QString id = window.connectionsModel()->at(0).id;
    bool done = false;
    int status = 0;
    server.backend()->disconnectConnection(id, [&](const sb::ui::RestClient::Reply &reply) {
        status = reply.status;
        done = true;
    });
    QTRY_VERIFY(done);
    QCOMPARE(status, 200);
    QVERIFY(dave->waitForDisconnected());
    QCOMPARE(dave->closeCode(), 4000);
    QTRY_COMPARE(window.connectionsModel()->rowCount(), 0);
}

void TstGuiHosted::stopAndStartAgain()
{
    HostedServer server;
    sb::ui::MainWindow window(server.backend());
    QVERIFY(server.start());
    const quint16 port = server.port();
    {
        std::unique_ptr<sbit::HttpClient> api(apiFor(port, nullptr));
        QVERIFY(api->request("POST", "/api/emit/all", R"({"event":"before"})").status == 200);
    }
    QTRY_COMPARE(window.logModel()->rowCount(), 1);
    QSignalSpy states(server.backend(), &sb::ui::ConsoleBackend::stateChanged);
    server.backend()->stop();
    QTRY_COMPARE(server.backend()->state(), sb::ui::ConsoleBackend::State::Stopped);
    QVERIFY(window.statusPanel()->stateText().contains(u"STOPPED"));
    QVERIFY(server.start());
    QCOMPARE(server.backend()->state(), sb::ui::ConsoleBackend::State::Live);
    // The log survives the restart (ids continue), and the view keeps what it showed.
    std::unique_ptr<sbit::HttpClient> api(apiFor(server.port(), nullptr));
    const sbit::HttpResponse r = api->request("POST", "/api/emit/all", R"({"event":"after"})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object().value(u"id").toInt(), 2);
    QTRY_COMPARE(window.logModel()->rowCount(), 2);
}

void TstGuiHosted::settingsAreSavedAndApplied()
{
    HostedServer server;
    QVERIFY(server.start());
    const QString path = server.backend()->config().configPath;
    QVERIFY(!path.isEmpty());
    QCOMPARE(server.backend()->settingsLocation(), path);
    sb::ui::SettingsDialog dialog(server.backend(),
                                  {QStringLiteral("api_key"), QStringLiteral("listen")});
    // Bad values are refused with the server's message naming each key, and nothing is written.
    dialog.setValue(QStringLiteral("listen"), QStringLiteral("127.0.0.1:99999"));
    dialog.setValue(QStringLiteral("tls_cert"), QStringLiteral("/nonexistent/cert.pem"));
    dialog.setValue(QStringLiteral("pg_listen"), QStringLiteral("mysql://x"));
    QString error;
    QVERIFY(!dialog.save(&error));
    QVERIFY2(error.contains(u"invalid value for listen (--listen"), qPrintable(error));
    QVERIFY2(error.contains(u"tls_cert"), qPrintable(error));
    QVERIFY2(error.contains(u"invalid value for pg_listen"), qPrintable(error));
    QVERIFY(!QSettings(path, QSettings::IniFormat).contains(QStringLiteral("max_message_bytes")));

    dialog.setValue(QStringLiteral("listen"), QStringLiteral("127.0.0.1:0"));
    dialog.setValue(QStringLiteral("tls_cert"), QString());
    dialog.setValue(QStringLiteral("pg_listen"), QString());
    dialog.setValue(QStringLiteral("max_message_bytes"), QStringLiteral("4096"));
    dialog.setValue(QStringLiteral("history_per_room"), QStringLiteral("77"));
    QVERIFY2(dialog.save(&error), qPrintable(error));
    QSettings ini(path, QSettings::IniFormat);
    QCOMPARE(ini.value(QStringLiteral("max_message_bytes")).toInt(), 4096);
    QCOMPARE(ini.value(QStringLiteral("history_per_room")).toInt(), 77);
    QCOMPARE(QFile::permissions(path) & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
             QFileDevice::Permissions());

    // A restart applies them (no flag sets these keys in this test).
    QSignalSpy snapshots(server.backend(), &sb::ui::ConsoleBackend::snapshotReceived);
    server.backend()->restart();
    QVERIFY(snapshots.wait(15000));
    QCOMPARE(server.backend()->state(), sb::ui::ConsoleBackend::State::Live);
    QCOMPARE(server.backend()->config().maxMessageBytes, 4096);
    QCOMPARE(server.backend()->config().historyPerRoom, 77);
}

QTEST_MAIN(TstGuiHosted)
#include "tst_gui_hosted.moc"
