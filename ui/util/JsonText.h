#pragma once

#include <QByteArray>
#include <QString>

namespace sb::ui {

// JSON text helpers for the console: checking what an administrator types, and showing
// logged data readably without rewriting it.
namespace jsontext {

struct Check
{
    bool ok = false;
    int line = 0;   // 1-based position of the problem
    int column = 0; // 1-based, in characters
    QString message; // what is wrong, e.g. "missing value separator"
};

// Checks that `text` is one JSON value (object, array, string, number, true, false, null).
// Empty text is not checked here (the caller decides what it means).
Check check(const QString &text);

// `compactUtf8` re-indented (two spaces per level, one member per line) without parsing it
// into values: numbers, strings and key order stay exactly as written. The input must be
// valid JSON (as every logged `data` is).
QString pretty(const QByteArray &compactUtf8);

} // namespace jsontext

} // namespace sb::ui
