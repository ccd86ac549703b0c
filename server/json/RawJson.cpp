#include "json/RawJson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

namespace sb::rawjson {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Index just past the string literal that starts at text[i] == '"'.
qsizetype skipString(QByteArrayView text, qsizetype i)
{
    for (++i; i < text.size(); ++i) {
        if (text[i] == '\\')
            ++i;
        else if (text[i] == '"')
            return i + 1;
    }
    return text.size();
}

// Index just past the value that starts at text[i] (no leading whitespace).
qsizetype skipValue(QByteArrayView text, qsizetype i)
{
    int depth = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '"') {
            i = skipString(text, i);
            if (depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; // the end of the enclosing object or array
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || isSpace(c))) {
            return i;
        }
        ++i;
    }
    return i;
}

QString decodeKey(QByteArrayView literal)
{
    if (!literal.contains('\\'))
        return QString::fromUtf8(literal.sliced(1, literal.size() - 2));
    const QJsonDocument doc =
            QJsonDocument::fromJson(QByteArray('[' + literal.toByteArray() + ']'));
    return doc.array().at(0).toString();
}

} // namespace

QByteArray compact(QByteArrayView text)
{
    QByteArray out;
    out.reserve(text.size());
    qsizetype i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '"') {
            const qsizetype end = skipString(text, i);
            out.append(text.sliced(i, end - i));
            i = end;
        } else {
            if (!isSpace(c))
                out.append(c);
            ++i;
        }
    }
    return out;
}

QByteArray member(QByteArrayView text, QStringView key)
{
    qsizetype i = 0;
    while (i < text.size() && isSpace(text[i]))
        ++i;
    if (i >= text.size() || text[i] != '{')
        return {};
    ++i;
    QByteArray found;
    while (i < text.size()) {
        while (i < text.size() && (isSpace(text[i]) || text[i] == ','))
            ++i;
        if (i >= text.size() || text[i] != '"')
            break; // '}' or malformed
        const qsizetype keyEnd = skipString(text, i);
        const QByteArrayView literal = text.sliced(i, keyEnd - i);
        i = keyEnd;
        while (i < text.size() && (isSpace(text[i]) || text[i] == ':'))
            ++i;
        const qsizetype valueEnd = skipValue(text, i);
        if (literal.size() >= 2 && decodeKey(literal) == key) {
            found = compact(text.sliced(i, valueEnd - i));
            if (found.isNull())
                found = QByteArray("", 0);
        }
        i = valueEnd;
    }
    return found;
}

QList<QByteArrayView> elements(QByteArrayView text)
{
    QList<QByteArrayView> out;
    qsizetype i = 0;
    while (i < text.size() && isSpace(text[i]))
        ++i;
    if (i >= text.size() || text[i] != '[')
        return out;
    ++i;
    while (i < text.size()) {
        while (i < text.size() && (isSpace(text[i]) || text[i] == ','))
            ++i;
        if (i >= text.size() || text[i] == ']')
            break;
        const qsizetype end = skipValue(text, i);
        if (end == i)
            break; // malformed: never loop forever
        out.append(text.sliced(i, end - i));
        i = end;
    }
    return out;
}

bool isValidValue(QByteArrayView text, QString *error)
{
    QJsonParseError parseError;
    QByteArray wrapped;
    wrapped.reserve(text.size() + 2);
    wrapped.append('[').append(text).append(']');
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &parseError);
    if (parseError.error != QJsonParseError::NoError || doc.array().size() != 1) {
        if (error) {
            *error = parseError.error != QJsonParseError::NoError
                    ? QStringLiteral("%1 at offset %2")
                              .arg(parseError.errorString())
                              .arg(qMax(0, parseError.offset - 1))
                    : QStringLiteral("not a single JSON value");
        }
        return false;
    }
    return true;
}

void appendQuoted(QByteArray &out, QStringView s)
{
    // RFC 8259 section 7: '"', '\\' and the control characters below U+0020 are escaped,
    // everything else is the UTF-8 of the text. Called for every name of every frame and log
    // record: plain ASCII, the usual case, is copied in one pass with no allocation of its own.
    bool plain = true;
    for (QChar c : s) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u >= 0x80 || u == u'"' || u == u'\\') {
            plain = false;
            break;
        }
    }
    out += '"';
    if (plain) {
        const qsizetype at = out.size();
        out.resize(at + s.size());
        char *dst = out.data() + at;
        for (QChar c : s)
            *dst++ = char(c.unicode());
        out += '"';
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    const QByteArray utf8 = s.toUtf8();
    for (char c : utf8) {
        const auto u = uchar(c);
        switch (u) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20) {
                const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xf]};
                out.append(escaped, sizeof escaped);
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

QByteArray quote(QStringView s)
{
    QByteArray out;
    out.reserve(s.size() + 2);
    appendQuoted(out, s);
    return out;
}

} // namespace sb::rawjson
