#pragma once

#include <QString>
#include <QStringView>

// Limits of the names (docs/API.md, "Names"). Lengths count Unicode characters, not bytes.
namespace sb::names {

inline constexpr qsizetype kRoomMax = 4000;
inline constexpr qsizetype kEventMax = 130;
inline constexpr qsizetype kUserMax = 255;
inline constexpr qsizetype kSessionMax = 255;

// Unicode code points in s (a surrogate pair counts once).
qsizetype codePoints(QStringView s);

// True when 1 <= codePoints(value) <= max, else false with a sentence naming the field.
bool checkLength(QStringView field, QStringView value, qsizetype max, QString *error = nullptr);

} // namespace sb::names
