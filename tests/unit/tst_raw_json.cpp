// Unit tests of sb::rawjson: `data` reaches clients as the JSON text the caller sent.

#include "base/RawJson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace Qt::StringLiterals;
namespace rawjson = sb::rawjson;

class TestRawJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void memberExact_data();
    void memberExact();
    void memberAbsent_data();
    void memberAbsent();
    void memberDuplicateKeysLastWins_data();
    void memberDuplicateKeysLastWins();
    void memberEscapedAndNonAsciiKeys_data();
    void memberEscapedAndNonAsciiKeys();
    void memberOfEveryKey();
    void compact_data();
    void compact();
    void isValidValue_data();
    void isValidValue();
    void isValidValueIsStrict_data();
    void isValidValueIsStrict();
    void findControlCharacter_data();
    void findControlCharacter();
    void everyControlCharacterIsFound();
    void strictError_data();
    void strictError();
    void quote_data();
    void quote();
    void quoteEscapesEveryControlCharacter();
    void elements_data();
    void elements();
};

void TestRawJson::memberExact_data()
{
    QTest::addColumn<QByteArray>("object");
    QTest::addColumn<QByteArray>("expected");

    // A row whose object is {"data":<value>} exactly: the member is <value> as written.
    const auto kept = [](const char *name, const QByteArray &value) {
        QTest::newRow(name) << R"({"data":)" + value + '}' << value;
    };

    // Numbers are never rewritten.
    kept("integer beyond 2^64", "123456789012345678901234567890"_ba);
    QTest::newRow("negative huge") << R"({"data":-98765432109876543210987654321,"x":1})"_ba
                                   << "-98765432109876543210987654321"_ba;
    kept("1.0", "1.0"_ba);
    QTest::newRow("1.0 with spaces") << R"({"data" : 1.0 })"_ba
                                     << "1.0"_ba;
    kept("1e5", "1e5"_ba);
    QTest::newRow("1E+05") << R"({"data":1E+05,"y":2})"_ba
                           << "1E+05"_ba;
    kept("-0", "-0"_ba);
    kept("-0.0e-0", "-0.0e-0"_ba);
    kept("2^53 + 1", "9007199254740993"_ba);
    kept("0.1 digits", "0.10000000000000000555"_ba);

    // Objects keep their key order; arrays and nesting are kept.
    kept("key order", R"({"z":1,"a":2,"m":3})"_ba);
    kept("nested numbers", R"({"b":1.0,"a":[1e5,-0,{"n":123456789012345678901234567890}]})"_ba);
    kept("nested arrays", R"([[1,[2,[3,[]]]],{},[{}]])"_ba);
    kept("empty object", "{}"_ba);
    QTest::newRow("empty array with space") << R"({"data":[ ]})"_ba
                                            << "[]"_ba;

    // Strings: escapes untouched, whitespace inside kept.
    kept("escaped quotes and backslashes", R"("say \"hi\" \\ back\\slash \\")"_ba);
    kept("unicode escapes", R"("\u00e9\ud83d\ude00\u0000\/")"_ba);
    QTest::newRow("raw utf-8") << "{\"data\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}"_ba
                               << "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""_ba;
    QTest::newRow("structural chars inside string") << R"({"data":"}{,:[]\"","x":1})"_ba
                                                    << R"("}{,:[]\"")"_ba;
    QTest::newRow("string ending in escaped backslash") << R"({"data":"end\\", "x":"y"})"_ba
                                                        << R"("end\\")"_ba;
    QTest::newRow("whitespace inside strings kept")
            << "{\"data\":{ \"k\" : \"a  b\\t c\" , \"l\" : [ \" \" ] }}"_ba
            << R"({"k":"a  b\t c","l":[" "]})"_ba;
    kept("empty string", R"("")"_ba);
    QTest::newRow("nested string with braces") << R"({"data":{"s":"{\"a\":[1,2]}"},"b":0})"_ba
                                               << R"({"s":"{\"a\":[1,2]}"})"_ba;

    // Literals, position in the object, whitespace outside strings.
    QTest::newRow("true at the end") << R"({"a":1,"data":true})"_ba
                                     << "true"_ba;
    QTest::newRow("false in the middle") << R"({"a":1,"data":false,"b":2})"_ba
                                         << "false"_ba;
    kept("null value is present", "null"_ba);
    QTest::newRow("first of many") << R"({"data":[1],"b":{"data":2},"c":3})"_ba
                                   << "[1]"_ba;
    QTest::newRow("pretty printed")
            << "{\n  \"room\": \"r\",\n  \"data\" :\n\t{\r\n    \"b\" : 1.0 ,\n    \"a\" : [ 1 , 2 ]\n  }\n}\n"_ba
            << R"({"b":1.0,"a":[1,2]})"_ba;
    QTest::newRow("leading whitespace before the object") << "  \n{ \"data\" : 7 }  "_ba
                                                          << "7"_ba;
    QTest::newRow("number before closing brace with space") << R"({"x":"y","data":42 })"_ba
                                                            << "42"_ba;
}

void TestRawJson::memberExact()
{
    QFETCH(QByteArray, object);
    QFETCH(QByteArray, expected);
    // Test data sanity: the object is valid JSON.
    QJsonParseError error;
    QJsonDocument::fromJson(object, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);

    const QByteArray raw = rawjson::member(object, u"data");
    QVERIFY(!raw.isNull());
    QCOMPARE(raw, expected);
    QVERIFY(rawjson::isValidValue(raw));
}

void TestRawJson::memberAbsent_data()
{
    QTest::addColumn<QByteArray>("object");
    QTest::newRow("empty object") << "{}"_ba;
    QTest::newRow("other keys") << R"({"a":1,"b":"data"})"_ba;
    QTest::newRow("nested key of the same name") << R"({"a":{"data":1}})"_ba;
    QTest::newRow("deeply nested") << R"({"a":[{"b":{"data":[1]}}],"c":{"d":{"data":2}}})"_ba;
    QTest::newRow("key-like text inside a string") << R"({"x":"\"data\":1","y":"data"})"_ba;
    QTest::newRow("prefix and suffix keys") << R"({"dat":1,"datas":2,"Data":3,"data ":4})"_ba;
}

void TestRawJson::memberAbsent()
{
    QFETCH(QByteArray, object);
    const QByteArray raw = rawjson::member(object, u"data");
    QVERIFY2(raw.isNull(), raw.constData());
}

void TestRawJson::memberDuplicateKeysLastWins_data()
{
    QTest::addColumn<QByteArray>("object");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("two") << R"({"data":1,"data":2})"_ba
                         << "2"_ba;
    QTest::newRow("three with others") << R"({"data":{"a":1},"x":0,"data":[3, 4],"y":1})"_ba
                                       << "[3,4]"_ba;
    QTest::newRow("nested duplicate ignored") << R"({"a":{"data":1},"data":2,"b":{"data":3}})"_ba
                                              << "2"_ba;
    QTest::newRow("escaped duplicate") << R"({"data":1,"d\u0061ta":"second"})"_ba
                                       << R"("second")"_ba;
}

void TestRawJson::memberDuplicateKeysLastWins()
{
    QFETCH(QByteArray, object);
    QFETCH(QByteArray, expected);
    QCOMPARE(rawjson::member(object, u"data"), expected);
    // The same member QJsonObject sees.
    const QJsonValue v = QJsonDocument::fromJson(object).object().value(u"data");
    QCOMPARE(QJsonDocument::fromJson("[" + expected + "]").array().at(0), v);
}

void TestRawJson::memberEscapedAndNonAsciiKeys_data()
{
    QTest::addColumn<QByteArray>("object");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("d\\u0061ta") << R"({"d\u0061ta":5})"_ba << u"data"_s << "5"_ba;
    QTest::newRow("\\u0064ata at the end")
            << R"({"a":1,"\u0064ata":[1]})"_ba << u"data"_s << "[1]"_ba;
    QTest::newRow("escaped quote in key") << R"({"da\"ta":1,"data":2})"_ba << u"da\"ta"_s << "1"_ba;
    QTest::newRow("escaped backslash in key") << R"({"a\\b":true})"_ba << u"a\\b"_s << "true"_ba;
    QTest::newRow("non-ascii key raw") << "{\"kl\xc3\xa9\":\"v\"}"_ba << u"klé"_s << R"("v")"_ba;
    QTest::newRow("non-ascii key escaped") << R"({"kl\u00e9":"v"})"_ba << u"klé"_s << R"("v")"_ba;
    QTest::newRow("emoji key escaped") << R"({"\ud83d\ude00":0})"_ba << u"😀"_s << "0"_ba;
    QTest::newRow("key with spaces") << R"({"my key" : "x"})"_ba << u"my key"_s << R"("x")"_ba;
    QTest::newRow("other members named room")
            << R"({"room":"r","event":"e"})"_ba << u"event"_s << R"("e")"_ba;
}

void TestRawJson::memberEscapedAndNonAsciiKeys()
{
    QFETCH(QByteArray, object);
    QFETCH(QString, key);
    QFETCH(QByteArray, expected);
    QCOMPARE(rawjson::member(object, key), expected);
}

void TestRawJson::memberOfEveryKey()
{
    // Every member of a realistic body comes back, whatever its position.
    const QByteArray body =
            R"({ "room" : "hr:emp:1234", "event":"RefreshEmployees" ,"data":{"id":1234,"salary":5000.00},)"
            R"( "ttl": 3600, "publish" : false, "list":[ "a" , "b" ] })"_ba;
    QCOMPARE(rawjson::member(body, u"room"), R"("hr:emp:1234")"_ba);
    QCOMPARE(rawjson::member(body, u"event"), R"("RefreshEmployees")"_ba);
    QCOMPARE(rawjson::member(body, u"data"), R"({"id":1234,"salary":5000.00})"_ba);
    QCOMPARE(rawjson::member(body, u"ttl"), "3600"_ba);
    QCOMPARE(rawjson::member(body, u"publish"), "false"_ba);
    QCOMPARE(rawjson::member(body, u"list"), R"(["a","b"])"_ba);
    QVERIFY(rawjson::member(body, u"missing").isNull());
}

void TestRawJson::compact_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("already compact") << R"({"a":[1,2]})"_ba
                                     << R"({"a":[1,2]})"_ba;
    QTest::newRow("spaces tabs newlines") << "[ 1,\t{ \"a\" :\r\n \"x y\" } ,\n 2.50 ]"_ba
                                          << R"([1,{"a":"x y"},2.50])"_ba;
    QTest::newRow("escaped quote keeps string open") << R"([ "\" } ", "  " ])"_ba
                                                     << R"(["\" } ","  "])"_ba;
    QTest::newRow("escaped backslash then quote") << R"({ "a" : "\\" , "b" : " " })"_ba
                                                  << R"({"a":"\\","b":" "})"_ba;
    QTest::newRow("scalar string") << R"( " a " )"_ba
                                   << R"(" a ")"_ba;
    QTest::newRow("number") << " 1e5 "_ba
                            << "1e5"_ba;
    QTest::newRow("empty object") << "{ }"_ba
                                  << "{}"_ba;
}

void TestRawJson::compact()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    QCOMPARE(rawjson::compact(text), expected);
}

void TestRawJson::isValidValue_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("valid");
    for (const char *ok : {"0", "-0", "1.5e10", "123456789012345678901234567890", "\"s\"", "\"\"",
                           "true", "false", "null", "{}", "[]", "{\"a\":[1,{\"b\":null}]}",
                           "[1,\"two\",3.0]", " 1 ", "\"\\u00e9\"", "\n{ \"a\" : 1 }\n"})
        QTest::addRow("valid %s", ok) << QByteArray(ok) << true;
    for (const char *bad : {"",
                            " ",
                            "1,2",
                            "1 2",
                            "{",
                            "}",
                            "[",
                            "{\"a\":}",
                            "{\"a\" 1}",
                            "tru",
                            "nul",
                            "'s'",
                            "\"unterminated",
                            "1]",
                            "],[",
                            "[1],[2]",
                            "{\"a\":1}}",
                            "NaN",
                            "abc",
                            "{a:1}",
                            "\"a\"\"b\""})
        QTest::addRow("invalid %s", bad) << QByteArray(bad) << false;
}

void TestRawJson::isValidValue()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, valid);
    QString error;
    QCOMPARE(rawjson::isValidValue(text, &error), valid);
    if (valid)
        QVERIFY(error.isEmpty());
    else
        QVERIFY(!error.isEmpty());
    QCOMPARE(rawjson::isValidValue(text), valid); // error pointer optional
}

void TestRawJson::isValidValueIsStrict_data()
{
    // What Qt 6.4's QJsonDocument accepts but RFC 8259 does not (docs/API.md, "Request
    // bodies"): kept raw, such text would leave the server as invalid JSON.
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("NUL in a string") << QByteArray("\"a\0b\"", 5);
    QTest::newRow("raw newline in a string") << "\"a\nb\""_ba;
    QTest::newRow("raw tab in a string") << "{\"k\":\"a\tb\"}"_ba;
    QTest::newRow("U+001F in a key") << "{\"a\x1f\":1}"_ba;
    QTest::newRow("backslash + raw newline") << "\"a\\\nb\""_ba;
    QTest::newRow("unknown escape \\q") << R"("a\qb")"_ba;
    QTest::newRow("escape \\'") << R"(["a\'"])"_ba;
    QTest::newRow("escape \\U0041") << R"("\U0041")"_ba;
    QTest::newRow(".5") << "[.5]"_ba;
    QTest::newRow("-.5") << R"({"a":-.5})"_ba;
    QTest::newRow("1.") << "1."_ba;
    QTest::newRow("1.e5") << "[1.e5]"_ba;
}

void TestRawJson::isValidValueIsStrict()
{
    QFETCH(QByteArray, text);
    // The premise: Qt's parser takes it (else QJsonDocument alone would do).
    QJsonParseError parseError;
    QJsonDocument::fromJson("[" + text + "]", &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);

    QString error;
    QVERIFY(!rawjson::isValidValue(text, &error));
    QVERIFY2(error.contains(u"offset"), qPrintable(error));
}

void TestRawJson::findControlCharacter_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qsizetype>("offset");
    QTest::newRow("empty") << QByteArray() << qsizetype(-1);
    QTest::newRow("plain") << R"({"a":"b","c":[1,2.5,true]})"_ba << qsizetype(-1);
    QTest::newRow("whitespace outside strings") << "{\n\t\"a\" :\r\n 1 }\n"_ba << qsizetype(-1);
    QTest::newRow("escaped controls") << R"({"a":"\n\t\u0000\u001f\\"})"_ba << qsizetype(-1);
    QTest::newRow("NUL") << QByteArray("{\"data\":\"a\0b\"}", 14) << qsizetype(10);
    QTest::newRow("newline") << "{\"data\":\"a\nb\"}"_ba << qsizetype(10);
    QTest::newRow("tab") << "\"\t\""_ba << qsizetype(1);
    QTest::newRow("in a key") << "{\"a\rb\":1}"_ba << qsizetype(3);
    QTest::newRow("after a backslash") << "[\"a\\\nb\"]"_ba << qsizetype(4);
    QTest::newRow("after \\\\ (not an escape)") << "[\"\\\\\x01\"]"_ba << qsizetype(4);
    QTest::newRow("U+0001 outside strings") << "[1,\x01 2]"_ba << qsizetype(3);
    QTest::newRow("second string") << "[\"ok\",\"\\\"\",\"x\x1b\"]"_ba << qsizetype(13);
    QTest::newRow("DEL and UTF-8 are not control characters")
            << "[\"\x7f caf\xc3\xa9 \xe2\x80\xa8\"]"_ba << qsizetype(-1);
    QTest::newRow("unterminated string") << "\"abc"_ba << qsizetype(-1);
    QTest::newRow("lone backslash at the end") << "\"abc\\"_ba << qsizetype(-1);
}

void TestRawJson::findControlCharacter()
{
    QFETCH(QByteArray, text);
    QFETCH(qsizetype, offset);
    QCOMPARE(rawjson::findControlCharacter(text), offset);
    if (offset >= 0) {
        QVERIFY(uchar(text.at(offset)) < 0x20);
        QVERIFY(!rawjson::isStrictJson(text));
    }
}

void TestRawJson::everyControlCharacterIsFound()
{
    for (int c = 0; c < 0x20; ++c) {
        QByteArray text = R"({"room":"r","data":"a)"_ba;
        const qsizetype at = text.size();
        text += char(c);
        text += R"(b"})";
        QCOMPARE(rawjson::findControlCharacter(text), at);
        QString why;
        QVERIFY(!rawjson::isStrictJson(text, &why));
        QVERIFY2(why.contains(u"U+%1"_s.arg(c, 4, 16, QLatin1Char('0'))), qPrintable(why));
        QVERIFY2(why.contains(u"offset %1"_s.arg(at)), qPrintable(why));
        QVERIFY(!rawjson::isValidValue(text));
    }
}

void TestRawJson::strictError_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected"); // empty: valid; else a part of the message
    for (const char *ok : {"0", "-0", "-0.0e-0", "1E+05", "123456789012345678901234567890",
                           "[1,-2,3.25,4e9]", R"({"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"})",
                           R"({"1.":".5","\u0041":1})", "true", "null", "\n[ 1 ,\t2 ]\r\n"})
        QTest::addRow("valid %s", ok) << QByteArray(ok) << QString();
    QTest::newRow("control") << "[\"a\x02\"]"_ba << u"control character U+0002 at offset 3"_s;
    QTest::newRow("escape") << R"(["ab\q"])"_ba << u"escape sequence \\q at offset 4"_s;
    QTest::newRow("short \\u") << R"(["\u12"])"_ba << u"escape sequence \\u12 at offset 2"_s;
    QTest::newRow("number .5") << R"({"a":.5})"_ba << u"number .5 at offset 5"_s;
    QTest::newRow("number 1.") << "[0,1.]"_ba << u"number 1. at offset 3"_s;
    QTest::newRow("number 1.e5") << "1.e5"_ba << u"number 1.e5 at offset 0"_s;
    QTest::newRow("number 01") << "[01]"_ba << u"number 01 at offset 1"_s;
    QTest::newRow("number +1") << "[+1]"_ba << QString(); // not a number token: Qt refuses it
    QTest::newRow("number 1e") << "[1e]"_ba << u"number 1e at offset 1"_s;
}

void TestRawJson::strictError()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    QString why;
    const bool strict = rawjson::isStrictJson(text, &why);
    QCOMPARE(strict, why.isEmpty());
    if (expected.isEmpty())
        QVERIFY2(why.isEmpty(), qPrintable(why));
    else
        QVERIFY2(why.contains(expected), qPrintable(why));
}

void TestRawJson::quote_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QByteArray>("expected"); // empty: only check the round trip
    QTest::newRow("plain") << u"plain"_s << R"("plain")"_ba;
    QTest::newRow("empty") << QString() << R"("")"_ba;
    QTest::newRow("quote") << u"a\"b"_s << R"("a\"b")"_ba;
    QTest::newRow("backslash") << u"a\\b"_s << R"("a\\b")"_ba;
    QTest::newRow("newline") << u"a\nb"_s << R"("a\nb")"_ba;
    QTest::newRow("tab and cr") << u"\t\r"_s << QByteArray();
    QTest::newRow("control chars") << QString::fromUtf8("\x01\x1f\x7f") << QByteArray();
    QTest::newRow("non-ascii") << u"café 😀 €"_s << QByteArray();
    QTest::newRow("json lookalike") << u"{\"a\":1}"_s << R"("{\"a\":1}")"_ba;
    QTest::newRow("room name") << u"hr:emp:1234"_s << R"("hr:emp:1234")"_ba;
}

void TestRawJson::quote()
{
    QFETCH(QString, input);
    QFETCH(QByteArray, expected);
    const QByteArray quoted = rawjson::quote(input);
    if (!expected.isEmpty())
        QCOMPARE(quoted, expected);
    QVERIFY(quoted.startsWith('"') && quoted.endsWith('"'));
    for (char c : quoted)
        QVERIFY2(uchar(c) >= 0x20, "raw control character in a JSON string");
    QVERIFY(rawjson::isValidValue(quoted));
    const QJsonArray parsed = QJsonDocument::fromJson("[" + quoted + "]").array();
    QCOMPARE(parsed.size(), 1);
    QCOMPARE(parsed.at(0).toString(), input);
}

void TestRawJson::quoteEscapesEveryControlCharacter()
{
    // Names may hold control characters (escaped in a JSON body, or in a form): every JSON
    // the server writes with them must stay valid (the message log, /api/log, frames).
    QString name = u"room"_s;
    for (char16_t c = 0; c < 0x20; ++c)
        name += QChar(c);
    name += u"\u007f\u2028\u2029\"\\end"_s;
    QByteArray out = R"({"room":)"_ba;
    rawjson::appendQuoted(out, name);
    out += '}';
    for (char c : out)
        QVERIFY2(uchar(c) >= 0x20, "raw control character in a JSON string");
    QCOMPARE(rawjson::findControlCharacter(out), -1);
    QString why;
    QVERIFY2(rawjson::isStrictJson(out, &why), qPrintable(why));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(out, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(doc.object().value(u"room").toString(), name);
    QCOMPARE(rawjson::member(out, u"room"), rawjson::quote(name));
}

void TestRawJson::elements_data()
{
    QTest::addColumn<QByteArray>("array");
    QTest::addColumn<QList<QByteArray>>("expected");
    QTest::newRow("empty") << "[]"_ba << QList<QByteArray>{};
    QTest::newRow("spaces") << " [ ] "_ba << QList<QByteArray>{};
    QTest::newRow("scalars") << "[1,2.50,-3e9,true,null]"_ba
                             << QList<QByteArray>{"1", "2.50", "-3e9", "true", "null"};
    QTest::newRow("big number") << "[123456789012345678901234567890]"_ba
                                << QList<QByteArray>{"123456789012345678901234567890"};
    QTest::newRow("strings with brackets")
            << R"(["a,]", "b\"]", "{"])"_ba << QList<QByteArray>{R"("a,]")", R"("b\"]")", R"("{")"};
    QTest::newRow("objects and arrays")
            << R"([{"a":[1,{"b":"]"}]}, [[]], {} ])"_ba
            << QList<QByteArray>{R"({"a":[1,{"b":"]"}]})", "[[]]", "{}"};
    QTest::newRow("not an array") << R"({"a":1})"_ba << QList<QByteArray>{};
}

void TestRawJson::elements()
{
    QFETCH(QByteArray, array);
    QFETCH(QList<QByteArray>, expected);
    QList<QByteArray> got;
    for (QByteArrayView e : rawjson::elements(array))
        got.append(e.toByteArray());
    QCOMPARE(got, expected);
}

QTEST_GUILESS_MAIN(TestRawJson)
#include "tst_raw_json.moc"
