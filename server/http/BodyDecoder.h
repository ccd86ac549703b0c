#pragma once

#include "http/HttpResponse.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>

#include <optional>

class QHttpServerRequest;

namespace sb {

// A request body decoded by the rules of PROTOCOL.md: application/json or
// application/x-www-form-urlencoded (same field names; in forms `data` is JSON text and `+` is
// a space); no Content-Type means JSON when the body starts with `{`, else form; any charset
// QStringDecoder knows; without one the body must be UTF-8.
class DecodedBody
{
public:
    bool isForm() const { return m_form; }
    bool has(QStringView key) const { return m_fields.contains(key); }
    QJsonValue value(QStringView key) const { return m_fields.value(key); }
    // Raw JSON text of a member, whitespace outside strings removed (forms: `data` only).
    // Null when absent.
    QByteArray rawJson(QStringView key) const;

private:
    friend class BodyDecoder;
    bool m_form = false;
    QJsonObject m_fields;
    QByteArray m_jsonText;                 // JSON bodies: the UTF-8 text
    QHash<QString, QByteArray> m_formJson; // form bodies: JSON-valued fields (data)
};

class BodyDecoder
{
public:
    // On failure `error` holds the 400/415 answer and the result is nullopt.
    static std::optional<DecodedBody> decode(const QHttpServerRequest &request, HttpReply *error);

    // A JSON object text (UTF-8) read like a JSON body, for JSON that arrives by other ways
    // than HTTP (database notifications). nullopt with *error ("<what> is not valid JSON: ...").
    static std::optional<DecodedBody> decodeJsonText(const QByteArray &utf8, const QString &what,
                                                     QString *error);

    // The body as text in its declared charset (UTF-8 when none). nullopt: `error` is set.
    static std::optional<QString> decodeText(const QHttpServerRequest &request, HttpReply *error);

    // Media type (lower case, no parameters) and charset parameter of a Content-Type value.
    static void parseContentType(const QByteArray &value, QByteArray *mediaType,
                                 QByteArray *charset);
};

} // namespace sb
