#include "http/BodyDecoder.h"

#include "http/HttpCall.h"
#include "json/RawJson.h"

#include <QHttpServerRequest>
#include <QJsonDocument>
#include <QStringDecoder>

namespace sb {

namespace {

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::optional<QString> decodeBytes(const QByteArray &bytes, const QByteArray &charset,
                                   const QString &what, HttpReply *error)
{
    if (charset.isEmpty()) {
        // Stateless: a sequence cut off at the end is an error, not silently dropped.
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        QString text = decoder(bytes);
        if (decoder.hasError()) {
            *error =
                    HttpReply::error(400, u"bad_request",
                                     QStringLiteral("%1 is not valid UTF-8; declare its charset in "
                                                    "Content-Type (for example charset=ISO-8859-1)")
                                             .arg(what));
            return std::nullopt;
        }
        return text;
    }
    QStringDecoder decoder(charset.constData(), QStringDecoder::Flag::Stateless);
    if (!decoder.isValid()) {
        *error = HttpReply::error(415, u"unsupported_media_type",
                                  QStringLiteral("charset '%1' is not supported")
                                          .arg(QString::fromLatin1(charset.left(60))));
        return std::nullopt;
    }
    QString text = decoder(bytes);
    if (decoder.hasError()) {
        *error = HttpReply::error(400, u"bad_request",
                                  QStringLiteral("%1 is not valid %2")
                                          .arg(what, QString::fromLatin1(charset.left(60))));
        return std::nullopt;
    }
    return text;
}

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

std::optional<QString> BodyDecoder::decodeText(const QHttpServerRequest &request, HttpReply *error)
{
    QByteArray mediaType, charset;
    parseContentType(singleHeaderValue(request.value(QByteArrayLiteral("content-type"))),
                     &mediaType, &charset);
    return decodeBytes(request.body(), charset, QStringLiteral("the body"), error);
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
    decoded.m_fields = doc.object();
    return decoded;
}

std::optional<DecodedBody> BodyDecoder::decode(const QHttpServerRequest &request, HttpReply *error)
{
    const QByteArray contentType =
            singleHeaderValue(request.value(QByteArrayLiteral("content-type")));
    QByteArray mediaType, charset;
    parseContentType(contentType, &mediaType, &charset);
    const QByteArray &body = request.body();

    bool form = false;
    if (mediaType.isEmpty()) {
        qsizetype i = 0;
        while (i < body.size() && QByteArrayView(" \t\r\n").contains(body[i]))
            ++i;
        form = !(i < body.size() && body[i] == '{');
    } else if (mediaType == "application/x-www-form-urlencoded") {
        // curl -d sends JSON with this type unless told otherwise: a body that is a JSON
        // object is read as JSON (a form body never starts with '{' and parses as JSON).
        const QByteArray trimmed = body.trimmed();
        form = !(trimmed.startsWith('{') && QJsonDocument::fromJson(trimmed).isObject());
    } else if (mediaType == "application/json") {
        form = false;
    } else {
        *error = HttpReply::error(415, u"unsupported_media_type",
                                  QStringLiteral("Content-Type %1 is not supported; send "
                                                 "application/json or "
                                                 "application/x-www-form-urlencoded")
                                          .arg(QString::fromLatin1(mediaType.left(100))));
        return std::nullopt;
    }

    DecodedBody decoded;
    decoded.m_form = form;
    if (!form) {
        const auto text = decodeBytes(body, charset, QStringLiteral("the body"), error);
        if (!text)
            return std::nullopt;
        QString why;
        auto json = decodeJsonText(charset.isEmpty() ? body : text->toUtf8(),
                                   QStringLiteral("the body"), &why);
        if (!json)
            *error = HttpReply::error(400, u"invalid_json", why);
        return json;
    }

    // application/x-www-form-urlencoded
    const QList<QByteArray> pairs = body.split('&');
    for (const QByteArray &pair : pairs) {
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        QByteArray rawKey = eq < 0 ? pair : pair.left(eq);
        QByteArray rawValue = eq < 0 ? QByteArray() : pair.mid(eq + 1);
        for (const QByteArray *part : {&rawKey, &rawValue}) {
            for (qsizetype i = 0; i < part->size(); ++i) {
                if (part->at(i) == '%'
                    && (i + 2 >= part->size() || !isHex(part->at(i + 1))
                        || !isHex(part->at(i + 2)))) {
                    *error = HttpReply::error(
                            400, u"bad_request",
                            QStringLiteral("form field '%1' has an invalid percent-encoding")
                                    .arg(QString::fromLatin1(rawKey.left(60))));
                    return std::nullopt;
                }
            }
        }
        rawKey.replace('+', ' ');
        rawValue.replace('+', ' ');
        const auto key = decodeBytes(QByteArray::fromPercentEncoding(rawKey), charset,
                                     QStringLiteral("a form field name"), error);
        if (!key)
            return std::nullopt;
        const auto value = decodeBytes(QByteArray::fromPercentEncoding(rawValue), charset,
                                       QStringLiteral("form field '%1'").arg(*key), error);
        if (!value)
            return std::nullopt;
        if (*key == u"data" || *key == u"payload") {
            const QByteArray json = value->toUtf8();
            QString why;
            if (!rawjson::isValidValue(json, &why)) {
                *error = HttpReply::error(
                        400, u"invalid_json",
                        QStringLiteral("%1 is not valid JSON text: %2").arg(*key, why));
                return std::nullopt;
            }
            decoded.m_formJson.insert(*key, rawjson::compact(json));
            decoded.m_fields.insert(*key, QJsonValue::Null); // present; use rawJson()
        } else {
            decoded.m_fields.insert(*key, *value);
        }
    }
    return decoded;
}

} // namespace sb
