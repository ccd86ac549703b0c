#include "endpoints/EndpointWorker.h"

#include "base/Logging.h"
#include "endpoints/EndpointDescriptor.h"
#include "endpoints/HttpHandler.h"
#include "endpoints/ScriptRuntime.h"

#include <QMutexLocker>
#include <QTimer>

namespace sb {

EndpointWorker::EndpointWorker(WorkerSettings settings, QObject *parent)
    : QObject(parent), m_settings(std::move(settings))
{ }

EndpointWorker::~EndpointWorker() = default;

bool EndpointWorker::post(HandlerEvent event)
{
    QMutexLocker lock(&m_mutex);
    if (m_stopped)
        return false;
    const bool isClose = event.method == HandlerEvent::Method::Close;
    const qint64 weight = event.weight();
    const qint64 bytes = m_pendingBytes.load(std::memory_order_relaxed);
    // One event always fits when nothing waits, whatever max_message_bytes is.
    if (!isClose
        && (m_pending.load(std::memory_order_relaxed) >= m_settings.capacity
            || (bytes > 0 && bytes + weight > m_settings.capacityBytes)))
        return false;
    m_queue.push_back(std::move(event));
    m_pending.fetch_add(1, std::memory_order_relaxed);
    m_pendingBytes.fetch_add(weight, std::memory_order_relaxed);
    if (!m_wakePending) {
        m_wakePending = true;
        QMetaObject::invokeMethod(this, &EndpointWorker::drain, Qt::QueuedConnection);
    }
    return true;
}

void EndpointWorker::setHandler(const QString &handler)
{
    QMutexLocker lock(&m_mutex);
    if (handler == m_handler)
        return;
    m_handler = handler;
    ++m_handlerVersion;
}

void EndpointWorker::stopTaking()
{
    QMutexLocker lock(&m_mutex);
    m_stopped = true;
    for (const HandlerEvent &event : m_queue)
        m_pendingBytes.fetch_sub(event.weight(), std::memory_order_relaxed);
    m_pending.fetch_sub(qint64(m_queue.size()), std::memory_order_relaxed);
    m_queue.clear();
}

QString EndpointWorker::lastError() const
{
    QMutexLocker lock(&m_mutex);
    return m_lastError;
}

void EndpointWorker::begin()
{
    QMetaObject::invokeMethod(
            this,
            [this] {
                drain(); // starts the tick (and takes any event already there)
                ensureRuntime();
            },
            Qt::QueuedConnection);
}

void EndpointWorker::drain()
{
    if (!m_tick) {
        // Edited scripts are picked up within a second even when no event comes (their
        // top-level code runs again: the platform's client example opens its client there).
        m_tick = new QTimer(this);
        m_tick->setInterval(1000);
        connect(m_tick, &QTimer::timeout, this, &EndpointWorker::tick);
        m_tick->start();
    }
    for (;;) {
        {
            QMutexLocker lock(&m_mutex);
            if (m_queue.empty()) {
                m_wakePending = false;
                return;
            }
        }
        // Before the event is taken: a replaced handler's unsent events go first.
        const bool ready = ensureRuntime();
        HandlerEvent event;
        {
            QMutexLocker lock(&m_mutex);
            if (m_queue.empty()) { // stopTaking() meanwhile
                m_wakePending = false;
                return;
            }
            event = std::move(m_queue.front());
            m_queue.pop_front();
        }
        if (!ready) {
            m_pending.fetch_sub(1, std::memory_order_relaxed);
            m_pendingBytes.fetch_sub(event.weight(), std::memory_order_relaxed);
            continue;
        }
        if (m_http) {
            m_http->submit(std::move(event)); // finished() comes later
            continue;
        }
        handleScript(event);
    }
}

void EndpointWorker::requeueFront(std::deque<HandlerEvent> events)
{
    if (events.empty())
        return;
    QMutexLocker lock(&m_mutex);
    if (m_stopped) {
        m_pending.fetch_sub(qint64(events.size()), std::memory_order_relaxed);
        for (const HandlerEvent &e : events)
            m_pendingBytes.fetch_sub(e.weight(), std::memory_order_relaxed);
        return;
    }
    m_queue.insert(m_queue.begin(), std::make_move_iterator(events.begin()),
                   std::make_move_iterator(events.end()));
    if (!m_wakePending) {
        m_wakePending = true;
        QMetaObject::invokeMethod(this, &EndpointWorker::drain, Qt::QueuedConnection);
    }
}

void EndpointWorker::tick()
{
    if (m_script && m_script->filesChanged())
        reloadScript();
    else
        ensureRuntime();
}

bool EndpointWorker::ensureRuntime()
{
    QString handler;
    quint64 version = 0;
    {
        QMutexLocker lock(&m_mutex);
        handler = m_handler;
        version = m_handlerVersion;
    }
    if (version == m_runtimeVersion && (m_http || m_script))
        return m_http || m_scriptLoaded;
    m_runtimeVersion = version;
    m_runtimeHandler = handler;
    m_script.reset();
    m_scriptLoaded = false;
    if (m_http) {
        // Calls in flight are dropped; the events no call was started for go to the new
        // handler, before the events queued after them.
        requeueFront(m_http->takeUnsent());
        m_pending.fetch_sub(m_http->outstanding(), std::memory_order_relaxed);
        m_pendingBytes.fetch_sub(m_http->outstandingWeight(), std::memory_order_relaxed);
        delete m_http;
        m_http = nullptr;
    }
    if (handler.isEmpty())
        return false;
    if (EndpointDescriptor::isUrlHandler(handler)) {
        m_http = new HttpHandler(handler, m_settings.handlerKey, m_settings.endpoint,
                                 m_settings.services, this);
        connect(m_http, &HttpHandler::finished, this, &EndpointWorker::finished);
        return true;
    }
    ScriptSettings s;
    s.root = m_settings.root;
    s.handler = handler;
    s.owner = m_settings.owner;
    s.endpoint = m_settings.endpoint;
    s.timeoutMs = m_settings.timeoutMs;
    s.services = m_settings.services;
    s.watchdog = m_settings.watchdog;
    m_script = std::make_unique<ScriptRuntime>(std::move(s));
    reloadScript();
    return m_scriptLoaded;
}

void EndpointWorker::reloadScript()
{
    QString error;
    m_scriptLoaded = m_script->load(&error);
    if (m_scriptLoaded) {
        qCInfo(lcEndpoints).noquote() << m_settings.owner << "loaded handler" << m_runtimeHandler;
        return;
    }
    qCWarning(lcEndpoints).noquote()
            << m_settings.owner << "cannot load handler" << m_runtimeHandler + u':' << error;
    fail(error);
}

void EndpointWorker::handleScript(const HandlerEvent &event)
{
    QString error;
    if (m_script->filesChanged())
        reloadScript();
    const bool ok = m_scriptLoaded && m_script->handle(event, &error);
    finished(ok, error, event.weight());
}

void EndpointWorker::finished(bool ok, const QString &error, qint64 weight)
{
    m_pending.fetch_sub(1, std::memory_order_relaxed);
    m_pendingBytes.fetch_sub(weight, std::memory_order_relaxed);
    m_calls.fetch_add(1, std::memory_order_relaxed);
    if (!ok)
        fail(error);
}

void EndpointWorker::fail(const QString &error)
{
    m_failures.fetch_add(1, std::memory_order_relaxed);
    if (error.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    m_lastError = error;
}

} // namespace sb
