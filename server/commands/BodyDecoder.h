#pragma once

#include "commands/CommandError.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace sb {

// A request body decoded by the rules of docs/API.md, "Request bodies": application/json or
// application/x-www-form-urlencoded (same field names; in forms `data` is JSON text and `+` is
// a space); no Content-Type means JSON when the body starts with `{`, else form; any charset
// QStringDecoder knows; without one the body must be UTF-8.
class DecodedBody
{
public:
    bool isForm() const { return m_form; }
    bool has(QStringView key) const
    {
        return m_form ? m_formFields.contains(key.toString()) : m_fields.contains(key);
    }
    QJsonValue value(QStringView key) const
    {
        return m_form ? m_formFields.value(key.toString(), QJsonValue(QJsonValue::Undefined))
                      : m_fields.value(key);
    }
    // Raw JSON text of a member, whitespace outside strings removed (forms: `data` only).
    // Null when absent.
    QByteArray rawJson(QStringView key) const;

private:
    friend class BodyDecoder;
    bool m_form = false;
    QJsonObject m_fields;                    // JSON bodies
    QByteArray m_jsonText;                   // JSON bodies: the UTF-8 text
    QHash<QString, QJsonValue> m_formFields; // form bodies (a hash: QJsonObject inserts are
                                             // O(n) each, quadratic over a form)
    QHash<QString, QByteArray> m_formJson;   // form bodies: JSON-valued fields (data)
};

// At most this many fields in a form body (docs/API.md, "Request bodies"); more is a 400.
inline constexpr qsizetype kMaxFormFields = 1000;

class BodyDecoder
{
public:
    // A body and its Content-Type header value (empty: none). On failure `error` holds the
    // 400/415 refusal and the result is nullopt.
    static std::optional<DecodedBody> decode(const QByteArray &contentType, const QByteArray &body,
                                             CommandError *error);

    // A JSON object text (UTF-8) read like a JSON body, for JSON that arrives by other ways
    // than HTTP (database notifications). nullopt with *error ("<what> is not valid JSON: ...").
    // Strict: what QJsonDocument lets through against RFC 8259 (raw control characters in
    // strings, unknown escapes, numbers like 1.) is refused too (rawjson::isStrictJson).
    static std::optional<DecodedBody> decodeJsonText(const QByteArray &utf8, const QString &what,
                                                     QString *error);

    // The body as text in its declared charset (UTF-8 when none). nullopt: `error` is set.
    static std::optional<QString> decodeText(const QByteArray &contentType, const QByteArray &body,
                                             CommandError *error);

    // Media type (lower case, no parameters) and charset parameter of a Content-Type value.
    static void parseContentType(const QByteArray &value, QByteArray *mediaType,
                                 QByteArray *charset);

private:
    static bool decodeForm(const QByteArray &body, const QByteArray &charset, DecodedBody *decoded,
                           CommandError *error);
    static bool addFormField(DecodedBody *decoded, const QString &key, const QString &value,
                             CommandError *error);
};

} // namespace sb
