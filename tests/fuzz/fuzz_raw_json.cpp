// Fuzzes the raw JSON scanner of server/base/RawJson (docs/fuzzing.md): member, elements,
// compact, quote, findControlCharacter, isStrictJson, isValidValue.
//
// Any bytes: nothing may crash, hang or read out of bounds. Text that QJsonDocument and
// isStrictJson both accept is checked against QJsonDocument (differential): compact() and every
// member() and element() parse back to the value QJsonDocument read.

#include "FuzzSupport.h"
#include "base/RawJson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace rawjson = sb::rawjson;

namespace {

// The value of one JSON text, read the way the server reads `data` (wrapped in an array, so
// that scalars parse with Qt 6.4 too).
bool parseValue(QByteArrayView text, QJsonValue *value)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson('[' + text.toByteArray() + ']', &error);
    if (error.error != QJsonParseError::NoError || doc.array().size() != 1)
        return false;
    *value = doc.array().at(0);
    return true;
}

void checkQuote(QByteArrayView text)
{
    const QString s = QString::fromUtf8(text);
    const QByteArray quoted = rawjson::quote(s);
    for (char c : quoted)
        SB_FUZZ_CHECK(uchar(c) >= 0x20);
    SB_FUZZ_CHECK(rawjson::isStrictJson(quoted));
    QJsonValue back;
    SB_FUZZ_CHECK(parseValue(quoted, &back));
    SB_FUZZ_CHECK(back.isString());
    SB_FUZZ_CHECK(back.toString() == s);
    QByteArray appended = "x";
    rawjson::appendQuoted(appended, s);
    SB_FUZZ_CHECK(appended.sliced(1) == quoted);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text = sbfuzz::bytes(data, size);

    // Any bytes.
    const QByteArray compacted = rawjson::compact(text);
    SB_FUZZ_CHECK(compacted.size() <= text.size());
    const QList<QByteArrayView> elements = rawjson::elements(text);
    for (QByteArrayView e : elements)
        SB_FUZZ_CHECK(e.data() >= text.data() && e.data() + e.size() <= text.data() + text.size());
    (void)rawjson::member(text, u"data");
    const qsizetype control = rawjson::findControlCharacter(text);
    SB_FUZZ_CHECK(control >= -1 && control < text.size());
    if (control >= 0)
        SB_FUZZ_CHECK(uchar(text[control]) < 0x20);
    QString strict;
    SB_FUZZ_CHECK(rawjson::isStrictJson(text, &strict) == strict.isEmpty());
    if (control >= 0)
        SB_FUZZ_CHECK(!strict.isEmpty());
    QString why;
    const bool valid = rawjson::isValidValue(text, &why);
    SB_FUZZ_CHECK(valid == why.isEmpty());
    if (valid)
        SB_FUZZ_CHECK(strict.isEmpty());
    checkQuote(text);

    // Valid JSON by QJsonDocument and RFC 8259: the scanner agrees with QJsonDocument.
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !strict.isEmpty())
        return 0;
    SB_FUZZ_CHECK(valid);
    QJsonValue whole;
    SB_FUZZ_CHECK(parseValue(compacted, &whole));
    SB_FUZZ_CHECK(rawjson::isStrictJson(compacted));
    if (doc.isObject()) {
        const QJsonObject object = doc.object();
        SB_FUZZ_CHECK(whole.toObject() == object);
        for (auto it = object.begin(); it != object.end(); ++it) {
            const QByteArray member = rawjson::member(text, it.key());
            SB_FUZZ_CHECK(!member.isNull());
            SB_FUZZ_CHECK(rawjson::isStrictJson(member));
            QJsonValue value;
            SB_FUZZ_CHECK(parseValue(member, &value));
            SB_FUZZ_CHECK(value == it.value());
        }
        if (!object.contains(u"\x01absent"))
            SB_FUZZ_CHECK(rawjson::member(text, u"\x01absent").isNull());
        SB_FUZZ_CHECK(elements.isEmpty());
    } else if (doc.isArray()) {
        const QJsonArray array = doc.array();
        SB_FUZZ_CHECK(whole.toArray() == array);
        SB_FUZZ_CHECK(elements.size() == array.size());
        for (qsizetype i = 0; i < elements.size(); ++i) {
            QJsonValue value;
            SB_FUZZ_CHECK(parseValue(elements[i], &value));
            SB_FUZZ_CHECK(value == array.at(i));
        }
        SB_FUZZ_CHECK(rawjson::member(text, u"data").isNull());
    }
    return 0;
}
