#include "cluster/Cluster.h"

#include "cluster/ClusterBus.h"
#include "cluster/ClusterNode.h"
#include "cluster/ClusterOptions.h"
#include "hub/Hub.h"

#include <QDateTime>
#include <QMutex>
#include <QThread>
#include <QWaitCondition>

#include <memory>

namespace sb {

Cluster::Cluster(Hub *hub) : m_hub(hub) { }

Cluster::~Cluster()
{
    stop();
}

bool Cluster::start(const ClusterOptions &options, QString *error, bool *conflict)
{
    m_nodeName = options.nodeName;
    m_historyPerRoom = options.historyPerRoom;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("switchboard-cluster"));
    m_node = new ClusterNode(options, m_hub);
    m_node->moveToThread(m_thread);
    QObject::connect(m_thread, &QThread::finished, m_node, &QObject::deleteLater);
    m_thread->start();

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
    if (!m_thread)
        return;
    m_running = false;
    m_hub->setCountObserver({});
    ClusterNode *node = m_node;
    QMetaObject::invokeMethod(
            node, [node] { node->leave(); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_node = nullptr;
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
    if (!m_node->inbox().addOrder(std::move(order)))
        order.done(std::nullopt,
                   CommandError{503, QStringLiteral("unavailable"),
                                QStringLiteral("server busy: too many emits wait for the "
                                               "cluster's Redis; retry"),
                                1});
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
