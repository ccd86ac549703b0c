// The native side of the script handlers' modules (docs/ARCHITECTURE.md, "Script handlers";
// the functions are those of docs/API.md, "Handlers").
#include "endpoints/ScriptBridge.h"

#include "endpoints/HandlerServices.h"

#include <QFileInfo>
#include <QJSEngine>
#include <QLoggingCategory>
#include <QUrl>

namespace sb::script {

Q_LOGGING_CATEGORY(lcHandler, "switchboard.handler", QtInfoMsg)

using namespace Qt::StringLiterals;

namespace {

// A console line longer than this is cut: a handler cannot flood the log with one call.
constexpr qsizetype kMaxLogChars = 8192;

// A JS value for a QString that may be null.
QJSValue textOrNull(const QString &text)
{
    return text.isNull() ? QJSValue(QJSValue::NullValue) : QJSValue(text);
}

} // namespace

ScriptBridge::ScriptBridge(const ScriptSettings &settings, QString root, QJSEngine *engine,
                           ScriptFiles *files)
    : m_settings(settings), m_root(std::move(root)), m_engine(engine), m_files(files)
{ }

QJSValue ScriptBridge::throwError(const QString &message) const
{
    m_engine->throwError(QJSValue::GenericError, message);
    return {};
}

QJSValue ScriptBridge::method() const
{
    return m_event ? QJSValue(QString(HandlerEvent::methodName(m_event->method)))
                   : QJSValue(QJSValue::NullValue);
}

QJSValue ScriptBridge::message() const
{
    return m_event && m_event->method == HandlerEvent::Method::Message
            ? QJSValue(m_event->message)
            : QJSValue(QJSValue::NullValue);
}

QJSValue ScriptBridge::error() const
{
    return m_event && m_event->method == HandlerEvent::Method::Error
            ? QJSValue(m_event->error)
            : QJSValue(QJSValue::NullValue);
}

QJSValue ScriptBridge::session() const
{
    if (!m_event || m_settings.endpoint.isEmpty() || m_event->session == 0)
        return QJSValue(QJSValue::NullValue);
    QJSValue value = m_engine->newObject();
    value.setProperty(u"id"_s, connectionIdText(m_event->session));
    value.setProperty(u"endpoint"_s, m_settings.endpoint);
    value.setProperty(u"user"_s,
                      m_event->user.isEmpty() ? QJSValue(QJSValue::NullValue)
                                              : QJSValue(m_event->user));
    return value;
}

bool ScriptBridge::sessionSend(const QString &id, const QString &text)
{
    const ConnId session = parseConnectionId(id);
    return session != 0 && m_settings.services && m_settings.services->sendToSession(session, text);
}

bool ScriptBridge::sessionClose(const QString &id, int code)
{
    const ConnId session = parseConnectionId(id);
    if (code < 1000 || code > 4999) {
        throwError(u"close code %1 is not in 1000..4999"_s.arg(code));
        return false;
    }
    return session != 0 && m_settings.services
            && m_settings.services->closeSession(session, quint16(code));
}

OutboundClients *ScriptBridge::clients() const
{
    OutboundClients *registry = m_settings.services ? m_settings.services->clients() : nullptr;
    if (!registry)
        throwError(u"outbound clients are not available"_s);
    return registry;
}

QJSValue ScriptBridge::clientValue(const ClientInfo &info) const
{
    QJSValue value = m_engine->newObject();
    value.setProperty(u"id"_s, info.id);
    value.setProperty(u"uri"_s, info.spec.uri);
    value.setProperty(u"handler"_s, textOrNull(info.spec.handler));
    value.setProperty(u"room"_s, textOrNull(info.spec.room));
    value.setProperty(u"event"_s, textOrNull(info.spec.event));
    value.setProperty(u"state"_s, QString(ClientInfo::stateName(info.state)));
    value.setProperty(u"since"_s, double(info.sinceMs));
    value.setProperty(u"received"_s, double(info.received));
    value.setProperty(u"sent"_s, double(info.sent));
    value.setProperty(u"reconnects"_s, double(info.reconnects));
    value.setProperty(u"lastError"_s, textOrNull(info.lastError));
    return value;
}

QJSValue ScriptBridge::clientCreate(const QString &uri, const QString &handler)
{
    OutboundClients *registry = clients();
    if (!registry)
        return {};
    CommandError error;
    const auto info = registry->create(ClientSpec{uri, handler, {}, {}}, &error);
    if (!info)
        return throwError(error.message);
    return clientValue(*info);
}

QJSValue ScriptBridge::clientList()
{
    OutboundClients *registry = clients();
    if (!registry)
        return {};
    const QList<ClientInfo> list = registry->list();
    QJSValue array = m_engine->newArray(quint32(list.size()));
    for (qsizetype i = 0; i < list.size(); ++i)
        array.setProperty(quint32(i), clientValue(list.at(i)));
    return array;
}

QJSValue ScriptBridge::clientGet(const QString &id)
{
    OutboundClients *registry = clients();
    if (!registry)
        return {};
    const auto info = registry->get(id);
    return info ? clientValue(*info) : QJSValue(QJSValue::NullValue);
}

QJSValue ScriptBridge::clientByHandler(const QString &handler)
{
    OutboundClients *registry = clients();
    if (!registry)
        return {};
    const auto info = registry->byHandler(handler);
    return info ? clientValue(*info) : QJSValue(QJSValue::NullValue);
}

bool ScriptBridge::clientSend(const QString &id, const QString &text)
{
    OutboundClients *registry = clients();
    if (!registry)
        return false;
    CommandError error;
    if (!registry->send(id, text, &error)) {
        throwError(error.message);
        return false;
    }
    return true;
}

bool ScriptBridge::clientClose(const QString &id)
{
    OutboundClients *registry = clients();
    return registry && registry->remove(id);
}

QJSValue ScriptBridge::emitTo(int target, const QString &to, const QString &event,
                              const QString &data)
{
    static constexpr EmitTarget targets[] = {EmitTarget::Room, EmitTarget::User, EmitTarget::All};
    if (target < 0 || target > 2 || !m_settings.services)
        return throwError(u"emits are not available"_s);
    QString error;
    const auto id = m_settings.services->emit(targets[target], to, event, data.toUtf8(), &error);
    if (!id)
        return throwError(error.isEmpty() ? u"the emit was refused"_s : error);
    return QJSValue(double(*id));
}

QJSValue ScriptBridge::sessionList(const QString &endpoint)
{
    if (!m_settings.services)
        return m_engine->newArray();
    const auto sessions =
            m_settings.services->sessions(endpoint.isEmpty() ? m_settings.endpoint : endpoint);
    QJSValue array = m_engine->newArray(quint32(sessions.size()));
    for (qsizetype i = 0; i < sessions.size(); ++i) {
        QJSValue entry = m_engine->newObject();
        entry.setProperty(u"id"_s, connectionIdText(sessions.at(i).first));
        entry.setProperty(u"user"_s,
                          sessions.at(i).second.isEmpty() ? QJSValue(QJSValue::NullValue)
                                                          : QJSValue(sessions.at(i).second));
        array.setProperty(quint32(i), entry);
    }
    return array;
}

void ScriptBridge::log(int level, const QString &text)
{
    QString line = text.size() > kMaxLogChars ? text.left(kMaxLogChars) + u"... (cut)"_s : text;
    switch (level) {
    case 0:
        qCDebug(lcHandler).noquote() << m_settings.owner + u": "_s + line;
        break;
    case 1:
        qCInfo(lcHandler).noquote() << m_settings.owner + u": "_s + line;
        break;
    case 2:
        qCWarning(lcHandler).noquote() << m_settings.owner + u": "_s + line;
        break;
    default:
        qCCritical(lcHandler).noquote() << m_settings.owner + u": "_s + line;
        break;
    }
}

QJSValue ScriptBridge::resolve(const QString &fromFile, const QString &name)
{
    QString error;
    const QString file = resolveRequire(m_root, fromFile, name, &error);
    if (file.isNull())
        return throwError(error);
    return QJSValue(file);
}

bool ScriptBridge::isModuleFile(const QString &file) const
{
    return isInsideRoot(m_root, file) && QFileInfo(file).canonicalFilePath() == file;
}

QJSValue ScriptBridge::compile(const QString &file)
{
    QString source;
    QString error;
    if (!isModuleFile(file))
        return throwError(u"module '%1' is not available"_s.arg(file));
    m_files->record(file);
    if (!readScript(m_root, file, &source, &error))
        return throwError(error);
    // The wrapper's head shares the first line with the code: line numbers stay the file's.
    QJSValue fn = m_engine->evaluate(
            u"(function (exports, require, module, __filename, __dirname) {"_s + source + u"\n})"_s,
            file);
    if (fn.isError()) {
        if (fn.errorType() != QJSValue::SyntaxError || !looksLikeEsModule(source)) {
            m_engine->throwError(fn);
            return {};
        }
        QJSValue ns;
        if (!importEs(file, &ns)) {
            m_engine->throwError(ns);
            return {};
        }
        QJSValue result = m_engine->newObject();
        result.setProperty(u"ns"_s, ns);
        return result;
    }
    QJSValue result = m_engine->newObject();
    result.setProperty(u"fn"_s, fn);
    result.setProperty(u"filename"_s, displayName(m_root, file));
    result.setProperty(u"dirname"_s, displayName(m_root, QFileInfo(file).absolutePath()));
    return result;
}

bool ScriptBridge::importEs(const QString &file, QJSValue *result)
{
    CheckError failure;
    if (!checkEsModule(m_root, file, m_files, &failure)) {
        // Where the refused import stands: the error's location (docs/API.md, "Handlers").
        *result = m_engine->newErrorObject(QJSValue::GenericError, failure.message);
        result->setProperty(u"fileName"_s, QUrl::fromLocalFile(failure.file).toString());
        result->setProperty(u"lineNumber"_s, failure.line);
        return false;
    }
    *result = m_engine->importModule(file);
    if (m_engine->hasError()) {
        *result = m_engine->catchError();
        return false;
    }
    return !result->isError();
}

} // namespace sb::script
