// The registry of the outbound clients (docs/API.md, "Outbound clients"): metadata in a
// ClientTable under one mutex, the sockets on the registry's own thread (ClientWorker).
#include "clients/OutboundClients.h"

#include "base/Names.h"
#include "clients/ClientStore.h"
#include "clients/ClientTable.h"
#include "clients/ClientWorker.h"
#include "clients/ClientsLogging.h"

#include <QDateTime>
#include <QThread>
#include <QUrl>

namespace sb {

Q_LOGGING_CATEGORY(lcClients, "switchboard.clients", QtInfoMsg)

QLatin1String ClientInfo::stateName(State state)
{
    switch (state) {
    case State::Connecting:
        return QLatin1String("connecting");
    case State::Open:
        return QLatin1String("open");
    case State::Closed:
        return QLatin1String("closed");
    }
    return {};
}

namespace {

CommandError badRequest(const QString &message)
{
    return CommandError{400, QStringLiteral("bad_request"), message};
}

// The uri and the target of a spec (no handler lookup): nullopt when it is fine.
std::optional<CommandError> checkSpec(const ClientSpec &spec)
{
    const QUrl url(spec.uri, QUrl::StrictMode);
    const QString scheme = url.scheme();
    if (spec.uri.isEmpty())
        return badRequest(QStringLiteral("uri is required"));
    if (!url.isValid() || (scheme != u"ws" && scheme != u"wss") || url.host().isEmpty())
        return badRequest(QStringLiteral("uri must be a ws:// or wss:// URL with a host"));
    const bool hasTarget = !spec.room.isNull() || !spec.event.isNull();
    if (!spec.handler.isNull() && hasTarget)
        return badRequest(QStringLiteral("handler and room/event exclude each other: give "
                                         "either handler, or room and event"));
    if (!spec.handler.isNull())
        return spec.handler.isEmpty()
                ? std::optional(badRequest(QStringLiteral("handler must not be empty")))
                : std::nullopt;
    if (!hasTarget)
        return badRequest(QStringLiteral("handler, or room and event, is required"));
    for (const auto &[field, value, max] : {std::tuple(u"room", &spec.room, names::kRoomMax),
                                            std::tuple(u"event", &spec.event, names::kEventMax)}) {
        if (value->isNull())
            return badRequest(QStringLiteral("%1 is required with a room target").arg(field));
        if (QString why; !names::checkLength(field, *value, max, &why))
            return badRequest(why);
    }
    return std::nullopt;
}

} // namespace

class OutboundClients::Private
{
public:
    explicit Private(Options o) : options(std::move(o)), store(options.dataDir) { }

    void ensureLoadedLocked();
    bool saveLocked() { return store.save(table.nextIdLocked(), table.entriesLocked().values()); }
    // Posts an action to the registry's thread (a no-op while it is not running).
    template<typename F>
    void post(F action)
    {
        if (worker)
            QMetaObject::invokeMethod(worker, std::move(action), Qt::QueuedConnection);
    }

    Options options;
    ClientTable table;
    ClientStore store;
    bool loaded = false;            // under table.mutex()
    QThread *thread = nullptr;      // while running (set and read under table.mutex())
    ClientWorker *worker = nullptr; // lives on thread
};

void OutboundClients::Private::ensureLoadedLocked()
{
    if (std::exchange(loaded, true))
        return;
    const ClientStore::Content content = store.load([](const ClientSpec &spec, QString *why) {
        const std::optional<CommandError> error = checkSpec(spec);
        if (error)
            *why = error->message;
        return !error;
    });
    table.nextIdLocked() = qMax(table.nextIdLocked(), content.nextId);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (ClientInfo info : content.clients) {
        info.sinceMs = now;
        table.entriesLocked().insert(ClientTable::idNumber(info.id), info);
    }
    if (!content.clients.isEmpty())
        qCInfo(lcClients).noquote() << "opening" << content.clients.size()
                                    << "outbound clients kept in" << store.path();
}

OutboundClients::OutboundClients(Options options) : d(std::make_unique<Private>(std::move(options)))
{ }

OutboundClients::~OutboundClients()
{
    stop();
}

void OutboundClients::start()
{
    QMutexLocker lock(&d->table.mutex());
    if (d->thread)
        return;
    d->ensureLoadedLocked();
    d->thread = new QThread;
    d->thread->setObjectName(QStringLiteral("sb-clients"));
    d->worker = new ClientWorker(&d->table, &d->options);
    d->worker->moveToThread(d->thread);
    QObject::connect(d->thread, &QThread::finished, d->worker, &QObject::deleteLater);
    d->thread->start();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (ClientInfo &info : d->table.entriesLocked()) {
        info.state = ClientInfo::State::Connecting;
        info.sinceMs = now;
        ClientWorker *worker = d->worker;
        d->post([worker, id = info.id, spec = info.spec] { worker->add(id, spec); });
    }
}

void OutboundClients::stop()
{
    QThread *thread = nullptr;
    ClientWorker *worker = nullptr;
    {
        QMutexLocker lock(&d->table.mutex());
        thread = std::exchange(d->thread, nullptr);
        worker = std::exchange(d->worker, nullptr);
    }
    if (!thread)
        return;
    QMetaObject::invokeMethod(
            worker, [worker] { worker->shutdown(); }, Qt::BlockingQueuedConnection);
    thread->quit();
    thread->wait();
    delete thread; // the worker went with the thread's end (deleteLater)
    {
        QMutexLocker lock(&d->table.mutex());
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (ClientInfo &info : d->table.entriesLocked()) {
            info.state = ClientInfo::State::Closed;
            info.sinceMs = now;
        }
        d->table.pendingLocked().clear();
    }
    d->table.notify();
}

std::optional<ClientInfo> OutboundClients::create(const ClientSpec &spec, CommandError *error)
{
    if (std::optional<CommandError> bad = checkSpec(spec)) {
        *error = *bad;
        return std::nullopt;
    }
    // Outside the mutex: the endpoint host answers from its own state.
    QString why;
    if (!spec.handler.isEmpty() && d->options.handlerExists
        && !d->options.handlerExists(spec.handler, &why)) {
        if (why.isEmpty())
            why = QStringLiteral("no such handler");
        *error = badRequest(
                why.contains(u"handler")
                        ? why
                        : QStringLiteral("handler '%1': %2").arg(spec.handler.left(200), why));
        return std::nullopt;
    }
    ClientInfo info;
    {
        QMutexLocker lock(&d->table.mutex());
        d->ensureLoadedLocked();
        auto &entries = d->table.entriesLocked();
        if (entries.size() >= d->options.maxClients) {
            *error = CommandError{429, QStringLiteral("too_many_clients"),
                                  QStringLiteral("at most max_clients (%1) outbound clients; "
                                                 "delete one first")
                                          .arg(d->options.maxClients)};
            return std::nullopt;
        }
        const quint64 number = d->table.nextIdLocked()++;
        info.id = ClientTable::idText(number);
        info.spec = spec;
        info.sinceMs = QDateTime::currentMSecsSinceEpoch();
        entries.insert(number, info);
        d->saveLocked();
        ClientWorker *worker = d->worker;
        d->post([worker, id = info.id, spec] { worker->add(id, spec); });
    }
    qCInfo(lcClients).noquote() << "client" << info.id << "created for" << spec.uri;
    d->table.notify();
    return info;
}

QList<ClientInfo> OutboundClients::list() const
{
    QMutexLocker lock(&d->table.mutex());
    return d->table.entriesLocked().values();
}

std::optional<ClientInfo> OutboundClients::get(const QString &id) const
{
    QMutexLocker lock(&d->table.mutex());
    const auto &entries = d->table.entriesLocked();
    const auto it = entries.constFind(ClientTable::idNumber(id));
    if (it == entries.cend())
        return std::nullopt;
    return *it;
}

std::optional<ClientInfo> OutboundClients::byHandler(const QString &handler) const
{
    QMutexLocker lock(&d->table.mutex());
    for (const ClientInfo &info : std::as_const(d->table.entriesLocked())) {
        if (!info.spec.handler.isEmpty() && info.spec.handler == handler)
            return info;
    }
    return std::nullopt;
}

bool OutboundClients::remove(const QString &id)
{
    {
        QMutexLocker lock(&d->table.mutex());
        if (d->table.entriesLocked().remove(ClientTable::idNumber(id)) == 0)
            return false;
        d->table.pendingLocked().remove(id);
        d->saveLocked();
        ClientWorker *worker = d->worker;
        d->post([worker, id] { worker->finish(id); });
    }
    qCInfo(lcClients).noquote() << "client" << id << "deleted";
    d->table.notify();
    return true;
}

bool OutboundClients::send(const QString &id, const QString &text, CommandError *error)
{
    const qint64 bytes = text.toUtf8().size();
    const qint64 limit = kQueuedMessagesFactor * d->options.maxMessageBytes;
    QMutexLocker lock(&d->table.mutex());
    if (!d->table.entriesLocked().contains(ClientTable::idNumber(id))) {
        *error = CommandError{404, QStringLiteral("not_found"),
                              QStringLiteral("client '%1' does not exist").arg(id.left(100))};
        return false;
    }
    if (!d->worker) {
        *error = CommandError{503, QStringLiteral("unavailable"),
                              QStringLiteral("outbound clients are not running")};
        return false;
    }
    qint64 &pending = d->table.pendingLocked()[id];
    if (pending + bytes > limit) {
        *error = CommandError{503, QStringLiteral("unavailable"),
                              QStringLiteral("client '%1' is not open and already has %2 bytes "
                                             "waiting; at most %3 (16 x max_message_bytes) wait")
                                      .arg(id)
                                      .arg(pending)
                                      .arg(limit),
                              1};
        return false;
    }
    pending += bytes;
    ClientWorker *worker = d->worker;
    d->post([worker, id, text] { worker->enqueue(id, text); });
    return true;
}

void OutboundClients::setChangeObserver(std::function<void()> observer)
{
    d->table.setObserver(std::move(observer));
}

} // namespace sb
