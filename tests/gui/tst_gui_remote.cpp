// The console attached to a separate switchboardd: the same models through /admin and REST.
#include "ApiHelpers.h"
#include "HttpClient.h"
#include "MainWindow.h"
#include "ServerProcess.h"
#include "WsClient.h"
#include "backend/RemoteBackend.h"
#include "models/ConnectionsModel.h"
#include "models/LogModel.h"
#include "models/RoomsModel.h"
#include "widgets/BroadcastPanel.h"

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

    auto client = sbit::openJoined(daemon, api, QStringLiteral("remote:room"), QStringLiteral("FRANK"),
                                   QStringLiteral("s1"));
    QVERIFY(client);
    QTRY_COMPARE(window.connectionsModel()->rowCount(), 1);
    // connection.opened comes first (no user yet), room.joined with the user right after.
    QTRY_COMPARE(window.connectionsModel()->at(0).user, QStringLiteral("FRANK"));
    QTRY_COMPARE(window.roomsModel()->memberCount(QStringLiteral("remote:room")), 1);

    QCOMPARE(api.request("POST", "/api/emit/room", R"({"room":"remote:room","event":"later","data":{"v":2}})")
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
    QCOMPARE(client->waitForFrame(QStringLiteral("event")).value(QStringLiteral("data")).toObject()
                     .value(QStringLiteral("from")).toString(),
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

QTEST_MAIN(TstGuiRemote)
#include "tst_gui_remote.moc"
