#include "admin/AdminStream.h"

#include "admin/AdminFeed.h"
#include "admin/AdminJson.h"
#include "admin/StatsSampler.h"
#include "base/Logging.h"
#include "base/RawJson.h"
#include "clients/ClientJson.h"
#include "cluster/Cluster.h"
#include "context/ServerContext.h"
#include "endpoints/EndpointJson.h"
#include "metrics/Metrics.h"
#include "store/MessageLog.h"

#include <QTimer>
#include <QWebSocket>

namespace sb {

namespace {

// How long a slow observer's close may take before its socket is cut.
constexpr int kCloseGraceMs = 2000;

QByteArray eventFrame(const HubEvent &e)
{
    const QByteArray id = rawjson::quote(connectionIdText(e.connection));
    switch (e.kind) {
    case HubEvent::Kind::Opened:
        return R"({"type":"connection.opened","connection":)"
                + compactJson(connectionJson(e.snapshot)) + '}';
    case HubEvent::Kind::Closed:
        return R"({"type":"connection.closed","connection":)" + id + R"(,"code":)"
                + QByteArray::number(e.code) + '}';
    case HubEvent::Kind::Joined:
        return R"({"type":"room.joined","room":)" + rawjson::quote(e.room) + R"(,"connection":)"
                + id + R"(,"user":)" + rawjson::quote(e.user) + R"(,"session":)"
                + rawjson::quote(e.session) + '}';
    case HubEvent::Kind::Left:
        return R"({"type":"room.left","room":)" + rawjson::quote(e.room) + R"(,"connection":)" + id
                + '}';
    }
    return {};
}

} // namespace

AdminStream::AdminStream(const ServerContext *context, const StatsSampler *stats, QObject *parent)
    : QObject(parent),
      m_context(context),
      m_stats(stats),
      m_flushTimer(new QTimer(this)),
      m_statsTimer(new QTimer(this)),
      m_dirty(std::make_shared<Dirty>())
{
    m_clock.start();
    // The registries call these on any thread: they only raise a flag, the next flush sends
    // the list (docs/API.md, "Admin stream").
    if (context->endpoints) {
        context->endpoints->setChangeObserver(
                [dirty = m_dirty] { dirty->endpoints.store(true, std::memory_order_relaxed); });
    }
    if (context->clients) {
        context->clients->setChangeObserver(
                [dirty = m_dirty] { dirty->clients.store(true, std::memory_order_relaxed); });
    }
    m_flushTimer->setInterval(kFlushMs);
    connect(m_flushTimer, &QTimer::timeout, this, &AdminStream::flush);
    m_statsTimer->setInterval(1000);
    connect(m_statsTimer, &QTimer::timeout, this, &AdminStream::sendStats);
}

AdminStream::~AdminStream()
{
    for (const Observer &o : m_observers) {
        if (!o.socket)
            continue;
        o.socket->disconnect(this);
        o.socket->abort();
        delete o.socket;
    }
}

const void *AdminStream::Observer::key() const
{
    return socket ? static_cast<const void *>(socket) : static_cast<const void *>(feed.get());
}

void AdminStream::hubEvent(const HubEvent &event)
{
    if (m_watching.load(std::memory_order_relaxed) == 0)
        return;
    QMutexLocker lock(&m_mutex);
    m_events.push_back(event);
}

void AdminStream::recordEmitted(const MessageRecord &record)
{
    if (m_watching.load(std::memory_order_relaxed) == 0)
        return;
    QMutexLocker lock(&m_mutex);
    if (qsizetype(m_records.size()) >= kMaxPendingRecords) {
        ++m_dropped;
        return;
    }
    m_records.push_back(record);
}

QByteArray AdminStream::snapshotFrame(quint64 *newestLogId) const
{
    QJsonArray connections;
    for (const ConnectionSnapshot &c : m_context->hub->connections())
        connections.append(connectionJson(c));
    QByteArray log = "[";
    *newestLogId = 0;
    if (m_context->log) {
        LogQuery newest;
        newest.limit = kSnapshotLogRecords;
        QString error;
        const auto records = m_context->log->query(newest, &error);
        if (!records)
            qCWarning(lcHttp).noquote() << "admin snapshot without log records:" << error;
        for (const MessageRecord &r : records.value_or(QList<MessageRecord>())) {
            if (log.size() > 1)
                log += ',';
            appendRecordJson(log, r);
            *newestLogId = r.id;
        }
    }
    log += ']';
    // In a cluster, every node (docs/API.md, "Cluster"); connections and rooms stay this node's.
    const QByteArray nodes = m_context->cluster
            ? R"(,"nodes":)" + m_context->cluster->status().nodesJson
            : QByteArray();
    return R"({"type":"snapshot","connections":)" + compactJson(connections) + R"(,"rooms":)"
            + compactJson(roomsJson(m_context->hub->rooms())) + R"(,"log":)" + log + R"(,"stats":)"
            + compactJson(m_stats->json()) + nodes + listsJson() + '}';
}

// The snapshot's endpoints and outbound clients (docs/API.md, "Admin stream").
QByteArray AdminStream::listsJson() const
{
    const QJsonArray endpoints =
            m_context->endpoints ? endpointsJson(m_context->endpoints->list()) : QJsonArray();
    const QJsonArray clients =
            m_context->clients ? clientsJson(m_context->clients->list()) : QJsonArray();
    return R"(,"endpoints":)" + compactJson(endpoints) + R"(,"clients":)" + compactJson(clients);
}

QList<QByteArray> AdminStream::listFrames()
{
    QList<QByteArray> frames;
    const qint64 now = m_clock.elapsed();
    if (m_context->endpoints && now - m_endpointsSentMs >= kListsMs
        && m_dirty->endpoints.exchange(false, std::memory_order_relaxed)) {
        m_endpointsSentMs = now;
        frames.append(R"({"type":"endpoints","endpoints":)"
                      + compactJson(endpointsJson(m_context->endpoints->list())) + '}');
    }
    if (m_context->clients && now - m_clientsSentMs >= kListsMs
        && m_dirty->clients.exchange(false, std::memory_order_relaxed)) {
        m_clientsSentMs = now;
        frames.append(R"({"type":"clients","clients":)"
                      + compactJson(clientsJson(m_context->clients->list())) + '}');
    }
    return frames;
}

void AdminStream::addObserver(QWebSocket *socket)
{
    socket->setParent(this);
    connect(socket, &QWebSocket::disconnected, this,
            [this, socket] { removeObserver(socket, false); });
    // Observers only listen; a ping frame is answered by QWebSocket itself.
    qCInfo(lcHttp).noquote() << "admin observer" << socket->peerAddress().toString() << "watching ("
                             << m_observers.size() + 1 << "in all)";
    startWatching(Observer{socket, nullptr, 0});
}

void AdminStream::addFeed(const std::shared_ptr<AdminFeed> &feed)
{
    qCInfo(lcHttp).noquote() << "in-process admin observer watching (" << m_observers.size() + 1
                             << "in all)";
    startWatching(Observer{nullptr, feed, 0});
}

void AdminStream::startWatching(Observer observer)
{
    // Watching first, then the snapshot: what happens in between arrives twice at worst
    // (records already in the snapshot are skipped by id), never not at all.
    m_watching.fetch_add(1, std::memory_order_relaxed);
    if (m_context->metrics)
        m_context->metrics->addAdminObservers(1);
    const QByteArray snapshot = snapshotFrame(&observer.snapshotLogId);
    m_observers.push_back(std::move(observer));
    if (!sendTo(m_observers.back(), snapshot))
        return;
    if (!m_flushTimer->isActive()) {
        m_flushTimer->start();
        m_statsTimer->start();
    }
}

void AdminStream::removeObserver(const void *key, bool tooSlow)
{
    const auto it = std::find_if(m_observers.begin(), m_observers.end(),
                                 [key](const Observer &o) { return o.key() == key; });
    if (it == m_observers.end())
        return;
    QWebSocket *socket = it->socket;
    m_observers.erase(it);
    m_watching.fetch_sub(1, std::memory_order_relaxed);
    if (m_context->metrics)
        m_context->metrics->addAdminObservers(-1);
    if (!socket) {
        if (tooSlow)
            qCWarning(lcHttp).noquote()
                    << "in-process admin observer closed (1013): it does not keep up";
    } else if (tooSlow) {
        socket->disconnect(this);
        qCWarning(lcHttp).noquote() << "admin observer" << socket->peerAddress().toString()
                                    << "closed (1013): it does not keep up";
        socket->close(QWebSocketProtocol::CloseCode(1013), QStringLiteral("too slow"));
        QTimer::singleShot(kCloseGraceMs, socket, [socket] {
            socket->abort();
            socket->deleteLater();
        });
    } else {
        socket->disconnect(this);
        socket->deleteLater();
    }
    if (m_observers.empty()) {
        m_flushTimer->stop();
        m_statsTimer->stop();
        QMutexLocker lock(&m_mutex);
        m_events.clear();
        m_records.clear();
        m_dropped = 0;
    }
}

bool AdminStream::sendTo(Observer &observer, const QByteArray &frame)
{
    if (observer.feed) {
        if (observer.feed->push(frame))
            return true;
        removeObserver(observer.key(), !observer.feed->isDetached());
        return false;
    }
    QWebSocket *socket = observer.socket;
    socket->sendTextMessage(QString::fromUtf8(frame));
    if (socket->bytesToWrite() > m_context->config.maxQueueBytes) {
        removeObserver(socket, true);
        return false;
    }
    return true;
}

void AdminStream::flush()
{
    std::vector<HubEvent> events;
    std::vector<MessageRecord> records;
    quint64 dropped = 0;
    {
        QMutexLocker lock(&m_mutex);
        events.swap(m_events);
        records.swap(m_records);
        dropped = std::exchange(m_dropped, 0);
    }
    const QList<QByteArray> lists = listFrames();
    if (events.empty() && records.empty() && dropped == 0 && lists.isEmpty())
        return;
    QList<QByteArray> frames;
    frames.reserve(qsizetype(events.size()) + lists.size());
    for (const HubEvent &e : events)
        frames.append(eventFrame(e));
    frames.append(lists);
    // One messages frame for the batch; per observer only the records after its snapshot.
    QByteArray common; // the messages frame for observers that saw none of these records
    const auto observers = m_observers; // sendTo() may remove
    for (Observer o : observers) {
        for (const QByteArray &frame : std::as_const(frames)) {
            if (!sendTo(o, frame))
                break;
        }
        if (std::find_if(m_observers.begin(), m_observers.end(),
                         [&o](const Observer &x) { return x.key() == o.key(); })
            == m_observers.end())
            continue;
        // Built once per batch; again only for an observer whose snapshot overlaps it.
        QByteArray frame;
        if (!records.empty() && records.front().id <= o.snapshotLogId) {
            frame = messagesFrame(records, o.snapshotLogId, dropped);
        } else {
            if (common.isNull())
                common = messagesFrame(records, 0, dropped);
            frame = common;
        }
        if (!frame.isEmpty())
            sendTo(o, frame);
    }
}

QByteArray AdminStream::messagesFrame(const std::vector<MessageRecord> &records, quint64 after,
                                      quint64 dropped)
{
    QByteArray frame = R"({"type":"messages","records":[)";
    bool any = false;
    for (const MessageRecord &r : records) {
        if (r.id <= after)
            continue;
        if (any)
            frame += ',';
        appendRecordJson(frame, r);
        any = true;
    }
    if (!any && dropped == 0)
        return QByteArray(""); // empty, not null: nothing to send
    frame += ']';
    if (dropped > 0)
        frame += R"(,"dropped":)" + QByteArray::number(dropped);
    frame += '}';
    return frame;
}

void AdminStream::sendStats()
{
    const QByteArray frame = R"({"type":"stats","stats":)" + compactJson(m_stats->json()) + '}';
    // In a cluster the nodes follow every second too (docs/API.md, "Admin stream").
    const QByteArray nodes = m_context->cluster
            ? R"({"type":"nodes","nodes":)" + m_context->cluster->status().nodesJson + '}'
            : QByteArray();
    const auto observers = m_observers;
    for (Observer o : observers) {
        if (sendTo(o, frame) && !nodes.isEmpty())
            sendTo(o, nodes);
    }
}

} // namespace sb
