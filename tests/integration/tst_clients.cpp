// Outbound WebSocket clients (docs/API.md, "Outbound clients") against a real switchboardd
// and a WebSocket server in this process (RemoteServer): room targets reach /ws members and the
// log (source `client`), sends through REST, reconnects after the remote or the daemon went
// away, persistence in the data dir, delete for good, the refusals and the bounds.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "TestSupport.h"

#include <QTcpServer>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

// The remote side of the clients: accepts WebSockets, keeps what they send, counts opens and
// closes, and can be stopped and started again on the same port.
class RemoteServer : public QObject
{
public:
    bool listen(quint16 port = 0)
    {
        m_server = std::make_unique<QWebSocketServer>(u"remote"_s, QWebSocketServer::NonSecureMode);
        if (!m_server->listen(QHostAddress::LocalHost, port))
            return false;
        m_port = m_server->serverPort();
        connect(m_server.get(), &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *socket = m_server->nextPendingConnection()) {
                ++opens;
                m_sockets.append(socket);
                connect(socket, &QWebSocket::textMessageReceived, this,
                        [this](const QString &text) { received.append(text); });
                connect(socket, &QWebSocket::disconnected, this, [this, socket] {
                    ++closes;
                    m_sockets.removeOne(socket);
                    socket->deleteLater();
                });
            }
        });
        return true;
    }
    // Closes the listener and drops every connection at once (a remote that went away).
    // The sockets are the server's children: they go first, without telling this object.
    void stop()
    {
        for (QWebSocket *socket : std::as_const(m_sockets)) {
            socket->disconnect(this);
            socket->abort();
            delete socket;
        }
        m_sockets.clear();
        if (m_server)
            m_server->disconnect(this);
        m_server.reset();
    }
    ~RemoteServer() override { stop(); }
    void sendText(const QString &text)
    {
        for (QWebSocket *socket : std::as_const(m_sockets))
            socket->sendTextMessage(text);
    }
    void sendBinary(const QByteArray &data)
    {
        for (QWebSocket *socket : std::as_const(m_sockets))
            socket->sendBinaryMessage(data);
    }
    // Connections wait in the listen queue, unanswered (the clients stay connecting).
    void pause() { m_server->pauseAccepting(); }
    void resume() { m_server->resumeAccepting(); }
    int connected() const { return int(m_sockets.size()); }
    quint16 port() const { return m_port; }
    QString uri() const { return u"ws://127.0.0.1:%1/feed"_s.arg(m_port); }

    int opens = 0;
    int closes = 0;
    QStringList received;

private:
    std::unique_ptr<QWebSocketServer> m_server;
    QList<QWebSocket *> m_sockets;
    quint16 m_port = 0;
};

// A loopback port nobody listens on (until a test listens on it).
quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

class TestClients : public DaemonTest
{
    Q_OBJECT

private:
    // POST /api/clients with a room target; the client JSON (empty on failure, with a warning).
    QJsonObject createRoomClient(const QString &uri, const QString &room,
                                 const QString &event = u"feed"_s)
    {
        const HttpResponse r = m_api->postJson(
                "/api/clients", {{u"uri"_s, uri}, {u"room"_s, room}, {u"event"_s, event}});
        if (r.status != 201)
            qWarning().noquote() << "create:" << r.describe();
        return r.status == 201 ? r.object() : QJsonObject();
    }
    QJsonObject client(const QString &id)
    {
        return m_api->get("/api/clients/" + encodeSegment(id)).object();
    }
    bool waitForState(const QString &id, const QString &state, int timeoutMs = 10000)
    {
        return waitUntil([&] { return client(id).value(u"state"_s).toString() == state; },
                         timeoutMs);
    }
    int clientCount() { return int(m_api->get("/api/clients").array().size()); }

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        QVERIFY2(startDaemon({}, &why), qPrintable(why));
    }
    void cleanup()
    {
        // Every case starts with no clients (and so stays under max_clients).
        if (m_api) {
            for (const QJsonValue &c : m_api->get("/api/clients").array())
                m_api->del("/api/clients/" + c.toObject().value(u"id"_s).toString().toUtf8());
        }
        endCase();
    }
    void cleanupTestCase() { stopDaemon(); }

    void roomTargetEmitsMessages()
    {
        RemoteServer remote;
        QVERIFY(remote.listen());
        const QString room = uniqueName(u"feed-room"_s);
        auto member = joined(room, u"U"_s, u"S"_s);
        QVERIFY(member);
        const QJsonObject created = createRoomClient(remote.uri(), room, u"tick"_s);
        const QString id = created.value(u"id"_s).toString();
        QVERIFY2(id.startsWith(u'w'), qPrintable(compact(created)));
        QCOMPARE(created.value(u"uri"_s).toString(), remote.uri());
        QCOMPARE(created.value(u"room"_s).toString(), room);
        QCOMPARE(created.value(u"event"_s).toString(), u"tick"_s);
        QVERIFY(!created.contains(u"handler"_s));
        QCOMPARE(created.value(u"received"_s).toInt(-1), 0);
        QVERIFY(created.value(u"since"_s).toDouble() > 1.7e12);
        QVERIFY(waitForState(id, u"open"_s));
        QVERIFY(waitUntil([&] { return remote.connected() == 1; }, 5000));

        remote.sendText(u"{\"a\": 1.50, \"b\": [true]}"_s);
        remote.sendBinary("ignored");
        remote.sendText(u"plain \"text\""_s);
        WsFrame first, second;
        QVERIFY(member->waitForFrame(u"event"_s, &first));
        QVERIFY(member->waitForFrame(u"event"_s, &second));
        QCOMPARE(first.object.value(u"event"_s).toString(), u"tick"_s);
        QCOMPARE(first.object.value(u"room"_s).toString(), room);
        QCOMPARE(rawJsonValue(first.text.toUtf8(), "data"),
                 QByteArray("{\"a\":1.50,\"b\":[true]}"));
        QCOMPARE(rawJsonValue(second.text.toUtf8(), "data"), QByteArray("\"plain \\\"text\\\"\""));
        QVERIFY(member->noFrameWithin(200, u"event"_s)); // the binary message was ignored

        const QJsonObject after = client(id);
        QCOMPARE(after.value(u"received"_s).toInt(), 3);
        QCOMPARE(after.value(u"state"_s).toString(), u"open"_s);
        const QJsonArray records = m_api->get("/api/log?room=" + encodeSegment(room))
                                           .object()
                                           .value(u"records"_s)
                                           .toArray();
        QCOMPARE(records.size(), 2);
        for (const QJsonValue &r : records) {
            QCOMPARE(r.toObject().value(u"source"_s).toString(), u"client"_s);
            QCOMPARE(r.toObject().value(u"remote"_s).toString(), remote.uri());
        }
    }

    void sendReachesRemote()
    {
        RemoteServer remote;
        QVERIFY(remote.listen());
        const QString id = createRoomClient(remote.uri(), u"send-room"_s).value(u"id"_s).toString();
        QVERIFY(waitForState(id, u"open"_s));
        const HttpResponse r = m_api->postJson("/api/clients/" + id.toUtf8() + "/send",
                                               {{u"text"_s, u"hello remote"_s}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("{\"sent\":true}"));
        QVERIFY(waitUntil([&] { return remote.received == QStringList{u"hello remote"_s}; }, 5000));
        QVERIFY(waitUntil([&] { return client(id).value(u"sent"_s).toInt() == 1; }, 3000));
    }

    void reconnectsAfterRemoteRestart()
    {
        RemoteServer remote;
        QVERIFY(remote.listen());
        const QString room = uniqueName(u"re-room"_s);
        auto member = joined(room, u"U"_s, u"S"_s);
        QVERIFY(member);
        const QString id = createRoomClient(remote.uri(), room).value(u"id"_s).toString();
        QVERIFY(waitForState(id, u"open"_s));
        const quint16 port = remote.port();
        remote.stop();
        QVERIFY(waitUntil([&] { return client(id).value(u"state"_s).toString() != u"open"; },
                          5000));
        QVERIFY(remote.listen(port));
        QVERIFY(waitForState(id, u"open"_s, 15000));
        QVERIFY(client(id).value(u"reconnects"_s).toInt() >= 1);
        QVERIFY(waitUntil([&] { return remote.connected() == 1; }, 5000));
        remote.sendText(u"again"_s);
        WsFrame frame;
        QVERIFY(member->waitForFrame(u"event"_s, &frame));
        QCOMPARE(frame.object.value(u"data"_s).toString(), u"again"_s);
    }

    void queuedSendsAreBoundedAndFlushedInOrder()
    {
        const quint16 port = freePort();
        const QString uri = u"ws://127.0.0.1:%1/down"_s.arg(port);
        const QString id = createRoomClient(uri, u"queue-room"_s).value(u"id"_s).toString();
        QVERIFY(!id.isEmpty());
        const QByteArray path = "/api/clients/" + id.toUtf8() + "/send";
        QCOMPARE(m_api->postJson(path, {{u"text"_s, u"first"_s}}).status, 200);
        // 16 x max_message_bytes (65536) wait at most: 60000-byte texts fill it after 17.
        int accepted = 0;
        HttpResponse refused;
        for (int i = 0; i < 30 && refused.status == 0; ++i) {
            const HttpResponse r =
                    m_api->postJson(path, {{u"text"_s, QString(60000, QChar(u'a' + i % 26))}});
            if (r.status == 200)
                ++accepted;
            else
                refused = r;
        }
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.errorCode(), u"unavailable"_s);
        QCOMPARE(accepted, 17);
        RemoteServer remote;
        QVERIFY(remote.listen(port));
        QVERIFY(waitUntil([&] { return remote.received.size() == accepted + 1; }, 20000));
        QCOMPARE(remote.received.first(), u"first"_s);
        for (int i = 0; i < accepted; ++i)
            QCOMPARE(remote.received[i + 1].front(), QChar(u'a' + i % 26));
        // Written: the room is free again.
        QCOMPARE(m_api->postJson(path, {{u"text"_s, u"after"_s}}).status, 200);
        QVERIFY(waitUntil([&] { return remote.received.last() == u"after"_s; }, 5000));
    }

    void deleteClosesForGood()
    {
        RemoteServer remote;
        QVERIFY(remote.listen());
        const QString id = createRoomClient(remote.uri(), u"del-room"_s).value(u"id"_s).toString();
        QVERIFY(waitForState(id, u"open"_s));
        QVERIFY(waitUntil([&] { return remote.opens == 1; }, 5000));
        const HttpResponse r = m_api->del("/api/clients/" + id.toUtf8());
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("{\"closed\":true}"));
        QVERIFY(waitUntil([&] { return remote.closes == 1; }, 5000));
        QCOMPARE(m_api->get("/api/clients/" + id.toUtf8()).status, 404);
        QCOMPARE(m_api->del("/api/clients/" + id.toUtf8()).status, 404);
        spin(1500); // longer than the first reconnect delay
        QCOMPARE(remote.opens, 1);
        QCOMPARE(clientCount(), 0);
    }

    // The seed's createWebsocket(uri, h); send("hello"); close(): the hello still goes out.
    void deleteWhileConnectingDeliversQueued()
    {
        RemoteServer remote;
        QVERIFY(remote.listen());
        remote.pause();
        const QString id = createRoomClient(remote.uri(), u"seed-room"_s).value(u"id"_s).toString();
        const QByteArray path = "/api/clients/" + id.toUtf8();
        QCOMPARE(m_api->postJson(path + "/send", {{u"text"_s, u"hello"_s}}).status, 200);
        spin(300);
        QCOMPARE(client(id).value(u"state"_s).toString(), u"connecting"_s);
        QCOMPARE(m_api->del(path).status, 200);
        remote.resume();
        QVERIFY(waitUntil([&] { return remote.closes == 1; }, 5000));
        QCOMPARE(remote.received, QStringList{u"hello"_s});
        spin(1000);
        QCOMPARE(remote.opens, 1);
    }

    void badInputIsRefused_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("field");
        QTest::newRow("ftp") << QByteArray("{\"uri\":\"ftp://x\",\"room\":\"r\",\"event\":\"e\"}")
                             << u"uri"_s;
        QTest::newRow("no host") << QByteArray("{\"uri\":\"ws://\",\"room\":\"r\",\"event\":\"e\"}")
                                 << u"uri"_s;
        QTest::newRow("not a url")
                << QByteArray("{\"uri\":\"not a url\",\"room\":\"r\",\"event\":\"e\"}") << u"uri"_s;
        QTest::newRow("no uri") << QByteArray("{\"room\":\"r\",\"event\":\"e\"}") << u"uri"_s;
        QTest::newRow("uri number")
                << QByteArray("{\"uri\":5,\"room\":\"r\",\"event\":\"e\"}") << u"uri"_s;
        QTest::newRow("no event") << QByteArray("{\"uri\":\"ws://127.0.0.1:1\",\"room\":\"r\"}")
                                  << u"event"_s;
        QTest::newRow("no room") << QByteArray("{\"uri\":\"ws://127.0.0.1:1\",\"event\":\"e\"}")
                                 << u"room"_s;
        QTest::newRow("no target") << QByteArray("{\"uri\":\"ws://127.0.0.1:1\"}") << u"handler"_s;
        QTest::newRow("both") << QByteArray(
                "{\"uri\":\"ws://127.0.0.1:1\",\"handler\":\"h\",\"room\":\"r\",\"event\":\"e\"}")
                              << u"handler"_s;
        QTest::newRow("unknown handler")
                << QByteArray("{\"uri\":\"ws://127.0.0.1:1\",\"handler\":\"no/such-handler\"}")
                << u"handler"_s;
        QTest::newRow("long event")
                << QByteArray("{\"uri\":\"ws://127.0.0.1:1\",\"room\":\"r\",\"event\":\"")
                        + QByteArray(131, 'e') + QByteArray("\"}")
                << u"event"_s;
    }
    void badInputIsRefused()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, field);
        const HttpResponse r = m_api->post("/api/clients", body, "application/json");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.errorCode(), u"bad_request"_s);
        QVERIFY2(r.errorMessage().contains(field), qPrintable(r.describe()));
        QCOMPARE(clientCount(), 0);
    }

    void sendErrors()
    {
        HttpResponse r = m_api->postJson("/api/clients/w999999/send", {{u"text"_s, u"x"_s}});
        QCOMPARE(r.status, 404);
        QCOMPARE(r.errorCode(), u"not_found"_s);
        QVERIFY(r.errorMessage().contains(u"w999999"_s));
        QCOMPARE(m_api->get("/api/clients/w999999").status, 404);
        const QString id = createRoomClient(u"ws://127.0.0.1:%1/x"_s.arg(freePort()), u"r"_s)
                                   .value(u"id"_s)
                                   .toString();
        QVERIFY(!id.isEmpty());
        for (const QJsonObject &body : {QJsonObject{}, QJsonObject{{u"text"_s, 5}}}) {
            r = m_api->postJson("/api/clients/" + id.toUtf8() + "/send", body);
            QCOMPARE(r.status, 400);
            QVERIFY2(r.errorMessage().contains(u"text"_s), qPrintable(r.describe()));
        }
        QCOMPARE(client(id).value(u"sent"_s).toInt(), 0);
    }

    void maxClientsIsALimit()
    {
        m_extra = std::make_unique<ServerProcess>();
        m_extra->setEnv(u"SWITCHBOARD_MAX_CLIENTS"_s, u"2"_s);
        QVERIFY2(m_extra->start(), qPrintable(m_extra->lastError()));
        auto api = m_extra->client();
        const QJsonObject body{{u"uri"_s, u"ws://127.0.0.1:%1/x"_s.arg(freePort())},
                               {u"room"_s, u"r"_s},
                               {u"event"_s, u"e"_s}};
        QCOMPARE(api->postJson("/api/clients", body).status, 201);
        QCOMPARE(api->postJson("/api/clients", body).status, 201);
        const HttpResponse third = api->postJson("/api/clients", body);
        QCOMPARE(third.status, 429);
        QVERIFY2(third.errorMessage().contains(u"max_clients"_s), qPrintable(third.describe()));
        QCOMPARE(api->get("/api/clients").array().size(), 2);
    }

    void clientsSurviveARestart()
    {
        RemoteServer remote;
        QVERIFY(remote.listen());
        const QString kept =
                createRoomClient(remote.uri(), u"kept-room"_s).value(u"id"_s).toString();
        const QString gone =
                createRoomClient(remote.uri(), u"gone-room"_s).value(u"id"_s).toString();
        QVERIFY(waitForState(kept, u"open"_s));
        QCOMPARE(m_api->del("/api/clients/" + gone.toUtf8()).status, 200);
        QVERIFY(waitUntil([&] { return remote.connected() == 1; }, 5000));
        const int opens = remote.opens;

        m_member.reset();
        m_api.reset();
        QCOMPARE(m_server->stop(), 0);
        QVERIFY(waitUntil([&] { return remote.connected() == 0; }, 5000));
        QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
        m_api = m_server->client();

        const QJsonArray list = m_api->get("/api/clients").array();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list[0].toObject().value(u"id"_s).toString(), kept);
        QCOMPARE(list[0].toObject().value(u"room"_s).toString(), u"kept-room"_s);
        QCOMPARE(list[0].toObject().value(u"received"_s).toInt(-1), 0);
        QVERIFY(waitForState(kept, u"open"_s));
        QVERIFY(waitUntil([&] { return remote.opens == opens + 1; }, 5000));
        // Ids are never reused, also across a restart.
        const QString next =
                createRoomClient(remote.uri(), u"next-room"_s).value(u"id"_s).toString();
        QVERIFY2(next.mid(1).toInt() > gone.mid(1).toInt(), qPrintable(next + u" after "_s + gone));
    }
};

QTEST_MAIN(TestClients)
#include "tst_clients.moc"
