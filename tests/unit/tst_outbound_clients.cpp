// OutboundClients in process (docs/API.md, "Outbound clients"): handler targets get their
// HandlerEvents (open, message, binary as an error, close), a send right before remove() is
// delivered, a message over max_message_bytes closes and reconnects, clients.json (mode 0600,
// bad entries skipped, ids never reused, not even those of skipped entries), start/stop idempotent,
// the backoff's bounds and the change observer. A QWebSocketServer in the test is the remote side.

#include "clients/ClientJson.h"
#include "clients/OutboundClients.h"
#include "clients/OutboundConnection.h"

#include <QFile>
#include <QJsonDocument>
#include <QMutex>
#include <QTemporaryDir>
#include <QWebSocket>
#include <QWebSocketServer>
#include <QtTest>

#include <atomic>

using namespace sb;
using namespace Qt::StringLiterals;

namespace {

// Events of the handler targets, as "onopen w1", "onmessage w1 hi", "onerror w1 ..." (any
// thread).
struct Events
{
    void add(const HandlerEvent &e)
    {
        QString line = HandlerEvent::methodName(e.method) + u' ' + e.client;
        if (!e.message.isEmpty())
            line += u' ' + e.message;
        if (e.method == HandlerEvent::Method::Error)
            line += u' ' + e.error;
        QMutexLocker lock(&mutex);
        lines << line;
    }
    QStringList take()
    {
        QMutexLocker lock(&mutex);
        return lines;
    }
    bool has(const QString &prefix)
    {
        const QStringList all = take();
        return std::any_of(all.cbegin(), all.cend(),
                           [&](const QString &l) { return l.startsWith(prefix); });
    }
    QMutex mutex;
    QStringList lines;
};

} // namespace

class TestOutboundClients : public QObject
{
    Q_OBJECT

private:
    OutboundClients::Options options(Events *events)
    {
        OutboundClients::Options o;
        o.dataDir = m_dir.path();
        o.maxClients = 3;
        o.maxMessageBytes = 1000;
        o.toHandler = [events](const HandlerEvent &e) { events->add(e); };
        o.handlerExists = [](const QString &handler, QString *why) {
            *why = u"handler '%1' is no script"_s.arg(handler);
            return handler.startsWith(u"h");
        };
        return o;
    }
    // Accepts one connection from the clients; null on timeout.
    QWebSocket *accept(int timeoutMs = 5000)
    {
        if (!m_server.hasPendingConnections()
            && !QTest::qWaitFor([&] { return m_server.hasPendingConnections(); }, timeoutMs))
            return nullptr;
        QWebSocket *s = m_server.nextPendingConnection();
        connect(s, &QWebSocket::textMessageReceived, this,
                [this](const QString &t) { m_received << t; });
        return s;
    }
    QString uri() const { return u"ws://127.0.0.1:%1/x"_s.arg(m_server.serverPort()); }

    QTemporaryDir m_dir;
    QWebSocketServer m_server{u"remote"_s, QWebSocketServer::NonSecureMode};
    QStringList m_received;

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_server.listen(QHostAddress::LocalHost, 0)); }
    void init()
    {
        QFile::remove(m_dir.filePath(u"clients.json"_s));
        m_received.clear();
    }

    void backoffBounds()
    {
        QCOMPARE(OutboundConnection::backoffMs(0, 1.0), 500);
        QCOMPARE(OutboundConnection::backoffMs(1, 1.0), 1000);
        QCOMPARE(OutboundConnection::backoffMs(5, 1.0), 16000);
        QCOMPARE(OutboundConnection::backoffMs(6, 1.0), 30000);
        QCOMPARE(OutboundConnection::backoffMs(1000, 1.2), 36000);
        QCOMPARE(OutboundConnection::backoffMs(0, 0.8), 400);
    }

    void handlerTargetGetsEvents()
    {
        Events events;
        OutboundClients clients(options(&events));
        std::atomic<int> changes{0};
        clients.setChangeObserver([&] { ++changes; });
        clients.start();
        CommandError error;
        const auto info = clients.create({uri(), u"h/feed"_s, {}, {}}, &error);
        QVERIFY2(info, qPrintable(error.message));
        QCOMPARE(info->id, u"w1"_s);
        QWebSocket *remote = accept();
        QVERIFY(remote);
        QTRY_VERIFY(events.has(u"onopen w1"_s));
        QTRY_COMPARE(clients.get(u"w1"_s)->state, ClientInfo::State::Open);
        QVERIFY(changes > 0);
        QCOMPARE(clients.byHandler(u"h/feed"_s)->id, u"w1"_s);
        remote->sendTextMessage(u"hi"_s);
        remote->sendBinaryMessage("bin");
        QTRY_VERIFY(events.has(u"onmessage w1 hi"_s));
        QTRY_VERIFY(events.has(u"onerror w1 binary message ignored"_s));
        QVERIFY(clients.send(u"w1"_s, u"up"_s, &error));
        QTRY_COMPARE(m_received, QStringList{u"up"_s});
        QTRY_COMPARE(clients.get(u"w1"_s)->sent, 1u);

        // Over max_message_bytes: closed (1009), then open again.
        remote->sendTextMessage(QString(2000, u'x'));
        QTRY_VERIFY(events.has(u"onclose w1"_s));
        QWebSocket *again = accept(10000);
        QVERIFY(again);
        QTRY_COMPARE(clients.get(u"w1"_s)->state, ClientInfo::State::Open);
        QCOMPARE(clients.get(u"w1"_s)->reconnects, 1u);
        QVERIFY(!clients.get(u"w1"_s)->lastError.isEmpty());
        clients.stop();
        clients.stop();
        delete remote;
        delete again;
    }

    void sendRightBeforeRemoveIsDelivered()
    {
        Events events;
        OutboundClients clients(options(&events));
        clients.start();
        CommandError error;
        const auto info = clients.create({uri(), u"h/seed"_s, {}, {}}, &error);
        QVERIFY(info);
        QVERIFY(clients.send(info->id, u"hello"_s, &error));
        QVERIFY(clients.remove(info->id));
        QVERIFY(!clients.remove(info->id));
        QWebSocket *remote = accept();
        QVERIFY(remote);
        QSignalSpy closed(remote, &QWebSocket::disconnected);
        QTRY_VERIFY(closed.count() == 1);
        QCOMPARE(m_received, QStringList{u"hello"_s});
        QVERIFY(clients.list().isEmpty());
        QVERIFY(!clients.send(info->id, u"late"_s, &error));
        QCOMPARE(error.status, 404);
        delete remote;
    }

    void refusals()
    {
        Events events;
        OutboundClients clients(options(&events));
        CommandError error;
        QVERIFY(!clients.create({uri(), u"x/unknown"_s, {}, {}}, &error));
        QCOMPARE(error.status, 400);
        QVERIFY2(error.message.contains(u"handler"_s), qPrintable(error.message));
        QVERIFY(!clients.create({u"http://host/"_s, {}, u"r"_s, u"e"_s}, &error));
        QVERIFY(error.message.contains(u"uri"_s));
        for (int i = 0; i < 3; ++i)
            QVERIFY(clients.create({uri(), {}, u"r"_s, u"e"_s}, &error));
        QVERIFY(!clients.create({uri(), {}, u"r"_s, u"e"_s}, &error));
        QCOMPARE(error.status, 429);
        QVERIFY(error.message.contains(u"max_clients"_s));
        // Not started: kept, but a send cannot go anywhere yet.
        QVERIFY(!clients.send(u"w1"_s, u"x"_s, &error));
        QCOMPARE(error.status, 503);
    }

    void persistence()
    {
        Events events;
        {
            OutboundClients clients(options(&events));
            CommandError error;
            QVERIFY(clients.create({uri(), {}, u"room"_s, u"ev"_s}, &error));
            QVERIFY(clients.create({uri(), u"h/x"_s, {}, {}}, &error));
            QVERIFY(clients.remove(u"w2"_s));
        }
        QFile file(m_dir.filePath(u"clients.json"_s));
        QCOMPARE(file.permissions(),
                 QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser
                         | QFileDevice::WriteUser);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
        file.close();
        QCOMPARE(root.value(u"next"_s).toInt(), 3);
        QJsonArray list = root.value(u"clients"_s).toArray();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list[0].toObject(), clientSpecJson(u"w1"_s, {uri(), {}, u"room"_s, u"ev"_s}));
        // Bad entries are skipped.
        list << QJsonObject{{u"id"_s, u"x9"_s}, {u"uri"_s, uri()}, {u"handler"_s, u"h"_s}}
             << QJsonObject{{u"id"_s, u"w7"_s}, {u"uri"_s, u"ftp://x"_s}, {u"handler"_s, u"h"_s}}
             << QJsonObject{{u"id"_s, u"w1"_s}, {u"uri"_s, uri()}, {u"handler"_s, u"h"_s}}
             << QJsonObject{{u"id"_s, u"w5"_s}, {u"uri"_s, uri()}, {u"handler"_s, u"h/y"_s}};
        root.insert(u"clients"_s, list);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(QJsonDocument(root).toJson());
        file.close();

        OutboundClients clients(options(&events));
        clients.start();
        clients.start();
        const QList<ClientInfo> kept = clients.list();
        QCOMPARE(kept.size(), 2);
        QCOMPARE(kept[0].id, u"w1"_s);
        QCOMPARE(kept[0].spec.room, u"room"_s);
        QCOMPARE(kept[1].id, u"w5"_s);
        QCOMPARE(kept[1].received, 0u);
        QTRY_VERIFY(events.has(u"onopen w5"_s));
        CommandError error;
        QCOMPARE(clients.create({uri(), u"h/z"_s, {}, {}}, &error)->id, u"w8"_s);
        clients.stop();
        while (m_server.hasPendingConnections())
            delete m_server.nextPendingConnection();
    }
};

QTEST_MAIN(TestOutboundClients)
#include "tst_outbound_clients.moc"
