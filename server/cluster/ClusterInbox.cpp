#include "cluster/ClusterInbox.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sb {

void ClusterInbox::wakeLocked()
{
    if (m_woken)
        return;
    m_woken = true;
    m_wake();
}

bool ClusterInbox::addOrder(Order &&order)
{
    QMutexLocker lock(&m_mutex);
    if (qsizetype(m_orders.size()) >= kMaxOrders)
        return false;
    m_orders.push_back(std::move(order));
    wakeLocked();
    return true;
}

QByteArray ClusterInbox::countKey(const CountChange &change)
{
    switch (change.kind) {
    case CountChange::Kind::Room:
        return QByteArrayLiteral("sb:c:r:") + change.key.toUtf8();
    case CountChange::Kind::User:
        return QByteArrayLiteral("sb:c:u:") + change.key.toUtf8();
    case CountChange::Kind::Joined:
        return QByteArrayLiteral("sb:c:j");
    case CountChange::Kind::Legacy:
        return QByteArrayLiteral("sb:c:l");
    case CountChange::Kind::Connection:
    case CountChange::Kind::Presence:
        break;
    }
    return {};
}

QByteArray ClusterInbox::presenceMember(const QString &user, const QString &session)
{
    return QJsonDocument(QJsonArray{user, session}).toJson(QJsonDocument::Compact);
}

void ClusterInbox::addCount(const CountChange &change)
{
    QMutexLocker lock(&m_mutex);
    if (change.kind == CountChange::Kind::Connection) {
        const int net = (m_connections[change.connection] += change.delta);
        if (net == 0)
            m_connections.remove(change.connection);
    } else if (change.kind == CountChange::Kind::Presence) {
        const QPair<QByteArray, QByteArray> key{change.key.toUtf8(),
                                                presenceMember(change.user, change.session)};
        if ((m_presence[key] += change.delta) == 0)
            m_presence.remove(key);
    } else {
        const QByteArray key = countKey(change);
        if ((m_counts[key] += change.delta) == 0)
            m_counts.remove(key);
    }
    wakeLocked();
}

void ClusterInbox::addBarrier(std::function<void()> barrier)
{
    QMutexLocker lock(&m_mutex);
    m_barriers.push_back(std::move(barrier));
    wakeLocked();
}

void ClusterInbox::resetCounts(const QList<CountChange> &snapshot)
{
    QMutexLocker lock(&m_mutex);
    m_counts.clear();
    m_connections.clear();
    m_presence.clear();
    for (const CountChange &change : snapshot) {
        if (change.kind == CountChange::Kind::Connection)
            m_connections[change.connection] = change.delta;
        else if (change.kind == CountChange::Kind::Presence)
            m_presence[{change.key.toUtf8(), presenceMember(change.user, change.session)}] +=
                    change.delta;
        else
            m_counts[countKey(change)] += change.delta;
    }
    wakeLocked();
}

ClusterInbox::Batch ClusterInbox::take()
{
    QMutexLocker lock(&m_mutex);
    Batch batch;
    batch.orders.swap(m_orders);
    batch.barriers.swap(m_barriers);
    batch.counts.reserve((m_counts.size() + m_connections.size()) * 2);
    for (auto it = m_counts.cbegin(); it != m_counts.cend(); ++it)
        batch.counts << it.key() << QByteArray::number(it.value());
    for (auto it = m_connections.cbegin(); it != m_connections.cend(); ++it) {
        batch.counts << ((it.value() > 0 ? QByteArrayLiteral("+") : QByteArrayLiteral("-"))
                         + QByteArray::number(it.key() & kConnLocalMask))
                     << QByteArrayLiteral("0");
    }
    for (auto it = m_presence.cbegin(); it != m_presence.cend(); ++it)
        batch.presence << it.key().first << it.key().second << QByteArray::number(it.value());
    m_counts.clear();
    m_connections.clear();
    m_presence.clear();
    m_woken = false;
    return batch;
}

qsizetype ClusterInbox::pendingOrders() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_orders.size());
}

} // namespace sb
