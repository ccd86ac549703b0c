// Body decoding (docs/API.md, "Request bodies"): JSON and form bodies, the no-Content-Type
// rule, 415 for other media types, charsets, invalid UTF-8, byte-exact forwarding of `data`,
// name lengths counted in Unicode characters, and the same charset rules for the legacy
// POST / push.

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestBodyDecoding : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void jsonBody_data();
    void jsonBody();
    void formBody_data();
    void formBody();
    void noContentType_data();
    void noContentType();
    void unsupportedMediaType_data();
    void unsupportedMediaType();
    void charsets_data();
    void charsets();
    void unknownCharset();
    void invalidUtf8_data();
    void invalidUtf8();
    void dataForwardedExactly_data();
    void dataForwardedExactly();
    void dataForwardedExactlyFromForm();
    void absentDataIsNull();
    void nameLengths_data();
    void nameLengths();
    void legacyPostRoot_charsetRules();

private:
    // Posts an emit to room "dec"; on 200 waits for the event frame.
    HttpResponse emitAndReceive(const QByteArray &body, const QByteArray &contentType,
                                WsFrame *frame);
    // A refused request changed nothing: the stats are as `before` and no frame was delivered.
    void verifyNothingChanged(const QJsonObject &before);
    // Emits the row's body as its contentType (columns of the _data table) and checks that the
    // answer is 200 and the frame's event is the row's event; false, the failure recorded,
    // when not.
    bool rowDelivered(WsFrame *frame);
};

void TestBodyDecoding::initTestCase()
{
    QString why;
    QVERIFY2(startDaemon({}, &why), qPrintable(why));
    QVERIFY2(joinMember(u"dec"_s, u"decuser"_s, u"s1"_s, &why), qPrintable(why));
}

void TestBodyDecoding::cleanupTestCase()
{
    stopDaemon();
}

void TestBodyDecoding::cleanup()
{
    endCase();
    // The daemon must still be healthy after every case.
    QString why;
    QVERIFY2(daemonHealthy(&why), qPrintable(why));
}

void TestBodyDecoding::verifyNothingChanged(const QJsonObject &before)
{
    QCOMPARE(stableStats(stats(*m_api)), before);
    QVERIFY(nothingDelivered());
}

bool TestBodyDecoding::rowDelivered(WsFrame *frame)
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, event);
    const HttpResponse r = emitAndReceive(body, contentType, frame);
    return QTest::qVerify(r.status == 200, "r.status == 200", qPrintable(r.describe()), __FILE__,
                          __LINE__)
            && QTest::qCompare(frame->object.value(u"event"_s).toString(), event,
                               "frame->object.value(u\"event\"_s).toString()", "event", __FILE__,
                               __LINE__);
}

HttpResponse TestBodyDecoding::emitAndReceive(const QByteArray &body, const QByteArray &contentType,
                                              WsFrame *frame)
{
    const HttpResponse r = m_api->post("/api/emit/room", body, contentType);
    if (r.status == 200 && frame && !m_member->waitForFrame(u"event"_s, frame))
        qWarning() << "no event frame arrived for an accepted emit";
    return r;
}

void TestBodyDecoding::jsonBody_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QByteArray>("data"); // expected raw data text

    QTest::newRow("application/json") << QByteArray("application/json")
                                      << QByteArray(R"({"room":"dec","event":"j1","data":{"a":1}})")
                                      << u"j1"_s << QByteArray(R"({"a":1})");
    QTest::newRow("charset=utf-8")
            << QByteArray("application/json; charset=utf-8")
            << QByteArray("{\"room\":\"dec\",\"event\":\"j2\",\"data\":\"caf\xC3\xA9\"}") << u"j2"_s
            << QByteArray("\"caf\xC3\xA9\"");
    QTest::newRow("upper-case media type")
            << QByteArray("Application/JSON")
            << QByteArray(R"({"room":"dec","event":"j3","data":[true]})") << u"j3"_s
            << QByteArray("[true]");
    QTest::newRow("keys in any order")
            << QByteArray("application/json")
            << QByteArray(R"({"data":7,"event":"j4","room":"dec"})") << u"j4"_s << QByteArray("7");
    QTest::newRow("unknown fields ignored")
            << QByteArray("application/json")
            << QByteArray(R"({"room":"dec","event":"j5","extra":{"x":1}})") << u"j5"_s
            << QByteArray("null");
    QTest::newRow("non-ASCII event name")
            << QByteArray("application/json")
            << QByteArray("{\"room\":\"dec\",\"event\":\"\xC3\xA9v\xC3\xA9nement\"}")
            << u"\u00e9v\u00e9nement"_s << QByteArray("null");
    QTest::newRow("escaped event name") << QByteArray("application/json")
                                        << QByteArray(R"({"room":"dec","event":"\u00e9t\u00e9"})")
                                        << u"\u00e9t\u00e9"_s << QByteArray("null");
}

void TestBodyDecoding::jsonBody()
{
    QFETCH(QByteArray, data);
    WsFrame f;
    if (!rowDelivered(&f))
        return;
    QCOMPARE(f.object.value(u"room"_s).toString(), u"dec"_s);
    QCOMPARE(rawJsonValue(f.text.toUtf8(), "data"), data);
}

void TestBodyDecoding::formBody_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QJsonValue>("data");

    const QByteArray form = "application/x-www-form-urlencoded";
    QTest::newRow("data is JSON text")
            << form << QByteArray("room=dec&event=f1&data=%7B%22a%22%3A1%7D") << u"f1"_s
            << QJsonValue(QJsonObject{{u"a"_s, 1}});
    QTest::newRow("plus is a space")
            << form << QByteArray("room=dec&event=f2&data=%22hello+world%22") << u"f2"_s
            << QJsonValue(u"hello world"_s);
    QTest::newRow("plus in a name") << form << QByteArray("room=dec&event=my+event&data=1")
                                    << u"my event"_s << QJsonValue(1);
    QTest::newRow("%2B is a plus")
            << form << QByteArray("room=dec&event=f4&data=%7B%22s%22%3A%22a%2Bb%22%7D") << u"f4"_s
            << QJsonValue(QJsonObject{{u"s"_s, u"a+b"_s}});
    QTest::newRow("percent-encoded UTF-8")
            << form << QByteArray("room=dec&event=f5&data=%22%C3%A9%E2%82%AC%22") << u"f5"_s
            << QJsonValue(u"\u00e9\u20ac"_s);
    QTest::newRow("no data") << form << QByteArray("event=f6&room=dec") << u"f6"_s
                             << QJsonValue(QJsonValue::Null);
    QTest::newRow("charset=UTF-8 param")
            << QByteArray("application/x-www-form-urlencoded; charset=UTF-8")
            << QByteArray("room=dec&event=f7&data=%5B1%2C2%5D") << u"f7"_s
            << QJsonValue(QJsonArray{1, 2});
    QTest::newRow("encoded room") << form << QByteArray("room=%64%65%63&event=f8&data=true")
                                  << u"f8"_s << QJsonValue(true);
}

void TestBodyDecoding::formBody()
{
    QFETCH(QJsonValue, data);
    WsFrame f;
    if (!rowDelivered(&f))
        return;
    QCOMPARE(f.object.value(u"data"_s), data);
    QVERIFY(f.object.contains(u"data"_s));
}

void TestBodyDecoding::noContentType_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QJsonValue>("data");
    QTest::newRow("starts with { : JSON") << QByteArray(R"({"room":"dec","event":"n1","data":[1]})")
                                          << u"n1"_s << QJsonValue(QJsonArray{1});
    QTest::newRow("else form") << QByteArray("room=dec&event=n2&data=%7B%22k%22%3A%22v+w%22%7D")
                               << u"n2"_s << QJsonValue(QJsonObject{{u"k"_s, u"v w"_s}});
}

void TestBodyDecoding::noContentType()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, event);
    QFETCH(QJsonValue, data);
    WsFrame f;
    const HttpResponse r = emitAndReceive(body, QByteArray(), &f);
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(f.object.value(u"event"_s).toString(), event);
    QCOMPARE(f.object.value(u"data"_s), data);
}

void TestBodyDecoding::unsupportedMediaType_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("contentType");
    const QByteArray json = R"({"room":"dec","event":"nope","data":1})";
    // POST /api/emit/room as contentType.
    const auto emitAs = [](const char *name, const char *contentType) {
        QTest::newRow(name) << QByteArray("/api/emit/room") << QByteArray("POST")
                            << QByteArray(contentType);
    };
    emitAs("text/plain", "text/plain");
    emitAs("text/plain charset", "text/plain; charset=utf-8");
    emitAs("application/xml", "application/xml");
    emitAs("multipart", "multipart/form-data; boundary=xyz");
    emitAs("octet-stream", "application/octet-stream");
    QTest::newRow("register text/plain")
            << QByteArray("/api/register") << QByteArray("POST") << QByteArray("text/plain");
    QTest::newRow("/socket/room text/plain")
            << QByteArray("/socket/room") << QByteArray("PUT") << QByteArray("text/plain");
    Q_UNUSED(json);
}

void TestBodyDecoding::unsupportedMediaType()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, contentType);
    const QByteArray body = R"({"room":"dec","event":"nope","user":"u","session":"s","data":1})";
    const QJsonObject before = stableStats(stats(*m_api));
    const HttpResponse r = m_api->request(method, path, body, {{"Content-Type", contentType}});
    QVERIFY2(r.status == 415, qPrintable(r.describe()));
    QCOMPARE(r.errorCode(), u"unsupported_media_type"_s);
    verifyNothingChanged(before);
}

void TestBodyDecoding::charsets_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QString>("data");

    // A JSON body of event with the JSON text dataText as data, sent as application/json with
    // `charset` declared; data: the string data must arrive as.
    const auto json = [](const char *name, const char *charset, const char *event,
                         const QByteArray &dataText, const QString &data) {
        QTest::newRow(name) << "application/json; charset="_ba + charset
                            << R"({"room":"dec","event":")"_ba + event + R"(","data":)" + dataText
                        + '}'
                            << QString::fromLatin1(event) << data;
    };
    json("JSON ISO-8859-1", "ISO-8859-1", "c1", "\"caf\xE9\"", u"caf\u00e9"_s);
    QTest::newRow("JSON iso-8859-1 lower case")
            << QByteArray("application/json;charset=iso-8859-1")
            << QByteArray("{\"room\":\"dec\",\"event\":\"c2\",\"data\":\"\xE9t\xE9\"}") << u"c2"_s
            << u"\u00e9t\u00e9"_s;
    json("JSON windows-1252", "windows-1252", "c3", "\"\x80 caf\xE9\"", u"\u20ac caf\u00e9"_s);
    QTest::newRow("JSON latin-1 event name")
            << QByteArray("application/json; charset=ISO-8859-1")
            << QByteArray("{\"room\":\"dec\",\"event\":\"\xE9v\",\"data\":1}") << u"\u00e9v"_s
            << QString();
    json("JSON quoted charset", "\"ISO-8859-1\"", "c5", "\"\xFC\"", u"\u00fc"_s);
    json("JSON explicit UTF-8", "UTF-8", "c6", "\"caf\xC3\xA9\"", u"caf\u00e9"_s);
    QTest::newRow("form ISO-8859-1")
            << QByteArray("application/x-www-form-urlencoded; charset=ISO-8859-1")
            << QByteArray("room=dec&event=c7&data=%22caf%E9%22") << u"c7"_s << u"caf\u00e9"_s;
    QTest::newRow("form windows-1252")
            << QByteArray("application/x-www-form-urlencoded; charset=windows-1252")
            << QByteArray("room=dec&event=c8&data=%22%80+%E9%22") << u"c8"_s << u"\u20ac \u00e9"_s;
    QTest::newRow("form raw latin-1 byte")
            << QByteArray("application/x-www-form-urlencoded; charset=ISO-8859-1")
            << QByteArray("room=dec&event=c9&data=%22\xE9%22") << u"c9"_s << u"\u00e9"_s;
}

void TestBodyDecoding::charsets()
{
    QFETCH(QString, data);
    WsFrame f;
    if (!rowDelivered(&f))
        return;
    if (!data.isNull())
        QCOMPARE(f.object.value(u"data"_s).toString(), data);
}

void TestBodyDecoding::unknownCharset()
{
    const QJsonObject before = stableStats(stats(*m_api));
    for (const QByteArray &ct :
         {QByteArray("application/json; charset=x-no-such-charset"),
          QByteArray("application/x-www-form-urlencoded; charset=klingon")}) {
        const QByteArray body = ct.startsWith("application/json")
                ? QByteArray(R"({"room":"dec","event":"u1"})")
                : QByteArray("room=dec&event=u1");
        const HttpResponse r = m_api->post("/api/emit/room", body, ct);
        QVERIFY2(r.status == 415, qPrintable(r.describe()));
        QCOMPARE(r.errorCode(), u"unsupported_media_type"_s);
    }
    verifyNothingChanged(before);
}

void TestBodyDecoding::invalidUtf8_data()
{
    const auto json = [](const char *name, const char *body) {
        QTest::newRow(name) << QByteArray("application/json") << QByteArray(body);
    };
    const auto form = [](const char *name, const char *body) {
        QTest::newRow(name) << QByteArray("application/x-www-form-urlencoded") << QByteArray(body);
    };
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    json("JSON latin-1 byte, no charset",
         "{\"room\":\"dec\",\"event\":\"i1\",\"data\":\"caf\xE9\"}");
    json("JSON truncated sequence", "{\"room\":\"dec\",\"event\":\"i2\",\"data\":\"\xC3\x28\"}");
    json("JSON overlong encoding", "{\"room\":\"dec\",\"event\":\"i3\",\"data\":\"\xC0\xAF\"}");
    json("JSON invalid byte in name", "{\"room\":\"dec\",\"event\":\"i4\xFF\"}");
    form("form percent-encoded latin-1", "room=dec&event=i5&data=%22%E9%22");
    form("form invalid UTF-8 in room", "room=de%C3%28c&event=i6");
    QTest::newRow("no content type, raw byte")
            << QByteArray() << QByteArray("room=dec&event=i7\xE9");
}

void TestBodyDecoding::invalidUtf8()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    const QJsonObject before = stableStats(stats(*m_api));
    const HttpResponse r = m_api->post("/api/emit/room", body, contentType);
    QVERIFY2(r.status == 400, qPrintable(r.describe()));
    QVERIFY2(r.errorCode() == u"bad_request" || r.errorCode() == u"invalid_json",
             qPrintable(r.describe()));
    verifyNothingChanged(before);
}

void TestBodyDecoding::dataForwardedExactly_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("hasWhitespace");
    QTest::newRow("brief example")
            << QByteArray(R"({"n":123456789012345678901234567890,"f":1.0,"z":"x","a":[1,2]})")
            << false;
    QTest::newRow("key order") << QByteArray(R"({"z":1,"a":2,"m":3,"b":{"y":0,"x":0}})") << false;
    QTest::newRow("integer beyond 2^64") << QByteArray("123456789012345678901234567890") << false;
    QTest::newRow("2^64+1") << QByteArray("18446744073709551617") << false;
    QTest::newRow("negative big") << QByteArray("-98765432109876543210987654321") << false;
    QTest::newRow("1.0") << QByteArray("1.0") << false;
    QTest::newRow("trailing zeros") << QByteArray("[1.50,2.500e3,-0,0.000,1E+2]") << false;
    QTest::newRow("many digits") << QByteArray(
            "3.14159265358979323846264338327950288419716939937510")
                                 << false;
    QTest::newRow("escapes kept") << QByteArray(R"("tab\tnl\n\u00e9 \"q\" \/ \\")") << false;
    QTest::newRow("raw UTF-8") << QByteArray("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"")
                               << false;
    QTest::newRow("nested") << QByteArray(
            R"({"nested":{"b":1,"a":[{"y":1.10,"x":2}]},"e":{},"l":[]})")
                            << false;
    QTest::newRow("true") << QByteArray("true") << false;
    QTest::newRow("false") << QByteArray("false") << false;
    QTest::newRow("string") << QByteArray(R"("plain")") << false;
    QTest::newRow("duplicate-looking keys") << QByteArray(R"({"a":1,"A":2})") << false;
    QTest::newRow("whitespace outside strings") << QByteArray(
            "{ \"a\" : 1.0 ,\n \"b\" : [ 1 , 2 ] ,\t\"s\" : \"keep  these  spaces\" }")
                                                << true;
    QTest::newRow("whitespace around number") << QByteArray("  100.00  ") << true;
}

void TestBodyDecoding::dataForwardedExactly()
{
    QFETCH(QByteArray, data);
    QFETCH(bool, hasWhitespace);
    const QByteArray body = R"({"room":"dec","event":"raw","data":)" + data + "}";
    WsFrame f;
    const HttpResponse r = emitAndReceive(body, "application/json", &f);
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    const QByteArray raw = rawJsonValue(f.text.toUtf8(), "data");
    if (hasWhitespace)
        QCOMPARE(minifyJson(raw), minifyJson(data));
    else
        QCOMPARE(raw, data);
}

void TestBodyDecoding::dataForwardedExactlyFromForm()
{
    const QByteArray data = R"({"n":123456789012345678901234567890,"f":1.0,"z":"x","a":[1,2]})";
    const QByteArray body = "room=dec&event=rawform&data=" + data.toPercentEncoding();
    WsFrame f;
    const HttpResponse r = emitAndReceive(body, "application/x-www-form-urlencoded", &f);
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(rawJsonValue(f.text.toUtf8(), "data"), data);
}

void TestBodyDecoding::absentDataIsNull()
{
    for (const QByteArray &body : {QByteArray(R"({"room":"dec","event":"nodata"})"),
                                   QByteArray(R"({"room":"dec","event":"nodata","data":null})")}) {
        WsFrame f;
        const HttpResponse r = emitAndReceive(body, "application/json", &f);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QVERIFY2(f.object.contains(u"data"_s), qPrintable(f.text));
        QCOMPARE(rawJsonValue(f.text.toUtf8(), "data"), QByteArray("null"));
    }
}

void TestBodyDecoding::nameLengths_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("status");

    const QString e = u"\u00e9"_s;         // 2 UTF-8 bytes
    const QString emoji = u"\U0001F600"_s; // 4 UTF-8 bytes, 2 UTF-16 units
    QTest::newRow("room 4000 ASCII") << u"room"_s << QString(4000, u'r') << 200;
    QTest::newRow("room 4001 ASCII") << u"room"_s << QString(4001, u'r') << 400;
    QTest::newRow("room 4000 non-ASCII") << u"room"_s << e.repeated(4000) << 200;
    QTest::newRow("room 4001 non-ASCII") << u"room"_s << e.repeated(4001) << 400;
    QTest::newRow("room 4000 emoji") << u"room"_s << emoji.repeated(4000) << 200;
    QTest::newRow("event 130 non-ASCII") << u"event"_s << e.repeated(130) << 200;
    QTest::newRow("event 131 non-ASCII") << u"event"_s << e.repeated(131) << 400;
    QTest::newRow("event 130 emoji") << u"event"_s << emoji.repeated(130) << 200;
    QTest::newRow("event 131 ASCII") << u"event"_s << QString(131, u'e') << 400;
    QTest::newRow("user 255 non-ASCII") << u"user"_s << u"\u00df"_s.repeated(255) << 200;
    QTest::newRow("user 256 non-ASCII") << u"user"_s << u"\u00df"_s.repeated(256) << 400;
    QTest::newRow("user 255 emoji") << u"user"_s << emoji.repeated(255) << 200;
    QTest::newRow("session 255 non-ASCII") << u"session"_s << u"\u00fc"_s.repeated(255) << 200;
    QTest::newRow("session 256 non-ASCII") << u"session"_s << u"\u00fc"_s.repeated(256) << 400;
    QTest::newRow("room 1") << u"room"_s << u"r"_s << 200;
    QTest::newRow("event 1") << u"event"_s << u"e"_s << 200;
}

void TestBodyDecoding::nameLengths()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(int, status);
    QByteArray path;
    QJsonObject body;
    if (field == u"room") {
        path = "/api/emit/room";
        body = {{u"room"_s, value}, {u"event"_s, u"len"_s}};
    } else if (field == u"event") {
        path = "/api/emit/room";
        body = {{u"room"_s, u"len-room"_s}, {u"event"_s, value}};
    } else if (field == u"user") {
        path = "/api/emit/user";
        body = {{u"user"_s, value}, {u"event"_s, u"len"_s}};
    } else {
        path = "/api/register";
        body = {{u"room"_s, u"r"_s}, {u"user"_s, u"u"_s}, {u"session"_s, value}};
    }
    const HttpResponse r = m_api->postJson(path, body);
    QVERIFY2(r.status == status, qPrintable(r.describe()));
    if (status == 400) {
        QCOMPARE(r.errorCode(), u"bad_request"_s);
        QVERIFY2(r.errorMessage().contains(field),
                 qPrintable(u"message does not name "_s % field % u": "_s % r.errorMessage()));
    }
    // The same limits hold for names inside a token (register).
    if (field == u"room" || field == u"user") {
        const HttpResponse reg = m_api->postJson("/api/register",
                                                 {{u"room"_s, field == u"room" ? value : u"r"_s},
                                                  {u"user"_s, field == u"user" ? value : u"u"_s},
                                                  {u"session"_s, u"s"_s}});
        QVERIFY2(reg.status == status, qPrintable(reg.describe()));
    }
}

// POST / follows the charset rules: invalid UTF-8 without charset is 400, an unknown
// charset 415, a declared ISO-8859-1 body is decoded; refusals push nothing.
void TestBodyDecoding::legacyPostRoot_charsetRules()
{
    WsClient legacy;
    QVERIFY(legacy.open(m_server->wsUrl(u"/"_s)));
    // the legacy client is counted before the refusals are tried
    QVERIFY(waitUntil([&] { return legacyPush(*m_api, R"({"warmup":1})") == u"Send to 1 clients"; },
                      3000));
    WsFrame f;
    QVERIFY(waitUntil([&] { return legacy.count() > 0; }, 3000));
    legacy.clear();
    const QJsonObject before = stableStats(stats(*m_api));

    struct Refusal
    {
        const char *name;
        QByteArray contentType; // empty: no Content-Type header
        QByteArray body;
        int status;
        QString code;
    };
    const QList<Refusal> refusals{
            {"invalid UTF-8, no Content-Type", {}, "caf\xE9 au lait", 400, u"bad_request"_s},
            {"invalid UTF-8, text/plain without charset", "text/plain", "caf\xE9 \xFF\xFE", 400,
             u"bad_request"_s},
            {"invalid UTF-8 in JSON, application/json", "application/json", "{\"m\":\"caf\xE9\"}",
             400, u"bad_request"_s},
            {"truncated UTF-8 sequence", "text/plain", "abc\xC3", 400, u"bad_request"_s},
            {"unknown charset", "text/plain; charset=bogus", "hello", 415,
             u"unsupported_media_type"_s},
            {"unknown charset, JSON body", "application/json; charset=bogus", R"({"a":1})", 415,
             u"unsupported_media_type"_s},
    };
    for (const Refusal &k : refusals) {
        const HttpResponse r = m_api->post("/", k.body, k.contentType);
        QVERIFY2(r.status == k.status,
                 qPrintable(QString::fromLatin1(k.name) % u": "_s % r.describe()));
        QVERIFY2(r.errorCode() == k.code,
                 qPrintable(QString::fromLatin1(k.name) % u": "_s % r.describe()));
        QVERIFY2(!r.errorMessage().isEmpty(), qPrintable(r.describe()));
        QVERIFY2(!r.body.contains("Send to"),
                 qPrintable(QString::fromLatin1(k.name) % u": "_s % r.describe()));
    }
    QVERIFY2(legacy.noFrameWithin(200),
             qPrintable(u"a refused POST / was pushed: "_s % legacy.frames().value(0).text));
    QCOMPARE(stableStats(stats(*m_api)), before);

    // A declared ISO-8859-1 body is decoded: 0xE9 is é, and the text (not JSON) is wrapped.
    HttpResponse r = m_api->post("/", "\xE9", "text/plain; charset=ISO-8859-1");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    QVERIFY(legacy.waitForAny(&f));
    QVERIFY2(f.isObject, qPrintable(f.text));
    QCOMPARE(f.object, (QJsonObject{{u"message"_s, u"\u00E9"_s}}));
    QCOMPARE(minifyJson(f.text.toUtf8()), QByteArray("{\"message\":\"\xC3\xA9\"}"));

    // ... and a windows-1252 JSON body is pushed as JSON, decoded.
    r = m_api->post("/", "{\"name\":\"Jos\xE9\"}", "application/json; charset=windows-1252");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"message"_s).toString(), u"Send to 1 clients"_s);
    QVERIFY(legacy.waitForAny(&f));
    QCOMPARE(f.object, (QJsonObject{{u"name"_s, u"Jos\u00E9"_s}}));
    QVERIFY(legacy.noFrameWithin(100));
}

QTEST_MAIN(TestBodyDecoding)
#include "tst_body_decoding.moc"
