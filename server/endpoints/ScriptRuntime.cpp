// A script handler on QJSEngine (docs/API.md, "Handlers"; docs/ARCHITECTURE.md, "Script
// handlers").
#include "endpoints/ScriptRuntime.h"

#include "endpoints/ScriptBridge.h"
#include "endpoints/ScriptModules.h"
#include "endpoints/ScriptPrelude.h"

#include <QDir>
#include <QFileInfo>
#include <QJSEngine>
#include <QUrl>

#include <atomic>

namespace sb {

using namespace Qt::StringLiterals;
using script::lcHandler;

namespace {

// An error text longer than this is cut (a thrown string may be a whole message).
constexpr qsizetype kMaxErrorChars = 2000;

QString exportName(HandlerEvent::Method method)
{
    switch (method) {
    case HandlerEvent::Method::Open:
        return u"onOpen"_s;
    case HandlerEvent::Method::Message:
        return u"onMessage"_s;
    case HandlerEvent::Method::Error:
        return u"onError"_s;
    case HandlerEvent::Method::Close:
        return u"onClose"_s;
    }
    return {};
}

// "file:///x/y.js" or "/x/y.js" as a local path.
QString localPath(const QString &url)
{
    return url.startsWith("file:"_L1) ? QUrl(url).toLocalFile() : url;
}

} // namespace

class ScriptRuntime::Private
{
public:
    bool makeEngine(QString *error);
    void teardown();
    // Runs target[name](...args) under the watchdog. False with *error.
    bool invoke(const QJSValue &target, const QString &name, const QJSValueList &args,
                QJSValue *value, QString *error);
    // "<file>:<line>: <text>" of an outcome of the prelude's invoke().
    QString describe(const QJSValue &outcome) const;
    QString location(const QJSValue &outcome) const;

    ScriptSettings settings;
    QString root; // canonical endpoints_dir
    QString file; // the handler, canonical
    script::ScriptFiles files;
    std::unique_ptr<script::ScriptBridge> bridge; // outlives the engine (declared before it)
    std::unique_ptr<QJSEngine> engine;
    QJSValue prelude; // {load, invoke, console, modules}
    QJSValue exports; // the module's exports (or an ES module's namespace)
    std::atomic<bool> interrupted{false};
};

bool ScriptRuntime::Private::makeEngine(QString *error)
{
    engine = std::make_unique<QJSEngine>();
    bridge = std::make_unique<script::ScriptBridge>(settings, root, engine.get(), &files);
    QJSEngine::setObjectOwnership(bridge.get(), QJSEngine::CppOwnership);
    const QJSValue factory = engine->evaluate(script::preludeSource(), script::preludeFileName());
    prelude = factory.isCallable() ? factory.call({engine->newQObject(bridge.get())}) : factory;
    if (prelude.isError() || !prelude.isObject()) {
        *error = u"the script prelude failed: %1"_s.arg(prelude.toString());
        return false;
    }
    engine->globalObject().setProperty(u"console"_s, prelude.property(u"console"_s));
    // A promise's reactions would run later on the thread's event loop, out of the timeout's
    // reach; async functions and import() do not parse in Qt 6.4, so this closes that door.
    engine->globalObject().deleteProperty(u"Promise"_s);
    const QJSValue modules = prelude.property(u"modules"_s);
    for (const QString &name : script::builtinModuleNames())
        engine->registerModule(name, modules.property(name));
    return true;
}

void ScriptRuntime::Private::teardown()
{
    exports = QJSValue();
    prelude = QJSValue();
    engine.reset();
    bridge.reset();
}

bool ScriptRuntime::Private::invoke(const QJSValue &target, const QString &name,
                                    const QJSValueList &args, QJSValue *value, QString *error)
{
    QJSValue array = engine->newArray(quint32(args.size()));
    for (qsizetype i = 0; i < args.size(); ++i)
        array.setProperty(quint32(i), args.at(i));
    interrupted.store(false);
    quint64 token = 0;
    if (settings.watchdog && settings.timeoutMs > 0) {
        QJSEngine *e = engine.get();
        std::atomic<bool> *flag = &interrupted;
        token = settings.watchdog->arm(settings.timeoutMs, [e, flag] {
            flag->store(true);
            e->setInterrupted(true);
        });
    }
    const QJSValue outcome = prelude.property(u"invoke"_s).call({target, name, array});
    if (token != 0)
        settings.watchdog->disarm(token); // after this, the callback has run or never will
    if (interrupted.load()) {
        engine->setInterrupted(false);
        if (engine->hasError())
            engine->catchError();
        *error = u"handler call interrupted after %1 ms"_s.arg(settings.timeoutMs);
        return false;
    }
    if (outcome.isObject() && !outcome.isError() && outcome.property(u"ok"_s).toBool()) {
        *value = outcome.property(u"value"_s);
        return true;
    }
    *error = describe(outcome);
    return false;
}

QString ScriptRuntime::Private::location(const QJSValue &outcome) const
{
    // The first frame in a file under endpoints_dir: the handler's line, not the prelude's.
    const QStringList frames = outcome.property(u"stack"_s).toString().split(u'\n');
    for (const QString &frame : frames) {
        const qsizetype at = frame.indexOf(u'@');
        const qsizetype colon = frame.lastIndexOf(u':');
        if (at < 0 || colon <= at)
            continue;
        const QString path = localPath(frame.mid(at + 1, colon - at - 1));
        bool ok = false;
        const int line = frame.mid(colon + 1).toInt(&ok);
        if (ok && script::isInsideRoot(root, path))
            return u"%1:%2"_s.arg(script::displayName(root, path)).arg(line);
    }
    const QString path = localPath(outcome.property(u"fileName"_s).toString());
    const int line = outcome.property(u"lineNumber"_s).toInt();
    if (script::isInsideRoot(root, path) && line > 0)
        return u"%1:%2"_s.arg(script::displayName(root, path)).arg(line);
    return script::displayName(root, file);
}

QString ScriptRuntime::Private::describe(const QJSValue &outcome) const
{
    // An outcome that is no object: the prelude's invoke itself failed (it cannot throw).
    QString text = outcome.isObject() && !outcome.isError() ? outcome.property(u"text"_s).toString()
                                                            : outcome.toString();
    if (text.size() > kMaxErrorChars)
        text = text.left(kMaxErrorChars) + u"... (cut)"_s;
    return location(outcome) + u": "_s + text;
}

ScriptRuntime::ScriptRuntime(ScriptSettings settings) : d(std::make_unique<Private>())
{
    d->settings = std::move(settings);
}

ScriptRuntime::~ScriptRuntime()
{
    d->teardown();
}

bool ScriptRuntime::load(QString *error)
{
    d->teardown();
    d->files.clear();
    d->root = QFileInfo(d->settings.root).canonicalFilePath();
    if (d->root.isEmpty()) {
        *error = u"the handlers' folder %1 does not exist"_s.arg(d->settings.root);
        return false;
    }
    const QString path = QDir::cleanPath(d->root + u'/' + d->settings.handler + u".js"_s);
    const QString name = d->settings.handler + u".js"_s;
    d->file = QFileInfo(path).canonicalFilePath();
    if (!script::isInsideRoot(d->root, path)
        || (!d->file.isEmpty() && !script::isInsideRoot(d->root, d->file))) {
        *error = u"%1: outside the handlers' folder"_s.arg(name);
        return false;
    }
    d->files.record(path); // its appearance, once created, is a change too
    if (d->file.isEmpty()) {
        *error = u"%1: no such file"_s.arg(name);
        return false;
    }
    QJSValue exports;
    if (!d->makeEngine(error)
        || !d->invoke(d->prelude, u"load"_s, {QJSValue(d->file)}, &exports, error)) {
        d->teardown();
        return false;
    }
    d->exports = exports;
    return true;
}

bool ScriptRuntime::filesChanged() const
{
    return d->files.changed();
}

bool ScriptRuntime::handle(const HandlerEvent &event, QString *error)
{
    const QLatin1String method = HandlerEvent::methodName(event.method);
    if (!d->engine) {
        *error = u"%1: the handler is not loaded"_s.arg(d->settings.handler + u".js"_s);
        qCWarning(lcHandler).noquote() << d->settings.owner << method << *error;
        return false;
    }
    QJSValueList args;
    if (event.method == HandlerEvent::Method::Message)
        args.append(QJSValue(event.message));
    else if (event.method == HandlerEvent::Method::Error)
        args.append(QJSValue(event.error));
    d->bridge->setEvent(&event);
    QJSValue result;
    const bool ok = d->invoke(d->exports, exportName(event.method), args, &result, error);
    d->bridge->setEvent(nullptr);
    if (!ok) {
        if (d->interrupted.load())
            qCCritical(lcHandler).noquote() << d->settings.owner << method << *error;
        else
            qCWarning(lcHandler).noquote() << d->settings.owner << method << *error;
    }
    return ok;
}

} // namespace sb
