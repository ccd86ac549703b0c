#include "commands/Validation.h"

#include "base/Names.h"

#include <cmath>

namespace sb {

void FieldReader::fail(const QString &message)
{
    if (m_error.isEmpty())
        m_error = message;
}

QString FieldReader::optionalName(QStringView key, qsizetype max)
{
    if (!m_body.has(key) || m_body.value(key).isNull())
        return {};
    return name(key, max);
}

std::optional<QString> FieldReader::requiredString(QStringView key)
{
    const QJsonValue v = m_body.value(key);
    if (v.isUndefined()) {
        fail(QStringLiteral("%1 is required").arg(key));
        return std::nullopt;
    }
    if (!v.isString()) {
        fail(QStringLiteral("%1 must be a string").arg(key));
        return std::nullopt;
    }
    return v.toString();
}

QString FieldReader::name(QStringView key, qsizetype max)
{
    const std::optional<QString> s = requiredString(key);
    if (!s)
        return {};
    if (QString why; !names::checkLength(key, *s, max, &why)) {
        fail(why);
        return {};
    }
    return *s;
}

QString FieldReader::text(QStringView key, bool allowEmpty)
{
    const std::optional<QString> s = requiredString(key);
    if (!s)
        return {};
    if (!allowEmpty && s->isEmpty())
        fail(QStringLiteral("%1 must not be empty").arg(key));
    return *s;
}

std::optional<qint64> FieldReader::positiveInt(QStringView key, qint64 max, const QString &maxHint)
{
    const QJsonValue v = m_body.value(key);
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    qint64 n = 0;
    bool ok = false;
    if (v.isDouble()) {
        const double d = v.toDouble();
        ok = std::isfinite(d) && d == std::floor(d) && d >= 1 && d <= 9.0e15;
        n = ok ? qint64(d) : 0;
    } else if (v.isString() && m_body.isForm()) {
        n = v.toString().trimmed().toLongLong(&ok);
        ok = ok && n >= 1;
    }
    if (!ok) {
        fail(QStringLiteral("%1 must be a positive integer").arg(key));
        return std::nullopt;
    }
    if (n > max) {
        fail(QStringLiteral("%1 must be at most %2 (%3)").arg(key).arg(max).arg(maxHint));
        return std::nullopt;
    }
    return n;
}

bool FieldReader::boolean(QStringView key, bool fallback)
{
    const QJsonValue v = m_body.value(key);
    if (v.isUndefined() || v.isNull())
        return fallback;
    if (v.isBool())
        return v.toBool();
    if (v.isString() && m_body.isForm()) {
        const QString s = v.toString().trimmed().toLower();
        if (s == u"true" || s == u"1" || s == u"yes" || s == u"on")
            return true;
        if (s == u"false" || s == u"0" || s == u"no" || s == u"off" || s.isEmpty())
            return false;
    }
    fail(QStringLiteral("%1 must be true or false").arg(key));
    return fallback;
}

QByteArray FieldReader::json(QStringView key) const
{
    const QByteArray raw = m_body.rawJson(key);
    return raw.isEmpty() ? QByteArrayLiteral("null") : raw;
}

} // namespace sb
