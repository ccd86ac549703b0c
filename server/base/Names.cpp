#include "base/Names.h"

namespace sb::names {

qsizetype codePoints(QStringView s)
{
    qsizetype n = s.size();
    for (qsizetype i = 0; i + 1 < s.size(); ++i) {
        if (s[i].isHighSurrogate() && s[i + 1].isLowSurrogate()) {
            --n;
            ++i;
        }
    }
    return n;
}

QString checkLength(QStringView field, QStringView value, qsizetype max)
{
    if (value.isEmpty())
        return QStringLiteral("%1 must not be empty").arg(field);
    // Fast path: UTF-16 units are an upper bound of code points.
    if (value.size() <= max)
        return {};
    const qsizetype n = codePoints(value);
    if (n > max)
        return QStringLiteral("%1 is %2 characters long; at most %3 are allowed")
                .arg(field)
                .arg(n)
                .arg(max);
    return {};
}

} // namespace sb::names
