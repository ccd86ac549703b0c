#include "cluster/ClusterNode.h"

#include "base/Logging.h"
#include "cluster/BusReader.h"
#include "cluster/ClusterBus.h"
#include "cluster/ClusterFunctions.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "redis/RedisClient.h"

#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QTimer>

namespace sb {

namespace {

QByteArray randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return raw.toHex();
}

QString identityPath(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("cluster-node.json"));
}

CommandError unavailable(const QString &why)
{
    return CommandError{503, QStringLiteral("unavailable"), why, 1};
}

QList<QByteArray> fcall(const char *function, QList<QByteArray> args)
{
    args.prepend(QByteArrayLiteral("0"));
    args.prepend(QByteArray(function));
    args.prepend(QByteArrayLiteral("FCALL"));
    return args;
}

} // namespace

ClusterNode::ClusterNode(const ClusterOptions &options, Hub *hub, Metrics *metrics, QObject *parent)
    : QObject(parent), m_options(options), m_hub(hub), m_metrics(metrics), m_inbox([this] {
          QMetaObject::invokeMethod(this, &ClusterNode::drainInbox, Qt::QueuedConnection);
      })
{
    m_status.name = options.nodeName;
}

ClusterNode::~ClusterNode() = default;

ClusterStatus ClusterNode::status() const
{
    QMutexLocker lock(&m_statusMutex);
    return m_status;
}

bool ClusterNode::redisUp() const
{
    QMutexLocker lock(&m_statusMutex);
    return m_status.redisUp;
}

void ClusterNode::setRedisUp(bool up)
{
    QMutexLocker lock(&m_statusMutex);
    m_status.redisUp = up;
}

void ClusterNode::join(std::function<void(const QString &error, bool conflict)> done)
{
    m_joinDone = std::move(done);
    QFile identity(identityPath(m_options.dataDir));
    if (identity.open(QIODevice::ReadOnly)) {
        const QJsonObject o = QJsonDocument::fromJson(identity.read(4096)).object();
        if (o.value(u"name").toString() == m_options.nodeName) {
            m_hintNumber = quint64(qMax(0LL, o.value(u"number").toInteger()));
            m_prevRun = o.value(u"run").toString().toLatin1();
        }
    }
    m_run = randomHex(16);
    m_commands = new RedisClient(this);
    m_bus = new BusReader(m_hub, m_metrics, m_options.nodeName, this);
    Histogram *latency = m_metrics->redisCommandSeconds();
    m_commands->setLatencyObserver([latency](qint64 ns) { latency->observeNs(ns); });
    m_heartbeat = new QTimer(this);
    m_heartbeat->setInterval(kHeartbeatMs);
    connect(m_heartbeat, &QTimer::timeout, this, &ClusterNode::heartbeat);
    m_joinTimeout = new QTimer(this);
    m_joinTimeout->setSingleShot(true);
    auto lastFailure = std::make_shared<QString>();
    connect(m_commands, &RedisClient::failed, this,
            [lastFailure](const QString &why) { *lastFailure = why; });
    connect(m_joinTimeout, &QTimer::timeout, this, [this, lastFailure] {
        finishJoin(QStringLiteral("redis: could not join the cluster at %1 within %2 s%3")
                           .arg(m_options.redis.redacted())
                           .arg(kJoinTimeoutMs / 1000)
                           .arg(lastFailure->isEmpty() ? QString() : u": " + *lastFailure),
                   false);
    });
    m_joinTimeout->start(kJoinTimeoutMs);
    connect(m_commands, &RedisClient::connected, this, &ClusterNode::commandsConnected);
    connect(m_commands, &RedisClient::disconnected, this, [this](const QString &why) {
        setRedisUp(false);
        if (m_joined && !m_leaving)
            qCWarning(lcServer).noquote()
                    << "cluster: lost Redis:" << why << "- emits answer 503 until it is back";
    });
    const QByteArray name = m_options.nodeName.toUtf8();
    m_commands->open(m_options.redis, "switchboard:" + name);
    m_bus->open(m_options.redis, "switchboard-bus:" + name);
}

void ClusterNode::commandsConnected()
{
    // Every connect loads the functions: a Redis restarted without its data has none.
    m_commands->command({QByteArrayLiteral("FUNCTION"), QByteArrayLiteral("LOAD"),
                         QByteArrayLiteral("REPLACE"), clusterFunctionLibrary()},
                        [](const RedisReply &reply) {
                            if (reply.isError())
                                qCCritical(lcServer).noquote()
                                        << "cluster: Redis refused the functions:"
                                        << reply.errorText();
                        });
    if (!m_joined) {
        m_epoch = randomHex(8);
        m_commands->command(fcall("sb_join",
                                  {m_options.nodeName.toUtf8(), m_options.secretCheck,
                                   QByteArray::number(m_hintNumber), m_run, m_prevRun, m_epoch,
                                   QByteArray::number(m_options.loggedUpTo)}),
                            [this](const RedisReply &reply) { joinReply(reply); });
        return;
    }
    resync(false);
}

void ClusterNode::joinReply(const RedisReply &reply)
{
    if (m_joined || !m_joinDone)
        return;
    if (reply.isError()) {
        const QString why = reply.errorText();
        const bool conflict = why.startsWith(u"node_name:") || why.startsWith(u"jwt_secret:");
        finishJoin(conflict ? why
                            : QStringLiteral("redis: joining the cluster failed: %1").arg(why),
                   conflict);
        return;
    }
    if (!reply.isArray() || reply.elements.size() != 3) {
        finishJoin(QStringLiteral("redis: unexpected answer to sb_join"), false);
        return;
    }
    const quint64 number = quint64(reply.elements[0].toInt());
    if (number == 0 || number > kConnNodeMax) {
        finishJoin(QStringLiteral("redis: the cluster gave node number %1 (1-%2 allowed)")
                           .arg(number)
                           .arg(kConnNodeMax),
                   false);
        return;
    }
    m_epoch = reply.elements[1].string;
    const quint64 lastId = quint64(reply.elements[2].toInt());
    m_maxSeen = qMax(lastId, m_options.loggedUpTo);
    {
        QMutexLocker lock(&m_statusMutex);
        m_status.number = number;
        m_status.redisUp = true;
    }
    QString error;
    if (!saveIdentity(&error)) {
        finishJoin(error, false);
        return;
    }
    m_hub->setNodeNumber(number);
    // Events up to here are in Redis and the logs, not in this node's memory.
    m_hub->setLastId(lastId);
    m_joined = true;
    m_asks = new ClusterAsks(m_commands, this);
    m_asks->start(m_options.redis, number, m_options.nodeName, m_answerer);
    loadRevocations();
    m_heartbeat->start();
    heartbeat();
    m_bus->start(lastId);
    qCInfo(lcServer).noquote() << "cluster: joined as node" << number << m_options.nodeName << "at"
                               << m_options.redis.redacted() << "last id" << lastId;
    finishJoin({}, false);
}

namespace {

constexpr auto kRevocations = "sb:revocations";

} // namespace

// Unregisters made before this node started still hold here (docs/API.md, "Cluster").
void ClusterNode::loadRevocations()
{
    const qint64 since = QDateTime::currentSecsSinceEpoch() - m_options.tokenMaxTtl;
    m_commands->command({QByteArrayLiteral("ZRANGEBYSCORE"), QByteArray(kRevocations),
                         QByteArray::number(since), QByteArrayLiteral("+inf")},
                        [this](const RedisReply &reply) {
                            if (!m_answerer)
                                return;
                            for (const RedisReply &member : reply.elements) {
                                const QJsonObject o =
                                        QJsonDocument::fromJson(member.string).object();
                                if (!o.isEmpty())
                                    m_answerer(QStringLiteral("revoke"), o);
                            }
                        });
}

void ClusterNode::presence(const QString &room,
                           std::function<void(bool ok, const QList<QByteArray> &members)> done)
{
    if (!m_joined || m_leaving || !redisUp()) {
        done(false, {});
        return;
    }
    const bool sent = m_commands->command(fcall("sb_presence", {room.toUtf8()}),
                                          [done](const RedisReply &reply) {
                                              QList<QByteArray> members;
                                              for (const RedisReply &m : reply.elements)
                                                  members << m.string;
                                              done(!reply.isError(), members);
                                          });
    if (!sent)
        done(false, {});
}

void ClusterNode::ask(quint64 node, const QString &op, const QJsonObject &args,
                      ClusterAsks::Done done)
{
    if (!m_asks || m_leaving || !redisUp()) {
        done(false, {});
        return;
    }
    m_asks->ask(node, op, args, std::move(done));
}

void ClusterNode::revoke(const QJsonObject &member, std::function<void(qint64 removed)> done)
{
    if (!m_asks || m_leaving || !redisUp()) {
        done(-1);
        return;
    }
    const qint64 at = member.value(u"at").toInteger();
    const QByteArray json = QJsonDocument(member).toJson(QJsonDocument::Compact);
    // Kept as long as a token issued before it could still be presented.
    m_commands->command(
            {QByteArrayLiteral("ZREMRANGEBYSCORE"), QByteArray(kRevocations),
             QByteArrayLiteral("-inf"),
             QByteArray::number(QDateTime::currentSecsSinceEpoch() - m_options.tokenMaxTtl)});
    const bool stored = m_commands->command(
            {QByteArrayLiteral("ZADD"), QByteArray(kRevocations), QByteArray::number(at), json});
    if (!stored) {
        done(-1);
        return;
    }
    m_asks->ask(0, QStringLiteral("revoke"), member,
                [done = std::move(done)](bool ok, const QList<QJsonObject> &answers) {
                    qint64 removed = 0;
                    for (const QJsonObject &a : answers)
                        removed += a.value(u"removed").toInteger();
                    done(ok ? removed : -1);
                });
}

void ClusterNode::finishJoin(const QString &error, bool conflict)
{
    m_joinTimeout->stop();
    if (!m_joinDone)
        return;
    auto done = std::move(m_joinDone);
    m_joinDone = nullptr;
    done(error, conflict);
}

bool ClusterNode::saveIdentity(QString *error) const
{
    QSaveFile file(identityPath(m_options.dataDir));
    QJsonObject o{{u"name"_qs, m_options.nodeName},
                  {u"number"_qs, qint64(status().number)},
                  {u"run"_qs, QString::fromLatin1(m_run)}};
    if (file.open(QIODevice::WriteOnly) && file.write(QJsonDocument(o).toJson()) >= 0
        && file.commit())
        return true;
    *error = QStringLiteral("data_dir: cannot write %1: %2")
                     .arg(file.fileName(), file.errorString());
    return false;
}

// After Redis came back: this node's counts there may be stale or gone (and with them the
// functions, the epoch and the ids, when Redis lost its data). They are set again from the
// hub; a lost epoch sends the native clients to recover (1012).
void ClusterNode::resync(bool epochLost)
{
    const QByteArray candidate = randomHex(8);
    m_commands->command(fcall("sb_rejoin",
                              {QByteArray::number(status().number), m_run, candidate,
                               QByteArray::number(qMax(m_maxSeen, m_options.loggedUpTo)),
                               m_options.nodeName.toUtf8(), m_options.secretCheck}),
                        [this, epochLost](const RedisReply &reply) {
                            if (reply.isError() || !reply.isArray() || reply.elements.size() != 2) {
                                qCWarning(lcServer).noquote()
                                        << "cluster: rejoin failed:" << reply.errorText();
                                return;
                            }
                            const QByteArray epoch = reply.elements[0].string;
                            if (epochLost || epoch != m_epoch) {
                                qCWarning(lcServer).noquote()
                                        << "cluster: Redis lost its data (epoch" << m_epoch << "->"
                                        << epoch << "); ids continue above" << m_maxSeen
                                        << "and clients are sent to recover (1012)";
                                m_epoch = epoch;
                                m_hub->closeAllNative(1012);
                            }
                            setRedisUp(true);
                        });
    m_hub->snapshotCounts(
            [this](const QList<CountChange> &counts) { m_inbox.resetCounts(counts); });
}

void ClusterNode::drainInbox()
{
    ClusterInbox::Batch batch = m_inbox.take();
    const bool up = redisUp() && m_joined && !m_leaving;
    if (up && !batch.counts.isEmpty()) {
        batch.counts.prepend(QByteArray::number(status().number));
        m_commands->command(fcall("sb_count", batch.counts));
    }
    if (up && !batch.presence.isEmpty()) {
        batch.presence.prepend(QByteArray::number(status().number));
        m_commands->command(fcall("sb_presence_count", batch.presence));
    }
    if (!batch.barriers.empty()) {
        // Answered after everything sent before it on this connection (Redis answers in
        // order); without Redis the joins go on, their counts are sent again once it is back.
        auto barriers =
                std::make_shared<std::vector<std::function<void()>>>(std::move(batch.barriers));
        const auto release = [barriers](const RedisReply &) {
            for (const auto &barrier : *barriers)
                barrier();
        };
        if (!up || !m_commands->command({QByteArrayLiteral("PING")}, release))
            release({});
    }
    for (ClusterInbox::Order &order : batch.orders)
        send(order, up);
}

void ClusterNode::send(ClusterInbox::Order &order, bool up)
{
    if (!up) {
        order.done(std::nullopt,
                   unavailable(QStringLiteral("the cluster's Redis is unreachable; retry")));
        return;
    }
    EmitOrderer::Done done = std::move(order.done);
    if (!m_commands->command(order.argv,
                             [this, done](const RedisReply &reply) { ordered(done, reply); }))
        done(std::nullopt,
             unavailable(QStringLiteral("the cluster's Redis is not keeping up; retry")));
}

void ClusterNode::orderHere(ClusterInbox::Order &&order)
{
    drainInbox(); // what other threads handed over first: a join's counts before this emit
    send(order, redisUp() && m_joined && !m_leaving);
}

void ClusterNode::ordered(const EmitOrderer::Done &done, const RedisReply &reply)
{
    if (reply.isError()) {
        const QString why = reply.errorText();
        if (why.startsWith(u"connection lost")) {
            // Sent, and the connection went before the answer: Redis may have run it (and the
            // bus delivered it) or not. Said so (docs/API.md, "Redis lost").
            done(std::nullopt,
                 unavailable(QStringLiteral("the connection to the cluster's Redis was lost "
                                            "while it ordered the emit: it may have been "
                                            "delivered (in doubt); retry")));
            return;
        }
        done(std::nullopt,
             unavailable(QStringLiteral("the cluster's Redis did not order the "
                                        "emit (%1); retry")
                                 .arg(why.left(200))));
        return;
    }
    const std::optional<EmitResult> result = clusterbus::emitResult(reply);
    if (!result) {
        done(std::nullopt,
             unavailable(QStringLiteral("unexpected answer from the cluster's Redis")));
        return;
    }
    m_maxSeen = qMax(m_maxSeen, result->id);
    // Answered once the bus has brought it back and the hub has it: an answered emit is in
    // this node's log (its journal) then, whatever happens to the node afterwards.
    m_bus->whenDelivered(result->id, [done, result = *result](bool delivered) {
        if (delivered)
            done(result, {});
        else // not in this node's log, so not answered as accepted
            done(std::nullopt,
                 unavailable(QStringLiteral("the node stopped before emit %1 reached it; it "
                                            "may have been delivered elsewhere")
                                     .arg(result.id)));
    });
}

QByteArray ClusterNode::nodeJson() const
{
    const HubStats stats = m_hub->stats();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const ClusterStatus s = status();
    const QJsonObject o{{u"node"_qs, m_options.nodeName},
                        {u"number"_qs, qint64(s.number)},
                        {u"address"_qs, m_options.address},
                        {u"version"_qs, QStringLiteral(SWITCHBOARD_VERSION)},
                        {u"connections"_qs, stats.connections},
                        {u"rooms"_qs, stats.rooms},
                        {u"uptime_s"_qs, (now - m_options.startedMs) / 1000},
                        {u"last_seen_ms"_qs, now}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

void ClusterNode::heartbeat()
{
    if (!m_joined || m_leaving || !m_commands->isConnected())
        return;
    // Every id seen before the heartbeat was given before Redis ran it: an answer below that
    // means Redis lost data (ids seen later may be above it without that).
    m_maxSeen = qMax(m_maxSeen, m_bus->deliveredUpTo());
    const quint64 seen = m_maxSeen;
    m_commands->command(fcall("sb_heartbeat",
                              {QByteArray::number(status().number), m_run, nodeJson(),
                               QByteArray::number(seen)}),
                        [this, seen](const RedisReply &reply) { heartbeatReply(reply, seen); });
}

void ClusterNode::heartbeatReply(const RedisReply &reply, quint64 seenWhenSent)
{
    if (reply.isError() || !reply.isArray() || reply.elements.size() < 2) {
        if (!reply.errorText().startsWith(u"connection lost"))
            qCWarning(lcServer).noquote() << "cluster: heartbeat failed:" << reply.errorText();
        return;
    }
    const RedisReply &epoch = reply.elements[0];
    const quint64 id = quint64(reply.elements[1].toInt());
    QByteArray nodes = QByteArrayLiteral("[");
    for (qsizetype i = 2; i < reply.elements.size(); ++i) {
        if (i > 2)
            nodes += ',';
        nodes += reply.elements[i].string;
    }
    nodes += ']';
    {
        QMutexLocker lock(&m_statusMutex);
        m_status.nodesJson = nodes;
        m_status.nodes = reply.elements.size() - 2;
    }
    if (epoch.isNil() || epoch.string != m_epoch || id < seenWhenSent)
        resync(true);
}

void ClusterNode::leave()
{
    if (m_leaving)
        return;
    m_leaving = true;
    if (m_heartbeat)
        m_heartbeat->stop();
    drainInbox(); // answers what waits with 503
    if (m_asks)
        m_asks->stop();
    if (m_joined && m_commands->isConnected()) {
        QEventLoop wait;
        QTimer::singleShot(1000, &wait, &QEventLoop::quit);
        m_commands->command(fcall("sb_leave", {QByteArray::number(status().number), m_run}),
                            [&wait](const RedisReply &) { wait.quit(); });
        wait.exec();
    }
    if (m_commands)
        m_commands->close();
    if (m_bus)
        m_bus->stop(); // what waits for the bus is answered 503
    setRedisUp(false);
}

} // namespace sb
