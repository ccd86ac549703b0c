// Findings of the input review, from outside the process (docs/API.md): JSON with raw control
// characters is refused at every entrance and nothing of it reaches the message log; names
// with (escaped) control characters give valid JSON everywhere and one line each in the
// server log; a token re-issued in the second of an unregister is revoked by the next one;
// nbf and a future iat are honoured; the revocation journal is 0600.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "TestSupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>
#include <QtTest>

#include <sys/stat.h>

using namespace Qt::StringLiterals;
using namespace sbit;

namespace {

// Valid JSON as the server writes it: QJsonDocument reads it, and no raw byte below 0x20 is
// left in it (the server writes compact JSON: no whitespace outside strings either).
bool isCleanJson(const QByteArray &text, QString *why)
{
    QJsonParseError error;
    QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError) {
        *why = u"not JSON: "_s + error.errorString();
        return false;
    }
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (uchar(text[i]) < 0x20) {
            *why = u"raw byte 0x%1 at offset %2"_s.arg(uchar(text[i]), 2, 16, QLatin1Char('0'))
                           .arg(i);
            return false;
        }
    }
    return true;
}

} // namespace

class TestInputHardening : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();
    void controlCharactersInJsonAreRefused_data();
    void controlCharactersInJsonAreRefused();
    void controlCharacterInAWebSocketFrame();
    void namesWithControlCharactersGiveValidJsonAndOneLogLine();
    void formFieldLimit();
    void reissueInTheSecondOfAnUnregisterIsRevoked();
    void nbfAndFutureIatAreRefused();
    void revocationJournalIsOwnerOnly();

private:
    QByteArray logOf(const QString &room);
};

void TestInputHardening::initTestCase()
{
    QString why;
    QVERIFY2(startDaemon({}, &why), qPrintable(why));
}

void TestInputHardening::cleanupTestCase()
{
    stopDaemon();
}

void TestInputHardening::cleanup()
{
    endCase();
}

QByteArray TestInputHardening::logOf(const QString &room)
{
    const HttpResponse r = m_api->get("/api/log?room=" + encodeSegment(room));
    return r.status == 200 ? r.body : QByteArray("status " + QByteArray::number(r.status));
}

void TestInputHardening::controlCharactersInJsonAreRefused_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body"); // {ROOM} is the room of the row
    QTest::addColumn<QString>("expected");
    const QByteArray json = "application/json";
    QTest::newRow("NUL in data")
            << "/api/emit/room"_ba << json
            << QByteArray("{\"room\":\"{ROOM}\",\"event\":\"e\",\"data\":\"a\0b\"}", 42)
            << u"U+0000"_s;
    QTest::newRow("raw newline in a string")
            << "/api/emit/room"_ba << json
            << "{\"room\":\"{ROOM}\",\"event\":\"e\",\"data\":{\"k\":\"line 1\nline 2\"}}"_ba
            << u"U+000a"_s;
    QTest::newRow("raw newline in the event name")
            << "/api/emit/room"_ba << json << "{\"room\":\"{ROOM}\",\"event\":\"e\n\"}"_ba
            << u"U+000a"_s;
    QTest::newRow("form data with %00") << "/api/emit/room"_ba
                                        << "application/x-www-form-urlencoded"_ba
                                        << "room={ROOM}&event=e&data=%22a%00b%22"_ba << u"U+0000"_s;
    QTest::newRow("register") << "/api/register"_ba << json
                              << "{\"room\":\"{ROOM}\",\"user\":\"u\x01\",\"session\":\"s\"}"_ba
                              << u"U+0001"_s;
    QTest::newRow("compat /socket/room")
            << "/socket/room"_ba << json
            << "{\"room\":\"{ROOM}\",\"event\":\"e\",\"data\":\"\x1b\"}"_ba << u"U+001b"_s;
}

void TestInputHardening::controlCharactersInJsonAreRefused()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, expected);
    const QString room = uniqueName(u"ctl:room"_s);
    body.replace("{ROOM}", room.toUtf8());
    const QJsonObject before = stats(*m_api);

    const HttpResponse r = m_api->request(path == "/socket/room" ? "PUT" : "POST", path, body,
                                          {{"Content-Type", contentType}});
    QVERIFY2(r.status == 400, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"invalid_json"_s);
    QVERIFY2(r.errorMessage().contains(u"control character " + expected), qPrintable(r.describe()));
    QVERIFY2(r.errorMessage().contains(u"offset"), qPrintable(r.describe()));

    // Nothing was published or logged, and the log still reads as JSON.
    QCOMPARE(stableStats(stats(*m_api)), stableStats(before));
    const QByteArray log = logOf(room);
    QString why;
    QVERIFY2(isCleanJson(log, &why), qPrintable(why));
    QCOMPARE(QJsonDocument::fromJson(log).object().value(u"records").toArray().size(), 0);
    const HttpResponse all = m_api->get("/api/log?limit=1000");
    QCOMPARE(all.status, 200);
    QVERIFY2(isCleanJson(all.body, &why), qPrintable(why));
}

void TestInputHardening::controlCharacterInAWebSocketFrame()
{
    const QString room = uniqueName(u"ctl:ws"_s);
    QString why;
    auto client = openJoined(*m_server, *m_api, room, u"wsuser"_s, u"wssession"_s, true, &why);
    QVERIFY2(client, qPrintable(why));
    const QJsonObject before = stats(*m_api);

    client->sendText(u"{\"type\":\"emit\",\"room\":\""_s + room
                     + u"\",\"event\":\"e\",\"data\":\"a\nb\",\"ref\":7}"_s);
    const QJsonObject error = client->waitForFrame(u"error"_s);
    QCOMPARE(error.value(u"code").toString(), u"bad_request"_s);
    QVERIFY2(error.value(u"message").toString().contains(u"control character U+000a"),
             qPrintable(error.value(u"message").toString()));
    QVERIFY(client->noFrameWithin(200, u"event"_s));
    QCOMPARE(stableStats(stats(*m_api)), stableStats(before));
    QCOMPARE(QJsonDocument::fromJson(logOf(room)).object().value(u"records").toArray().size(), 0);

    // The connection is still usable.
    client->sendText(uR"({"type":"ping","ref":"p"})"_s);
    QVERIFY(!client->waitForFrame(u"pong"_s).isEmpty());
}

void TestInputHardening::namesWithControlCharactersGiveValidJsonAndOneLogLine()
{
    // Escaped in JSON, control characters in names are valid input: everything the server
    // writes with them must be valid JSON, and its own log must keep one line per message.
    const QString forged = u"2026-01-01T00:00:00.000Z warn  [http] forged"_s;
    const QString room = uniqueName(u"ctl:name"_s) + u"\n"_s + forged + QChar(0) + u"\x1f"_s;
    const QString event = u"ev\r\nent\u2028"_s;
    auto admin = std::make_unique<WsClient>();
    QUrl url = m_server->wsUrl(u"/admin"_s);
    QUrlQuery q;
    q.addQueryItem(u"api_key"_s, QString::fromLatin1(m_server->apiKey()));
    url.setQuery(q);
    QVERIFY(admin->open(url));
    QVERIFY(!admin->waitForFrame(u"snapshot"_s).isEmpty());

    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"u\nv"_s, u"s"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    const HttpResponse emitted = m_api->postJson(
            "/api/emit/room", {{u"room"_s, room}, {u"event"_s, event}, {u"data"_s, room}});
    QVERIFY2(emitted.status == 200, qPrintable(emitted.describe()));

    WsFrame frame;
    QVERIFY(member->waitForFrame(u"event"_s, &frame));
    QVERIFY2(isCleanJson(frame.text.toUtf8(), &why), qPrintable(why));
    QCOMPARE(frame.object.value(u"room").toString(), room);
    QCOMPARE(frame.object.value(u"event").toString(), event);

    const QByteArray log = logOf(room);
    QVERIFY2(isCleanJson(log, &why), qPrintable(why));
    const QJsonArray records = QJsonDocument::fromJson(log).object().value(u"records").toArray();
    QCOMPARE(records.size(), 1);
    QCOMPARE(records.at(0).toObject().value(u"to").toString(), room);
    QCOMPARE(records.at(0).toObject().value(u"event").toString(), event);
    QCOMPARE(records.at(0).toObject().value(u"data").toString(), room);

    // The admin stream: room.joined and messages frames, then a fresh snapshot.
    QVERIFY(admin->waitForFrame(u"room.joined"_s, &frame));
    QVERIFY2(isCleanJson(frame.text.toUtf8(), &why), qPrintable(why));
    QCOMPARE(frame.object.value(u"room").toString(), room);
    QVERIFY(admin->waitForFrame(u"messages"_s, &frame, 3000));
    QVERIFY2(isCleanJson(frame.text.toUtf8(), &why), qPrintable(why));
    auto second = std::make_unique<WsClient>();
    QVERIFY(second->open(url));
    QVERIFY(second->waitForFrame(u"snapshot"_s, &frame));
    QVERIFY2(isCleanJson(frame.text.toUtf8(), &why), qPrintable(why));
    QVERIFY(frame.text.contains(
            QString::fromLatin1(QJsonDocument(QJsonArray{room}).toJson(QJsonDocument::Compact))
                    .mid(1)
                    .chopped(1)));

    // The server log: the forged text never starts a line of its own.
    QVERIFY(waitUntil([&] { return m_server->output().contains(u"forged"); }, 3000));
    const QStringList lines = m_server->output().split(u'\n');
    for (const QString &line : lines) {
        QVERIFY2(!line.startsWith(u"2026-01-01T"), qPrintable(line));
        QVERIFY2(!line.contains(QChar(0x2028)) && !line.contains(u'\r'), qPrintable(line));
    }
    bool escaped = false;
    for (const QString &line : lines)
        escaped = escaped || (line.contains(u"\\n" + forged + u"\\u0000\\u001f"));
    QVERIFY2(escaped, qPrintable(m_server->output().right(2000)));
}

void TestInputHardening::formFieldLimit()
{
    const QString room = uniqueName(u"form:limit"_s);
    QByteArray body = "room=" + room.toUtf8() + "&event=e";
    for (int i = 0; i < 131000; ++i) // distinct names, under max_body_bytes (1 MiB)
        body += "&" + QByteArray::number(i, 36) + '=';
    QVERIFY(body.size() < 1048576);
    const HttpResponse r = m_api->post("/api/emit/room", body, "application/x-www-form-urlencoded");
    QVERIFY2(r.status == 400, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"bad_request"_s);
    QVERIFY2(r.errorMessage().contains(u"1000"), qPrintable(r.describe()));
    const HttpResponse health = m_server->client(false)->get("/api/health");
    QCOMPARE(health.status, 200);
}

void TestInputHardening::reissueInTheSecondOfAnUnregisterIsRevoked()
{
    // register, unregister, register (iat + 1), unregister, all in one second: the second
    // token must be revoked too. Retried when the second changes in between.
    const QString room = uniqueName(u"tok:same"_s);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const QString session = u"s%1"_s.arg(attempt);
        const QJsonObject triple{{u"room"_s, room}, {u"user"_s, u"u"_s}, {u"session"_s, session}};
        const qint64 second = nowSecs();
        QVERIFY(!registerToken(*m_api, room, u"u"_s, session).isEmpty());
        QCOMPARE(m_api->postJson("/api/unregister", triple).status, 200);
        const QByteArray token = registerToken(*m_api, room, u"u"_s, session);
        QVERIFY(!token.isEmpty());
        QCOMPARE(m_api->postJson("/api/unregister", triple).status, 200);
        if (nowSecs() != second)
            continue;
        QCOMPARE(Jwt::claims(token).value(u"iat").toInteger(), second + 1);
        WsClient client;
        QVERIFY(client.open(m_server->wsUrl(u"/ws"_s)));
        const QJsonObject answer = client.join(token);
        QCOMPARE(answer.value(u"type").toString(), u"error"_s);
        QCOMPARE(answer.value(u"code").toString(), u"revoked"_s);
        // A register after that works.
        const QJsonObject joined = client.join(registerToken(*m_api, room, u"u"_s, session));
        QCOMPARE(joined.value(u"type").toString(), u"joined"_s);
        return;
    }
    QSKIP("the four calls never fitted into one second");
}

void TestInputHardening::nbfAndFutureIatAreRefused()
{
    const qint64 now = nowSecs();
    const QString room = uniqueName(u"tok:time"_s);
    const QJsonObject base{{u"sub"_s, u"u"_s},
                           {u"room"_s, room},
                           {u"sid"_s, u"s"_s},
                           {u"iat"_s, now},
                           {u"exp"_s, now + 3600}};
    WsClient client;
    QVERIFY(client.open(m_server->wsUrl(u"/ws"_s)));

    QJsonObject claims = base;
    claims.insert(u"nbf"_s, now + 3600);
    QJsonObject answer = client.join(Jwt::mint(m_server->jwtSecret(), claims));
    QCOMPARE(answer.value(u"code").toString(), u"invalid_token"_s);
    QVERIFY2(answer.value(u"message").toString().contains(u"nbf"),
             qPrintable(answer.value(u"message").toString()));

    claims = base;
    claims.insert(u"iat"_s, now + 365 * 86400);
    answer = client.join(Jwt::mint(m_server->jwtSecret(), claims));
    QCOMPARE(answer.value(u"code").toString(), u"invalid_token"_s);
    QVERIFY2(answer.value(u"message").toString().contains(u"iat"),
             qPrintable(answer.value(u"message").toString()));

    claims = base;
    claims.insert(u"nbf"_s, now - 60);
    answer = client.join(Jwt::mint(m_server->jwtSecret(), claims));
    QCOMPARE(answer.value(u"type").toString(), u"joined"_s);
}

void TestInputHardening::revocationJournalIsOwnerOnly()
{
    const QString room = uniqueName(u"tok:file"_s);
    QCOMPARE(m_api->postJson("/api/unregister",
                             {{u"room"_s, room}, {u"user"_s, u"u"_s}, {u"session"_s, u"s"_s}})
                     .status,
             200);
    const QString path = m_server->dataDir() + u"/revocations.jsonl"_s;
    QVERIFY2(QFile::exists(path), qPrintable(path));
    struct stat st
    { };
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &st), 0);
    QCOMPARE(st.st_mode & 0777, mode_t(0600));
}

QTEST_MAIN(TestInputHardening)
#include "tst_input_hardening.moc"
