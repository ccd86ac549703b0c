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

bool checkLength(QStringView field, QStringView value, qsizetype max, QString *error)
{
    QString why;
    if (value.isEmpty()) {
        why = QStringLiteral("%1 must not be empty").arg(field);
    } else if (value.size() > max) { // UTF-16 units are an upper bound of code points
        const qsizetype n = codePoints(value);
        if (n > max)
            why = QStringLiteral("%1 is %2 characters long; at most %3 are allowed")
                          .arg(field)
                          .arg(n)
                          .arg(max);
    }
    if (why.isEmpty())
        return true;
    if (error)
        *error = std::move(why);
    return false;
}

} // namespace sb::names
