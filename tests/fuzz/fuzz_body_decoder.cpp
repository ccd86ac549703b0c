// Fuzzes request body decoding (server/commands/BodyDecoder, FieldReader; docs/fuzzing.md): JSON
// and form bodies, charsets, the JSON text inside form `data`. Chunked framing and the head
// are the request guard's (not fuzzed here).
//
// Input: the first byte picks the Content-Type from kContentTypes; the last entry means the
// Content-Type is the text up to the first newline. The rest is the body.
// Checked: whatever is decoded is valid JSON where it is kept raw (`data`, `payload`), matches
// what QJsonDocument read for JSON bodies, and the field readers never crash.

#include "FuzzSupport.h"
#include "base/Names.h"
#include "base/RawJson.h"
#include "commands/BodyDecoder.h"
#include "commands/Validation.h"
#include "http/HttpResponse.h"

#include <QJsonArray>
#include <QJsonDocument>

using sb::BodyDecoder;
using sb::DecodedBody;
using sb::FieldReader;

namespace {

const char *const kContentTypes[] = {
        "",
        "application/json",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
        "application/json; charset=windows-1252",
        "application/x-www-form-urlencoded; charset=\"UTF-8\"",
        "application/json; charset=UTF-16LE",
        "application/x-www-form-urlencoded; charset=Shift_JIS",
        "text/plain",
        nullptr, // custom: the first line of the input
};
constexpr size_t kChoices = sizeof kContentTypes / sizeof *kContentTypes;

const QStringView kKeys[] = {u"room",    u"event", u"data",    u"payload",    u"user",
                             u"session", u"ttl",   u"publish", u"connection", u"text"};

void readFields(const DecodedBody &body)
{
    for (QStringView key : kKeys) {
        const bool has = body.has(key);
        const QJsonValue value = body.value(key);
        SB_FUZZ_CHECK(has == !value.isUndefined());
        const QByteArray raw = body.rawJson(key);
        if (!raw.isNull()) {
            SB_FUZZ_CHECK(has);
            QString why;
            SB_FUZZ_CHECK(sb::rawjson::isValidValue(raw, &why));
            SB_FUZZ_CHECK(sb::rawjson::findControlCharacter(raw) < 0);
            if (!body.isForm()) {
                // The raw text is the value QJsonDocument read.
                const QJsonDocument back = QJsonDocument::fromJson('[' + raw + ']');
                SB_FUZZ_CHECK(back.array().at(0) == value);
            }
        }
    }
    FieldReader f(body);
    const QString room = f.name(u"room", sb::names::kRoomMax);
    if (f.ok())
        SB_FUZZ_CHECK(sb::names::checkLength(u"room", room, sb::names::kRoomMax));
    (void)f.optionalName(u"user", sb::names::kUserMax);
    (void)f.text(u"connection", false);
    (void)f.positiveInt(u"ttl", 604800, QStringLiteral("token_max_ttl"));
    (void)f.boolean(u"publish", false);
    const QByteArray json = f.json(u"data");
    SB_FUZZ_CHECK(sb::rawjson::isValidValue(json));
    if (!f.ok()) {
        SB_FUZZ_CHECK(!f.error().isEmpty());
        SB_FUZZ_CHECK(f.commandError().status == 400);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    QByteArrayView rest = sbfuzz::bytes(data + 1, size - 1);
    QByteArray contentType;
    if (const char *chosen = kContentTypes[data[0] % kChoices]) {
        contentType = chosen;
    } else {
        const qsizetype newline = rest.indexOf('\n');
        if (newline < 0)
            return 0;
        contentType = rest.first(newline).toByteArray();
        rest = rest.sliced(newline + 1);
    }
    const QByteArray body = rest.toByteArray();

    QByteArray mediaType, charset;
    BodyDecoder::parseContentType(contentType, &mediaType, &charset);
    SB_FUZZ_CHECK(mediaType == mediaType.toLower());

    sb::CommandError error;
    const std::optional<DecodedBody> decoded = BodyDecoder::decode(contentType, body, &error);
    if (decoded) {
        readFields(*decoded);
    } else {
        SB_FUZZ_CHECK(error.status == 400 || error.status == 415);
        SB_FUZZ_CHECK(!error.message.isEmpty());
        SB_FUZZ_CHECK(QJsonDocument::fromJson(sb::HttpReply::error(error).body).isObject());
    }

    // The same bytes as a database notification would be read.
    QString why;
    const std::optional<DecodedBody> json =
            BodyDecoder::decodeJsonText(body, QStringLiteral("the payload"), &why);
    if (json) {
        SB_FUZZ_CHECK(sb::rawjson::isStrictJson(body));
        readFields(*json);
    } else {
        SB_FUZZ_CHECK(!why.isEmpty());
    }
    return 0;
}
