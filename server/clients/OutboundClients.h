#pragma once

#include "base/HandlerEvent.h"
#include "commands/CommandError.h"

#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

class QThread;

namespace sb {

class EmitService;

// What a client is asked to be (POST /api/clients, createWebsocket()): a WebSocket client to
// `uri` whose events go to `handler`, or whose text messages are emitted to `room` as `event`.
struct ClientSpec
{
    QString uri;
    QString handler; // set: events go to this handler (HandlerEvent with `client` set)
    QString room;    // else: messages are emitted to this room (source `client`)
    QString event;
};

// A client as /api/clients shows it (docs/API.md, "Outbound clients").
struct ClientInfo
{
    enum class State : quint8 { Connecting, Open, Closed };
    QString id; // "w1", "w2", ...: never reused while the data dir lives
    ClientSpec spec;
    State state = State::Connecting;
    qint64 sinceMs = 0; // when it entered its state
    quint64 received = 0;
    quint64 sent = 0;
    quint64 reconnects = 0;
    QString lastError;   // null when none yet
    quint64 dropped = 0; // room target: messages whose emit was refused (queues full)

    static QLatin1String stateName(State state);
};

// The outbound WebSocket clients (docs/ARCHITECTURE.md, "Endpoints and clients"): one
// QWebSocket each, on the registry's own thread; reconnect with backoff and jitter (500 ms to
// 30 s) until deleted; kept in <data_dir>/clients.json so that they come back after a
// restart; at most max_clients. Every public call is thread-safe (REST on the HTTP thread,
// scripts on their handler threads, the console).
class OutboundClients
{
public:
    struct Options
    {
        QString dataDir;                // clients.json lives here; empty: not kept
        qint64 maxClients = 100;        // max_clients
        qint64 maxMessageBytes = 65536; // largest message accepted from the remote side
        EmitService *emits = nullptr;   // room targets emit here (source `client`)
        // Handler targets: their events go here (the endpoint host's dispatcher; any thread).
        std::function<void(const HandlerEvent &event)> toHandler;
        // Whether `handler` names a handler that exists (a script under endpoints_dir or an
        // http(s) URL); false with *why, and the create is a 400 naming `handler`.
        std::function<bool(const QString &handler, QString *why)> handlerExists;
    };

    explicit OutboundClients(Options options);
    ~OutboundClients();
    OutboundClients(const OutboundClients &) = delete;
    OutboundClients &operator=(const OutboundClients &) = delete;

    // Starts the registry's thread and the clients kept in the data dir. Stop closes them
    // (kept for the next start) and ends the thread.
    void start();
    void stop();

    // Validates (a bad uri is a 400 naming `uri`; neither handler nor room+event: 400; over
    // max_clients: 429 naming max_clients), keeps it and starts connecting.
    std::optional<ClientInfo> create(const ClientSpec &spec, CommandError *error);
    QList<ClientInfo> list() const;
    std::optional<ClientInfo> get(const QString &id) const;
    // The first client (lowest id) whose handler is `handler`.
    std::optional<ClientInfo> byHandler(const QString &handler) const;
    // Closes it for good and forgets it. False: no such client.
    bool remove(const QString &id);
    // Sends a text message; while the client connects it waits (bounded: max_message_bytes x
    // 16 per client, then 503). False with *error: no such client (404), closed for good.
    bool send(const QString &id, const QString &text, CommandError *error);

    // Sends queued per client while it is not open: at most this many times maxMessageBytes.
    static constexpr qint64 kQueuedMessagesFactor = 16;

    // Called (any thread, cheap) whenever a client's state or counters change: the admin
    // stream and the console refresh from list().
    void setChangeObserver(std::function<void()> observer);

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace sb
