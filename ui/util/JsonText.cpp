#include "util/JsonText.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace sb::ui::jsontext {

Check check(const QString &text)
{
    Check result;
    // QJsonDocument takes only objects and arrays at the top: wrap the value in [ ] and take
    // one off the offset. Anything after the value shows up as a second element.
    const QByteArray utf8 = text.toUtf8();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson('[' + utf8 + ']', &error);
    qsizetype offset = -1;
    if (error.error != QJsonParseError::NoError) {
        offset = std::clamp(qsizetype(error.offset) - 1, qsizetype(0), utf8.size());
        result.message = error.errorString();
    } else if (doc.array().size() != 1) {
        result.message = doc.array().isEmpty()
                ? QCoreApplication::translate("JsonText", "no JSON value")
                : QCoreApplication::translate("JsonText",
                                              "more than one value (wrap them in [ ] or { })");
        offset = doc.array().isEmpty() ? 0 : utf8.size();
        if (!doc.array().isEmpty()) {
            // Point at the comma the wrapping turned into a separator.
            int depth = 0;
            bool inString = false;
            for (qsizetype i = 0; i < utf8.size(); ++i) {
                const char c = utf8[i];
                if (inString) {
                    if (c == '\\')
                        ++i;
                    else if (c == '"')
                        inString = false;
                } else if (c == '"') {
                    inString = true;
                } else if (c == '{' || c == '[') {
                    ++depth;
                } else if (c == '}' || c == ']') {
                    --depth;
                } else if (c == ',' && depth == 0) {
                    offset = i;
                    break;
                }
            }
        }
    } else {
        result.ok = true;
        return result;
    }
    // Qt reports where it stopped reading, which can be past the line break that follows the
    // faulty token: point at the last character before that whitespace.
    while (offset > 0 && offset <= utf8.size() && QByteArrayView(" \t\r\n").contains(utf8[offset - 1])
           && (offset == utf8.size() || QByteArrayView(" \t\r\n").contains(utf8[offset])
               || utf8[offset] == '}' || utf8[offset] == ']'))
        --offset;
    // Line and column (in characters) of the byte offset.
    const QString before = QString::fromUtf8(utf8.left(offset));
    result.line = int(before.count(u'\n')) + 1;
    result.column = int(before.size() - (before.lastIndexOf(u'\n') + 1)) + 1;
    return result;
}

QString pretty(const QByteArray &json)
{
    QByteArray out;
    out.reserve(json.size() * 2);
    int depth = 0;
    const auto newline = [&out, &depth] {
        out += '\n';
        out.append(QByteArray(depth * 2, ' '));
    };
    for (qsizetype i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"') { // copy the whole string literal as is
            const qsizetype start = i;
            for (++i; i < json.size(); ++i) {
                if (json[i] == '\\')
                    ++i;
                else if (json[i] == '"')
                    break;
            }
            out.append(json.mid(start, i - start + 1));
            continue;
        }
        switch (c) {
        case '{':
        case '[': {
            // An empty {} or [] stays on one line.
            qsizetype j = i + 1;
            while (j < json.size() && (json[j] == ' ' || json[j] == '\n' || json[j] == '\t' || json[j] == '\r'))
                ++j;
            if (j < json.size() && (json[j] == '}' || json[j] == ']')) {
                out += c;
                out += json[j];
                i = j;
                break;
            }
            out += c;
            ++depth;
            newline();
            break;
        }
        case '}':
        case ']':
            --depth;
            newline();
            out += c;
            break;
        case ',':
            out += ',';
            newline();
            break;
        case ':':
            out += ": ";
            break;
        case ' ':
        case '\n':
        case '\t':
        case '\r':
            break;
        default:
            out += c;
        }
    }
    return QString::fromUtf8(out);
}

} // namespace sb::ui::jsontext
