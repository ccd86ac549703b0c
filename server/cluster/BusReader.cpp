#include "cluster/BusReader.h"

#include "base/Logging.h"
#include "cluster/ClusterBus.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "redis/RedisClient.h"

#include <QTimer>

namespace sb {

BusReader::BusReader(Hub *hub, Metrics *metrics, QString nodeName, QObject *parent)
    : QObject(parent), m_hub(hub), m_metrics(metrics), m_nodeName(std::move(nodeName))
{
    m_client = new RedisClient(this);
    m_retry = new QTimer(this);
    m_retry->setSingleShot(true);
    m_retry->setInterval(kRetryMs);
    connect(m_retry, &QTimer::timeout, this, &BusReader::deliver);
    // A lost connection reads again, from where it stopped, once it is back.
    connect(m_client, &RedisClient::connected, this, &BusReader::read);
}

BusReader::~BusReader() = default;

void BusReader::open(const RedisUrl &url, const QByteArray &clientName)
{
    m_client->open(url, clientName);
}

void BusReader::start(quint64 after)
{
    m_after = after;
    m_started = true;
    read();
}

void BusReader::stop()
{
    m_started = false;
    m_retry->stop();
    m_client->close();
    auto waiting = std::move(m_waiting);
    m_waiting.clear();
    for (auto &[id, then] : waiting)
        then(false);
}

void BusReader::whenDelivered(quint64 id, std::function<void(bool)> then)
{
    if (id <= m_after) {
        then(true);
        return;
    }
    m_waiting.emplace(id, std::move(then));
}

void BusReader::read()
{
    if (!m_started || m_reading || !m_backlog.empty() || !m_client->isConnected())
        return;
    m_reading = true;
    m_client->command(clusterbus::readCommand(m_after, kBlockMs, kBatch),
                      [this](const RedisReply &reply) { onReply(reply); });
}

void BusReader::onReply(const RedisReply &reply)
{
    m_reading = false;
    if (!m_started)
        return;
    if (reply.isError()) {
        if (!reply.errorText().startsWith(u"connection lost")) {
            qCWarning(lcServer).noquote()
                    << "cluster: reading the bus failed:" << reply.errorText();
            QTimer::singleShot(100, this, &BusReader::read);
        }
        return;
    }
    // nil: nothing within the block time. Else [[sb:bus, [entry, ...]]].
    if (reply.isArray() && !reply.elements.isEmpty() && reply.elements[0].isArray()
        && reply.elements[0].elements.size() == 2) {
        quint64 last = m_after;
        for (const RedisReply &entry : reply.elements[0].elements[1].elements) {
            quint64 id = 0;
            std::optional<OrderedEmit> e = clusterbus::parseEntry(entry, m_nodeName, &id);
            if (id <= last) // not a bus entry (id 0), or one handed over already
                continue;
            if (id != last + 1) {
                qCWarning(lcServer).noquote()
                        << "cluster: the bus no longer holds ids" << last + 1 << "to" << id - 1
                        << "(this node was away too long); clients are sent to recover (1012)";
                m_hub->closeAllNative(1012);
            }
            last = id;
            if (e)
                m_backlog.push_back(std::move(*e));
            else if (m_backlog.empty())
                m_after = id; // a malformed entry: skipped, never read again
        }
    }
    deliver();
}

void BusReader::deliver()
{
    while (!m_backlog.empty()) {
        // The shards' or the log's queues are full: the bus waits, nothing is dropped.
        if (!m_hub->deliverOrdered(m_backlog.front())) {
            m_retry->start();
            return;
        }
        m_metrics->countClusterEvent(m_backlog.front().local);
        m_after = m_backlog.front().id;
        m_backlog.pop_front();
    }
    while (!m_waiting.empty() && m_waiting.begin()->first <= m_after) {
        auto waiting = m_waiting.extract(m_waiting.begin());
        waiting.mapped()(true);
    }
    read();
}

} // namespace sb
