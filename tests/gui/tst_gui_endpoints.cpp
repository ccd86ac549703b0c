// The Endpoints and Outbound clients panels (docs/API.md, "Admin stream"): filled from the
// admin stream's frames through the real RemoteBackend (frames served by a WebSocket server in
// this test), and the create dialog against a real switchboardd and a hosted server.
#include "GuiTestSupport.h"
#include "HttpClient.h"
#include "MainWindow.h"
#include "ServerProcess.h"
#include "backend/RemoteBackend.h"
#include "models/ClientsModel.h"
#include "models/ConnectionsModel.h"
#include "models/EndpointsModel.h"
#include "widgets/ClientDialog.h"
#include "widgets/ClientsPanel.h"
#include "widgets/EndpointsPanel.h"

#include <QBrush>
#include <QDockWidget>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using sb::ui::ClientsModel;
using sb::ui::ConsoleBackend;
using sb::ui::EndpointsModel;
using sb::ui::RemoteBackend;

namespace {

// Serves admin-stream frames to whoever connects: the snapshot at once, later frames on
// demand.
class FrameServer : public QObject
{
public:
    explicit FrameServer(QByteArray snapshot)
        : m_server(QStringLiteral("frames"), QWebSocketServer::NonSecureMode),
          m_snapshot(std::move(snapshot))
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            m_socket = m_server.nextPendingConnection();
            m_socket->setParent(this); // the caller owns it (QWebSocketServer does not)
            m_socket->sendTextMessage(QString::fromUtf8(m_snapshot));
        });
    }
    QUrl baseUrl() const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort()));
    }
    void send(const QByteArray &frame) { m_socket->sendTextMessage(QString::fromUtf8(frame)); }

private:
    QWebSocketServer m_server;
    QByteArray m_snapshot;
    QWebSocket *m_socket = nullptr;
};

const QByteArray kEndpoints =
        R"([{"endpoint":"chat","handler":"chat/handler","description":"The chat room",)"
        R"("file":"chat.websocket","auth":"token","sessions":2,"calls":40,"failures":1,)"
        R"("last_error":"TypeError: x is undefined"},)"
        R"({"endpoint":null,"handler":null,"description":"","file":"broken.websocket",)"
        R"("auth":"none","sessions":0,"calls":0,"failures":0,)"
        R"("error":"broken.websocket: handler: no such script"}])";
const QByteArray kClients =
        "[{\"id\":\"w1\",\"uri\":\"ws://feed.example/ticks\",\"room\":\"ticks\",\"event\":\"tick\","
        R"("state":"open","since":1700000000000,"received":12,"sent":3,"reconnects":0},)"
        "{\"id\":\"w2\",\"uri\":\"wss://other.example/"
        "x\",\"handler\":\"bridge\",\"state\":\"connecting\","
        R"("since":1700000001000,"received":0,"sent":0,"reconnects":4,"error":"refused"}])";

QByteArray snapshotFrame()
{
    return R"({"type":"snapshot","connections":[{"connection":"c1","user":"ann","session":null,)"
           R"("rooms":[],"endpoint":"chat","remote":"127.0.0.1","origin":"","since":1}],)"
           R"("rooms":[],"log":[],"stats":{},"endpoints":)"
            + kEndpoints + R"(,"clients":)" + kClients + '}';
}

QString cell(const QAbstractItemModel *model, int row, int column, int role = Qt::DisplayRole)
{
    return model->index(row, column).data(role).toString();
}

} // namespace

class TstGuiEndpoints : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void panelsFillFromFrames();
    void createDialogShowsTheServersRefusal();
    void hostedCreateIsRefusedByTheRegistry();
};

void TstGuiEndpoints::panelsFillFromFrames()
{
    FrameServer frames(snapshotFrame());
    RemoteBackend backend(frames.baseUrl(), QStringLiteral("k"));
    sb::ui::MainWindow window(&backend);
    window.show();
    QSignalSpy snapshots(&backend, &ConsoleBackend::snapshotReceived);
    backend.start();
    QVERIFY(snapshots.wait(10000));

    const EndpointsModel *endpoints = window.endpointsModel();
    QCOMPARE(endpoints->rowCount(), 2);
    const int chat = endpoints->rowOf(QStringLiteral("chat"));
    const int broken = 1 - chat;
    QCOMPARE(cell(endpoints, chat, EndpointsModel::Handler), QStringLiteral("chat/handler"));
    QCOMPARE(cell(endpoints, chat, EndpointsModel::Auth), QStringLiteral("token"));
    QCOMPARE(cell(endpoints, chat, EndpointsModel::Sessions), QStringLiteral("2"));
    QCOMPARE(cell(endpoints, chat, EndpointsModel::Calls), QStringLiteral("40"));
    QCOMPARE(cell(endpoints, chat, EndpointsModel::Failures), QStringLiteral("1"));
    QCOMPARE(cell(endpoints, chat, EndpointsModel::Error),
             QStringLiteral("TypeError: x is undefined"));
    QVERIFY(cell(endpoints, chat, EndpointsModel::Endpoint, Qt::ToolTipRole)
                    .contains(u"The chat room"));
    // The file that is not in service: its error, in red on the whole row.
    QVERIFY(endpoints->index(broken, 0).data(EndpointsModel::BrokenRole).toBool());
    QVERIFY(!endpoints->index(chat, 0).data(EndpointsModel::BrokenRole).toBool());
    QCOMPARE(cell(endpoints, broken, EndpointsModel::Error),
             QStringLiteral("broken.websocket: handler: no such script"));
    QCOMPARE(cell(endpoints, broken, EndpointsModel::File), QStringLiteral("broken.websocket"));
    const QColor red = endpoints->index(broken, EndpointsModel::Handler)
                               .data(Qt::ForegroundRole)
                               .value<QBrush>()
                               .color();
    QCOMPARE(red, QColor(0xc6, 0x28, 0x28));
    QVERIFY(!endpoints->index(chat, EndpointsModel::Handler).data(Qt::ForegroundRole).isValid());
    QVERIFY(window.endpointsPanel()->summary()->text().contains(u"1 with an error"));

    const ClientsModel *clients = window.clientsModel();
    QCOMPARE(clients->rowCount(), 2);
    QCOMPARE(cell(clients, 0, ClientsModel::State), QStringLiteral("open"));
    QCOMPARE(cell(clients, 0, ClientsModel::Target), QStringLiteral("room ticks, event tick"));
    QCOMPARE(cell(clients, 0, ClientsModel::Received), QStringLiteral("12"));
    QCOMPARE(cell(clients, 1, ClientsModel::State), QStringLiteral("connecting"));
    QCOMPARE(cell(clients, 1, ClientsModel::Target), QStringLiteral("handler bridge"));
    QCOMPARE(cell(clients, 1, ClientsModel::Reconnects), QStringLiteral("4"));
    QCOMPARE(cell(clients, 1, ClientsModel::Error), QStringLiteral("refused"));

    // A session of an endpoint shows it in the connections table.
    QCOMPARE(cell(window.connectionsModel(), 0, sb::ui::ConnectionsModel::Endpoint),
             QStringLiteral("chat"));

    // Live frames replace the lists; the selected client stays selected.
    sb::ui::ClientsPanel *panel = window.clientsPanel();
    panel->selectClient(QStringLiteral("w2"));
    QVERIFY(panel->closeButton()->isEnabled());
    frames.send(R"({"type":"clients","clients":)"
                + QByteArray(kClients).replace("connecting", "closed") + '}');
    QTRY_COMPARE(cell(clients, 1, ClientsModel::State), QStringLiteral("closed"));
    QCOMPARE(panel->selectedClient(), QStringLiteral("w2"));
    frames.send(R"({"type":"endpoints","endpoints":[]})");
    QTRY_COMPARE(endpoints->rowCount(), 0);
    QVERIFY(window.endpointsPanel()->summary()->text().startsWith(u"No endpoints"));

    // Both docks can be shown and hidden from the View menu.
    QList<QAction *> viewActions;
    for (QAction *menu : window.menuBar()->actions()) {
        if (menu->menu())
            viewActions += menu->menu()->actions();
    }
    QVERIFY(viewActions.contains(window.clientsDock()->toggleViewAction()));
    QVERIFY(viewActions.contains(window.endpointsDock()->toggleViewAction()));
    backend.stop();
}

void TstGuiEndpoints::createDialogShowsTheServersRefusal()
{
    sbit::ServerProcess daemon;
    QVERIFY2(daemon.start(), qPrintable(daemon.lastError()));
    RemoteBackend backend(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(daemon.port())),
                          QString::fromLatin1(daemon.apiKey()));
    sb::ui::MainWindow window(&backend);
    window.show();
    QSignalSpy snapshots(&backend, &ConsoleBackend::snapshotReceived);
    backend.start();
    QVERIFY(snapshots.wait(10000));

    sb::ui::ClientDialog *dialog = window.clientsPanel()->newCreateDialog();
    dialog->show();
    dialog->setRoomAndEvent(QStringLiteral("ticks"), QStringLiteral("tick"));
    dialog->setUri(QStringLiteral("ws://127.0.0.1:9/feed"));
    QCOMPARE(ConsoleBackend::clientRequestBody(dialog->request()),
             QByteArray(
                     "{\"uri\":\"ws://127.0.0.1:9/feed\",\"room\":\"ticks\",\"event\":\"tick\"}"));
    // A handler that does not exist: refused whatever the registry (a placeholder or not).
    dialog->setHandler(QStringLiteral("no/such-handler"));
    const QByteArray body = ConsoleBackend::clientRequestBody(dialog->request());
    QCOMPARE(body,
             QByteArray("{\"uri\":\"ws://127.0.0.1:9/feed\",\"handler\":\"no/such-handler\"}"));

    sbit::HttpClient api(daemon.host(), daemon.port());
    api.setDefaultHeader("X-API-Key", daemon.apiKey());
    const sbit::HttpResponse direct = api.request("POST", "/api/clients", body);
    QVERIFY2(direct.status >= 400, direct.body.constData());
    const QString serverMessage =
            direct.object().value(u"error").toObject().value(u"message").toString();
    QVERIFY2(!serverMessage.isEmpty(), direct.body.constData());

    dialog->submit();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->errorLabel()->text().isEmpty(), 10000);
    QCOMPARE(dialog->errorLabel()->text(),
             sb::ui::RestClient::errorMessage(direct.status, direct.body));
    QVERIFY(dialog->errorLabel()->text().contains(serverMessage));
    QVERIFY(dialog->isVisible()); // refused: the dialog stays open for a correction

    // Close on a client the server does not have: its answer reaches the status bar.
    QSignalSpy messages(window.clientsPanel(), &sb::ui::ClientsPanel::message);
    window.clientsPanel()->closeClient(QStringLiteral("w404"));
    QVERIFY(messages.wait(10000));
    QVERIFY(messages.last().at(1).toBool());
    QVERIFY2(messages.last().at(0).toString().contains(u"w404"),
             qPrintable(messages.last().at(0).toString()));
    dialog->close();
    backend.stop();
}

void TstGuiEndpoints::hostedCreateIsRefusedByTheRegistry()
{
    sbgui::HostedServer hosted;
    QVERIFY(hosted.start());
    sb::ui::MainWindow window(hosted.backend());
    sb::ui::ClientDialog *dialog = window.clientsPanel()->newCreateDialog();
    dialog->show();
    dialog->setUri(QStringLiteral("ws://127.0.0.1:9/feed"));
    dialog->setHandler(QStringLiteral("no/such-handler"));
    dialog->submit();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->errorLabel()->text().isEmpty(), 10000);
    QVERIFY2(dialog->errorLabel()->text().startsWith(u"HTTP 4")
                     || dialog->errorLabel()->text().startsWith(u"HTTP 5"),
             qPrintable(dialog->errorLabel()->text()));
    QVERIFY(dialog->isVisible());
    dialog->close();
}

QTEST_MAIN(TstGuiEndpoints)
#include "tst_gui_endpoints.moc"
