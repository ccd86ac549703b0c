#pragma once

#include "base/HandlerEvent.h"
#include "commands/CommandError.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace sb {

class OutboundClients;
struct ServerContext;

// An endpoint as GET /api/endpoints lists it (docs/API.md, "Endpoints").
struct EndpointInfo
{
    QString name;    // null when the file could not name one
    QString handler; // H: a script path or an http(s) URL
    QString description;
    QString file;           // the descriptor, relative to endpoints_dir
    bool tokenAuth = false; // "auth": "token"
    qint64 sessions = 0;
    QString error;     // null: in service; else why the file is not (path and field)
    QString lastError; // the handler's last failure (exception, timeout, HTTP), null if none
    quint64 calls = 0; // handler calls made
    quint64 failures = 0;
    qint64 queued = 0; // events waiting for or in a handler call
};

// The `*.websocket` endpoints and their handlers (docs/ARCHITECTURE.md, "Endpoints"): reads
// and watches endpoints_dir, runs each endpoint's handler on a thread of its own, takes the
// sessions' events from the I/O threads (bounded: 1000 per endpoint), and the events of the
// outbound clients that name a handler. Every public call is thread-safe.
class EndpointHost
{
public:
    EndpointHost(const ServerContext *context, OutboundClients *clients);
    ~EndpointHost();
    EndpointHost(const EndpointHost &) = delete;
    EndpointHost &operator=(const EndpointHost &) = delete;

    // Reads endpoints_dir (creating it) and starts watching it; stop() ends every handler
    // thread (sessions are closed by the I/O shards).
    void start();
    void stop();

    QList<EndpointInfo> list() const;
    // An endpoint in service (no error) by name.
    std::optional<EndpointInfo> find(const QString &name) const;
    // POST /api/endpoints: validates the descriptor and writes <NAME>.websocket; in service
    // at once. nullopt with *error naming the field (400) or the name taken (409).
    std::optional<EndpointInfo> create(const QJsonObject &descriptor, CommandError *error);
    // DELETE /api/endpoints/{name}: removes its file; its sessions close with 1001.
    bool remove(const QString &name, CommandError *error);
    // Whether H names a handler (a script file under endpoints_dir or an http(s) URL).
    bool handlerExists(const QString &handler, QString *why) const;

    // From the I/O threads, for sessions of an endpoint. sessionEvent() false: the endpoint's
    // queue is full (or the endpoint is gone); the caller closes the session with 1013.
    bool sessionEvent(HandlerEvent event);
    // From the outbound clients' thread, for clients that name a handler.
    void clientEvent(HandlerEvent event);

    // Called (any thread, cheap) when the list or an endpoint's state changes.
    void setChangeObserver(std::function<void()> observer);

private:
    // Scans endpoints_dir on the host's thread now and waits for it (after a write).
    void rescanNow();

    class Private;
    std::unique_ptr<Private> d;
};

} // namespace sb
