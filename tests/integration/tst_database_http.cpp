// The HTTP requests that sql/oracle/websocket_pkg builds, replayed byte for byte against the
// real switchboardd over raw TCP (no Oracle database runs here). The requests are the files of
// tests/integration/data/*.http (written by make-http-fixtures.py there; README.md maps each
// to the PL/SQL that sends it): the UTL_HTTP shape (X-API-Key, Content-Length for small
// bodies, Transfer-Encoding: chunked above 32767 bytes, charset=utf-8 declared) and the
// APEX_WEB_SERVICE shape (HTTP Basic with the key as the password). Each answer must be what
// the package reads: {"token"} for register, {"removed"} for unregister, {"id"} for emits, and
// the REST error shape for non-2xx (its message goes into ORA-20001); each emit must reach the
// WebSocket clients with data exactly as sent.

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "RawConn.h"
#include "ServerProcess.h"
#include "TestSupport.h"
#include "WsClient.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

// The fixtures' constants (make-http-fixtures.py).
const QByteArray kApiKey = "replay-0123456789abcdef0123456789abcdef";
const QString kRoom = u"hr:emp:1234"_s;
// p_data of utl-emit-room-content-length.http, as the clients must get it (whitespace outside
// strings may go, digits and key order stay).
const QByteArray kRoomData =
        u"{\"id\":1234,\"name\":\"Grüße, 日本 €\",\"salary\":12345678901234567890.50,\"tags\":[\"a\",\"b\"]}"_s
                .toUtf8();

QByteArray fixture(const QString &name)
{
    QFile f(QDir(QStringLiteral(SB_TEST_DATA_DIR)).filePath(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read the fixture %s", qPrintable(f.fileName()));
    return f.readAll();
}

// The body of a fixture (after the blank line), de-chunked when it is chunked.
QByteArray fixtureBody(const QByteArray &request)
{
    const qsizetype headEnd = request.indexOf("\r\n\r\n");
    const QByteArray head = request.left(headEnd).toLower();
    QByteArray rest = request.mid(headEnd + 4);
    if (!head.contains("transfer-encoding: chunked"))
        return rest;
    QByteArray body;
    while (true) {
        const qsizetype lineEnd = rest.indexOf("\r\n");
        bool ok = false;
        const qsizetype size = rest.left(lineEnd).toLongLong(&ok, 16);
        if (!ok || size == 0)
            break;
        body += rest.mid(lineEnd + 2, size);
        rest = rest.mid(lineEnd + 2 + size + 2);
    }
    return body;
}

} // namespace

class TestDatabaseHttp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void fixturesAreWhatThePackageSends();
    void utlRegisterTokenJoins();
    void utlEmitRoomWithContentLength();
    void utlEmitUserChunked();
    void utlEmitAllWithConnectionClose();
    void utlEscapedNames();
    void apexBasicShapes();
    void apexChunked();
    void keepAliveCarriesSeveralRequests();
    void errorsCarryTheServersMessage();
    void utlUnregisterRevokes();

private:
    // Sends the fixture on a new raw connection and reads the answer.
    HttpResponse replay(const QString &name, RawConn *keep = nullptr);
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    std::unique_ptr<WsClient> m_member; // in kRoom, as user MEMBER
    std::unique_ptr<WsClient> m_scott;  // the token of utl-register.http
};

void TestDatabaseHttp::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    m_server->setApiKey(kApiKey);
    QVERIFY2(m_server->start(), qPrintable(m_server->lastError()));
    m_api = m_server->client();
    QString why;
    m_member = openJoined(*m_server, *m_api, kRoom, u"MEMBER"_s, u"m1"_s, false, &why);
    QVERIFY2(m_member, qPrintable(why));
}

void TestDatabaseHttp::cleanupTestCase()
{
    m_scott.reset();
    m_member.reset();
    m_api.reset();
    m_server.reset();
}

void TestDatabaseHttp::init()
{
    // Every case starts with no frame of an earlier one waiting at the member.
    m_member->clear();
}

HttpResponse TestDatabaseHttp::replay(const QString &name, RawConn *keep)
{
    RawConn local;
    RawConn &conn = keep ? *keep : local;
    if (conn.socket().state() != QAbstractSocket::ConnectedState
        && !conn.connectTo(m_server->port()))
        return {};
    conn.write(fixture(name));
    HttpResponse response;
    conn.read(&response, 10000);
    return response;
}

void TestDatabaseHttp::fixturesAreWhatThePackageSends()
{
    // The shapes the PL/SQL promises (websocket_pkg.pkb, top comment): CRLF lines, the key,
    // the declared charset, Content-Length or chunked, never both.
    const QStringList names = QDir(QStringLiteral(SB_TEST_DATA_DIR))
                                      .entryList({u"*.http"_s}, QDir::Files, QDir::Name);
    QCOMPARE(names.size(), 11);
    for (const QString &name : names) {
        const QByteArray request = fixture(name);
        const QByteArray head = request.left(request.indexOf("\r\n\r\n"));
        QVERIFY2(!head.isEmpty(), qPrintable(name));
        QVERIFY2(head.startsWith("POST /api/"), qPrintable(name));
        QVERIFY2(head.split('\n').first().endsWith(" HTTP/1.1\r"), qPrintable(name));
        QVERIFY2(!QByteArray(head).replace("\r\n", "").contains('\n'),
                 qPrintable(name + u": a bare LF"_s));
        QVERIFY2(request.contains("\r\nContent-Type: application/json; charset=utf-8\r\n"),
                 qPrintable(name));
        const bool chunked = request.contains("\r\nTransfer-Encoding: chunked\r\n");
        const bool length = request.contains("\r\nContent-Length: ");
        QVERIFY2(chunked != length, qPrintable(name));
        if (length) {
            const qsizetype at = request.indexOf("\r\nContent-Length: ") + 18;
            const qint64 declared = request.mid(at, request.indexOf("\r\n", at) - at).toLongLong();
            QCOMPARE(declared, qint64(fixtureBody(request).size()));
            QVERIFY2(declared <= 32767, qPrintable(name)); // c_max_inline_bytes
        } else {
            QVERIFY2(fixtureBody(request).size() > 32767, qPrintable(name));
        }
        if (name.startsWith(u"apex-"_s)) {
            const QByteArray basic = "\r\nAuthorization: Basic "
                    + QByteArray("switchboard:" + kApiKey).toBase64() + "\r\n";
            QVERIFY2(request.contains(basic), qPrintable(name));
        } else if (!name.contains(u"wrong-key"_s)) {
            const QByteArray key = "\r\nX-API-Key: " + kApiKey + "\r\n";
            QVERIFY2(request.contains(key), qPrintable(name));
        }
        // Every body is JSON the package built (one object).
        QVERIFY2(QJsonDocument::fromJson(fixtureBody(request)).isObject(), qPrintable(name));
    }
}

void TestDatabaseHttp::utlRegisterTokenJoins()
{
    const HttpResponse r = replay(u"utl-register.http"_s);
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("content-type").startsWith("application/json"));
    const QByteArray token = r.object().value(u"token"_s).toString().toLatin1();
    QVERIFY(!token.isEmpty());
    QVERIFY(r.object().value(u"expires"_s).toInteger() > nowSecs());
    m_scott = std::make_unique<WsClient>();
    QVERIFY(m_scott->open(m_server->wsUrl(u"/ws"_s)));
    const QJsonObject joined = m_scott->join(token);
    QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(joined.value(u"room"_s).toString(), kRoom);
    QCOMPARE(Jwt::claims(token).value(u"sub"_s).toString(), u"SCOTT"_s);
    QCOMPARE(Jwt::claims(token).value(u"sid"_s).toString(), u"8086917342551"_s);
}

void TestDatabaseHttp::utlEmitRoomWithContentLength()
{
    const HttpResponse r = replay(u"utl-emit-room-content-length.http"_s);
    QCOMPARE(r.status, 200);
    const qint64 id = r.object().value(u"id"_s).toInteger();
    QVERIFY(id > 0);
    QVERIFY(r.object().contains(u"delivered"_s));
    WsFrame frame;
    QVERIFY(m_member->waitForFrame(u"event"_s, &frame));
    QCOMPARE(frame.object.value(u"id"_s).toInteger(), id);
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"RefreshEmployees"_s);
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"), kRoomData);
    const HttpResponse log = m_api->get("/api/log?since_id=" + QByteArray::number(id - 1));
    const QByteArray logged = "\"data\":" + kRoomData;
    QVERIFY2(minifyJson(log.body).contains(logged), log.body);
}

void TestDatabaseHttp::utlEmitUserChunked()
{
    // SCOTT's connection (utl-register) gets the user emit; the room member does not.
    QVERIFY(m_scott);
    m_scott->clear();
    const QByteArray request = fixture(u"utl-emit-user-chunked.http"_s);
    const HttpResponse r = replay(u"utl-emit-user-chunked.http"_s);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object().value(u"delivered"_s).toInteger(), 1);
    WsFrame frame;
    QVERIFY(m_scott->waitForFrame(u"event"_s, &frame, 10000));
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"websocket::message"_s);
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"),
             minifyJson(rawJsonValue(fixtureBody(request), "data")));
    QVERIFY(m_member->noFrameWithin(200, u"event"_s));
}

void TestDatabaseHttp::utlEmitAllWithConnectionClose()
{
    RawConn conn;
    QVERIFY(conn.connectTo(m_server->port()));
    const HttpResponse r = replay(u"utl-emit-all-connection-close.http"_s, &conn);
    QCOMPARE(r.status, 200);
    QVERIFY(r.object().value(u"id"_s).toInteger() > 0);
    QVERIFY2(conn.waitClosed(5000), "Connection: close was not honoured");
    const QJsonObject frame = m_member->waitForFrame(u"event"_s);
    QCOMPARE(frame.value(u"event"_s).toString(), u"websocket::refresh"_s);
    QVERIFY(frame.value(u"data"_s).isNull()); // no p_data: no "data" member, null
}

void TestDatabaseHttp::utlEscapedNames()
{
    const HttpResponse r = replay(u"utl-emit-room-escapes.http"_s);
    QCOMPARE(r.status, 200);
    const QJsonObject frame = m_member->waitForFrame(u"event"_s);
    QCOMPARE(frame.value(u"event"_s).toString(), u"say \"hi\"\\\t\u0001"_s);
    QCOMPARE(frame.value(u"data"_s).toString(), u"text"_s);
}

void TestDatabaseHttp::apexBasicShapes()
{
    HttpResponse r = replay(u"apex-emit-room-basic.http"_s);
    QCOMPARE(r.status, 200);
    const qint64 id = r.object().value(u"id"_s).toInteger();
    const QJsonObject frame = m_member->waitForFrame(u"event"_s);
    QCOMPARE(frame.value(u"id"_s).toInteger(), id);
    QCOMPARE(frame.value(u"data"_s).toObject().value(u"message"_s).toString(), u"Hello World!"_s);

    r = replay(u"apex-register-basic.http"_s);
    QCOMPARE(r.status, 200);
    const QByteArray token = r.object().value(u"token"_s).toString().toLatin1();
    WsClient adams;
    QVERIFY(adams.open(m_server->wsUrl(u"/ws"_s)));
    QCOMPARE(adams.join(token).value(u"type"_s).toString(), u"joined"_s);
}

void TestDatabaseHttp::apexChunked()
{
    const QByteArray request = fixture(u"apex-emit-room-chunked.http"_s);
    const HttpResponse r = replay(u"apex-emit-room-chunked.http"_s);
    QCOMPARE(r.status, 200);
    WsFrame frame;
    QVERIFY(m_member->waitForFrame(u"event"_s, &frame, 10000));
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"BigRefresh"_s);
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"),
             minifyJson(rawJsonValue(fixtureBody(request), "data")));
}

void TestDatabaseHttp::keepAliveCarriesSeveralRequests()
{
    // UTL_HTTP with persistent connections (set_persistent_conn_support) sends the next
    // request on the same connection.
    RawConn conn;
    QVERIFY(conn.connectTo(m_server->port()));
    const HttpResponse first = replay(u"utl-emit-room-content-length.http"_s, &conn);
    QCOMPARE(first.status, 200);
    const HttpResponse second = replay(u"apex-emit-room-basic.http"_s, &conn);
    QCOMPARE(second.status, 200);
    QVERIFY(second.object().value(u"id"_s).toInteger() > first.object().value(u"id"_s).toInteger());
    QVERIFY(!conn.closed());
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(),
             u"RefreshEmployees"_s);
    QCOMPARE(m_member->waitForFrame(u"event"_s).value(u"event"_s).toString(),
             u"websocket::message"_s);
}

void TestDatabaseHttp::errorsCarryTheServersMessage()
{
    // What api_call reads into ORA-20001: error.code and error.message.
    HttpResponse r = replay(u"utl-error-wrong-key.http"_s);
    QCOMPARE(r.status, 401);
    QCOMPARE(r.errorCode(), u"unauthorized"_s);
    QVERIFY(r.errorMessage().contains(u"API key"_s));
    r = replay(u"utl-error-empty-room.http"_s);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.errorCode(), u"bad_request"_s);
    QCOMPARE(r.errorMessage(), u"room must not be empty"_s);
    QVERIFY(m_member->noFrameWithin(200, u"event"_s));
}

void TestDatabaseHttp::utlUnregisterRevokes()
{
    QVERIFY(m_scott);
    const HttpResponse r = replay(u"utl-unregister.http"_s);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.object().value(u"removed"_s).toInteger(), 1);
    const QJsonObject left = m_scott->waitForFrame(u"left"_s);
    QCOMPARE(left.value(u"room"_s).toString(), kRoom);
    QCOMPARE(left.value(u"reason"_s).toString(), u"revoked"_s);
}

QTEST_GUILESS_MAIN(TestDatabaseHttp)
#include "tst_database_http.moc"
