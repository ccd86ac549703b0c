// Unit tests of sb::BodyDecoder and sb::FieldReader (docs/API.md, "Request bodies").
//
// QHttpServerRequest cannot be constructed publicly, so the decoder runs inside a tiny
// QAbstractHttpServer on 127.0.0.1 (port 0) that answers what it decoded as JSON. The test
// talks to it with raw HTTP over a real loopback QTcpSocket, spinning the event loop while it
// waits (client and server share the test's thread).
//
// The echo server's answer (200): {"form": bool, "fields": {KEY: {"has", "value", "raw"}},
// "reader": {"value", "isNull", "ok", "error"}} for the keys (?keys=a,b) and the FieldReader
// call (?op=name|optionalName|text|positiveInt|boolean|json&key=K&max=N&fallback=B) asked for.
// A decode failure is answered with the decoder's own status and error body.

#include "commands/BodyDecoder.h"
#include "commands/Validation.h"
#include "http/RequestBody.h"

#include <QAbstractHttpServer>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUrlQuery>
#include <QtTest>

using namespace Qt::StringLiterals;
using sb::BodyDecoder;
using sb::DecodedBody;
using sb::FieldReader;
using sb::HttpReply;

namespace {

class EchoServer final : public QAbstractHttpServer
{
public:
    int handled = 0;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        ++handled;
        HttpReply error;
        const std::optional<DecodedBody> body = sb::decodeRequestBody(request, &error);
        QByteArray answer;
        int status = 200;
        if (!body) {
            status = error.status;
            answer = error.body;
        } else {
            answer = QJsonDocument(describe(*body, request.query())).toJson(QJsonDocument::Compact);
        }
        QHttpServerResponder responder = makeResponder(request, socket);
        responder.write(answer, "application/json", QHttpServerResponder::StatusCode(status));
        return true;
    }

    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        makeResponder(request, socket).write(QHttpServerResponder::StatusCode::NotFound);
    }

private:
    static QJsonObject describe(const DecodedBody &body, const QUrlQuery &query)
    {
        QJsonObject fields;
        for (const QString &key : query.queryItemValue(u"keys"_s).split(u',', Qt::SkipEmptyParts)) {
            const QByteArray raw = body.rawJson(key);
            fields.insert(key,
                          QJsonObject{{u"has"_s, body.has(key)},
                                      {u"value"_s, body.value(key)},
                                      {u"raw"_s,
                                       raw.isNull() ? QJsonValue()
                                                    : QJsonValue(QString::fromUtf8(raw))}});
        }
        QJsonObject out{{u"form"_s, body.isForm()}, {u"fields"_s, fields}};

        const QString op = query.queryItemValue(u"op"_s);
        if (op.isEmpty())
            return out;
        const QString key = query.queryItemValue(u"key"_s, QUrl::FullyDecoded);
        const qint64 max = query.queryItemValue(u"max"_s).toLongLong();
        FieldReader reader(body);
        QJsonValue value;
        bool isNull = false;
        if (op == u"name" || op == u"optionalName" || op == u"text") {
            const QString s = op == u"name" ? reader.name(key, max)
                    : op == u"optionalName"
                    ? reader.optionalName(key, max)
                    : reader.text(key, query.queryItemValue(u"allowEmpty"_s) != u"0");
            value = s;
            isNull = s.isNull();
        } else if (op == u"positiveInt") {
            const std::optional<qint64> n =
                    reader.positiveInt(key, max, u"the configured maximum"_s);
            value = n ? QJsonValue(double(*n)) : QJsonValue();
            isNull = !n;
        } else if (op == u"boolean") {
            value = reader.boolean(key, query.queryItemValue(u"fallback"_s) == u"true");
        } else if (op == u"json") {
            value = QString::fromUtf8(reader.json(key));
        }
        out.insert(u"reader"_s,
                   QJsonObject{{u"value"_s, value},
                               {u"isNull"_s, isNull},
                               {u"ok"_s, reader.ok()},
                               {u"error"_s, reader.error()},
                               {u"replyStatus"_s, reader.ok() ? 0 : reader.commandError().status}});
        return out;
    }
};

struct Response
{
    int status = 0;
    QByteArray body;
    QString failure;

    QJsonObject object() const { return QJsonDocument::fromJson(body).object(); }
    QString errorCode() const
    {
        return object().value(u"error").toObject().value(u"code").toString();
    }
    QString errorMessage() const
    {
        return object().value(u"error").toObject().value(u"message").toString();
    }
    QJsonObject field(const QString &key) const
    {
        return object().value(u"fields").toObject().value(key).toObject();
    }
    QJsonObject reader() const { return object().value(u"reader").toObject(); }
    QByteArray describe() const
    {
        return QByteArray::number(status) + ' ' + body + ' ' + failure.toUtf8();
    }
    // What the FieldReader made of the field key: "ok", "error naming KEY" (its error says
    // which field), or what came instead (another HTTP status, an error about something else).
    QString outcome(const QString &key) const
    {
        if (status != 200)
            return u"HTTP "_s + QString::fromUtf8(describe());
        if (reader().value(u"ok").toBool())
            return u"ok"_s;
        const QString error = reader().value(u"error").toString();
        return error.contains(key) ? expectedOutcome(false, key) : u"error: "_s + error;
    }
    static QString expectedOutcome(bool ok, const QString &key)
    {
        return ok ? u"ok"_s : u"error naming "_s + key;
    }
};

// Reads one HTTP/1.1 response (Content-Length framed) from a raw socket.
Response exchange(quint16 port, const QByteArray &request)
{
    Response response;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    QElapsedTimer timer;
    timer.start();
    while (socket.state() != QAbstractSocket::ConnectedState && timer.elapsed() < 5000)
        QTest::qWait(2);
    if (socket.state() != QAbstractSocket::ConnectedState) {
        response.failure = u"cannot connect"_s;
        return response;
    }
    socket.write(request);
    QByteArray buffer;
    while (timer.elapsed() < 10000) {
        QTest::qWait(2);
        buffer += socket.readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            continue;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
        qint64 length = -1;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].left(colon).trimmed().toLower() == "content-length")
                length = lines[i].mid(colon + 1).trimmed().toLongLong();
        }
        if (length < 0) {
            response.failure = u"response without Content-Length"_s;
            return response;
        }
        if (buffer.size() - (end + 4) < length)
            continue;
        response.status = statusLine.value(1).toInt();
        response.body = buffer.mid(end + 4, length);
        return response;
    }
    response.failure = u"timeout; received: "_s + QString::fromLatin1(buffer.left(300));
    return response;
}

} // namespace

class TestBodyDecoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void jsonBody();
    void jsonContentTypeVariants_data();
    void jsonContentTypeVariants();
    void formBody();
    void formDataIsJsonText_data();
    void formDataIsJsonText();
    void formInvalidDataIsRejected();
    void noContentType_data();
    void noContentType();
    void jsonObjectSentAsFormIsJson();
    void unsupportedMediaTypes_data();
    void unsupportedMediaTypes();
    void declaredCharsets_data();
    void declaredCharsets();
    void invalidUtf8_data();
    void invalidUtf8();
    void invalidJson_data();
    void invalidJson();
    void badPercentEncoding_data();
    void badPercentEncoding();
    void controlCharactersAreInvalidJson_data();
    void controlCharactersAreInvalidJson();
    void otherLaxJsonIsInvalid_data();
    void otherLaxJsonIsInvalid();
    void escapedControlCharactersAreFine();
    void decodeWithoutHttp();
    void formFieldLimit_data();
    void formFieldLimit();
    void formOf131000FieldsIsRefused();
    void decodeJsonTextIsStrict();

    void nameRequiredMissingWrongType_data();
    void nameRequiredMissingWrongType();
    void nameLengthInCodePoints_data();
    void nameLengthInCodePoints();
    void optionalName();
    void textField();
    void positiveInt_data();
    void positiveInt();
    void boolean_data();
    void boolean();
    void jsonOfAbsentIsNull();

private:
    Response post(const QByteArray &pathAndQuery, const QByteArray &contentType,
                  const QByteArray &body, bool withContentType = true);
    Response postJson(const QByteArray &q, const QByteArray &body)
    {
        return post(q, "application/json", body);
    }
    Response postForm(const QByteArray &q, const QByteArray &body)
    {
        return post(q, "application/x-www-form-urlencoded", body);
    }
    Response postAs(bool form, const QByteArray &q, const QByteArray &body)
    {
        return form ? postForm(q, body) : postJson(q, body);
    }

    EchoServer m_server;
    quint16 m_port = 0;
};

void TestBodyDecoder::initTestCase()
{
    m_port = m_server.listen(QHostAddress::LocalHost, 0);
    QVERIFY(m_port != 0);
    // The harness itself works.
    const Response r = postJson("/?keys=a", R"({"a":1})");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(m_server.handled, 1);
}

Response TestBodyDecoder::post(const QByteArray &pathAndQuery, const QByteArray &contentType,
                               const QByteArray &body, bool withContentType)
{
    QByteArray request = "POST " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (withContentType)
        request += "Content-Type: " + contentType + "\r\n";
    request += "Content-Length: " + QByteArray::number(body.size())
            + "\r\nConnection: close\r\n\r\n" + body;
    return exchange(m_port, request);
}

void TestBodyDecoder::jsonBody()
{
    const Response r = postJson(
            "/?keys=room,event,data,n,missing",
            R"({"room":"hr:emp:1234","event":"ev","data":{ "b" : 1, "a" : 1.0, "big": 123456789012345678901234567890 },"n":5})");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.object().value(u"form").toBool(), false);
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), u"hr:emp:1234"_s);
    QCOMPARE(r.field(u"event"_s).value(u"value").toString(), u"ev"_s);
    QCOMPARE(r.field(u"n"_s).value(u"value").toInt(), 5);
    QCOMPARE(r.field(u"data"_s).value(u"raw").toString(),
             uR"({"b":1,"a":1.0,"big":123456789012345678901234567890})"_s);
    QCOMPARE(r.field(u"missing"_s).value(u"has").toBool(), false);
    QVERIFY(r.field(u"missing"_s).value(u"raw").isNull());
}

void TestBodyDecoder::jsonContentTypeVariants_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::newRow("plain") << "application/json"_ba;
    QTest::newRow("charset utf-8") << "application/json; charset=utf-8"_ba;
    QTest::newRow("upper case") << "Application/JSON;Charset=UTF-8"_ba;
    QTest::newRow("quoted charset") << R"(application/json; charset="UTF-8")"_ba;
}

void TestBodyDecoder::jsonContentTypeVariants()
{
    QFETCH(QByteArray, contentType);
    const Response r = post("/?keys=room", contentType, "{\"room\":\"caf\xc3\xa9\"}");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.object().value(u"form").toBool(), false);
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), u"café"_s);
}

void TestBodyDecoder::formBody()
{
    const Response r =
            postForm("/?keys=room,event,user,session,empty,data",
                     "room=hr%3Aemp%3A1234&event=Refresh+Employees&user=a%2Bb&session=x%20y%26z%3D1"
                     "&empty=&data=%7B%22b%22%3A1%2C%22a%22%3A1.0%7D");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.object().value(u"form").toBool(), true);
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), u"hr:emp:1234"_s);
    QCOMPARE(r.field(u"event"_s).value(u"value").toString(),
             u"Refresh Employees"_s);                                  // + is a space
    QCOMPARE(r.field(u"user"_s).value(u"value").toString(), u"a+b"_s); // %2B is a plus
    QCOMPARE(r.field(u"session"_s).value(u"value").toString(), u"x y&z=1"_s);
    QCOMPARE(r.field(u"empty"_s).value(u"has").toBool(), true);
    QCOMPARE(r.field(u"empty"_s).value(u"value").toString(), QString());
    QCOMPARE(r.field(u"data"_s).value(u"raw").toString(), uR"({"b":1,"a":1.0})"_s);
}

void TestBodyDecoder::formDataIsJsonText_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<QString>("raw");
    QTest::newRow("object, key order and 1.0 kept")
            << "%7B%22z%22%3A1.0%2C%22a%22%3A2%7D"_ba << uR"({"z":1.0,"a":2})"_s;
    QTest::newRow("spaces as + outside strings dropped") << "%5B+1+%2C+2+%5D"_ba << u"[1,2]"_s;
    QTest::newRow("+ inside a string is a space") << "%22a+b%22"_ba << uR"("a b")"_s;
    QTest::newRow("string") << "%22hello%22"_ba << uR"("hello")"_s;
    QTest::newRow("huge integer") << "123456789012345678901234567890"_ba
                                  << u"123456789012345678901234567890"_s;
    QTest::newRow("null") << "null"_ba << u"null"_s;
    QTest::newRow("true") << "true"_ba << u"true"_s;
    QTest::newRow("unicode") << "%7B%22k%22%3A%22%C3%A9%22%7D"_ba << uR"({"k":"é"})"_s;
}

void TestBodyDecoder::formDataIsJsonText()
{
    QFETCH(QByteArray, encoded);
    QFETCH(QString, raw);
    const Response r = postForm("/?keys=data&op=json&key=data", "room=r&data=" + encoded);
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.object().value(u"form").toBool(), true);
    QCOMPARE(r.field(u"data"_s).value(u"raw").toString(), raw);
    QCOMPARE(r.reader().value(u"value").toString(), raw);
}

void TestBodyDecoder::formInvalidDataIsRejected()
{
    for (const QByteArray &bad : {"%7Bnope"_ba, "hello"_ba, "%5B1%2C%5D%5D"_ba, "1%2C2"_ba}) {
        const Response r = postForm("/?keys=data", "room=r&data=" + bad);
        QVERIFY2(r.status == 400, r.describe().constData());
        QVERIFY2(r.errorMessage().contains(u"data"), r.describe().constData());
        QVERIFY(r.errorCode() == u"invalid_json" || r.errorCode() == u"bad_request");
    }
}

void TestBodyDecoder::noContentType_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("form");
    QTest::addColumn<QString>("room");
    QTest::newRow("starts with {")
            << R"({"room":"json-room","data":[1, 2]})"_ba << false << u"json-room"_s;
    QTest::newRow("form") << "room=form+room&data=%5B1%2C2%5D"_ba << true << u"form room"_s;
}

void TestBodyDecoder::noContentType()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, form);
    QFETCH(QString, room);
    const Response r = post("/?keys=room,data", QByteArray(), body, false);
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.object().value(u"form").toBool(), form);
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), room);
    QCOMPARE(r.field(u"data"_s).value(u"raw").toString(), u"[1,2]"_s);
}

void TestBodyDecoder::jsonObjectSentAsFormIsJson()
{
    // curl -d '{"room":...}' sends application/x-www-form-urlencoded.
    const Response r = postForm("/?keys=room,data", R"({"room":"r1","data":{"b":2,"a":1.50}})");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.object().value(u"form").toBool(), false);
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), u"r1"_s);
    QCOMPARE(r.field(u"data"_s).value(u"raw").toString(), uR"({"b":2,"a":1.50})"_s);
}

void TestBodyDecoder::unsupportedMediaTypes_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("text/plain, JSON body") << "text/plain"_ba
                                           << R"({"room":"r"})"_ba;
    QTest::newRow("text/plain; charset=utf-8") << "text/plain; charset=utf-8"_ba
                                               << "room=r"_ba;
    QTest::newRow("application/xml") << "application/xml"_ba
                                     << "<room>r</room>"_ba;
    QTest::newRow("multipart/form-data") << "multipart/form-data; boundary=x"_ba
                                         << "--x--"_ba;
    QTest::newRow("application/octet-stream") << "application/octet-stream"_ba
                                              << R"({"room":"r"})"_ba;
    // A charset the decoder does not know (formerly the test unknownCharset).
    QTest::newRow("unknownCharset json") << "application/json; charset=no-such-charset-42"_ba
                                         << R"({"room":"r"})"_ba;
    QTest::newRow("unknownCharset form") << "application/x-www-form-urlencoded; charset=klingon"_ba
                                         << "room=r"_ba;
}

void TestBodyDecoder::unsupportedMediaTypes()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    const Response r = post("/?keys=room", contentType, body);
    QVERIFY2(r.status == 415, r.describe().constData());
    QCOMPARE(r.errorCode(), u"unsupported_media_type"_s);
    QVERIFY(!r.errorMessage().isEmpty());
}

void TestBodyDecoder::declaredCharsets_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("room");
    QTest::addColumn<QString>("dataRaw");
    QTest::newRow("json ISO-8859-1")
            << "application/json; charset=ISO-8859-1"_ba
            << "{\"room\":\"caf\xe9\",\"data\":\"\xfc\xdf\"}"_ba << u"café"_s << uR"("üß")"_s;
    QTest::newRow("json windows-1252 euro") << "application/json; charset=windows-1252"_ba
                                            << "{\"room\":\"\x80 5\",\"data\":{\"p\":\"\x80\"}}"_ba
                                            << u"€ 5"_s << uR"({"p":"€"})"_s;
    QTest::newRow("json quoted charset") << "application/json; charset=\"iso-8859-1\""_ba
                                         << "{\"room\":\"\xc4\"}"_ba << u"Ä"_s << QString();
    QTest::newRow("form ISO-8859-1") << "application/x-www-form-urlencoded; charset=ISO-8859-1"_ba
                                     << "room=caf%E9&data=%22%FC%22"_ba << u"café"_s << uR"("ü")"_s;
    QTest::newRow("form windows-1252")
            << "application/x-www-form-urlencoded; charset=windows-1252"_ba
            << "room=%80+%E9&data=%7B%22p%22%3A%22%80%22%7D"_ba << u"€ é"_s << uR"({"p":"€"})"_s;
    QTest::newRow("form windows-1252 raw byte")
            << "application/x-www-form-urlencoded; charset=windows-1252"_ba
            << "room=\x80"_ba << u"€"_s << QString();
}

void TestBodyDecoder::declaredCharsets()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, room);
    QFETCH(QString, dataRaw);
    const Response r = post("/?keys=room,data", contentType, body);
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), room);
    if (!dataRaw.isEmpty())
        QCOMPARE(r.field(u"data"_s).value(u"raw").toString(), dataRaw);
}

void TestBodyDecoder::invalidUtf8_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    const auto json = [](const char *name, const QByteArray &body) {
        QTest::newRow(name) << "application/json"_ba << body;
    };
    const auto form = [](const char *name, const QByteArray &body) {
        QTest::newRow(name) << "application/x-www-form-urlencoded"_ba << body;
    };
    json("json latin-1 byte", "{\"room\":\"caf\xe9\"}"_ba);
    json("json 0xff", "{\"room\":\"\xff\"}"_ba);
    json("json truncated sequence", "{\"room\":\"\xc3\"}"_ba);
    json("json overlong /", "{\"room\":\"\xc0\xaf\"}"_ba);
    QTest::newRow("json, no content type") << QByteArray() << "{\"room\":\"\xe9\"}"_ba;
    json("json, cut sequence after the object", "{\"room\":\"r\"}\xc3"_ba);
    QTest::newRow("json charset=utf-8, cut sequence at the end")
            << "application/json; charset=utf-8"_ba
            << "{\"room\":\"r\"}\xe2\x82"_ba;
    form("form %E9 in the middle", "room=caf%E9s"_ba);
    form("form %E9", "room=caf%E9"_ba);
    form("form %C3 alone", "room=%C3"_ba);
    form("form raw byte", "room=\xe9"_ba);
    form("form invalid key", "r%FFom=x"_ba);
}

void TestBodyDecoder::invalidUtf8()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    const Response r = post("/?keys=room", contentType, body, !contentType.isEmpty());
    QVERIFY2(r.status == 400, r.describe().constData());
    QVERIFY(r.errorCode() == u"bad_request" || r.errorCode() == u"invalid_json");
    QVERIFY(!r.errorMessage().isEmpty());
}

void TestBodyDecoder::invalidJson_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("code");
    QTest::newRow("truncated") << R"({"room":)"_ba << u"invalid_json"_s;
    QTest::newRow("trailing garbage") << R"({"room":"r"} x)"_ba << u"invalid_json"_s;
    QTest::newRow("single quotes") << R"({'room':'r'})"_ba << u"invalid_json"_s;
    QTest::newRow("empty body") << QByteArray() << u"invalid_json"_s;
    QTest::newRow("array") << R"([{"room":"r"}])"_ba << QString();
    QTest::newRow("string") << R"("room")"_ba << QString();
    QTest::newRow("number") << "42"_ba << QString();
}

void TestBodyDecoder::invalidJson()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, code);
    const Response r = postJson("/?keys=room", body);
    QVERIFY2(r.status == 400, r.describe().constData());
    if (!code.isEmpty())
        QCOMPARE(r.errorCode(), code);
    else
        QVERIFY(r.errorCode() == u"invalid_json" || r.errorCode() == u"bad_request");
    QVERIFY(!r.errorMessage().isEmpty());
}

void TestBodyDecoder::badPercentEncoding_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("%ZZ") << "room=%ZZ"_ba;
    QTest::newRow("trailing %") << "room=abc%"_ba;
    QTest::newRow("one hex digit") << "room=%4"_ba;
    QTest::newRow("in the key") << "ro%G0m=x"_ba;
    QTest::newRow("in data") << "room=r&data=%7"_ba;
}

void TestBodyDecoder::badPercentEncoding()
{
    QFETCH(QByteArray, body);
    const Response r = postForm("/?keys=room", body);
    QVERIFY2(r.status == 400, r.describe().constData());
    QCOMPARE(r.errorCode(), u"bad_request"_s);
}

void TestBodyDecoder::controlCharactersAreInvalidJson_data()
{
    // RFC 8259 section 7: control characters in strings must be escaped. Qt 6.4's
    // QJsonDocument takes them raw; the decoder must not (docs/API.md, "Request bodies").
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("expected"); // a part of the message
    const QByteArray json = "application/json"_ba;
    const QByteArray form = "application/x-www-form-urlencoded"_ba;
    QTest::newRow("NUL in data") << json
                                 << QByteArray(R"({"room":"r","event":"e","data":"a)"
                                               "\0"
                                               R"(b"})",
                                               37)
                                 << u"U+0000 at offset 33"_s;
    QTest::newRow("raw newline in data")
            << json << "{\"room\":\"r\",\"event\":\"e\",\"data\":{\"k\":\"a\nb\"}}"_ba
            << u"U+000a at offset 38"_s;
    QTest::newRow("raw newline in room")
            << json << "{\"room\":\"r\n\",\"event\":\"e\"}"_ba << u"U+000a at offset 10"_s;
    QTest::newRow("U+001F in a key")
            << json << "{\"ro\x1fom\":\"r\"}"_ba << u"U+001f at offset 4"_s;
    QTest::newRow("ESC, no Content-Type")
            << QByteArray() << "{\"room\":\"\x1b[2J\"}"_ba << u"U+001b"_s;
    QTest::newRow("JSON sent as a form (curl -d)")
            << form << "{\"room\":\"r\",\"data\":\"a\tb\"}"_ba << u"U+0009"_s;
    QTest::newRow("ISO-8859-1 JSON") << "application/json; charset=ISO-8859-1"_ba
                                     << "{\"room\":\"caf\xe9\x01\"}"_ba << u"U+0001"_s;
    QTest::newRow("form data with %00")
            << form << "room=r&event=e&data=%22a%00b%22"_ba << u"U+0000 at offset 2"_s;
    QTest::newRow("form data with a raw newline in an object")
            << form << "room=r&data=%7B%22k%22%3A%22a%0Ab%22%7D"_ba << u"U+000a at offset 7"_s;
    QTest::newRow("form payload (compat) with %0D")
            << form << "payload=%22%0D%22"_ba << u"U+000d"_s;
}

void TestBodyDecoder::controlCharactersAreInvalidJson()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, expected);
    const Response r = post("/?keys=room,data", contentType, body, !contentType.isEmpty());
    QVERIFY2(r.status == 400, r.describe().constData());
    QCOMPARE(r.errorCode(), u"invalid_json"_s);
    QVERIFY2(r.errorMessage().contains(u"control character"), r.describe().constData());
    QVERIFY2(r.errorMessage().contains(expected), r.describe().constData());
}

void TestBodyDecoder::otherLaxJsonIsInvalid_data()
{
    // Also taken by QJsonDocument, also invalid JSON out when `data` is kept raw.
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("expected");
    const QByteArray json = "application/json"_ba;
    QTest::newRow("escape \\q") << json << R"({"room":"r","data":"a\qb"})"_ba
                                << u"escape sequence \\q at offset 21"_s;
    QTest::newRow("number .5") << json << R"({"room":"r","data":.5})"_ba
                               << u"number .5 at offset 19"_s;
    QTest::newRow("number 1.") << json << R"({"room":"r","data":[1.]})"_ba
                               << u"number 1. at offset 20"_s;
    QTest::newRow("form data 1.e5") << "application/x-www-form-urlencoded"_ba
                                    << "room=r&data=1.e5"_ba << u"number 1.e5 at offset 0"_s;
}

void TestBodyDecoder::otherLaxJsonIsInvalid()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, expected);
    const Response r = post("/?keys=room,data", contentType, body);
    QVERIFY2(r.status == 400, r.describe().constData());
    QCOMPARE(r.errorCode(), u"invalid_json"_s);
    QVERIFY2(r.errorMessage().contains(expected), r.describe().constData());
}

void TestBodyDecoder::escapedControlCharactersAreFine()
{
    Response r = postJson("/?keys=room,data", R"({"room":"a\nb\u0000","data":"x\ty\u001f"})");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), QStringView(u"a\nb\0", 4).toString());
    QCOMPARE(r.field(u"data"_s).value(u"raw").toString(), uR"("x\ty\u001f")"_s);
    // Outside strings, \t \n \r are whitespace.
    r = postJson("/?keys=room", "{\r\n\t\"room\" : \"r\"\n}"_ba);
    QVERIFY2(r.status == 200, r.describe().constData());
    // In a form, a name with %0A is a name with a newline (not JSON).
    r = postForm("/?keys=room", "room=a%0Ab"_ba);
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.field(u"room"_s).value(u"value").toString(), u"a\nb"_s);
}

void TestBodyDecoder::decodeWithoutHttp()
{
    sb::CommandError error;
    auto body = BodyDecoder::decode("application/x-www-form-urlencoded"_ba,
                                    "room=a+b&data=%5B1%2C+2%5D&room=c"_ba, &error);
    QVERIFY(body);
    QVERIFY(body->isForm());
    QCOMPARE(body->value(u"room").toString(), u"c"_s); // the last one wins
    QCOMPARE(body->rawJson(u"data"), "[1,2]"_ba);
    QVERIFY(body->has(u"data"));
    QVERIFY(!body->has(u"event"));
    QVERIFY(body->value(u"event").isUndefined());

    body = BodyDecoder::decode(QByteArray(), R"({"room":"r","data":{"a" : 1.0}})"_ba, &error);
    QVERIFY(body);
    QVERIFY(!body->isForm());
    QCOMPARE(body->rawJson(u"data"), R"({"a":1.0})"_ba);

    body = BodyDecoder::decode("application/json"_ba, QByteArray("{\"a\":\"\0\"}", 9), &error);
    QVERIFY(!body);
    QCOMPARE(error.status, 400);
    QCOMPARE(error.code, u"invalid_json"_s);
}

void TestBodyDecoder::formFieldLimit_data()
{
    QTest::addColumn<int>("fields");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("1000") << 1000 << true;
    QTest::newRow("1001") << 1001 << false;
    QTest::newRow("5000") << 5000 << false;
}

void TestBodyDecoder::formFieldLimit()
{
    QFETCH(int, fields);
    QFETCH(bool, accepted);
    QCOMPARE(sb::kMaxFormFields, 1000);
    QByteArray body = "room=r";
    for (int i = 1; i < fields; ++i)
        body += "&f" + QByteArray::number(i) + '=' + QByteArray::number(i);
    body += "&&&"; // empty pairs are not fields
    const Response r = postForm("/?keys=room,f999", body);
    if (accepted) {
        QVERIFY2(r.status == 200, r.describe().left(300).constData());
        QCOMPARE(r.field(u"room"_s).value(u"value").toString(), u"r"_s);
        QCOMPARE(r.field(u"f999"_s).value(u"value").toString(), u"999"_s);
    } else {
        QVERIFY2(r.status == 400, r.describe().left(300).constData());
        QCOMPARE(r.errorCode(), u"bad_request"_s);
        QVERIFY2(r.errorMessage().contains(u"1000"), r.describe().constData());
    }
}

void TestBodyDecoder::formOf131000FieldsIsRefused()
{
    // The review's body: 131,000 fields took 4.6 s to decode (QJsonObject inserts, each O(n)).
    // Refused at the limit now; bench/decode measures the decoding rate.
    QByteArray body;
    for (int i = 0; i < 131000; ++i)
        body += (i ? "&f" : "f") + QByteArray::number(i) + "=x";
    sb::CommandError error;
    const auto decoded = BodyDecoder::decode("application/x-www-form-urlencoded"_ba, body, &error);
    QVERIFY(!decoded);
    QCOMPARE(error.status, 400);
    QVERIFY2(error.message.contains(u"more than 1000 fields"), qPrintable(error.message));
    // The same over HTTP.
    const Response r = postForm("/?keys=f0", body);
    QVERIFY2(r.status == 400, r.describe().left(300).constData());
    QVERIFY2(r.errorMessage().contains(u"1000"), r.describe().constData());
}

void TestBodyDecoder::decodeJsonTextIsStrict()
{
    // Database notifications are read like JSON bodies (docs/API.md, "The payload").
    QString why;
    QVERIFY(BodyDecoder::decodeJsonText(R"({"room":"r","data":"\n"})"_ba, u"the payload"_s, &why));
    QVERIFY(!BodyDecoder::decodeJsonText("{\"room\":\"r\",\"data\":\"\n\"}"_ba, u"the payload"_s,
                                         &why));
    QVERIFY2(why.startsWith(u"the payload is not valid JSON: unescaped control character U+000a"),
             qPrintable(why));
    QVERIFY(!BodyDecoder::decodeJsonText(R"({"data":"\q"})"_ba, u"the payload"_s, &why));
    QVERIFY2(why.contains(u"escape"), qPrintable(why));
}

void TestBodyDecoder::nameRequiredMissingWrongType_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("form");
    QTest::newRow("json missing") << R"({"event":"e"})"_ba << false;
    QTest::newRow("json number") << R"({"room":5})"_ba << false;
    QTest::newRow("json null") << R"({"room":null})"_ba << false;
    QTest::newRow("json array") << R"({"room":["a"]})"_ba << false;
    QTest::newRow("json object") << R"({"room":{"a":1}})"_ba << false;
    QTest::newRow("json bool") << R"({"room":true})"_ba << false;
    QTest::newRow("json empty") << R"({"room":""})"_ba << false;
    QTest::newRow("form missing") << "event=e"_ba << true;
    QTest::newRow("form empty") << "room=&event=e"_ba << true;
}

void TestBodyDecoder::nameRequiredMissingWrongType()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, form);
    const Response r = postAs(form, "/?op=name&key=room&max=4000", body);
    QCOMPARE(r.outcome(u"room"_s), Response::expectedOutcome(false, u"room"_s));
    QCOMPARE(r.reader().value(u"replyStatus").toInt(), 400);
}

void TestBodyDecoder::nameLengthInCodePoints_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("valid");
    QString emoji;
    emoji = u"😀"_s;
    QTest::newRow("4000 é") << QString(4000, u'é') << true;
    QTest::newRow("4001 é") << QString(4001, u'é') << false;
    QTest::newRow("3999 é + surrogate pair") << QString(3999, u'é') + emoji << true;
    QTest::newRow("4000 é + surrogate pair") << QString(4000, u'é') + emoji << false;
    QTest::newRow("4000 x") << QString(4000, u'x') << true;
    QTest::newRow("4001 x") << QString(4001, u'x') << false;
    QString emoji4000;
    for (int i = 0; i < 4000; ++i)
        emoji4000 += emoji;
    QTest::newRow("4000 surrogate pairs") << emoji4000 << true;
}

void TestBodyDecoder::nameLengthInCodePoints()
{
    QFETCH(QString, value);
    QFETCH(bool, valid);
    const QByteArray q = "/?op=name&key=room&max=4000";
    const QByteArray json =
            QJsonDocument(QJsonObject{{u"room"_s, value}}).toJson(QJsonDocument::Compact);
    const QByteArray form = "room=" + value.toUtf8().toPercentEncoding();
    for (const Response &r : {postJson(q, json), postForm(q, form)}) {
        QCOMPARE(r.outcome(u"room"_s), Response::expectedOutcome(valid, u"room"_s));
        if (valid)
            QCOMPARE(r.reader().value(u"value").toString(), value);
    }
}

void TestBodyDecoder::optionalName()
{
    const QString ok = Response::expectedOutcome(true, u"user"_s);
    const QString refused = Response::expectedOutcome(false, u"user"_s);
    const QByteArray q = "/?op=optionalName&key=user&max=255";
    Response r = postJson(q, R"({"room":"r"})");
    QCOMPARE(r.outcome(u"user"_s), ok);
    QCOMPARE(r.reader().value(u"isNull").toBool(), true);

    r = postJson(q, R"({"user":"SCOTT"})");
    QCOMPARE(r.outcome(u"user"_s), ok);
    QCOMPARE(r.reader().value(u"value").toString(), u"SCOTT"_s);

    const QByteArray tooLong = "{\"user\":\"" + QByteArray(256, 'u') + "\"}";
    QCOMPARE(postJson(q, tooLong).outcome(u"user"_s), refused);
    QCOMPARE(postJson(q, R"({"user":7})").outcome(u"user"_s), refused);
}

void TestBodyDecoder::textField()
{
    const QString ok = Response::expectedOutcome(true, u"text"_s);
    const QString refused = Response::expectedOutcome(false, u"text"_s);
    QCOMPARE(postJson("/?op=text&key=text&allowEmpty=1", R"({"text":""})").outcome(u"text"_s), ok);
    QCOMPARE(postJson("/?op=text&key=text&allowEmpty=0", R"({"text":""})").outcome(u"text"_s),
             refused);
    QCOMPARE(postJson("/?op=text&key=text", R"({"other":"x"})").outcome(u"text"_s), refused);
    Response r = postJson("/?op=text&key=text", R"({"text":{"type":"x"}})");
    QCOMPARE(r.reader().value(u"ok").toBool(), false);
    r = postForm("/?op=text&key=text", "text=%7B%22type%22%3A%22x%22%7D");
    QCOMPARE(r.outcome(u"text"_s), ok);
    QCOMPARE(r.reader().value(u"value").toString(), uR"({"type":"x"})"_s);
}

void TestBodyDecoder::positiveInt_data()
{
    QTest::addColumn<bool>("form");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QJsonValue>("value"); // null: absent

    QTest::newRow("json absent") << false << R"({"room":"r"})"_ba << true << QJsonValue();
    QTest::newRow("json null") << false << R"({"ttl":null})"_ba << true << QJsonValue();
    QTest::newRow("json 1") << false << R"({"ttl":1})"_ba << true << QJsonValue(1);
    QTest::newRow("json 3600") << false << R"({"ttl":3600})"_ba << true << QJsonValue(3600);
    QTest::newRow("json max") << false << R"({"ttl":604800})"_ba << true << QJsonValue(604800);
    QTest::newRow("json 0") << false << R"({"ttl":0})"_ba << false << QJsonValue();
    QTest::newRow("json -1") << false << R"({"ttl":-1})"_ba << false << QJsonValue();
    QTest::newRow("json 1.5") << false << R"({"ttl":1.5})"_ba << false << QJsonValue();
    QTest::newRow("json \"12\"") << false << R"({"ttl":"12"})"_ba << false << QJsonValue();
    QTest::newRow("json true") << false << R"({"ttl":true})"_ba << false << QJsonValue();
    QTest::newRow("json over max") << false << R"({"ttl":604801})"_ba << false << QJsonValue();
    QTest::newRow("json 1e30") << false << R"({"ttl":1e30})"_ba << false << QJsonValue();
    QTest::newRow("form 12") << true << "ttl=12"_ba << true << QJsonValue(12);
    QTest::newRow("form absent") << true << "room=r"_ba << true << QJsonValue();
    QTest::newRow("form 0") << true << "ttl=0"_ba << false << QJsonValue();
    QTest::newRow("form -1") << true << "ttl=-1"_ba << false << QJsonValue();
    QTest::newRow("form 1.5") << true << "ttl=1.5"_ba << false << QJsonValue();
    QTest::newRow("form abc") << true << "ttl=abc"_ba << false << QJsonValue();
    QTest::newRow("form over max") << true << "ttl=604801"_ba << false << QJsonValue();
}

void TestBodyDecoder::positiveInt()
{
    QFETCH(bool, form);
    QFETCH(QByteArray, body);
    QFETCH(bool, ok);
    QFETCH(QJsonValue, value);
    const Response r = postAs(form, "/?op=positiveInt&key=ttl&max=604800", body);
    QCOMPARE(r.outcome(u"ttl"_s), Response::expectedOutcome(ok, u"ttl"_s));
    if (ok) {
        QCOMPARE(r.reader().value(u"isNull").toBool(), value.isNull());
        if (!value.isNull())
            QCOMPARE(r.reader().value(u"value").toInteger(), value.toInteger());
    } else {
        QCOMPARE(r.reader().value(u"replyStatus").toInt(), 400);
    }
}

void TestBodyDecoder::boolean_data()
{
    QTest::addColumn<bool>("form");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("fallback");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<bool>("value");
    QTest::newRow("json true") << false << R"({"publish":true})"_ba << false << true << true;
    QTest::newRow("json false") << false << R"({"publish":false})"_ba << true << true << false;
    QTest::newRow("json absent, fallback false") << false << R"({})"_ba << false << true << false;
    QTest::newRow("json absent, fallback true") << false << R"({})"_ba << true << true << true;
    QTest::newRow("json 1") << false << R"({"publish":1})"_ba << false << false << false;
    QTest::newRow("json \"yes\"") << false << R"({"publish":"maybe"})"_ba << false << false
                                  << false;
    QTest::newRow("form true") << true << "publish=true"_ba << false << true << true;
    QTest::newRow("form 1") << true << "publish=1"_ba << false << true << true;
    QTest::newRow("form false") << true << "publish=false"_ba << true << true << false;
    QTest::newRow("form 0") << true << "publish=0"_ba << true << true << false;
    QTest::newRow("form maybe") << true << "publish=maybe"_ba << false << false << false;
}

void TestBodyDecoder::boolean()
{
    QFETCH(bool, form);
    QFETCH(QByteArray, body);
    QFETCH(bool, fallback);
    QFETCH(bool, ok);
    QFETCH(bool, value);
    const QByteArray q =
            "/?op=boolean&key=publish&fallback=" + QByteArray(fallback ? "true" : "false");
    const Response r = postAs(form, q, body);
    QCOMPARE(r.outcome(u"publish"_s), Response::expectedOutcome(ok, u"publish"_s));
    if (ok)
        QCOMPARE(r.reader().value(u"value").toBool(), value);
}

void TestBodyDecoder::jsonOfAbsentIsNull()
{
    Response r = postJson("/?op=json&key=data", R"({"room":"r"})");
    QVERIFY2(r.status == 200, r.describe().constData());
    QCOMPARE(r.reader().value(u"value").toString(), u"null"_s);
    r = postForm("/?op=json&key=data", "room=r");
    QCOMPARE(r.reader().value(u"value").toString(), u"null"_s);
    r = postJson("/?op=json&key=data", R"({"data":null})");
    QCOMPARE(r.reader().value(u"value").toString(), u"null"_s);
    r = postJson("/?op=json&key=data", R"({"data":""})");
    QCOMPARE(r.reader().value(u"value").toString(), uR"("")"_s);
}

QTEST_GUILESS_MAIN(TestBodyDecoder)
#include "tst_body_decoder.moc"
