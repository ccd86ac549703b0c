#include "endpoints/EndpointHost.h"

#include "base/Logging.h"
#include "context/ServerContext.h"
#include "endpoints/EndpointDirectory.h"
#include "endpoints/EndpointServices.h"
#include "endpoints/EndpointWorker.h"
#include "endpoints/ScriptRuntime.h"
#include "hub/Hub.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QMutex>
#include <QSaveFile>
#include <QThread>

namespace sb {

namespace {

// A handler's thread and its worker; the worker is deleted on its thread when it ends.
struct Runner
{
    QThread *thread = nullptr;
    EndpointWorker *worker = nullptr;
    QString handler;
};

} // namespace

class EndpointHost::Private
{
public:
    const ServerContext *context;
    OutboundClients *clients;
    QThread *thread = nullptr;              // the host's: the directory and cluster answers
    QObject *anchor = nullptr;              // on that thread
    EndpointDirectory *directory = nullptr; // on that thread
    std::unique_ptr<EndpointServices> services;
    std::unique_ptr<ScriptWatchdog> watchdog;

    mutable QMutex mutex;
    QList<EndpointDescriptor> descriptors; // the last scan, valid or not
    QHash<QString, Runner> endpoints;      // valid endpoints by name
    QHash<QString, Runner> clientHandlers; // by handler H
    std::function<void()> observer;
    bool running = false;
    bool stopped = false;
    // Client events that came before start() (the clients start first, so that handlers can
    // make clients when they load): handed over once running, at most kMaxEarlyEvents.
    std::vector<HandlerEvent> early;
    static constexpr size_t kMaxEarlyEvents = 1000;

    Runner startRunner(const QString &owner, const QString &endpoint, const QString &handler);
    static void stopRunner(Runner &runner);
    // An endpoint's entry of GET /api/endpoints; under `mutex`.
    EndpointInfo infoLocked(const EndpointDescriptor &desc, qint64 sessions) const;
    // On the host's thread after a scan: endpoints come, change and go.
    void apply();
    void changed() const;
};

Runner EndpointHost::Private::startRunner(const QString &owner, const QString &endpoint,
                                          const QString &handler)
{
    WorkerSettings s;
    s.owner = owner;
    s.endpoint = endpoint;
    s.root = directory->root();
    s.timeoutMs = context->config.handlerTimeoutMs;
    s.handlerKey = context->config.handlerKey;
    s.services = services.get();
    s.watchdog = watchdog.get();
    s.capacityBytes = context->config.maxQueueBytes;
    Runner r;
    r.handler = handler;
    r.thread = new QThread;
    r.thread->setObjectName(QStringLiteral("sb-handler"));
    r.worker = new EndpointWorker(std::move(s));
    r.worker->setHandler(handler);
    r.worker->moveToThread(r.thread);
    QObject::connect(r.thread, &QThread::finished, r.worker, &QObject::deleteLater);
    r.thread->start();
    r.worker->begin();
    return r;
}

void EndpointHost::Private::stopRunner(Runner &runner)
{
    runner.worker->stopTaking();
    runner.thread->quit();
    runner.thread->wait();
    delete runner.thread;
    runner.thread = nullptr;
    runner.worker = nullptr;
}

void EndpointHost::Private::apply()
{
    QList<Runner> gone;
    QStringList goneNames;
    {
        QMutexLocker lock(&mutex);
        if (!running && !endpoints.isEmpty())
            return; // stopping
        descriptors = directory->descriptors();
        QSet<QString> valid;
        for (const EndpointDescriptor &desc : std::as_const(descriptors)) {
            if (!desc.error.isNull())
                continue;
            valid.insert(desc.name);
            auto it = endpoints.find(desc.name);
            if (it == endpoints.end()) {
                endpoints.insert(desc.name, startRunner(desc.name, desc.name, desc.handler));
                qCInfo(lcEndpoints).noquote()
                        << "endpoint" << desc.name << "in service, handler" << desc.handler;
            } else if (it->handler != desc.handler) {
                it->handler = desc.handler;
                it->worker->setHandler(desc.handler);
                qCInfo(lcEndpoints).noquote()
                        << "endpoint" << desc.name << "now uses handler" << desc.handler;
            }
        }
        for (auto it = endpoints.begin(); it != endpoints.end();) {
            if (valid.contains(it.key())) {
                ++it;
                continue;
            }
            goneNames.append(it.key());
            gone.append(*it);
            it = endpoints.erase(it);
        }
    }
    for (const QString &name : std::as_const(goneNames)) {
        qCInfo(lcEndpoints).noquote() << "endpoint" << name << "removed: closing its sessions";
        for (const ConnectionSnapshot &s : context->hub->endpointSessions(name))
            context->hub->closeConnectionWithCode(s.id, 1001);
    }
    for (Runner &r : gone)
        stopRunner(r);
    changed();
}

void EndpointHost::Private::changed() const
{
    std::function<void()> notify;
    {
        QMutexLocker lock(&mutex);
        notify = observer;
    }
    if (notify)
        notify();
}

EndpointHost::EndpointHost(const ServerContext *context, OutboundClients *clients)
    : d(std::make_unique<Private>())
{
    d->context = context;
    d->clients = clients;
}

EndpointHost::~EndpointHost()
{
    stop();
}

void EndpointHost::start()
{
    if (d->thread)
        return;
    d->watchdog = std::make_unique<ScriptWatchdog>();
    d->thread = new QThread;
    d->thread->setObjectName(QStringLiteral("sb-endpoints"));
    d->anchor = new QObject;
    d->anchor->moveToThread(d->thread);
    d->services = std::make_unique<EndpointServices>(d->context, d->clients, d->anchor);
    d->directory = new EndpointDirectory(d->context->config.endpointsPath());
    d->directory->moveToThread(d->thread);
    QObject::connect(d->thread, &QThread::finished, d->directory, &QObject::deleteLater);
    QObject::connect(d->thread, &QThread::finished, d->anchor, &QObject::deleteLater);
    d->thread->start();
    Private *p = d.get();
    QObject::connect(d->directory, &EndpointDirectory::changed, d->directory, [p] { p->apply(); });
    QMetaObject::invokeMethod(
            d->directory,
            [p] {
                p->directory->start();
                p->apply();
            },
            Qt::BlockingQueuedConnection);
    std::vector<HandlerEvent> early;
    {
        QMutexLocker lock(&d->mutex);
        d->running = true;
        early.swap(d->early);
    }
    for (HandlerEvent &event : early)
        clientEvent(std::move(event));
}

void EndpointHost::stop()
{
    if (!d->thread)
        return;
    {
        QMutexLocker lock(&d->mutex);
        d->running = false;
        d->stopped = true;
        d->early.clear();
    }
    // The host's thread first: no scan starts a handler thread any more.
    d->thread->quit();
    d->thread->wait();
    QList<Runner> runners;
    {
        QMutexLocker lock(&d->mutex);
        runners = d->endpoints.values() + d->clientHandlers.values();
        d->endpoints.clear();
        d->clientHandlers.clear();
    }
    for (Runner &r : runners)
        Private::stopRunner(r);
    delete d->thread;
    d->thread = nullptr;
    d->directory = nullptr;
    d->anchor = nullptr;
    d->watchdog.reset();
}

void EndpointHost::setChangeObserver(std::function<void()> observer)
{
    QMutexLocker lock(&d->mutex);
    d->observer = std::move(observer);
}

bool EndpointHost::sessionEvent(HandlerEvent event)
{
    QMutexLocker lock(&d->mutex);
    const auto it = d->endpoints.constFind(event.endpoint);
    if (it == d->endpoints.constEnd())
        return false;
    event.handler = it->handler;
    return it->worker->post(std::move(event));
}

void EndpointHost::clientEvent(HandlerEvent event)
{
    QMutexLocker lock(&d->mutex);
    if (!d->running) {
        if (!d->stopped && d->early.size() < Private::kMaxEarlyEvents)
            d->early.push_back(std::move(event));
        return;
    }
    auto it = d->clientHandlers.find(event.handler);
    if (it == d->clientHandlers.end()) {
        it = d->clientHandlers.insert(
                event.handler,
                d->startRunner(u"client handler " + event.handler, QString(), event.handler));
    }
    if (!it->worker->post(std::move(event)))
        qCWarning(lcEndpoints).noquote()
                << "client handler" << it.key() << "has 1000 events waiting: event dropped";
}

EndpointInfo EndpointHost::Private::infoLocked(const EndpointDescriptor &desc,
                                               qint64 sessions) const
{
    EndpointInfo info;
    info.name = desc.name;
    info.handler = desc.handler;
    info.description = desc.description;
    info.file = desc.file;
    info.tokenAuth = desc.tokenAuth;
    info.error = desc.error;
    if (desc.error.isNull()) {
        info.sessions = sessions;
        if (const auto it = endpoints.constFind(desc.name); it != endpoints.constEnd()) {
            info.calls = it->worker->calls();
            info.failures = it->worker->failures();
            info.lastError = it->worker->lastError();
            info.queued = it->worker->pending();
        }
    }
    return info;
}

QList<EndpointInfo> EndpointHost::list() const
{
    // The hub's counts (a shared copy), taken before our lock: the hub never waits for it.
    const QHash<QString, qint64> sessions = d->context->hub->endpointSessionCounts();
    QList<EndpointInfo> out;
    QMutexLocker lock(&d->mutex);
    for (const EndpointDescriptor &desc : std::as_const(d->descriptors))
        out.append(d->infoLocked(desc, desc.error.isNull() ? sessions.value(desc.name) : 0));
    return out;
}

std::optional<EndpointInfo> EndpointHost::find(const QString &name) const
{
    // Every session's upgrade asks: one endpoint's entry, not the whole list.
    const qint64 sessions = d->context->hub->endpointSessionCounts().value(name);
    QMutexLocker lock(&d->mutex);
    if (!d->endpoints.contains(name))
        return std::nullopt;
    for (const EndpointDescriptor &desc : std::as_const(d->descriptors)) {
        if (desc.error.isNull() && desc.name == name)
            return d->infoLocked(desc, sessions);
    }
    return std::nullopt;
}

bool EndpointHost::handlerExists(const QString &handler, QString *why) const
{
    if (!EndpointDescriptor::isValidHandler(handler, why))
        return false;
    if (EndpointDescriptor::isUrlHandler(handler))
        return true;
    QMutexLocker lock(&d->mutex);
    if (d->directory && d->directory->scriptExists(handler))
        return true;
    *why = QStringLiteral("handler: the script %1.js does not exist in endpoints_dir").arg(handler);
    return false;
}

std::optional<EndpointInfo> EndpointHost::create(const QJsonObject &descriptor, CommandError *error)
{
    const QString name = descriptor.value(u"endpoint").toString();
    EndpointDescriptor desc =
            EndpointDescriptor::fromJson(descriptor, name + QStringLiteral(".websocket"));
    QString why;
    if (desc.error.isNull() && !handlerExists(desc.handler, &why))
        desc.error = why;
    if (!desc.error.isNull()) {
        error->message = desc.error;
        return std::nullopt;
    }
    const QString path = d->context->config.endpointsPath() + u'/' + desc.file;
    {
        QMutexLocker lock(&d->mutex);
        for (const EndpointDescriptor &other : std::as_const(d->descriptors)) {
            if (other.name == desc.name || other.file == desc.file) {
                *error = CommandError{409, QStringLiteral("conflict"),
                                      QStringLiteral("endpoint: %1 is already defined in %2 "
                                                     "(DELETE it first)")
                                              .arg(desc.name, other.file)};
                return std::nullopt;
            }
        }
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(desc.toFileContent()) < 0
        || !file.commit()) {
        *error = CommandError{500, QStringLiteral("internal"),
                              QStringLiteral("cannot write %1: %2").arg(path, file.errorString())};
        return std::nullopt;
    }
    rescanNow();
    if (std::optional<EndpointInfo> info = find(desc.name))
        return info;
    *error = CommandError{500, QStringLiteral("internal"),
                          QStringLiteral("%1 was written but is not in service").arg(path)};
    return std::nullopt;
}

bool EndpointHost::remove(const QString &name, CommandError *error)
{
    QString file;
    {
        QMutexLocker lock(&d->mutex);
        for (const EndpointDescriptor &desc : std::as_const(d->descriptors)) {
            if (desc.error.isNull() && desc.name == name)
                file = desc.file;
        }
    }
    if (file.isNull()) {
        *error = CommandError{404, QStringLiteral("not_found"),
                              QStringLiteral("no endpoint named %1").arg(name.left(100))};
        return false;
    }
    const QString path = d->context->config.endpointsPath() + u'/' + file;
    if (!QFile::remove(path)) {
        *error = CommandError{500, QStringLiteral("internal"),
                              QStringLiteral("cannot remove %1").arg(path)};
        return false;
    }
    rescanNow();
    return true;
}

void EndpointHost::rescanNow()
{
    if (!d->thread)
        return;
    EndpointDirectory *directory = d->directory;
    QMetaObject::invokeMethod(
            directory, [directory] { directory->rescan(); }, Qt::BlockingQueuedConnection);
}

} // namespace sb
