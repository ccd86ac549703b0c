#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QStringView>

// The `data` scanner of DESIGN.md: QJsonDocument validates a body, then these helpers take
// the raw text of one member so that numbers and key order reach clients exactly as sent
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

// True when text is one valid JSON value (object, array, string, number, true/false/null).
bool isValidValue(QByteArrayView text, QString *error = nullptr);

// A JSON string literal for s ("..." with the escapes RFC 8259 requires), in UTF-8.
QByteArray quote(QStringView s);
// The same, appended to `out`.
void appendQuoted(QByteArray &out, QStringView s);

} // namespace sb::rawjson
