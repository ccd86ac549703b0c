// Unit tests of the LISTEN/NOTIFY side that need no database: a notification payload is read
// like a REST emit body (sb::parseNotifyPayload), the signed envelope of switchboard.notify()
// is verified (sb::NotifyVerifier: signature, age, replay, shape, size; docs/API.md, "Database
// notifications"), the postgresql:// URL of pg_listen and log_database (sb::PgUrl), and the
// pg_listen / pg_channel settings (ConfigLoader).

#include "config/ConfigLoader.h"
#include "notify/NotifyEnvelope.h"
#include "notify/NotifyPayload.h"
#include "notify/PgNotifyListener.h"
#include "store/PgUrl.h"

#include <QSqlDatabase>
#include <QtTest>

using namespace Qt::StringLiterals;
using sb::EmitSource;
using sb::EmitTarget;
using sb::NotifyRejectReason;
using sb::NotifyVerifier;

Q_DECLARE_METATYPE(sb::EmitTarget)
Q_DECLARE_METATYPE(sb::NotifyRejectReason)

namespace {

const QByteArray kKey = "the-api-key";
const QString kChannel = u"switchboard"_s;
const QByteArray kNonce = "00112233445566778899aabbccddeeff";
const QByteArray kPayload = R"({"all": true, "event": "e", "data": {"v": 1.50}})";
constexpr qint64 kNow = 1700000000000;

NotifyVerifier verifier(qsizetype maxNonces = 100000)
{
    return NotifyVerifier(NotifyVerifier::Options{kKey, kChannel, 60000, 60000, maxNonces});
}

// A nonce of 32 hex digits made from n.
QByteArray nonce(quint64 n)
{
    return QByteArray::number(n, 16).rightJustified(32, '0');
}

} // namespace

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
    void envelopeTestVector();
    void envelopeAccepted_data();
    void envelopeAccepted();
    void envelopeBadSignature_data();
    void envelopeBadSignature();
    void envelopeStale_data();
    void envelopeStale();
    void envelopeReplay();
    void envelopeForgeryTakesNoNonce();
    void envelopeMemoryIsBounded();
    void envelopeMalformed_data();
    void envelopeMalformed();
    void envelopeOversize();
    void envelopeWithoutKey();
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
    // refused like in a REST body (BodyDecoder::decodeJsonText, rawjson::isStrictJson).
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
    QString why;
    QVERIFY2(!sb::ConfigLoader::parsePgListen(url, &why), qPrintable(url));
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
    QVERIFY(sb::ConfigLoader::parsePgListen(QString(), nullptr));
    if (QSqlDatabase::isDriverAvailable(u"QPSQL"_s))
        QVERIFY(sb::ConfigLoader::parsePgListen(u"postgresql://u:p@h:1/d"_s, nullptr));
    QVERIFY(sb::ConfigLoader::parsePgChannel(u"switchboard"_s, nullptr));
    QVERIFY(sb::ConfigLoader::parsePgChannel(u"Chan_2"_s, nullptr));
    QVERIFY(sb::ConfigLoader::parsePgChannel(QString(63, u'c'), nullptr));
    QVERIFY(!sb::ConfigLoader::parsePgChannel(QString(64, u'c'), nullptr));
    QVERIFY(!sb::ConfigLoader::parsePgChannel(QString(), nullptr));
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"a.b"_s, nullptr));
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"a b"_s, nullptr));
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"kanäl"_s, nullptr));
    QString why;
    QVERIFY(!sb::ConfigLoader::parsePgChannel(u"a-b"_s, &why) && why.contains(u"a-b"_s));
}

void TestNotifyPayload::envelopeTestVector()
{
    // Computed with Python's hmac and hashlib, as switchboard.notify() does:
    //   hmac.new("kéy".encode(), "sb1|switchboard|1700000000000|0011...eeff|<payload>".encode(),
    //            hashlib.sha256).hexdigest()
    const QByteArray payload = u"{\"all\": true, \"event\": \"e\", \"data\": \"é\"}"_s.toUtf8();
    const QByteArray sig = "c1c48125600ce58d58be812f21295a6c9794da18bc68e9d1d32e0a556c35aca6";
    QCOMPARE(NotifyVerifier::signature(u"kéy"_s.toUtf8(), kChannel, "1700000000000", kNonce,
                                       payload),
             sig);
    QCOMPARE(NotifyVerifier::sign(u"kéy"_s.toUtf8(), kChannel, kNow, kNonce, payload),
             "sb1.1700000000000." + kNonce + '.' + sig + '.' + payload);
}

void TestNotifyPayload::envelopeAccepted_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<qint64>("ts");
    QTest::newRow("now") << kPayload << kNow;
    // The window is inclusive at both ends.
    QTest::newRow("60 s old") << kPayload << kNow - 60000;
    QTest::newRow("60 s ahead") << kPayload << kNow + 60000;
    // The payload is the rest of the text: dots, non-ASCII and "sb1." in it are kept.
    QTest::newRow("dots and more")
            << u"{\"room\": \"a.b.c\", \"event\": \"sb1.x\", \"data\": \"ü€😀\"}"_s.toUtf8() << kNow;
    // An empty payload verifies (it is then no valid emit: NotifyPayload says so).
    QTest::newRow("empty payload") << QByteArray() << kNow;
}

void TestNotifyPayload::envelopeAccepted()
{
    QFETCH(QByteArray, payload);
    QFETCH(qint64, ts);
    NotifyVerifier v = verifier();
    QVERIFY(v.authenticates());
    const auto r = v.verify(NotifyVerifier::sign(kKey, kChannel, ts, kNonce, payload), kNow);
    QVERIFY2(!r.rejected, qPrintable(r.why));
    QCOMPARE(r.payload, payload);
    QCOMPARE(v.remembered(), 1);
}

void TestNotifyPayload::envelopeBadSignature_data()
{
    QTest::addColumn<QByteArray>("notification");
    const QByteArray good = NotifyVerifier::sign(kKey, kChannel, kNow, kNonce, kPayload);
    const qsizetype payloadAt = good.size() - kPayload.size();
    const qsizetype sigAt = payloadAt - 65;

    // A plain NOTIFY, as any role that may connect can send.
    QTest::newRow("unsigned") << kPayload;
    QTest::newRow("unsigned, not JSON") << "hello"_ba;
    QTest::newRow("other key") << NotifyVerifier::sign("not-the-key", kChannel, kNow, kNonce,
                                                       kPayload);
    QTest::newRow("other channel")
            << NotifyVerifier::sign(kKey, u"other"_s, kNow, kNonce, kPayload);
    QTest::newRow("key prefix") << NotifyVerifier::sign("the-api", kChannel, kNow, kNonce,
                                                        kPayload);
    QByteArray payload = good;
    payload[payloadAt + 2] = 'A'; // "all" -> "All"
    QTest::newRow("payload changed") << payload;
    QTest::newRow("payload extended") << good + ' ';
    QByteArray ts = good;
    ts[5] = '8'; // 1700000000000 -> 1800000000000... still 13 digits
    QTest::newRow("timestamp changed") << ts;
    QByteArray n = good;
    n[4 + 14] = 'f';
    QTest::newRow("nonce changed") << n;
    QByteArray sig = good;
    sig[sigAt] = sig[sigAt] == '0' ? '1' : '0';
    QTest::newRow("signature changed") << sig;
    // The signature of one envelope on another's fields.
    QByteArray swapped = NotifyVerifier::sign(kKey, kChannel, kNow, nonce(7), kPayload);
    swapped.replace(sigAt, 64, good.mid(sigAt, 64));
    QTest::newRow("signature of another") << swapped;
}

void TestNotifyPayload::envelopeBadSignature()
{
    QFETCH(QByteArray, notification);
    NotifyVerifier v = verifier();
    const auto r = v.verify(notification, kNow);
    QVERIFY2(r.rejected, "accepted");
    QCOMPARE(*r.rejected, NotifyRejectReason::Signature);
    QVERIFY(r.payload.isEmpty());
    QVERIFY2(!r.why.contains(u"event"_s), qPrintable(r.why)); // no payload in the reason
    QCOMPARE(v.remembered(), 0);
}

void TestNotifyPayload::envelopeStale_data()
{
    QTest::addColumn<qint64>("ts");
    QTest::addColumn<QString>("expected");
    QTest::newRow("60.001 s old") << kNow - 60001 << u"more than the 60000 ms"_s;
    QTest::newRow("an hour old") << kNow - 3600000 << u"signed 3600000 ms ago"_s;
    QTest::newRow("60.001 s ahead") << kNow + 60001 << u"in the future"_s;
    QTest::newRow("zero") << qint64(0) << u"ago"_s;
}

void TestNotifyPayload::envelopeStale()
{
    QFETCH(qint64, ts);
    QFETCH(QString, expected);
    NotifyVerifier v = verifier();
    const auto r = v.verify(NotifyVerifier::sign(kKey, kChannel, ts, kNonce, kPayload), kNow);
    QVERIFY2(r.rejected, "accepted");
    QCOMPARE(*r.rejected, NotifyRejectReason::Stale);
    QVERIFY2(r.why.contains(expected), qPrintable(r.why));
    QCOMPARE(v.remembered(), 0);
}

void TestNotifyPayload::envelopeReplay()
{
    NotifyVerifier v = verifier();
    const QByteArray first = NotifyVerifier::sign(kKey, kChannel, kNow, kNonce, kPayload);
    QVERIFY(!v.verify(first, kNow).rejected);
    // The same text again, at once and later within the window: a replay.
    for (const qint64 later : {kNow, kNow + 1000, kNow + 59999}) {
        const auto r = v.verify(first, later);
        QVERIFY2(r.rejected, "a replay was accepted");
        QCOMPARE(*r.rejected, NotifyRejectReason::Replay);
    }
    // The same payload with another nonce, or the same nonce at another time, is another
    // notification.
    QVERIFY(!v.verify(NotifyVerifier::sign(kKey, kChannel, kNow, nonce(1), kPayload), kNow)
                     .rejected);
    QVERIFY(!v.verify(NotifyVerifier::sign(kKey, kChannel, kNow + 1, kNonce, kPayload), kNow)
                     .rejected);
    QCOMPARE(v.remembered(), 3);
    // Once out of the window it is stale (and forgotten: memory goes with the window).
    const auto late = v.verify(first, kNow + 60001);
    QVERIFY(late.rejected);
    QCOMPARE(*late.rejected, NotifyRejectReason::Stale);
    QVERIFY(!v.verify(NotifyVerifier::sign(kKey, kChannel, kNow + 60001, nonce(2), kPayload),
                      kNow + 60001)
                     .rejected);
    QCOMPARE(v.remembered(), 2); // kNow + 1 (still within the window) and the last
}

void TestNotifyPayload::envelopeForgeryTakesNoNonce()
{
    // A forged notification that copies a genuine one's nonce (NOTIFY payloads are visible to
    // every listener) must not block the genuine one, whichever comes first.
    NotifyVerifier v = verifier();
    const QByteArray forged = NotifyVerifier::sign("guess", kChannel, kNow, kNonce, kPayload);
    QVERIFY(v.verify(forged, kNow).rejected);
    QVERIFY(!v.verify(NotifyVerifier::sign(kKey, kChannel, kNow, kNonce, kPayload), kNow).rejected);
}

void TestNotifyPayload::envelopeMemoryIsBounded()
{
    // At most maxNonces are remembered; beyond, the oldest is forgotten and what is as old as
    // it is refused (stale), so a forgotten one cannot be replayed.
    NotifyVerifier v = verifier(3);
    QList<QByteArray> sent;
    for (int i = 0; i < 5; ++i) {
        sent << NotifyVerifier::sign(kKey, kChannel, kNow + i, nonce(quint64(i)), kPayload);
        QVERIFY(!v.verify(sent.last(), kNow + 10).rejected);
        QVERIFY(v.remembered() <= 3);
    }
    QCOMPARE(v.remembered(), 3);
    for (int i = 0; i < 2; ++i) { // forgotten
        const auto r = v.verify(sent[i], kNow + 10);
        QVERIFY2(r.rejected, "a forgotten notification was replayed");
        QCOMPARE(*r.rejected, NotifyRejectReason::Stale);
        QVERIFY2(r.why.contains(u"oldest of the 3"_s), qPrintable(r.why));
    }
    for (int i = 2; i < 5; ++i) { // remembered
        const auto r = v.verify(sent[i], kNow + 10);
        QVERIFY(r.rejected);
        QCOMPARE(*r.rejected, NotifyRejectReason::Replay);
    }
    // Newer ones are still taken.
    QVERIFY(!v.verify(NotifyVerifier::sign(kKey, kChannel, kNow + 5, nonce(5), kPayload), kNow + 10)
                     .rejected);
}

void TestNotifyPayload::envelopeMalformed_data()
{
    QTest::addColumn<QByteArray>("notification");
    QTest::addColumn<QString>("expected");
    const QByteArray sig(64, 'a');
    QTest::newRow("prefix only") << "sb1."_ba << u"has not the form"_s;
    QTest::newRow("no payload separator")
            << "sb1.1700000000000." + kNonce + '.' + sig << u"has not the form"_s;
    QTest::newRow("timestamp empty") << "sb1.." + kNonce + '.' + sig + ".{}" << u"timestamp"_s;
    QTest::newRow("timestamp not digits")
            << "sb1.-1." + kNonce + '.' + sig + ".{}" << u"timestamp"_s;
    QTest::newRow("timestamp 16 digits")
            << "sb1.1000000000000000." + kNonce + '.' + sig + ".{}" << u"timestamp"_s;
    QTest::newRow("nonce short") << "sb1.1." + kNonce.left(31) + '.' + sig + ".{}" << u"nonce"_s;
    QTest::newRow("nonce upper case")
            << "sb1.1." + kNonce.toUpper() + '.' + sig + ".{}" << u"nonce"_s;
    QTest::newRow("signature short")
            << "sb1.1." + kNonce + '.' + sig.left(63) + ".{}" << u"signature is not 64"_s;
    QTest::newRow("signature not hex")
            << "sb1.1." + kNonce + '.' + QByteArray(64, 'g') + ".{}" << u"signature is not 64"_s;
}

void TestNotifyPayload::envelopeMalformed()
{
    QFETCH(QByteArray, notification);
    QFETCH(QString, expected);
    NotifyVerifier v = verifier();
    const auto r = v.verify(notification, kNow);
    QVERIFY2(r.rejected, "accepted");
    QCOMPARE(*r.rejected, NotifyRejectReason::Invalid);
    QVERIFY2(r.why.contains(expected), qPrintable(r.why));
    // Without a key the envelope is read too, and refused the same way.
    NotifyVerifier open(NotifyVerifier::Options{{}, kChannel});
    const auto o = open.verify(notification, kNow);
    QVERIFY(o.rejected);
    QCOMPARE(*o.rejected, NotifyRejectReason::Invalid);
}

void TestNotifyPayload::envelopeOversize()
{
    // NOTIFY carries at most 7999 bytes: an envelope of exactly that passes, one more does not
    // (whether or not its signature would verify: no HMAC is computed for it).
    const qsizetype overhead = NotifyVerifier::sign(kKey, kChannel, kNow, kNonce, "").size();
    QCOMPARE(overhead, 116); // what docs/postgresql.md says the signature costs
    const QByteArray start = R"({"all":true,"event":"e","data":")";
    const QByteArray payload = start
            + QByteArray(NotifyVerifier::kMaxBytes - overhead - start.size() - 2, 'x') + "\"}";
    const QByteArray fits = NotifyVerifier::sign(kKey, kChannel, kNow, kNonce, payload);
    QCOMPARE(fits.size(), NotifyVerifier::kMaxBytes);
    NotifyVerifier v = verifier();
    const auto ok = v.verify(fits, kNow);
    QVERIFY2(!ok.rejected, qPrintable(ok.why));
    QCOMPARE(ok.payload, payload);
    QString error;
    QVERIFY2(sb::parseNotifyPayload(ok.payload, &error), qPrintable(error));

    const QByteArray bigger = payload.left(payload.size() - 2) + "x\"}";
    const auto r = v.verify(NotifyVerifier::sign(kKey, kChannel, kNow, nonce(9), bigger), kNow);
    QVERIFY(r.rejected);
    QCOMPARE(*r.rejected, NotifyRejectReason::Invalid);
    QVERIFY2(r.why.contains(u"8000 bytes"_s), qPrintable(r.why));
    QCOMPARE(v.remembered(), 1);
    // Unsigned and oversize: invalid as well.
    const auto u = v.verify(QByteArray(8000, '{'), kNow);
    QVERIFY(u.rejected);
    QCOMPARE(*u.rejected, NotifyRejectReason::Invalid);
}

void TestNotifyPayload::envelopeWithoutKey()
{
    // --insecure with no api_key: nothing can be checked. Plain payloads are taken as they
    // are, envelopes unwrapped whatever their signature, time or nonce.
    NotifyVerifier v(NotifyVerifier::Options{{}, kChannel});
    QVERIFY(!v.authenticates());
    auto r = v.verify(kPayload, kNow);
    QVERIFY(!r.rejected);
    QCOMPARE(r.payload, kPayload);
    const QByteArray signedByAnyKey = NotifyVerifier::sign("any", kChannel, 0, kNonce, kPayload);
    for (int i = 0; i < 2; ++i) {
        r = v.verify(signedByAnyKey, kNow);
        QVERIFY2(!r.rejected, qPrintable(r.why));
        QCOMPARE(r.payload, kPayload);
    }
    QCOMPARE(v.remembered(), 0);
    // Not JSON: passed on for NotifyPayload to refuse.
    r = v.verify("hello", kNow);
    QVERIFY(!r.rejected);
    QString error;
    QVERIFY(!sb::parseNotifyPayload(r.payload, &error));
    QVERIFY2(error.contains(u"not valid JSON"_s), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestNotifyPayload)
#include "tst_notify_payload.moc"
