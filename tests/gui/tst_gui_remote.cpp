// The console attached to a separate switchboardd: the same models through /admin and REST.
#include "ApiHelpers.h"
#include "HttpClient.h"
#include "MainWindow.h"
#include "RedisServerProcess.h"
#include "ServerProcess.h"
#include "WsClient.h"
#include "backend/RemoteBackend.h"
#include "models/ConnectionsModel.h"
#include "models/LogModel.h"
#include "models/NodesModel.h"
#include "models/RoomsModel.h"
#include "widgets/BroadcastPanel.h"
#include "widgets/LogPanel.h"
#include "widgets/NodesPanel.h"

#include <QDockWidget>
#include <QFileInfo>
#include <QPushButton>
#include <QTableView>

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using sb::ui::ConsoleBackend;
using sb::ui::RemoteBackend;

class TstGuiRemote : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void adminUrl();
    void showsTheRemoteServer();
    void wrongKeyFails();
    void reconnectsAfterARestart();
    void attachesToAnotherNodeOfACluster();
};

void TstGuiRemote::adminUrl()
{
    QCOMPARE(RemoteBackend::adminUrl(QUrl(QStringLiteral("http://db.example:8080"))),
             QUrl(QStringLiteral("ws://db.example:8080/admin")));
    QCOMPARE(RemoteBackend::adminUrl(QUrl(QStringLiteral("https://h:443/x?y=1"))),
             QUrl(QStringLiteral("wss://h:443/admin")));
    QVERIFY(!RemoteBackend::checkBaseUrl(QUrl(QStringLiteral("ftp://h"))).isEmpty());
    QVERIFY(!RemoteBackend::checkBaseUrl(QUrl(QStringLiteral("localhost:8080"))).isEmpty());
}

void TstGuiRemote::showsTheRemoteServer()
{
    sbit::ServerProcess daemon;
    QVERIFY2(daemon.start(), qPrintable(daemon.lastError()));
    sbit::HttpClient api(daemon.host(), daemon.port());
    api.setDefaultHeader("X-API-Key", daemon.apiKey());
    // Something in its log before the console attaches: it comes with the snapshot.
    QCOMPARE(api.request("POST", "/api/emit/all", R"({"event":"early"})").status, 200);

    RemoteBackend backend(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(daemon.port())),
                          QString::fromLatin1(daemon.apiKey()));
    sb::ui::MainWindow window(&backend);
    window.show();
    QSignalSpy snapshots(&backend, &ConsoleBackend::snapshotReceived);
    backend.start();
    QVERIFY(snapshots.wait(10000));
    QCOMPARE(backend.state(), ConsoleBackend::State::Live);
    QCOMPARE(window.logModel()->rowCount(), 1);
    QCOMPARE(window.logModel()->at(0).event, QStringLiteral("early"));

    auto client = sbit::openJoined(daemon, api, QStringLiteral("remote:room"),
                                   QStringLiteral("FRANK"), QStringLiteral("s1"));
    QVERIFY(client);
    QTRY_COMPARE(window.connectionsModel()->rowCount(), 1);
    // connection.opened comes first (no user yet), room.joined with the user right after.
    QTRY_COMPARE(window.connectionsModel()->at(0).user, QStringLiteral("FRANK"));
    QTRY_COMPARE(window.roomsModel()->memberCount(QStringLiteral("remote:room")), 1);

    QCOMPARE(api.request("POST", "/api/emit/room",
                         R"({"room":"remote:room","event":"later","data":{"v":2}})")
                     .status,
             200);
    QTRY_COMPARE(window.logModel()->rowCount(), 2);
    QCOMPARE(window.logModel()->at(1).data, QByteArray(R"({"v":2})"));

    // The broadcast panel acts on the remote server through its REST API.
    sb::ui::BroadcastPanel *panel = window.broadcastPanel();
    QSignalSpy sent(panel, &sb::ui::BroadcastPanel::sent);
    client->clear();
    panel->setTarget(ConsoleBackend::Target::Room, QStringLiteral("remote:room"));
    panel->setEvent(QStringLiteral("websocket::message"));
    panel->setDataText(QStringLiteral("{\"from\": \"console\"}"));
    panel->send();
    QVERIFY(sent.wait(10000));
    QCOMPARE(sent.last().at(1).toLongLong(), 1);
    QCOMPARE(client->waitForFrame(QStringLiteral("event"))
                     .value(QStringLiteral("data"))
                     .toObject()
                     .value(QStringLiteral("from"))
                     .toString(),
             QStringLiteral("console"));

    client->close();
    QTRY_COMPARE(window.connectionsModel()->rowCount(), 0);
    QTRY_COMPARE(window.roomsModel()->rowCount(), 0);
}

void TstGuiRemote::wrongKeyFails()
{
    sbit::ServerProcess daemon;
    QVERIFY(daemon.start());
    RemoteBackend backend(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(daemon.port())),
                          QStringLiteral("not-the-key"));
    backend.start();
    QTRY_COMPARE_WITH_TIMEOUT(backend.state(), ConsoleBackend::State::Failed, 10000);
    QVERIFY2(backend.stateDetail().contains(u"401"), qPrintable(backend.stateDetail()));
}

void TstGuiRemote::reconnectsAfterARestart()
{
    sbit::ServerProcess daemon;
    QVERIFY(daemon.start());
    const quint16 port = daemon.port();
    RemoteBackend backend(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)),
                          QString::fromLatin1(daemon.apiKey()));
    QSignalSpy snapshots(&backend, &ConsoleBackend::snapshotReceived);
    backend.start();
    QVERIFY(snapshots.wait(10000));
    QCOMPARE(daemon.stop(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(backend.state(), ConsoleBackend::State::Reconnecting, 10000);
    // The same port and data dir again: the console attaches by itself.
    QVERIFY2(daemon.start({QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)}),
             qPrintable(daemon.lastError()));
    QTRY_COMPARE_WITH_TIMEOUT(backend.state(), ConsoleBackend::State::Live, 20000);
    QTRY_COMPARE(snapshots.count(), 2);
}

// Two daemons on one Redis: the console lists both, marks the one it is attached to, shows
// the node of each record, and moves to the other node with the same key.
void TstGuiRemote::attachesToAnotherNodeOfACluster()
{
    if (!QFileInfo(sbit::RedisServerProcess::serverPath()).isExecutable())
        QSKIP("no redis-server");
    sbit::RedisServerProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.lastError()));
    sbit::ServerProcess a;
    QVERIFY2(a.start({QStringLiteral("--redis"), redis.url(), QStringLiteral("--node-name"),
                      QStringLiteral("a")}),
             qPrintable(a.lastError()));
    sbit::ServerProcess b;
    sbit::ServerProcess::Options options;
    options.defaultSecrets = false;
    b.setOptions(options);
    b.setApiKey(a.apiKey());
    QVERIFY2(b.start({QStringLiteral("--redis"), redis.url(), QStringLiteral("--node-name"),
                      QStringLiteral("b"), QStringLiteral("--api-key"),
                      QString::fromLatin1(a.apiKey()), QStringLiteral("--jwt-secret"),
                      QString::fromLatin1(a.jwtSecret())}),
             qPrintable(b.lastError()));

    RemoteBackend backend(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(a.port())),
                          QString::fromLatin1(a.apiKey()));
    sb::ui::MainWindow window(&backend);
    window.show();
    backend.start();
    sb::ui::NodesModel *nodes = window.nodesModel();
    QTRY_COMPARE_WITH_TIMEOUT(nodes->rowCount(), 2, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(nodes->attachedNode(), QStringLiteral("a"), 10000);
    QTRY_COMPARE(nodes->liveCount(), 2);
    QVERIFY(window.nodesDock()->isVisible());
    QVERIFY(nodes->index(nodes->rowOf(QStringLiteral("a")), 0)
                    .data(sb::ui::NodesModel::AttachedRole)
                    .toBool());

    // A record accepted by b reaches the console on a, with its node.
    sbit::HttpClient apiB(b.host(), b.port());
    apiB.setDefaultHeader("X-API-Key", b.apiKey());
    QCOMPARE(apiB.request("POST", "/api/emit/all", R"({"event":"on-b"})").status, 200);
    QTRY_VERIFY(window.logModel()->rowCount() > 0);
    const sb::ui::LogModel *log = window.logModel();
    QCOMPARE(log->at(log->rowCount() - 1).node, QStringLiteral("b"));
    QVERIFY(!window.logPanel()->view()->isColumnHidden(sb::ui::LogModel::Node));

    sb::ui::NodesPanel *panel = window.nodesPanel();
    panel->selectNode(QStringLiteral("b"));
    QVERIFY(panel->attachButton()->isEnabled());
    panel->attachToSelected();
    QTRY_COMPARE_WITH_TIMEOUT(nodes->attachedNode(), QStringLiteral("b"), 15000);
    QCOMPARE(backend.address(), QStringLiteral("http://127.0.0.1:%1").arg(b.port()));
    QCOMPARE(backend.state(), ConsoleBackend::State::Live);
    QVERIFY(nodes->index(nodes->rowOf(QStringLiteral("b")), 0)
                    .data(sb::ui::NodesModel::AttachedRole)
                    .toBool());
    QVERIFY(!nodes->index(nodes->rowOf(QStringLiteral("a")), 0)
                     .data(sb::ui::NodesModel::AttachedRole)
                     .toBool());
    QVERIFY(!panel->attachButton()->isEnabled()); // b is selected and attached
    QCOMPARE(log->at(log->rowCount() - 1).node, QStringLiteral("b"));
}

QTEST_MAIN(TstGuiRemote)
#include "tst_gui_remote.moc"
