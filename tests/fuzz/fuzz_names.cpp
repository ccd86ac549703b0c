// Fuzzes the name rules (server/base/Names; docs/fuzzing.md): lengths count Unicode code
// points, with surrogate pairs once and lone surrogates as one each.
//
// Input: UTF-16 code units (pairs of bytes, any value, lone surrogates included); the first
// byte also picks the limit.

#include "FuzzSupport.h"
#include "base/Names.h"

#include <QList>
#include <QString>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const qsizetype max = qsizetype(data[0]) * 20; // 0..5100: around every limit
    QString s(qsizetype((size - 1) / 2), Qt::Uninitialized);
    for (qsizetype i = 0; i < s.size(); ++i)
        s[i] = QChar(char16_t(data[1 + 2 * i] | (data[2 + 2 * i] << 8)));

    const qsizetype points = sb::names::codePoints(s);
    qsizetype pairs = 0;
    for (qsizetype i = 0; i + 1 < s.size(); ++i) {
        if (s[i].isHighSurrogate() && s[i + 1].isLowSurrogate()) {
            ++pairs;
            ++i;
        }
    }
    SB_FUZZ_CHECK(points == s.size() - pairs);
    SB_FUZZ_CHECK(points == QStringView(s).toUcs4().size());

    QString why;
    const bool fits = sb::names::checkLength(u"room", s, max, &why);
    SB_FUZZ_CHECK(fits == (points >= 1 && points <= max));
    SB_FUZZ_CHECK(fits == why.isEmpty());
    if (!why.isEmpty())
        SB_FUZZ_CHECK(why.startsWith(u"room "));

    // The same text through UTF-8, as a name arrives in a body.
    const QString viaUtf8 = QString::fromUtf8(s.toUtf8());
    SB_FUZZ_CHECK(sb::names::codePoints(viaUtf8) == QStringView(viaUtf8).toUcs4().size());
    return 0;
}
