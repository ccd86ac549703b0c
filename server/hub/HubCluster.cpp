// What the hub does for a cluster (docs/ARCHITECTURE.md, "Cluster"): connection ids with the
// node's number, the changes of what the cluster counts and their snapshot after a reconnect,
// and closing every client when the cluster lost events they may have missed.
#include "hub/Hub.h"

namespace sb {

void Hub::countLocked(CountChange::Kind kind, const QString &key, int delta, ConnId id)
{
    if (m_countObserver)
        m_countObserver(CountChange::of(kind, key, delta, id));
}

void Hub::setNodeNumber(quint64 node)
{
    QMutexLocker lock(&m_mutex);
    m_nextConnId = qMax(m_nextConnId, firstConnectionId(node));
}

void Hub::setCountObserver(std::function<void(const CountChange &)> observer)
{
    QMutexLocker lock(&m_mutex);
    m_countObserver = std::move(observer);
}

void Hub::snapshotCounts(const std::function<void(const QList<CountChange> &)> &take) const
{
    QList<CountChange> counts;
    QMutexLocker lock(&m_mutex);
    for (auto r = m_rooms.cbegin(); r != m_rooms.cend(); ++r) {
        counts.append(CountChange::of(CountChange::Kind::Room, r.key(), int(r->members.size())));
        QHash<QPair<QString, QString>, int> present;
        for (const Membership &m : r->members)
            ++present[{m.user, m.session}];
        for (auto p = present.cbegin(); p != present.cend(); ++p) {
            CountChange change = CountChange::of(CountChange::Kind::Presence, r.key(), p.value());
            change.user = p.key().first;
            change.session = p.key().second;
            counts.append(change);
        }
    }
    qint64 joined = 0;
    for (auto u = m_users.cbegin(); u != m_users.cend(); ++u) {
        counts.append(CountChange::of(CountChange::Kind::User, u.key(), int(u->size())));
        joined += u->size();
    }
    if (joined)
        counts.append(CountChange::of(CountChange::Kind::Joined, {}, int(joined)));
    if (m_legacyCount)
        counts.append(CountChange::of(CountChange::Kind::Legacy, {}, int(m_legacyCount)));
    for (auto c = m_conns.cbegin(); c != m_conns.cend(); ++c) {
        if (c->kind == ConnectionKind::Native)
            counts.append(CountChange::of(CountChange::Kind::Connection, {}, 1, c.key()));
    }
    take(counts);
}

qint64 Hub::closeAllNative(quint16 code)
{
    QMutexLocker lock(&m_mutex);
    std::vector<QList<ConnId>> byShard(size_t(m_sinks.size()));
    qint64 n = 0;
    for (auto c = m_conns.cbegin(); c != m_conns.cend(); ++c) {
        if (c->kind == ConnectionKind::Native) {
            byShard[size_t(c->shard)].append(c.key());
            ++n;
        }
    }
    for (size_t s = 0; s < byShard.size(); ++s) {
        if (byShard[s].isEmpty())
            continue;
        Delivery d{QByteArray(), std::move(byShard[s])};
        d.closeCode = code;
        d.countsAsSent = false;
        m_sinks[qsizetype(s)]->enqueue(std::move(d));
    }
    return n;
}

} // namespace sb
