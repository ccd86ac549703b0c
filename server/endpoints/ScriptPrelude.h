#pragma once

#include <QString>

namespace sb::script {

// The file name the prelude is evaluated with: no handler file has it.
inline QString preludeFileName()
{
    return QStringLiteral("switchboard:prelude");
}

// The JavaScript of the built-in modules, require and console (docs/ARCHITECTURE.md, "Script
// handlers"): a function of the native bridge that answers {load, invoke, console, modules}.
const QString &preludeSource();

} // namespace sb::script
