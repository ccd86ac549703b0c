#pragma once

#include "base/Message.h"
#include "commands/EmitOrderer.h"
#include "hub/Hub.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>

#include <deque>
#include <functional>
#include <vector>

namespace sb {

// What the other threads hand to the cluster's thread (docs/ARCHITECTURE.md, "Cluster"):
// emits to order and the changes of what the cluster counts. Bounded: past kMaxOrders an
// emit is refused (503), like full delivery queues. Thread-safe; `wake` is called (from the
// adding thread) when the inbox goes from empty to not empty, once until take*() empties it.
class ClusterInbox
{
public:
    static constexpr qsizetype kMaxOrders = 20000;

    struct Order
    {
        QList<QByteArray> argv; // FCALL sb_emit ...
        EmitOrderer::Done done;
    };

    explicit ClusterInbox(std::function<void()> wake) : m_wake(std::move(wake)) { }

    // False: full, nothing queued (`order` is left as it was).
    bool addOrder(Order &&order);
    // Merged by key: a member who joins and leaves before the next send costs nothing.
    void addCount(const CountChange &change);
    // Runs `barrier` (on the cluster's thread) once every count change added before it is in
    // Redis: a join answers its client only then, so that an emit ordered by any node after
    // the client saw `joined` counts it in `delivered`.
    void addBarrier(std::function<void()> barrier);
    // Replaces the pending count changes with the absolute counts of `snapshot` (a resync
    // after Redis came back: the node's counts in Redis were cleared first).
    void resetCounts(const QList<CountChange> &snapshot);

    struct Batch
    {
        // (key, delta) pairs as sb_count takes them: count hash keys, +m / -m (and 0) for
        // connections opened and closed. Sent before the orders: a join before an emit
        // counts in its `delivered`.
        QList<QByteArray> counts;
        // (room, member, delta) triples as sb_presence_count takes them; member is the JSON
        // array [user, session].
        QList<QByteArray> presence;
        std::deque<Order> orders;
        std::vector<std::function<void()>> barriers; // after the counts above
    };
    // Everything added since the last take; the next add wakes again.
    Batch take();
    qsizetype pendingOrders() const;

    // The Redis key of a count change (sb:c:r:<room>, ...); connections have none.
    static QByteArray countKey(const CountChange &change);
    // The JSON array [user, session] that names a presence pair in Redis.
    static QByteArray presenceMember(const QString &user, const QString &session);

private:
    void wakeLocked();

    std::function<void()> m_wake;
    mutable QMutex m_mutex;
    std::deque<Order> m_orders;
    QHash<QByteArray, qint64> m_counts;
    QHash<ConnId, int> m_connections;
    QHash<QPair<QByteArray, QByteArray>, qint64> m_presence; // (room, member) -> delta
    std::vector<std::function<void()>> m_barriers;
    bool m_woken = false;
};

} // namespace sb
