#pragma once

#include "base/HandlerEvent.h"

#include <QString>

#include <functional>
#include <memory>

namespace sb {

class HandlerServices;
class ScriptWatchdog;

// Where a script handler lives and what it may reach (docs/API.md, "Handlers").
struct ScriptSettings
{
    QString root;     // endpoints_dir: handlers and relative requires resolve under it only
    QString handler;  // H: a path relative to root without ".js"
    QString owner;    // who runs it, for the log: the endpoint's name or "client handler H"
    QString endpoint; // the endpoint (getSession() exists only then); null for client handlers
    qint64 timeoutMs = 1000; // handler_timeout_ms
    HandlerServices *services = nullptr;
    ScriptWatchdog *watchdog = nullptr;
};

// One handler module on Qt's JavaScript engine (QJSEngine, docs/ARCHITECTURE.md, "Script
// handlers"): CommonJS (exports.onOpen/onMessage/onError/onClose), the platform's modules
// (net/v4/websockets, net/websockets, sdk/net), `switchboard`, console. Made, used and
// destroyed on one thread: its endpoint's handler thread.
class ScriptRuntime
{
public:
    explicit ScriptRuntime(ScriptSettings settings);
    ~ScriptRuntime();
    ScriptRuntime(const ScriptRuntime &) = delete;
    ScriptRuntime &operator=(const ScriptRuntime &) = delete;

    // (Re)evaluates the handler module in a fresh engine; its top-level code runs now (under
    // the timeout). False with *error naming file and line ("h.js:3: Error: ..."), not
    // logged here: the caller logs it. A file with import/export statements is an ES module
    // (docs/ARCHITECTURE.md, "Script handlers").
    bool load(QString *error);
    // A file the module loaded (the handler or one it required) changed since load().
    bool filesChanged() const;
    // Calls the export for the event (onOpen, onMessage(message), onError(error), onClose());
    // a missing export does nothing. False with *error (an exception with file and line, a
    // call interrupted after timeoutMs); the error is also logged.
    bool handle(const HandlerEvent &event, QString *error);

private:
    class Private;
    std::unique_ptr<Private> d;
};

// Interrupts script calls that run past their deadline (QJSEngine::setInterrupted, which is
// thread-safe): one thread for all runtimes.
class ScriptWatchdog
{
public:
    ScriptWatchdog();
    ~ScriptWatchdog();
    ScriptWatchdog(const ScriptWatchdog &) = delete;
    ScriptWatchdog &operator=(const ScriptWatchdog &) = delete;

    // The runtimes' side, declared in ScriptRuntime.cpp's terms: arm() before a call,
    // disarm() after it; `interrupt` runs on the watchdog's thread past the deadline.
    quint64 arm(qint64 timeoutMs, std::function<void()> interrupt);
    void disarm(quint64 token);

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace sb
