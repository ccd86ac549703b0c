// The broadcast panel: refuses invalid JSON with a message that says where, sends valid data
// (exactly as typed) to a real client, shows the delivered count, repeats recent sends.
#include "ApiHelpers.h"
#include "GuiTestSupport.h"
#include "HttpClient.h"
#include "MainWindow.h"
#include "WsClient.h"
#include "models/ConnectionsModel.h"
#include "models/LogModel.h"
#include "widgets/BroadcastPanel.h"

#include <QJsonArray>
#include <QSignalSpy>

#include <QLabel>
#include <QPushButton>
#include <QStandardPaths>
#include <QTest>

using namespace sbgui;
using Target = sb::ui::ConsoleBackend::Target;

class TstGuiBroadcast : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void invalidJsonIsRefusedWithWhere();
    void sendsToARoomExactly();
    void sendsToUserConnectionAndAll();
    void repeatsRecentSends();
    void serverRefusalIsShown();

private:
    std::unique_ptr<HostedServer> m_server;
    std::unique_ptr<sb::ui::MainWindow> m_window;
    std::unique_ptr<sbit::HttpClient> m_api;
    std::unique_ptr<sbit::WsClient> m_client;
    sb::ui::BroadcastPanel *panel() const { return m_window->broadcastPanel(); }
};

void TstGuiBroadcast::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    m_server = std::make_unique<HostedServer>();
    m_window = std::make_unique<sb::ui::MainWindow>(m_server->backend());
    m_window->show();
    QVERIFY(m_server->start());
    m_api = std::make_unique<sbit::HttpClient>(QStringLiteral("127.0.0.1"), m_server->port());
    m_api->setDefaultHeader("X-API-Key", kApiKey);
    const QByteArray token = sbit::registerToken(*m_api, QStringLiteral("news"),
                                                 QStringLiteral("ERIN"), QStringLiteral("s9"));
    QVERIFY(!token.isEmpty());
    m_client = std::make_unique<sbit::WsClient>();
    QVERIFY(m_client->open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_server->port()))));
    QCOMPARE(m_client->join(token).value(QStringLiteral("type")).toString(), QStringLiteral("joined"));
    QTRY_COMPARE(m_window->connectionsModel()->rowCount(), 1);
}

void TstGuiBroadcast::cleanupTestCase()
{
    m_client.reset();
    m_window.reset();
    m_server.reset();
}

void TstGuiBroadcast::invalidJsonIsRefusedWithWhere()
{
    auto *send = panel()->findChild<QPushButton *>(QStringLiteral("broadcastSend"));
    QVERIFY(send);
    panel()->setTarget(Target::Room, QStringLiteral("news"));
    panel()->setEvent(QStringLiteral("websocket::message"));

    panel()->setDataText(QStringLiteral("{\"text\": \"hi\",}"));
    QVERIFY(!panel()->canSend());
    QVERIFY(!send->isEnabled());
    QVERIFY2(panel()->validationText().contains(u"line 1, column 16"), qPrintable(panel()->validationText()));

    panel()->setDataText(QStringLiteral("{\n  \"a\": 1\n  \"b\": 2\n}"));
    QVERIFY(!panel()->canSend());
    QVERIFY2(panel()->validationText().contains(u"line 3"), qPrintable(panel()->validationText()));

    panel()->setDataText(QStringLiteral("1 2"));
    QVERIFY(!panel()->canSend());
    QVERIFY(panel()->validationText().contains(u"Invalid JSON"));

    // Clicking does nothing while the data is invalid: the client gets nothing.
    QTest::mouseClick(send, Qt::LeftButton);
    QVERIFY(m_client->noFrameWithin(300, QStringLiteral("event")));

    panel()->setDataText(QStringLiteral("  "));
    QVERIFY(panel()->canSend()); // empty data is null
    panel()->setDataText(QStringLiteral("\"just a string\""));
    QVERIFY(panel()->canSend());
    QVERIFY(panel()->validationText().contains(u"Valid JSON"));
}

void TstGuiBroadcast::sendsToARoomExactly()
{
    panel()->setTarget(Target::Room, QStringLiteral("news"));
    panel()->setEvent(QStringLiteral("websocket::refresh"));
    panel()->setDataText(QStringLiteral("{\"region\": \"emp\", \"n\": 12345678901234567890123, \"x\": 1.0}"));
    QVERIFY(panel()->canSend());
    QSignalSpy sent(panel(), &sb::ui::BroadcastPanel::sent);
    QTest::mouseClick(panel()->findChild<QPushButton *>(QStringLiteral("broadcastSend")), Qt::LeftButton);
    QVERIFY(sent.wait(10000));
    QCOMPARE(sent.first().at(1).toLongLong(), 1); // delivered
    sbit::WsFrame frame;
    QVERIFY(m_client->waitForFrame(QStringLiteral("event"), &frame));
    QCOMPARE(frame.object.value(QStringLiteral("event")).toString(), QStringLiteral("websocket::refresh"));
    QCOMPARE(frame.object.value(QStringLiteral("room")).toString(), QStringLiteral("news"));
    // The data as typed: digits and 1.0 untouched (whitespace outside strings may go).
    QVERIFY2(frame.text.contains(u"\"data\":{\"region\":\"emp\",\"n\":12345678901234567890123,\"x\":1.0}"),
             qPrintable(frame.text));
    QVERIFY2(panel()->resultText().contains(u"Delivered to 1 connection"), qPrintable(panel()->resultText()));
    // Logged with source console.
    QTRY_VERIFY(m_window->logModel()->rowCount() > 0
                && m_window->logModel()->at(m_window->logModel()->rowCount() - 1).source == u"console");
}

void TstGuiBroadcast::sendsToUserConnectionAndAll()
{
    QSignalSpy sent(panel(), &sb::ui::BroadcastPanel::sent);
    const QString connection = m_window->connectionsModel()->at(0).id;
    const QList<std::pair<Target, QString>> targets{{Target::User, QStringLiteral("ERIN")},
                                                    {Target::Connection, connection},
                                                    {Target::All, QString()}};
    for (const auto &[target, name] : targets) {
        m_client->clear();
        panel()->setTarget(target, name);
        panel()->setEvent(QStringLiteral("custom.event"));
        panel()->setDataText(QStringLiteral("[1, 2, 3]"));
        panel()->send();
        QVERIFY(sent.wait(10000));
        QCOMPARE(sent.last().at(1).toLongLong(), 1);
        const QJsonObject event = m_client->waitForFrame(QStringLiteral("event"));
        QCOMPARE(event.value(QStringLiteral("event")).toString(), QStringLiteral("custom.event"));
        QVERIFY(!event.contains(QStringLiteral("room")));
    }
}

void TstGuiBroadcast::repeatsRecentSends()
{
    QVERIFY(panel()->recentCount() >= 3);
    m_client->clear();
    QSignalSpy sent(panel(), &sb::ui::BroadcastPanel::sent);
    panel()->setDataText(QString());
    panel()->repeatRecent(0); // the newest: all, custom.event, [1,2,3]
    QVERIFY(sent.wait(10000));
    const QJsonObject event = m_client->waitForFrame(QStringLiteral("event"));
    QCOMPARE(event.value(QStringLiteral("event")).toString(), QStringLiteral("custom.event"));
    QCOMPARE(event.value(QStringLiteral("data")).toArray().size(), 3);
    QCOMPARE(panel()->target(), Target::All);
}

void TstGuiBroadcast::serverRefusalIsShown()
{
    QSignalSpy sent(panel(), &sb::ui::BroadcastPanel::sent);
    panel()->setTarget(Target::Room, QString(4001, u'r')); // longer than a room may be
    panel()->setEvent(QStringLiteral("e"));
    panel()->setDataText(QString());
    panel()->send();
    QVERIFY(sent.wait(10000));
    QCOMPARE(sent.last().at(1).toLongLong(), -1);
    QVERIFY2(panel()->resultText().contains(u"room"), qPrintable(panel()->resultText()));
    QVERIFY(panel()->resultText().contains(u"400"));
}

QTEST_MAIN(TstGuiBroadcast)
#include "tst_gui_broadcast.moc"
