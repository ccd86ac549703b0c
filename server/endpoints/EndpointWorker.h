#pragma once

#include "base/HandlerEvent.h"

#include <QMutex>
#include <QObject>
#include <QString>

#include <atomic>
#include <deque>
#include <memory>

class QTimer;

namespace sb {

class HandlerServices;
class HttpHandler;
class ScriptRuntime;
class ScriptWatchdog;

// What a worker needs to run its handler (docs/ARCHITECTURE.md, "Endpoints").
struct WorkerSettings
{
    QString owner;    // the endpoint's name, or "client handler H"
    QString endpoint; // null for the client handlers' worker
    QString root;     // endpoints_dir
    qint64 timeoutMs = 1000;
    QString handlerKey;
    HandlerServices *services = nullptr;
    ScriptWatchdog *watchdog = nullptr;
    qint64 capacity = 1000;                 // events queued and in progress at most
    qint64 capacityBytes = 8 * 1024 * 1024; // and their weight (max_queue_bytes)
};

// One handler's thread: takes the events of its endpoint's sessions (or of the outbound
// clients that name it), bounded, and hands them to its script (one at a time, in order) or
// to its HTTP handler (in order per session, a few sessions at once). Lives on its own
// thread; post() and the counters are thread-safe.
class EndpointWorker final : public QObject
{
    Q_OBJECT

public:
    explicit EndpointWorker(WorkerSettings settings, QObject *parent = nullptr);
    ~EndpointWorker() override;

    // Any thread. False: the queue is full (the caller closes the session with 1013), or
    // the worker stopped. A close is taken beyond the bound (one per session at most).
    bool post(HandlerEvent event);
    // Any thread: the handler to use from the next event on (a changed descriptor).
    void setHandler(const QString &handler);
    // Any thread: no more events; what is queued is dropped.
    void stopTaking();
    // Any thread, once its thread runs: loads the handler now rather than at the first event
    // (a script's top-level code runs when its endpoint comes into service, as
    // docs/endpoints.md says: the platform's client example opens its client there) and
    // starts watching the script's files.
    void begin();

    quint64 calls() const { return m_calls.load(std::memory_order_relaxed); }
    quint64 failures() const { return m_failures.load(std::memory_order_relaxed); }
    QString lastError() const;
    qint64 pending() const { return m_pending.load(std::memory_order_relaxed); }

private:
    void drain();
    void tick();
    void handleScript(const HandlerEvent &event);
    // Makes the runtime for the current handler if it changed; false when it cannot run.
    bool ensureRuntime();
    // Puts events back at the front of the queue (a replaced handler's unsent ones).
    void requeueFront(std::deque<HandlerEvent> events);
    void reloadScript();
    void finished(bool ok, const QString &error, qint64 weight);
    void fail(const QString &error);

    const WorkerSettings m_settings;
    mutable QMutex m_mutex;
    std::deque<HandlerEvent> m_queue;
    QString m_handler;            // under m_mutex
    quint64 m_handlerVersion = 0; // under m_mutex
    bool m_wakePending = false;
    bool m_stopped = false;
    QString m_lastError; // under m_mutex

    // The worker's thread only.
    quint64 m_runtimeVersion = 0;
    QString m_runtimeHandler;
    std::unique_ptr<ScriptRuntime> m_script;
    bool m_scriptLoaded = false;
    HttpHandler *m_http = nullptr;
    QTimer *m_tick = nullptr;

    std::atomic<qint64> m_pending{0};
    std::atomic<qint64> m_pendingBytes{0}; // the weight of the pending events
    std::atomic<quint64> m_calls{0};
    std::atomic<quint64> m_failures{0};
};

} // namespace sb
