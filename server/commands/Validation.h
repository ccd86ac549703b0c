#pragma once

#include "commands/BodyDecoder.h"

#include <optional>

namespace sb {

// Field checks for request bodies: each failure is a 400 whose message names the field.
// A validator collects the first error; callers check ok() once after reading all fields.
class FieldReader
{
public:
    explicit FieldReader(const DecodedBody &body) : m_body(body) { }

    // A required name field: a string of 1..max Unicode characters.
    QString name(QStringView key, qsizetype max);
    // The same, but absent is allowed (returns a null QString).
    QString optionalName(QStringView key, qsizetype max);
    // A required string of any length (may be empty when allowEmpty).
    QString text(QStringView key, bool allowEmpty = true);
    // An optional positive integer up to max (JSON number, or decimal text in forms).
    std::optional<qint64> positiveInt(QStringView key, qint64 max, const QString &maxHint);
    // An optional boolean (JSON true/false, or true/false/1/0 text in forms).
    bool boolean(QStringView key, bool fallback);
    // Raw JSON text of `data`-like fields; "null" when absent.
    QByteArray json(QStringView key) const;

    bool ok() const { return m_error.isEmpty(); }
    const QString &error() const { return m_error; }
    // The 400 refusal naming the first bad field.
    CommandError commandError() const
    {
        return CommandError{400, QStringLiteral("bad_request"), m_error};
    }

private:
    std::optional<QString> requiredString(QStringView key);
    void fail(const QString &message);

    const DecodedBody &m_body;
    QString m_error;
};

} // namespace sb
