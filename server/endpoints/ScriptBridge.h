#pragma once

#include "base/HandlerEvent.h"
#include "clients/OutboundClients.h"
#include "endpoints/ScriptModules.h"
#include "endpoints/ScriptRuntime.h"

#include <QJSValue>
#include <QLoggingCategory>
#include <QObject>

class QJSEngine;

namespace sb::script {

// "switchboard.handler": the handlers' console and their failures.
Q_DECLARE_LOGGING_CATEGORY(lcHandler)

// What the built-in modules, require and console of a runtime call into (docs/ARCHITECTURE.md,
// "Script handlers"). Only the prelude's closures hold it: handler code never sees this
// object, and every method checks its arguments as if it did. Errors are thrown into the
// engine as JS Errors. Lives on the runtime's thread, with its engine.
class ScriptBridge : public QObject
{
    Q_OBJECT

public:
    ScriptBridge(const ScriptSettings &settings, QString root, QJSEngine *engine,
                 ScriptFiles *files);

    // The event being handled; null between calls.
    void setEvent(const HandlerEvent *event) { m_event = event; }

    // net/v4/websockets: the event.
    Q_INVOKABLE QJSValue method() const;
    Q_INVOKABLE QJSValue message() const;
    Q_INVOKABLE QJSValue error() const;
    // {id, endpoint, user} of the session of the event, or null.
    Q_INVOKABLE QJSValue session() const;
    Q_INVOKABLE bool sessionSend(const QString &id, const QString &text);
    Q_INVOKABLE bool sessionClose(const QString &id, int code);

    // net/v4/websockets: the outbound clients, as info objects.
    Q_INVOKABLE QJSValue clientCreate(const QString &uri, const QString &handler);
    Q_INVOKABLE QJSValue clientList();
    Q_INVOKABLE QJSValue clientGet(const QString &id);
    Q_INVOKABLE QJSValue clientByHandler(const QString &handler);
    Q_INVOKABLE bool clientSend(const QString &id, const QString &text);
    Q_INVOKABLE bool clientClose(const QString &id);

    // switchboard: target 0 room, 1 user, 2 all; data is JSON text.
    Q_INVOKABLE QJSValue emitTo(int target, const QString &to, const QString &event,
                                const QString &data);
    Q_INVOKABLE QJSValue sessionList(const QString &endpoint);

    // console: 0 debug, 1 info, 2 warning, 3 error.
    Q_INVOKABLE void log(int level, const QString &text);

    // require: the canonical file of a relative module (throws when refused).
    Q_INVOKABLE QJSValue resolve(const QString &fromFile, const QString &name);
    // A module's code: {fn, filename, dirname} with fn the CommonJS wrapper, or {ns} for a
    // file that is an ES module (imported; checked first).
    Q_INVOKABLE QJSValue compile(const QString &file);

    // The ES module `file` (canonical, inside root): checked, then imported. True with its
    // namespace in *result, false with the error in *result.
    bool importEs(const QString &file, QJSValue *result);

private:
    QJSValue throwError(const QString &message) const;
    QJSValue clientValue(const ClientInfo &info) const;
    OutboundClients *clients() const;
    bool isModuleFile(const QString &file) const;

    ScriptSettings m_settings;
    QString m_root; // canonical endpoints_dir
    QJSEngine *m_engine;
    ScriptFiles *m_files;
    const HandlerEvent *m_event = nullptr;
};

} // namespace sb::script
