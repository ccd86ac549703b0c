#include "commands/BodyDecoder.h"

#include "base/RawJson.h"

#include <QJsonDocument>
#include <QStringDecoder>

namespace sb {

namespace {

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

QString notUtf8(const QString &what)
{
    return QStringLiteral("%1 is not valid UTF-8; declare its charset in Content-Type (for "
                          "example charset=ISO-8859-1)")
            .arg(what);
}

std::optional<QString> decodeBytes(const QByteArray &bytes, const QByteArray &charset,
                                   const QString &what, CommandError *error)
{
    if (charset.isEmpty()) {
        // Stateless: a sequence cut off at the end is an error, not silently dropped.
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        QString text = decoder(bytes);
        if (decoder.hasError()) {
            *error = CommandError{400, QStringLiteral("bad_request"), notUtf8(what)};
            return std::nullopt;
        }
        return text;
    }
    QStringDecoder decoder(charset.constData(), QStringDecoder::Flag::Stateless);
    if (!decoder.isValid()) {
        *error = CommandError{415, QStringLiteral("unsupported_media_type"),
                              QStringLiteral("charset '%1' is not supported")
                                      .arg(QString::fromLatin1(charset.left(60)))};
        return std::nullopt;
    }
    QString text = decoder(bytes);
    if (decoder.hasError()) {
        *error = CommandError{400, QStringLiteral("bad_request"),
                              QStringLiteral("%1 is not valid %2")
                                      .arg(what, QString::fromLatin1(charset.left(60)))};
        return std::nullopt;
    }
    return text;
}

// The fields of one form body, decoded with one QStringDecoder (opening one per field is
// costly for charsets that ICU converts).
class FieldDecoder
{
public:
    explicit FieldDecoder(const QByteArray &charset)
        : m_charset(charset),
          m_decoder(charset.isEmpty()
                            ? QStringDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless)
                            : QStringDecoder(charset.constData(), QStringDecoder::Flag::Stateless))
    { }

    // nullopt: not valid in the charset (`what` names the field in *error), or an unknown
    // charset.
    template<typename What>
    std::optional<QString> operator()(const QByteArray &bytes, What what, CommandError *error)
    {
        if (!m_decoder.isValid()) {
            *error = CommandError{415, QStringLiteral("unsupported_media_type"),
                                  QStringLiteral("charset '%1' is not supported")
                                          .arg(QString::fromLatin1(m_charset.left(60)))};
            return std::nullopt;
        }
        m_decoder.resetState();
        QString text = m_decoder(bytes);
        if (!m_decoder.hasError())
            return text;
        *error = CommandError{
                400, QStringLiteral("bad_request"),
                m_charset.isEmpty()
                        ? notUtf8(what())
                        : QStringLiteral("%1 is not valid %2")
                                  .arg(what(), QString::fromLatin1(m_charset.left(60)))};
        return std::nullopt;
    }

private:
    QByteArray m_charset;
    QStringDecoder m_decoder;
};

} // namespace

QByteArray DecodedBody::rawJson(QStringView key) const
{
    if (m_form)
        return m_formJson.value(key.toString());
    if (!m_fields.contains(key))
        return {};
    return rawjson::member(m_jsonText, key);
}

void BodyDecoder::parseContentType(const QByteArray &value, QByteArray *mediaType,
                                   QByteArray *charset)
{
    const QList<QByteArray> parts = value.split(';');
    *mediaType = parts.value(0).trimmed().toLower();
    charset->clear();
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QByteArray param = parts[i].trimmed();
        const qsizetype eq = param.indexOf('=');
        if (eq < 0 || param.left(eq).trimmed().toLower() != "charset")
            continue;
        QByteArray v = param.mid(eq + 1).trimmed();
        if (v.size() >= 2 && v.startsWith('"') && v.endsWith('"'))
            v = v.mid(1, v.size() - 2);
        *charset = v;
    }
}

std::optional<QString> BodyDecoder::decodeText(const QByteArray &contentType,
                                               const QByteArray &body, CommandError *error)
{
    QByteArray mediaType, charset;
    parseContentType(contentType, &mediaType, &charset);
    return decodeBytes(body, charset, QStringLiteral("the body"), error);
}

std::optional<DecodedBody> BodyDecoder::decodeJsonText(const QByteArray &utf8, const QString &what,
                                                       QString *error)
{
    DecodedBody decoded;
    decoded.m_jsonText = utf8;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(decoded.m_jsonText, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = utf8.trimmed().isEmpty()
                ? QStringLiteral("%1 is empty; send a JSON object").arg(what)
                : QStringLiteral("%1 is not valid JSON: %2 at offset %3")
                          .arg(what, parseError.errorString())
                          .arg(parseError.offset);
        return std::nullopt;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("%1 must be a JSON object").arg(what);
        return std::nullopt;
    }
    // QJsonDocument takes raw control characters in strings, "\q" and 1. as valid; kept raw,
    // they would leave the server as invalid JSON (the message log, /api/log, clients).
    if (QString why; !rawjson::isStrictJson(decoded.m_jsonText, &why)) {
        *error = QStringLiteral("%1 is not valid JSON: %2").arg(what, why);
        return std::nullopt;
    }
    decoded.m_fields = doc.object();
    return decoded;
}

namespace {

// Whether a body of this media type is a form (else JSON); nullopt: a type not taken (415).
std::optional<bool> isFormBody(const QByteArray &mediaType, const QByteArray &body,
                               CommandError *error)
{
    if (mediaType.isEmpty()) {
        qsizetype i = 0;
        while (i < body.size() && QByteArrayView(" \t\r\n").contains(body[i]))
            ++i;
        return !(i < body.size() && body[i] == '{');
    }
    if (mediaType == "application/x-www-form-urlencoded") {
        // curl -d sends JSON with this type unless told otherwise: a body that is a JSON
        // object is read as JSON (a form body never starts with '{' and parses as JSON).
        const QByteArray trimmed = body.trimmed();
        return !(trimmed.startsWith('{') && QJsonDocument::fromJson(trimmed).isObject());
    }
    if (mediaType == "application/json")
        return false;
    *error = CommandError{415, QStringLiteral("unsupported_media_type"),
                          QStringLiteral("Content-Type %1 is not supported; send "
                                         "application/json or "
                                         "application/x-www-form-urlencoded")
                                  .arg(QString::fromLatin1(mediaType.left(100)))};
    return std::nullopt;
}

// A form pair's name and value: '+' is a space, every '%' starts two hex digits.
bool unescapeFormPair(QByteArray *rawKey, QByteArray *rawValue, CommandError *error)
{
    for (const QByteArray *part : {rawKey, rawValue}) {
        for (qsizetype i = 0; i < part->size(); ++i) {
            if (part->at(i) == '%'
                && (i + 2 >= part->size() || !isHex(part->at(i + 1)) || !isHex(part->at(i + 2)))) {
                *error = CommandError{
                        400, QStringLiteral("bad_request"),
                        QStringLiteral("form field '%1' has an invalid percent-encoding")
                                .arg(QString::fromLatin1(rawKey->left(60)))};
                return false;
            }
        }
    }
    rawKey->replace('+', ' ');
    rawValue->replace('+', ' ');
    *rawKey = QByteArray::fromPercentEncoding(*rawKey);
    *rawValue = QByteArray::fromPercentEncoding(*rawValue);
    return true;
}

} // namespace

std::optional<DecodedBody> BodyDecoder::decode(const QByteArray &contentType,
                                               const QByteArray &body, CommandError *error)
{
    QByteArray mediaType, charset;
    parseContentType(contentType, &mediaType, &charset);
    const std::optional<bool> form = isFormBody(mediaType, body, error);
    if (!form)
        return std::nullopt;
    if (!*form) {
        const auto text = decodeBytes(body, charset, QStringLiteral("the body"), error);
        if (!text)
            return std::nullopt;
        QString why;
        auto json = decodeJsonText(charset.isEmpty() ? body : text->toUtf8(),
                                   QStringLiteral("the body"), &why);
        if (!json)
            *error = CommandError{400, QStringLiteral("invalid_json"), why};
        return json;
    }
    DecodedBody decoded;
    decoded.m_form = true;
    if (!decodeForm(body, charset, &decoded, error))
        return std::nullopt;
    return decoded;
}

// application/x-www-form-urlencoded, in one pass over the body: linear in its size.
bool BodyDecoder::decodeForm(const QByteArray &body, const QByteArray &charset,
                             DecodedBody *decoded, CommandError *error)
{
    FieldDecoder decodeField(charset);
    qsizetype fields = 0;
    for (qsizetype start = 0; start <= body.size();) {
        qsizetype end = body.indexOf('&', start);
        if (end < 0)
            end = body.size();
        const QByteArrayView pair(body.constData() + start, end - start);
        start = end + 1;
        if (pair.isEmpty())
            continue;
        if (++fields > kMaxFormFields) {
            *error = CommandError{400, QStringLiteral("bad_request"),
                                  QStringLiteral("the form has more than %1 fields; at most "
                                                 "%1 are allowed")
                                          .arg(kMaxFormFields)};
            return false;
        }
        const qsizetype eq = pair.indexOf('=');
        QByteArray rawKey = (eq < 0 ? pair : pair.first(eq)).toByteArray();
        QByteArray rawValue = eq < 0 ? QByteArray() : pair.sliced(eq + 1).toByteArray();
        if (!unescapeFormPair(&rawKey, &rawValue, error))
            return false;
        const auto key = decodeField(
                rawKey, [] { return QStringLiteral("a form field name"); }, error);
        if (!key)
            return false;
        const auto value = decodeField(
                rawValue, [&] { return QStringLiteral("form field '%1'").arg(key->left(60)); },
                error);
        if (!value || !addFormField(decoded, *key, *value, error))
            return false;
    }
    return true;
}

// `data` and `payload` are JSON text in a form (strict, as in a JSON body); the rest text.
bool BodyDecoder::addFormField(DecodedBody *decoded, const QString &key, const QString &value,
                               CommandError *error)
{
    if (key != u"data" && key != u"payload") {
        decoded->m_formFields.insert(key, value);
        return true;
    }
    const QByteArray json = value.toUtf8();
    QString why;
    if (!rawjson::isValidValue(json, &why)) { // strict too (rawjson::isStrictJson)
        *error = CommandError{400, QStringLiteral("invalid_json"),
                              QStringLiteral("%1 is not valid JSON text: %2").arg(key, why)};
        return false;
    }
    decoded->m_formJson.insert(key, rawjson::compact(json));
    decoded->m_formFields.insert(key, QJsonValue::Null); // present; use rawJson()
    return true;
}

} // namespace sb
