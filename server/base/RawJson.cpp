#include "base/RawJson.h"

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

bool isDigit(uchar c)
{
    return c >= '0' && c <= '9';
}

bool isHexDigit(uchar c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool isRfcNumber(QByteArrayView n)
{
    qsizetype i = 0;
    const auto at = [&](qsizetype k) { return k < n.size() ? uchar(n[k]) : uchar(0); };
    if (at(i) == '-')
        ++i;
    if (at(i) == '0') {
        ++i;
    } else if (isDigit(at(i))) {
        while (isDigit(at(i)))
            ++i;
    } else {
        return false;
    }
    if (at(i) == '.') {
        ++i;
        if (!isDigit(at(i)))
            return false;
        while (isDigit(at(i)))
            ++i;
    }
    if (at(i) == 'e' || at(i) == 'E') {
        ++i;
        if (at(i) == '+' || at(i) == '-')
            ++i;
        if (!isDigit(at(i)))
            return false;
        while (isDigit(at(i)))
            ++i;
    }
    return i == n.size();
}

enum class Break { None, Control, Escape, Number };

struct Finding
{
    Break kind = Break::None;
    qsizetype offset = -1;
    qsizetype length = 0; // the escape or number text at offset
};

// One pass over text, strings and number tokens only (the structure is QJsonDocument's
// business). controlOnly: report control characters only (findControlCharacter).
Finding scanStrict(QByteArrayView text, bool controlOnly)
{
    const auto *p = reinterpret_cast<const uchar *>(text.data());
    const qsizetype n = text.size();
    qsizetype i = 0;
    while (i < n) {
        const uchar c = p[i];
        if (c == '"') {
            ++i;
            // Plain string bytes are skipped in a tight loop; only '"', '\\' and control
            // characters stop it.
            while (i < n) {
                const uchar s = p[i];
                if (s == '"') {
                    ++i;
                    break;
                }
                if (s < 0x20)
                    return {Break::Control, i, 1};
                if (s == '\\') {
                    if (i + 1 >= n)
                        return {}; // unterminated: QJsonDocument refuses it
                    const uchar e = p[i + 1];
                    if (e < 0x20)
                        return {Break::Control, i + 1, 1};
                    if (e == 'u') {
                        for (qsizetype k = i + 2; k < i + 6; ++k) {
                            if (k >= n || !isHexDigit(p[k])) {
                                if (!controlOnly)
                                    return {Break::Escape, i, k - i};
                                break;
                            }
                        }
                        i += 2; // the hex digits are plain bytes
                        continue;
                    }
                    const bool known = e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f'
                            || e == 'n' || e == 'r' || e == 't';
                    if (!known && !controlOnly)
                        return {Break::Escape, i, 2};
                    i += 2;
                    continue;
                }
                ++i;
            }
        } else if (c < 0x20) {
            if (c != '\t' && c != '\n' && c != '\r')
                return {Break::Control, i, 1};
            ++i;
        } else if (!controlOnly && (c == '-' || c == '.' || isDigit(c))) {
            qsizetype end = i + 1;
            while (end < n
                   && (isDigit(p[end]) || p[end] == '.' || p[end] == 'e' || p[end] == 'E'
                       || p[end] == '+' || p[end] == '-'))
                ++end;
            if (!isRfcNumber(text.sliced(i, end - i)))
                return {Break::Number, i, end - i};
            i = end;
        } else {
            ++i;
        }
    }
    return {};
}

} // namespace

qsizetype findControlCharacter(QByteArrayView text)
{
    return scanStrict(text, true).offset;
}

static QString strictBreak(QByteArrayView text)
{
    const Finding f = scanStrict(text, false);
    const auto shown = [&] {
        return QString::fromUtf8(text.sliced(f.offset, qMin<qsizetype>(f.length, 40)));
    };
    switch (f.kind) {
    case Break::None:
        return {};
    case Break::Control:
        return QStringLiteral("unescaped control character U+%1 at offset %2 (RFC 8259: "
                              "escape it, for example as \\u%1)")
                .arg(uchar(text[f.offset]), 4, 16, QLatin1Char('0'))
                .arg(f.offset);
    case Break::Escape:
        return QStringLiteral("invalid escape sequence %1 at offset %2").arg(shown()).arg(f.offset);
    case Break::Number:
        return QStringLiteral("invalid number %1 at offset %2").arg(shown()).arg(f.offset);
    }
    return {};
}

bool isStrictJson(QByteArrayView text, QString *error)
{
    QString why = strictBreak(text);
    if (why.isEmpty())
        return true;
    if (error)
        *error = std::move(why);
    return false;
}

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
    return isStrictJson(text, error);
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
