// The admin stream at /admin from outside the process (docs/API.md, "Admin stream"): the
// key is required at the upgrade; a snapshot comes first; connection, room and message events
// follow live, batched; stats once a second; an observer that does not read is closed, and
// the server keeps serving everyone else.

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "RawConn.h"
#include "ServerProcess.h"
#include "TestSupport.h"
#include "WsClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QTest>
#include <QUrlQuery>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace sbit;
using namespace Qt::StringLiterals;

class TestAdminStream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void keyIsRequired();
    void snapshotThenLiveEvents();
    void snapshotListsEndpointsAndClients();
    void floodIsBatched();
    void slowObserverIsClosed();

private:
    std::unique_ptr<WsClient> openAdmin(const QString &how = u"query"_s);
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
};

void TestAdminStream::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start({u"--log-level"_s, u"warning"_s}), qPrintable(m_server->lastError()));
    m_api = m_server->client();
}

std::unique_ptr<WsClient> TestAdminStream::openAdmin(const QString &how)
{
    auto admin = std::make_unique<WsClient>();
    QUrl url = m_server->wsUrl(u"/admin"_s);
    QList<QPair<QByteArray, QByteArray>> headers;
    if (how == u"query") {
        QUrlQuery q;
        q.addQueryItem(u"api_key"_s, QString::fromLatin1(m_server->apiKey()));
        url.setQuery(q);
    } else if (how == u"header") {
        headers.append({"X-API-Key", m_server->apiKey()});
    } else if (how == u"bearer") {
        headers.append({"Authorization", "Bearer " + m_server->apiKey()});
    }
    if (!admin->open(url, 5000, headers))
        return nullptr;
    return admin;
}

void TestAdminStream::keyIsRequired()
{
    // Without a key, or with a wrong one, the upgrade is refused with 401.
    const QByteArray upgrade = "GET /admin HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Key: "
                               "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    for (const QByteArray &key : {QByteArray(), QByteArray("X-API-Key: not-the-key\r\n")}) {
        RawConn raw;
        QVERIFY(raw.connectTo(m_server->port()));
        raw.write(upgrade + key + "\r\n");
        HttpResponse r;
        QVERIFY(raw.read(&r, 5000, true));
        QCOMPARE(r.status, 401);
        QCOMPARE(r.errorCode(), u"unauthorized"_s);
    }
    // Every way of giving the key works.
    for (const QString &how : {u"query"_s, u"header"_s, u"bearer"_s}) {
        auto admin = openAdmin(how);
        QVERIFY2(admin, qPrintable(how));
        QVERIFY(!admin->waitForFrame(u"snapshot"_s).isEmpty());
    }
}

void TestAdminStream::snapshotThenLiveEvents()
{
    const QString room = uniqueName(u"admin:live"_s);
    // Something to see in the snapshot: a joined client and a logged emit.
    auto early = openJoined(*m_server, *m_api, room, u"ann"_s, u"s1"_s);
    QVERIFY(early);
    const HttpResponse first = m_api->postJson(
            "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"Before"_s}, {u"data"_s, 1}});
    QCOMPARE(first.status, 200);
    const qint64 firstId = first.object().value(u"id"_s).toInteger();

    auto admin = openAdmin();
    QVERIFY(admin);
    const QJsonObject snapshot = admin->waitForFrame(u"snapshot"_s);
    QVERIFY(!snapshot.isEmpty());
    bool sawConnection = false;
    for (const QJsonValue &c : snapshot.value(u"connections"_s).toArray()) {
        const QJsonObject o = c.toObject();
        if (o.value(u"user"_s).toString() == u"ann") {
            sawConnection = true;
            QCOMPARE(o.value(u"rooms"_s).toArray().first().toString(), room);
            for (const QString &key : {u"connection"_s, u"session"_s, u"remote"_s, u"origin"_s,
                                       u"since"_s, u"sent"_s, u"received"_s})
                QVERIFY2(o.contains(key), qPrintable(key));
        }
    }
    QVERIFY(sawConnection);
    bool sawRoom = false;
    for (const QJsonValue &r : snapshot.value(u"rooms"_s).toArray())
        sawRoom = sawRoom || r.toObject().value(u"room"_s).toString() == room;
    QVERIFY(sawRoom);
    const QJsonArray log = snapshot.value(u"log"_s).toArray();
    QVERIFY(!log.isEmpty() && log.size() <= 100);
    QCOMPARE(log.last().toObject().value(u"id"_s).toInteger(), firstId);
    QCOMPARE(log.last().toObject().value(u"event"_s).toString(), u"Before"_s);
    const QJsonObject stats = snapshot.value(u"stats"_s).toObject();
    for (const QString &key :
         {u"connections"_s, u"rooms"_s, u"users"_s, u"messages_in_total"_s, u"messages_out_total"_s,
          u"messages_in_per_s"_s, u"messages_out_per_s"_s, u"uptime_s"_s})
        QVERIFY2(stats.contains(key), qPrintable(key));

    // Live: a client connects and joins, an emit is logged, the client leaves and closes.
    auto late = openJoined(*m_server, *m_api, room, u"bob"_s, u"s2"_s);
    QVERIFY(late);
    const QJsonObject opened = admin->waitForFrame(u"connection.opened"_s);
    QVERIFY(!opened.isEmpty());
    const QString lateId =
            opened.value(u"connection"_s).toObject().value(u"connection"_s).toString();
    QVERIFY(!lateId.isEmpty());
    const QJsonObject joined = admin->waitForFrame(u"room.joined"_s);
    QCOMPARE(joined.value(u"room"_s).toString(), room);
    QCOMPARE(joined.value(u"connection"_s).toString(), lateId);
    QCOMPARE(joined.value(u"user"_s).toString(), u"bob"_s);
    QCOMPARE(joined.value(u"session"_s).toString(), u"s2"_s);

    const HttpResponse second =
            emitRawData(*m_api, room, u"After"_s, R"({"n":1.0,"big":123456789012345678901})");
    QCOMPARE(second.status, 200);
    WsFrame messages;
    QVERIFY(admin->waitForFrame(u"messages"_s, &messages, 3000));
    const QJsonArray records = messages.object.value(u"records"_s).toArray();
    QCOMPARE(records.size(), 1);
    const QJsonObject r = records.first().toObject();
    QCOMPARE(r.value(u"id"_s).toInteger(), second.object().value(u"id"_s).toInteger());
    QCOMPARE(r.value(u"source"_s).toString(), u"rest"_s);
    QCOMPARE(r.value(u"target"_s).toString(), u"room"_s);
    QCOMPARE(r.value(u"to"_s).toString(), room);
    QCOMPARE(r.value(u"delivered"_s).toInteger(), 2);
    // data as sent, digits and all
    QVERIFY2(messages.text.contains(u"\"data\":{\"n\":1.0,\"big\":123456789012345678901}"_s),
             qPrintable(messages.text));

    late->send({{u"type"_s, u"leave"_s}, {u"room"_s, room}});
    const QJsonObject left = admin->waitForFrame(u"room.left"_s);
    QCOMPARE(left.value(u"room"_s).toString(), room);
    QCOMPARE(left.value(u"connection"_s).toString(), lateId);
    late->close();
    const QJsonObject closed = admin->waitForFrame(u"connection.closed"_s);
    QCOMPARE(closed.value(u"connection"_s).toString(), lateId);
    QVERIFY(closed.contains(u"code"_s));

    // Stats once a second.
    const QJsonObject statsFrame = admin->waitForFrame(u"stats"_s, 3000);
    QVERIFY(statsFrame.value(u"stats"_s).toObject().contains(u"messages_in_total"_s));
}

// The snapshot carries the endpoints and the outbound clients, as arrays even when there are
// none (docs/API.md, "Admin stream").
void TestAdminStream::snapshotListsEndpointsAndClients()
{
    auto admin = openAdmin();
    QVERIFY(admin);
    const QJsonObject snapshot = admin->waitForFrame(u"snapshot"_s);
    QVERIFY(!snapshot.isEmpty());
    QVERIFY2(snapshot.value(u"endpoints"_s).isArray(),
             qPrintable(QString::fromUtf8(QJsonDocument(snapshot).toJson(QJsonDocument::Compact))));
    QVERIFY(snapshot.value(u"clients"_s).isArray());
    // The same lists as the REST API's.
    const HttpResponse endpoints = m_api->request("GET", "/api/endpoints");
    if (endpoints.status == 200)
        QCOMPARE(snapshot.value(u"endpoints"_s).toArray(), endpoints.json().array());
}

void TestAdminStream::floodIsBatched()
{
    auto admin = openAdmin();
    QVERIFY(admin);
    QVERIFY(!admin->waitForFrame(u"snapshot"_s).isEmpty());
    admin->clear();
    const QString room = uniqueName(u"admin:flood"_s);
    const int n = 500;
    QList<qint64> ids;
    for (int i = 0; i < n; ++i) {
        const HttpResponse r = m_api->postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"Flood"_s}, {u"data"_s, i}});
        QCOMPARE(r.status, 200);
        ids << r.object().value(u"id"_s).toInteger();
    }
    // Every record arrives once, in order, in far fewer frames than records.
    QList<qint64> seen;
    int frames = 0;
    QElapsedTimer timer;
    timer.start();
    while (seen.size() < n && timer.elapsed() < 10000) {
        const QJsonObject m = admin->waitForFrame(u"messages"_s, 2000);
        if (m.isEmpty())
            continue;
        ++frames;
        for (const QJsonValue &v : m.value(u"records"_s).toArray()) {
            if (v.toObject().value(u"to"_s).toString() == room)
                seen << v.toObject().value(u"id"_s).toInteger();
        }
    }
    QCOMPARE(seen, ids);
    QVERIFY2(frames < n / 5, qPrintable(u"%1 messages frames for %2 records"_s.arg(frames).arg(n)));
}

void TestAdminStream::slowObserverIsClosed()
{
    ServerProcess server;
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s, u"--max-queue-bytes"_s, u"262144"_s}),
             qPrintable(server.lastError()));
    auto api = server.client();
    // An observer that never reads: a plain socket with a small receive buffer that sends
    // the upgrade and then reads nothing, not even the 101.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    const int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QCOMPARE(::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr), 0);
    const QByteArray upgrade = "GET /admin?api_key=" + server.apiKey()
            + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    QCOMPARE(::write(fd, upgrade.constData(), size_t(upgrade.size())), ssize_t(upgrade.size()));
    const auto closeFd = qScopeGuard([fd] { ::close(fd); });

    const QString room = uniqueName(u"admin:slow"_s);
    const QByteArray payload = R"({"room":")" + room.toUtf8() + R"(","event":"Big","data":")"
            + QByteArray(60000, 'x') + R"("})";
    QElapsedTimer timer;
    timer.start();
    int sent = 0;
    // ~60 MB of records: far more than the socket buffers and the 256 KiB queue hold.
    while (sent < 1000 && timer.elapsed() < 60000) {
        const HttpResponse r = api->post("/api/emit/room", payload, "application/json");
        QCOMPARE(r.status, 200);
        ++sent;
    }
    QVERIFY2(QTest::qWaitFor([&] { return server.output().contains(u"does not keep up"_s); }, 5000),
             qPrintable(server.output().right(2000)));
    // The server goes on answering.
    QCOMPARE(api->get("/api/health").status, 200);
    auto admin = std::make_unique<WsClient>();
    QUrl url = server.wsUrl(u"/admin"_s);
    url.setQuery(u"api_key="_s + QString::fromLatin1(server.apiKey()));
    QVERIFY(admin->open(url));
    QVERIFY(!admin->waitForFrame(u"snapshot"_s).isEmpty());
}

QTEST_MAIN(TestAdminStream)
#include "tst_admin_stream.moc"
