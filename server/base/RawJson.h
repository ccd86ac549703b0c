#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QStringView>

// the `data` scanner (docs/API.md, "`data`"): QJsonDocument validates a body, then these helpers
// take the raw text of one member so that numbers and key order reach clients exactly as sent
// (QJsonDocument would turn 1.0 into 1 and round integers beyond 2^53). Not a JSON parser:
// the input must already be valid JSON.
namespace sb::rawjson {

// The value text of the top-level member `key` of a valid JSON object text, with whitespace
// outside strings removed; a null QByteArray when the member is absent. With duplicate
// keys the last one wins, as in QJsonObject.
QByteArray member(QByteArrayView objectText, QStringView key);

// The element texts of a valid JSON array text (each as written, not compacted); empty for
// an empty array or text that is not an array.
QList<QByteArrayView> elements(QByteArrayView arrayText);

// `text` with whitespace outside strings removed (text must be valid JSON).
QByteArray compact(QByteArrayView text);

// True when text is one valid JSON value (object, array, string, number, true/false/null),
// by QJsonDocument and the strict rules of isStrictJson() below.
bool isValidValue(QByteArrayView text, QString *error = nullptr);

// The byte offset of the first raw control character (a byte below 0x20) inside a string
// literal of text, or -1. Outside strings only the JSON whitespace \t \n \r may be below 0x20;
// any other such byte there is reported as well. RFC 8259 section 7 requires control
// characters in strings to be escaped; Qt 6.4's QJsonDocument accepts them raw, and text that
// is kept raw (`data`) would leave the server as invalid JSON (docs/API.md, "Request bodies").
qsizetype findControlCharacter(QByteArrayView text);

// The RFC 8259 rules Qt 6.4's QJsonDocument does not enforce, checked on text it accepted:
// no raw control characters (findControlCharacter), escapes only \" \\ \/ \b \f \n \r \t and
// \uXXXX (Qt takes "\q" as "q"), numbers with digits on both sides of a decimal point (Qt
// takes .5, 1. and 1.e5). True when text keeps them, else false with a sentence naming the
// first break and its byte offset. Every entrance of JSON text calls it after QJsonDocument:
// request bodies and form `data` (BodyDecoder), WebSocket frames, notification payloads.
bool isStrictJson(QByteArrayView text, QString *error = nullptr);

// A JSON string literal for s ("..." with the escapes RFC 8259 requires), in UTF-8: '"', '\\'
// and every control character below U+0020 are escaped (\b \f \n \r \t or \u00XX), so names
// with control characters still give valid JSON.
QByteArray quote(QStringView s);
// The same, appended to `out`.
void appendQuoted(QByteArray &out, QStringView s);

} // namespace sb::rawjson
