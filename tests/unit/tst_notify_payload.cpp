// Unit tests of the LISTEN/NOTIFY side that need no database: a notification payload is read
// like a REST emit body (sb::parseNotifyPayload), the postgresql:// URL of pg_listen and
// log_database (sb::PgUrl), and the pg_listen / pg_channel settings (ConfigLoader).

#include "config/ConfigLoader.h"
#include "notify/NotifyPayload.h"
#include "notify/PgNotifyListener.h"
#include "store/PgUrl.h"

#include <QSqlDatabase>
#include <QtTest>

using namespace Qt::StringLiterals;
using sb::EmitSource;
using sb::EmitTarget;

Q_DECLARE_METATYPE(sb::EmitTarget)

class TestNotifyPayload : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accepted_data();
    void accepted();
    void rejected_data();
    void rejected();
    void namesCountCharactersNotBytes();
    void pgUrl();
    void pgUrlErrorsHideThePassword_data();
    void pgUrlErrorsHideThePassword();
    void pgUrlAppliesToQsqlDatabase();
    void configChecks();
};

void TestNotifyPayload::accepted_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<EmitTarget>("target");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QByteArray>("data");

    QTest::newRow("room")
            << R"({"room":"hr:emp:1234","event":"RefreshEmployees","data":{"id":1}})"_ba
            << EmitTarget::Room << u"hr:emp:1234"_s << u"RefreshEmployees"_s << R"({"id":1})"_ba;
    QTest::newRow("user") << R"({"user":"SCOTT","event":"websocket::message","data":"hi"})"_ba
                          << EmitTarget::User << u"SCOTT"_s << u"websocket::message"_s
                          << R"("hi")"_ba;
    QTest::newRow("connection") << R"({"connection":"c12","event":"e"})"_ba
                                << EmitTarget::Connection << u"c12"_s << u"e"_s << "null"_ba;
    QTest::newRow("all") << R"({"all":true,"event":"tick","data":[1,2,3]})"_ba << EmitTarget::All
                         << QString() << u"tick"_s << "[1,2,3]"_ba;
    // Numbers, key order and escapes of data are kept; whitespace outside strings goes.
    QTest::newRow("data kept as sent")
            << R"({ "room" : "r", "event" : "e", "data" : { "z" : 1.0, "a" : 12345678901234567890123, "s" : "a b\u00e9" } })"_ba
            << EmitTarget::Room << u"r"_s << u"e"_s
            << R"({"z":1.0,"a":12345678901234567890123,"s":"a b\u00e9"})"_ba;
    QTest::newRow("data null") << R"({"room":"r","event":"e","data":null})"_ba << EmitTarget::Room
                               << u"r"_s << u"e"_s << "null"_ba;
    // "all": false names no target; other members are ignored as in REST bodies.
    QTest::newRow("all false and a room")
            << R"({"all":false,"room":"r","event":"e","extra":{"x":1}})"_ba << EmitTarget::Room
            << u"r"_s << u"e"_s << "null"_ba;
    QTest::newRow("all null and a user") << R"({"all":null,"user":"u","event":"e"})"_ba
                                         << EmitTarget::User << u"u"_s << u"e"_s << "null"_ba;
    // jsonb::text, as switchboard.notify() sends it: ", " and ": " separators, keys sorted.
    QTest::newRow("jsonb text") << R"({"data": {"n": 1.50, "id": 7}, "room": "r", "event": "e"})"_ba
                                << EmitTarget::Room << u"r"_s << u"e"_s
                                << R"({"n":1.50,"id":7})"_ba;
    QTest::newRow("non-ASCII names")
            << u"{\"room\":\"räume:€\",\"event\":\"Ereignis\"}"_s.toUtf8() << EmitTarget::Room
            << u"räume:€"_s << u"Ereignis"_s << "null"_ba;
}

void TestNotifyPayload::accepted()
{
    QFETCH(QByteArray, payload);
    QFETCH(EmitTarget, target);
    QFETCH(QString, to);
    QFETCH(QString, event);
    QFETCH(QByteArray, data);
    QString error;
    const auto request = sb::parseNotifyPayload(payload, &error);
    QVERIFY2(request, qPrintable(error));
    QCOMPARE(request->source, EmitSource::Notify);
    QCOMPARE(request->target, target);
    QCOMPARE(request->to, to);
    QCOMPARE(request->event, event);
    QCOMPARE(request->data, data);
}

void TestNotifyPayload::rejected_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QString>("expected"); // a part of the error text

    QTest::newRow("no target") << R"({"event":"e","data":1})"_ba << u"names no target"_s;
    QTest::newRow("all false only") << R"({"all":false,"event":"e"})"_ba << u"names no target"_s;
    QTest::newRow("two targets") << R"({"room":"r","user":"u","event":"e"})"_ba
                                 << u"names 2 targets (room, user)"_s;
    QTest::newRow("room and all") << R"({"room":"r","all":true,"event":"e"})"_ba
                                  << u"(room, all)"_s;
    QTest::newRow("three targets") << R"({"room":"r","user":"u","connection":"c1","event":"e"})"_ba
                                   << u"names 3 targets"_s;
    QTest::newRow("all not a boolean")
            << R"({"all":"yes","event":"e"})"_ba << u"all must be true or false"_s;
    QTest::newRow("not JSON") << "room=r&event=e"_ba << u"the payload is not valid JSON"_s;
    QTest::newRow("cut off") << R"({"room":"r","event":)"_ba << u"the payload is not valid JSON"_s;
    QTest::newRow("empty") << ""_ba << u"the payload is empty"_s;
    QTest::newRow("array") << R"([{"room":"r","event":"e"}])"_ba
                           << u"the payload must be a JSON object"_s;
    // Qt 6.4 reads no top-level scalar: "not valid JSON" rather than "must be an object".
    QTest::newRow("string") << R"("hello")"_ba << u"the payload"_s;
    QTest::newRow("no event") << R"({"room":"r","data":{}})"_ba << u"event is required"_s;
    QTest::newRow("event not a string")
            << R"({"room":"r","event":42})"_ba << u"event must be a string"_s;
    QTest::newRow("event empty") << R"({"room":"r","event":""})"_ba << u"event"_s;
    QTest::newRow("event too long")
            << QByteArray(R"({"room":"r","event":")" + QByteArray(131, 'e') + R"("})")
            << u"event"_s;
    QTest::newRow("room not a string")
            << R"({"room":7,"event":"e"})"_ba << u"room must be a string"_s;
    QTest::newRow("room null") << R"({"room":null,"event":"e"})"_ba << u"room must be a string"_s;
    QTest::newRow("room empty") << R"({"room":"","event":"e"})"_ba << u"room"_s;
    QTest::newRow("room too long")
            << QByteArray(R"({"room":")" + QByteArray(4001, 'r') + R"(","event":"e"})")
            << u"room"_s;
    QTest::newRow("user too long")
            << QByteArray(R"({"user":")" + QByteArray(256, 'u') + R"(","event":"e"})") << u"user"_s;
    // Qt 6.4's QJsonDocument takes raw control characters in strings: invalid JSON (RFC 8259),
    // refused like in a REST body (BodyDecoder::decodeJsonText, rawjson::strictError).
    QTest::newRow("raw NUL in data")
            << QByteArray("{\"room\":\"r\",\"event\":\"e\",\"data\":\"a\0b\"}", 37)
            << u"not valid JSON: unescaped control character U+0000 at offset 33"_s;
    QTest::newRow("raw newline in room")
            << "{\"room\":\"a\nb\",\"event\":\"e\"}"_ba << u"control character U+000a"_s;
    QTest::newRow("unknown escape")
            << R"({"room":"r","event":"e","data":"\q"})"_ba << u"invalid escape sequence"_s;
    QTest::newRow("connection empty")
            << R"({"connection":"","event":"e"})"_ba << u"connection must not be empty"_s;
}

void TestNotifyPayload::rejected()
{
    QFETCH(QByteArray, payload);
    QFETCH(QString, expected);
    QString error;
    const auto request = sb::parseNotifyPayload(payload, &error);
    QVERIFY2(!request, qPrintable(u"accepted: "_s + QString::fromUtf8(payload)));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestNotifyPayload::namesCountCharactersNotBytes()
{
    // 4000 characters of 4 UTF-8 bytes each (surrogate pairs in UTF-16) is a valid room.
    QString room;
    for (int i = 0; i < 4000; ++i)
        room += u"😀"_s;
    QString error;
    const auto ok = sb::parseNotifyPayload(
            (u"{\"room\":\""_s + room + u"\",\"event\":\"e\"}"_s).toUtf8(), &error);
    QVERIFY2(ok, qPrintable(error));
    QCOMPARE(ok->to, room);
    const auto tooLong = sb::parseNotifyPayload(
            (u"{\"room\":\""_s + room + u"x\",\"event\":\"e\"}"_s).toUtf8(), &error);
    QVERIFY(!tooLong);
    QVERIFY2(error.contains(u"room"_s), qPrintable(error));
}

void TestNotifyPayload::pgUrl()
{
    QString error;
    const auto url = sb::PgUrl::parse(
            u"postgresql://sb:p%40ss%3Aword@db.example:6543/events?sslmode=require&connect_timeout=7"_s,
            &error);
    QVERIFY2(url, qPrintable(error));
    QCOMPARE(url->host, u"db.example"_s);
    QCOMPARE(url->port, 6543);
    QCOMPARE(url->user, u"sb"_s);
    QCOMPARE(url->password, u"p@ss:word"_s);
    QCOMPARE(url->database, u"events"_s);
    QCOMPARE(url->options, u"sslmode=require;connect_timeout=7"_s);
    QVERIFY(!url->describe().contains(u"p@ss"_s));
    QVERIFY(!url->describe().contains(u"word"_s));
    QCOMPARE(url->describe(), u"postgresql://sb@db.example:6543/events"_s);

    const auto plain = sb::PgUrl::parse(u"postgres://u@127.0.0.1/db"_s, &error);
    QVERIFY2(plain, qPrintable(error));
    QCOMPARE(plain->port, 5432);
    QVERIFY(plain->password.isEmpty());
    QVERIFY(plain->options.isEmpty());
    QVERIFY(sb::PgUrl::looksLike(u"postgres://x"_s));
    QVERIFY(!sb::PgUrl::looksLike(u"mysql://x"_s));
}

void TestNotifyPayload::pgUrlErrorsHideThePassword_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no database") << u"postgresql://u:SECRETPW@host:5432"_s
                                 << u"expected postgresql://"_s;
    QTest::newRow("no host") << u"postgresql://u:SECRETPW@/db"_s << u"expected postgresql://"_s;
    QTest::newRow("other scheme") << u"mysql://u:SECRETPW@host/db"_s << u"expected postgresql://"_s;
    QTest::newRow("two path segments")
            << u"postgresql://u:SECRETPW@host/db/x"_s << u"expected postgresql://"_s;
    QTest::newRow("option with a space")
            << u"postgresql://u:SECRETPW@host/db?sslmode=re%20quire"_s << u"sslmode"_s;
    QTest::newRow("password in the query")
            << u"postgresql://u@host/db?password=SECRETPW"_s << u"password"_s;
    QTest::newRow("host in the query")
            << u"postgresql://u:SECRETPW@host/db?host=other"_s << u"belongs in the URL"_s;
}

void TestNotifyPayload::pgUrlErrorsHideThePassword()
{
    QFETCH(QString, url);
    QFETCH(QString, expected);
    QString error;
    QVERIFY(!sb::PgUrl::parse(url, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(!error.contains(u"SECRETPW"_s), qPrintable(error));
    // The configuration check says the same, under the key's name.
    const QString why = sb::ConfigLoader::parsePgListen(url);
    QVERIFY2(!why.isEmpty(), qPrintable(url));
    QVERIFY2(!why.contains(u"SECRETPW"_s), qPrintable(why));
}

void TestNotifyPayload::pgUrlAppliesToQsqlDatabase()
{
    if (!QSqlDatabase::isDriverAvailable(u"QPSQL"_s))
        QSKIP("the QPSQL driver is not installed");
    QString error;
    const auto url =
            sb::PgUrl::parse(u"postgresql://sb:pw@127.0.0.1:6543/events?sslmode=disable"_s, &error);
    QVERIFY2(url, qPrintable(error));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QPSQL"_s, u"tst-pgurl"_s);
        url->applyTo(db, sb::PgNotifyListener::connectOptions());
        QCOMPARE(db.hostName(), u"127.0.0.1"_s);
        QCOMPARE(db.port(), 6543);
        QCOMPARE(db.userName(), u"sb"_s);
        QCOMPARE(db.password(), u"pw"_s);
        QCOMPARE(db.databaseName(), u"events"_s);
        QVERIFY(db.connectOptions().startsWith(u"sslmode=disable;connect_timeout=5;"_s));
        QVERIFY(db.connectOptions().contains(u"keepalives=1"_s));
    }
    QSqlDatabase::removeDatabase(u"tst-pgurl"_s);
}

void TestNotifyPayload::configChecks()
{
    QVERIFY(sb::ConfigLoader::parsePgListen(QString()).isEmpty());
    if (QSqlDatabase::isDriverAvailable(u"QPSQL"_s))
        QVERIFY(sb::ConfigLoader::parsePgListen(u"postgresql://u:p@h:1/d"_s).isEmpty());
    QVERIFY(sb::ConfigLoader::parsePgChannel(u"switchboard"_s).isEmpty());
    QVERIFY(sb::ConfigLoader::parsePgChannel(u"Chan_2"_s).isEmpty());
    QVERIFY(sb::ConfigLoader::parsePgChannel(QString(63, u'c')).isEmpty());
    QVERIFY(!sb::ConfigLoader::parsePgChannel(QString(64, u'c')).isEmpty());
    QVERIFY(!sb::ConfigLoader::parsePgChannel(QString()).isEmpty());
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"a.b"_s).isEmpty());
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"a b"_s).isEmpty());
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"kanäl"_s).isEmpty());
    QVERIFY(sb::ConfigLoader::parsePgChannel(u"a-b"_s).contains(u"a-b"_s));
}

QTEST_GUILESS_MAIN(TestNotifyPayload)
#include "tst_notify_payload.moc"
