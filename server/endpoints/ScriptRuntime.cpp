// Placeholder while the script runtime is written (issue 17): loading fails.
#include "endpoints/ScriptRuntime.h"

namespace sb {

class ScriptRuntime::Private
{
public:
    ScriptSettings settings;
};

ScriptRuntime::ScriptRuntime(ScriptSettings settings) : d(std::make_unique<Private>())
{
    d->settings = std::move(settings);
}

ScriptRuntime::~ScriptRuntime() = default;

bool ScriptRuntime::load(QString *error)
{
    *error = QStringLiteral("script handlers are not available yet");
    return false;
}

bool ScriptRuntime::filesChanged() const
{
    return false;
}

bool ScriptRuntime::handle(const HandlerEvent &, QString *error)
{
    *error = QStringLiteral("script handlers are not available yet");
    return false;
}

class ScriptWatchdog::Private
{ };

ScriptWatchdog::ScriptWatchdog() : d(std::make_unique<Private>()) { }
ScriptWatchdog::~ScriptWatchdog() = default;

quint64 ScriptWatchdog::arm(qint64, std::function<void()>)
{
    return 0;
}

void ScriptWatchdog::disarm(quint64) { }

} // namespace sb
