#include "cluster/Cluster.h"

#include "cluster/ClusterBus.h"
#include "cluster/ClusterNode.h"
#include "cluster/ClusterOptions.h"
#include "hub/Hub.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QThread>
#include <QWaitCondition>

#include <memory>

namespace sb {

Cluster::Cluster(Hub *hub, Metrics *metrics) : m_hub(hub), m_metrics(metrics) { }

Cluster::~Cluster()
{
    stop();
    // Deleted only now, its thread long finished: a question or an emit that raced stop()
    // was posted to a live object (and is dropped with it), never to a deleted one.
    delete m_node;
    delete m_ownThread;
}

bool Cluster::start(const ClusterOptions &options, QThread *host, QString *error, bool *conflict)
{
    m_nodeName = options.nodeName;
    m_historyPerRoom = options.historyPerRoom;
    if (host) {
        m_thread = host;
    } else {
        m_ownThread = new QThread;
        m_ownThread->setObjectName(QStringLiteral("switchboard-cluster"));
        m_thread = m_ownThread;
    }
    m_node = new ClusterNode(options, m_hub, m_metrics);
    m_node->setAnswerer(m_answerer);
    m_node->moveToThread(m_thread);
    if (m_ownThread)
        m_ownThread->start();

    struct Outcome
    {
        QString error;
        bool conflict = false;
        bool done = false;
    };
    auto outcome = std::make_shared<Outcome>();
    QMutex mutex;
    QWaitCondition joined;
    ClusterNode *node = m_node;
    QMetaObject::invokeMethod(node, [node, outcome, &mutex, &joined] {
        node->join([outcome, &mutex, &joined](const QString &why, bool refused) {
            QMutexLocker lock(&mutex);
            outcome->error = why;
            outcome->conflict = refused;
            outcome->done = true;
            joined.wakeAll();
        });
    });
    {
        QMutexLocker lock(&mutex);
        while (!outcome->done)
            joined.wait(&mutex);
    }
    if (!outcome->error.isEmpty()) {
        *error = outcome->error;
        if (conflict)
            *conflict = outcome->conflict;
        stop();
        return false;
    }
    m_running = true;
    // What the cluster counts for `delivered` follows the hub's memberships.
    m_hub->setCountObserver([node](const CountChange &change) { node->inbox().addCount(change); });
    return true;
}

void Cluster::stop()
{
    if (!m_thread || m_stopped)
        return;
    m_stopped = true;
    m_running = false;
    m_hub->setCountObserver({});
    ClusterNode *node = m_node;
    QMetaObject::invokeMethod(
            node, [node] { node->leave(); }, Qt::BlockingQueuedConnection);
    if (m_ownThread) {
        m_ownThread->quit();
        m_ownThread->wait();
    }
}

void Cluster::order(const EmitRequest &request, Done done)
{
    const CommandError down{503, QStringLiteral("unavailable"),
                            QStringLiteral("the cluster's Redis is unreachable; retry"), 1};
    if (!m_running || !m_node->redisUp()) {
        done(std::nullopt, down);
        return;
    }
    ClusterInbox::Order order{clusterbus::emitCommand(request, m_nodeName,
                                                      QDateTime::currentMSecsSinceEpoch(),
                                                      m_historyPerRoom),
                              std::move(done)};
    if (QThread::currentThread() == m_thread) { // the node's own thread: no hand-over
        m_node->orderHere(std::move(order));
        return;
    }
    if (!m_node->inbox().addOrder(std::move(order)))
        order.done(std::nullopt,
                   CommandError{503, QStringLiteral("unavailable"),
                                QStringLiteral("server busy: too many emits wait for the "
                                               "cluster's Redis; retry"),
                                1});
}

void Cluster::ask(quint64 node, const QString &op, const QJsonObject &args, QObject *context,
                  AskDone done) const
{
    if (!m_running) {
        done(false, {});
        return;
    }
    ClusterNode *worker = m_node;
    QMetaObject::invokeMethod(worker, [worker, node, op, args, context, done = std::move(done)] {
        worker->ask(node, op, args, [context, done](bool ok, const QList<QJsonObject> &answers) {
            QMetaObject::invokeMethod(context, [done, ok, answers] { done(ok, answers); });
        });
    });
}

void Cluster::afterCounts(QObject *context, std::function<void()> then) const
{
    if (!m_running) {
        then();
        return;
    }
    m_node->inbox().addBarrier(
            [context, then = std::move(then)] { QMetaObject::invokeMethod(context, then); });
}

void Cluster::presence(const QString &room, QObject *context, PresenceDone done) const
{
    if (!m_running) {
        done(false, {});
        return;
    }
    ClusterNode *worker = m_node;
    QMetaObject::invokeMethod(worker, [worker, room, context, done = std::move(done)] {
        worker->presence(room, [context, done](bool ok, const QList<QByteArray> &members) {
            QList<QPair<QString, QString>> pairs;
            for (const QByteArray &member : members) {
                const QJsonArray a = QJsonDocument::fromJson(member).array();
                if (a.size() == 2)
                    pairs.append({a[0].toString(), a[1].toString()});
            }
            QMetaObject::invokeMethod(context, [done, ok, pairs] { done(ok, pairs); });
        });
    });
}

void Cluster::revoke(const QJsonObject &member, QObject *context,
                     std::function<void(qint64 removed)> done) const
{
    if (!m_running) {
        done(-1);
        return;
    }
    ClusterNode *worker = m_node;
    QMetaObject::invokeMethod(worker, [worker, member, context, done = std::move(done)] {
        worker->revoke(member, [context, done](qint64 removed) {
            QMetaObject::invokeMethod(context, [done, removed] { done(removed); });
        });
    });
}

ClusterStatus Cluster::status() const
{
    return m_node ? m_node->status() : ClusterStatus{};
}

quint64 Cluster::number() const
{
    return status().number;
}

} // namespace sb
