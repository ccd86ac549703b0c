#include "Server.h"

#include "admin/AdminStream.h"
#include "admin/StatsSampler.h"
#include "auth/RevocationList.h"
#include "auth/TokenService.h"
#include "base/Logging.h"
#include "clients/OutboundClients.h"
#include "cluster/Cluster.h"
#include "cluster/ClusterHistory.h"
#include "cluster/ClusterOptions.h"
#include "commands/EmitService.h"
#include "commands/RecoveryService.h"
#include "endpoints/EndpointHost.h"
#include "http/HttpServer.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "notify/PgNotifyListener.h"
#include "redis/RedisUrl.h"
#include "store/MessageLog.h"
#include "store/RoomHistory.h"
#include "ws/ClientAcceptor.h"
#include "ws/IoShard.h"

#include <QTcpSocket>
#include <QWebSocket>

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QHostInfo>
#include <QMessageAuthenticationCode>
#include <QThread>

namespace sb {

Server::Server(ServerConfig config, QObject *parent) : QObject(parent)
{
    m_context.config = std::move(config);
}

Server::~Server()
{
    stop(0);
}

QUrl Server::baseUrl() const
{
    QUrl url;
    url.setScheme(m_context.config.tlsEnabled() ? QStringLiteral("https") : QStringLiteral("http"));
    const QHostAddress &a = m_context.config.listenAddress;
    url.setHost(a == QHostAddress::Any || a == QHostAddress::AnyIPv4 ? QStringLiteral("127.0.0.1")
                        : a == QHostAddress::AnyIPv6                 ? QStringLiteral("::1")
                                                                     : a.toString());
    url.setPort(m_port);
    return url;
}

// The message log: ids continue after the highest one recorded, every accepted emit is
// handed to it (under the hub lock, in id order), and a full log queue refuses emits.
bool Server::openLog(const ServerConfig &config, QString *error)
{
    QString why;
    const std::optional<LogDatabase> database =
            LogDatabase::parse(config.logDatabase, config.dataDir, &why);
    if (!database) {
        *error = why;
        return false;
    }
    m_log = std::make_unique<MessageLog>(*database, config.logRetentionDays, config.logMaxRows);
    m_log->setWriteHistogram(m_metrics->logWriteSeconds());
    if (!m_log->open(error)) {
        m_log.reset();
        return false;
    }
    qCInfo(lcServer).noquote() << "message log" << database->describe() << "last id"
                               << m_log->lastIdAtOpen();
    m_context.log = m_log.get();
    m_hub->setLastId(m_log->lastIdAtOpen());
    m_hub->setLogBacked(true);
    MessageLog *log = m_log.get();
    m_hub->setRecordGate([log] { return log->queueDepth() < MessageLog::kMaxQueued; });
    return true;
}

// LISTEN/NOTIFY ingest (pg_listen): a listener on a thread of its own with its own database
// connection. It keeps trying in the background when the database cannot be reached, so only
// a malformed URL stops the start.
bool Server::startPgListener(const ServerConfig &config, QString *error)
{
    if (config.pgListen.isEmpty())
        return true;
    QString why;
    const std::optional<PgUrl> url = PgUrl::parse(config.pgListen, &why);
    if (!url) {
        *error = QStringLiteral("pg_listen: %1").arg(why);
        return false;
    }
    PgNotifyListener::Options options;
    options.url = *url;
    options.channel = config.pgChannel;
    options.apiKey = config.apiKey.toUtf8(); // signs the notifications (docs/postgresql.md)
    options.metrics = m_metrics.get();
    options.exclusive = !config.redis.isEmpty(); // one listener for the whole cluster
    m_pgThread = new QThread(this);
    m_pgThread->setObjectName(QStringLiteral("switchboard-pg-listen"));
    m_pgListener = new PgNotifyListener(options, m_emits.get());
    m_pgListener->moveToThread(m_pgThread);
    connect(m_pgThread, &QThread::finished, m_pgListener, &QObject::deleteLater);
    m_pgThread->start();
    PgNotifyListener *listener = m_pgListener;
    QMetaObject::invokeMethod(
            listener, [listener] { listener->start(); }, Qt::QueuedConnection);
    return true;
}

void Server::stopPgListener()
{
    if (!m_pgThread)
        return;
    PgNotifyListener *listener = m_pgListener;
    QMetaObject::invokeMethod(
            listener, [listener] { listener->stop(); }, Qt::BlockingQueuedConnection);
    m_pgThread->quit();
    m_pgThread->wait();
    delete m_pgThread; // the listener went with the thread's finished() (deleteLater)
    m_pgThread = nullptr;
    m_pgListener = nullptr;
}

bool Server::start(QString *error, bool *configError)
{
    if (m_running)
        return true;
    if (!createCore(error))
        return false;
    startShards();
    const bool listening = startHttp(error);
    m_running = true; // from here stop() takes down what was started
    if (!listening || !joinCluster(error, configError)) {
        stop(0);
        return false;
    }
    if (!startPgListener(m_context.config, error)) {
        stop(0);
        return false;
    }
    // The clients before the endpoints: a handler's module may make clients when it loads
    // (its top-level code); the clients' events that come before the endpoints run wait for
    // them (EndpointHost::clientEvent).
    m_clients->start();
    m_endpoints->start();
    qCInfo(lcServer).noquote() << "started with" << m_shards.size() << "I/O threads";
    return true;
}

// What has no thread of its own: metrics, revocations, tokens, the hub, the message log and
// the command layer over them.
bool Server::createCore(QString *error)
{
    const ServerConfig &config = m_context.config;
    m_context.startedMs = QDateTime::currentMSecsSinceEpoch();
    m_context.apiKey = ApiKeyAuth(config.apiKey.toUtf8());
    m_metrics = std::make_unique<Metrics>();
    m_context.metrics = m_metrics.get();

    m_revocations = std::make_unique<RevocationList>(
            QDir(config.dataDir).filePath(QStringLiteral("revocations.jsonl")), config.tokenMaxTtl);
    if (!m_revocations->load(error))
        return false;
    m_tokens = std::make_unique<TokenService>(config.jwtSecret.toUtf8(), m_revocations.get());
    // The single-node history store: rooms' recent events in memory, the message log below.
    m_history = std::make_unique<RoomHistory>(config.historyPerRoom);
    m_hub = std::make_unique<Hub>(*m_history, m_revocations.get());
    m_context.hub = m_hub.get();
    m_emits = std::make_unique<EmitService>(m_hub.get());
    m_context.emits = m_emits.get();

    if (config.logDatabase.compare(u"off", Qt::CaseInsensitive) == 0) {
        // No log: history comes from memory only, GET /api/log answers 503.
        qCWarning(lcServer) << "message log off (log_database=off): emits are not recorded";
    } else if (!openLog(config, error)) {
        return false;
    }
    m_context.tokens = m_tokens.get();
    if (!config.redis.isEmpty()) {
        // Emits are ordered by the cluster from the start; until the node has joined (after
        // the listener is up) they are refused with 503.
        m_cluster = std::make_unique<Cluster>(m_hub.get(), m_metrics.get());
        m_emits->setOrderer(m_cluster.get());
        m_context.cluster = m_cluster.get();
        // A join's older events come from the room's history in Redis, then from the log
        // (docs/ARCHITECTURE.md, "How recovery flows"): joins ask for them even with the log
        // off. A bad URL is reported by joinCluster.
        if (const auto url = RedisUrl::parse(config.redis, nullptr)) {
            m_clusterHistory =
                    std::make_unique<ClusterHistory>(*url, m_log.get(), config.historyPerRoom);
            m_hub->setLogBacked(true);
        }
    }
    const RoomEventSource *older = m_clusterHistory
            ? static_cast<const RoomEventSource *>(m_clusterHistory.get())
            : m_log.get();
    m_recovery = std::make_unique<RecoveryService>(m_hub.get(), older, config.maxQueueBytes);
    m_context.recovery = m_recovery.get();
    m_context.revocations = m_revocations.get();
    createEndpoints();
    return true;
}

// Outbound clients and endpoints (docs/ARCHITECTURE.md, "Endpoints"): each names the other,
// the clients' handler events go to the endpoints' handler threads.
void Server::createEndpoints()
{
    const ServerConfig &config = m_context.config;
    OutboundClients::Options options;
    options.dataDir = config.dataDir;
    options.maxClients = config.maxClients;
    options.maxMessageBytes = config.maxMessageBytes;
    options.emits = m_emits.get();
    options.toHandler = [this](const HandlerEvent &event) { m_endpoints->clientEvent(event); };
    options.handlerExists = [this](const QString &handler, QString *why) {
        return m_endpoints->handlerExists(handler, why);
    };
    m_clients = std::make_unique<OutboundClients>(std::move(options));
    m_endpoints = std::make_unique<EndpointHost>(&m_context, m_clients.get());
    m_context.clients = m_clients.get();
    m_context.endpoints = m_endpoints.get();
}

// Cluster (redis set): joins once the listener's address is known (the default node name).
bool Server::joinCluster(QString *error, bool *configError)
{
    if (!m_cluster)
        return true;
    const ServerConfig &config = m_context.config;
    QString why;
    const std::optional<RedisUrl> url = RedisUrl::parse(config.redis, &why);
    if (!url) {
        *error = why;
        if (configError)
            *configError = true;
        return false;
    }
    ClusterOptions options;
    options.redis = *url;
    // Where it listens, as configured (0.0.0.0 included), with the port it got.
    const QHostAddress &listen = config.listenAddress;
    options.address =
            (listen.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("[%1]:%2")
                                                                : QStringLiteral("%1:%2"))
                    .arg(listen.toString())
                    .arg(m_port);
    options.nodeName = config.nodeName.isEmpty()
            ? QStringLiteral("%1:%2").arg(QHostInfo::localHostName()).arg(m_port)
            : config.nodeName;
    // Nodes compare this, never the secret itself.
    options.secretCheck =
            QMessageAuthenticationCode::hash("switchboard cluster secret check",
                                             config.jwtSecret.toUtf8(), QCryptographicHash::Sha256)
                    .toHex();
    options.dataDir = config.dataDir;
    options.loggedUpTo = m_log ? m_log->lastIdAtOpen() : 0;
    options.historyPerRoom = config.historyPerRoom;
    options.startedMs = m_context.startedMs;
    // One PostgreSQL log for all nodes: each records what it accepted. A log of its own
    // (SQLite): every node records every cluster event.
    options.logsEveryEvent = !m_log || !config.logDatabase.startsWith(u"postgres");
    options.tokenMaxTtl = config.tokenMaxTtl;
    m_clusterLogsEverything = options.logsEveryEvent;
    m_nodeName = options.nodeName;
    installRecordObserver();
    const RestApi *rest = &m_http->rest();
    m_cluster->setAnswerer([rest](const QString &op, const QJsonObject &args) {
        return rest->answerCluster(op, args);
    });
    // On the HTTP thread: most emits come from there, and their answers go back there.
    return m_cluster->start(options, m_httpThread, error, configError);
}

// Every accepted emit goes to the log and the admin stream (cheap appends under the hub lock).
void Server::installRecordObserver()
{
    MessageLog *log = m_log.get();
    AdminStream *admin = m_admin;
    const bool logsEverything = m_clusterLogsEverything;
    const QString self = m_nodeName;
    m_hub->setRecordObserver([log, admin, logsEverything, self](const MessageRecord &record) {
        // In a cluster sharing one PostgreSQL log, each record is written by its node only.
        if (log && (logsEverything || record.node.isNull() || record.node == self))
            log->append(record);
        admin->recordEmitted(record);
    });
}

// One I/O shard per thread (io_threads, default one per core); the hub delivers to them.
void Server::startShards()
{
    const ServerConfig &config = m_context.config;
    const int shardCount =
            config.ioThreads > 0 ? config.ioThreads : qMax(1, QThread::idealThreadCount());
    QList<DeliverySink *> sinks;
    for (int i = 0; i < shardCount; ++i) {
        auto *thread = new QThread(this);
        thread->setObjectName(QStringLiteral("switchboard-io-%1").arg(i));
        auto *shard = new IoShard(i, &m_context);
        shard->moveToThread(thread);
        connect(thread, &QThread::finished, shard, &QObject::deleteLater);
        thread->start();
        m_shardThreads << thread;
        m_shards << shard;
        sinks << shard;
    }
    m_hub->setSinks(sinks);
    m_hub->setReplayBudget(config.maxQueueBytes);
    m_clientAcceptor = std::make_unique<ClientAcceptor>(&m_context, m_shards);
}

// The HTTP thread: the listener, the stats sampler and the admin stream, created on that
// thread (QAbstractHttpServer holds its QWebSocketServer as a member, which moveToThread()
// would leave behind); then the hub's observers and the log's commits are wired to them.
bool Server::startHttp(QString *listenError)
{
    m_httpThread = new QThread(this);
    m_httpThread->setObjectName(QStringLiteral("switchboard-http"));
    m_httpThread->start();
    auto *anchor = new QObject;
    anchor->moveToThread(m_httpThread);
    quint16 port = 0;
    bool listening = false;
    HttpServer *http = nullptr;
    AdminStream *admin = nullptr;
    ClientAcceptor *clients = m_clientAcceptor.get();
    ServerContext *context = &m_context;
    QMetaObject::invokeMethod(
            anchor,
            [&http, &admin, &listening, listenError, &port, clients, context] {
                auto *stats = new StatsSampler(context->hub, context->startedMs);
                HttpServer::Upgrades upgrades;
                upgrades.client = [clients](QWebSocket *socket, QTcpSocket *tcp,
                                            const ClientUpgrade &upgrade) {
                    clients->accept(socket, tcp, upgrade);
                };
                http = new HttpServer(context, stats, std::move(upgrades));
                stats->setParent(http);
                admin = new AdminStream(context, stats, http);
                http->setAdminUpgrade([admin](QWebSocket *socket) { admin->addObserver(socket); });
                listening = http->listen(listenError);
                port = http->port();
            },
            Qt::BlockingQueuedConnection);
    anchor->deleteLater();
    m_http = http;
    m_admin = admin;
    m_port = port;
    connect(m_httpThread, &QThread::finished, m_http, &QObject::deleteLater);
    // Every accepted emit goes to the log and the admin stream; every connection and
    // membership change to the admin stream. Both are cheap appends under the hub lock.
    installRecordObserver();
    m_hub->setEventObserver([admin](const HubEvent &event) { admin->hubEvent(event); });
    if (m_log)
        connect(m_log.get(), &MessageLog::committed, m_http, &HttpServer::logCommitted);
    return listening;
}

bool Server::addAdminFeed(const std::shared_ptr<AdminFeed> &feed)
{
    if (!m_running || !m_http)
        return false;
    AdminStream *admin = m_admin;
    QMetaObject::invokeMethod(admin, [admin, feed] { admin->addFeed(feed); });
    return true;
}

void Server::stop(int graceMs)
{
    if (!m_running)
        return;
    m_running = false;
    // The cluster leaves first: emits waiting for it are answered (503) while every object
    // that waits for an answer still exists; later emits are refused at once.
    if (m_cluster)
        m_cluster->stop();
    // Nothing may emit once the hub stops taking emits: clients, then handlers, go first.
    m_clients->stop();
    m_endpoints->stop();
    // No notification may arrive once the hub stops taking emits.
    stopPgListener();
    HttpServer *http = m_http;
    QMetaObject::invokeMethod(
            m_http, [http] { http->closeListeners(); }, Qt::BlockingQueuedConnection);
    // Emits still arriving on open connections are refused (503); whatever is queued goes
    // into the log, and the answers waiting for it leave.
    m_hub->setRecordGate([] { return false; });
    if (m_log) {
        m_log->close();
        const quint64 committed = m_log->committedId();
        QMetaObject::invokeMethod(
                m_http, [http, committed] { http->logCommitted(committed); },
                Qt::BlockingQueuedConnection);
    }
    for (IoShard *shard : std::as_const(m_shards)) {
        QMetaObject::invokeMethod(
                shard, [shard] { shard->shutdown(1001); }, Qt::BlockingQueuedConnection);
    }
    // Wait for the close frames to be flushed (connections leave their shard once their
    // socket is closed), at most graceMs.
    const auto live = [this] {
        qint64 n = 0;
        for (const IoShard *shard : std::as_const(m_shards))
            n += shard->liveConnections();
        return n;
    };
    QElapsedTimer waited;
    waited.start();
    while (live() > 0 && waited.elapsed() < graceMs)
        QThread::msleep(10);

    // The admin stream goes with the HTTP thread: nothing may reach it afterwards (the
    // shards' last closes included).
    m_hub->setEventObserver({});
    m_hub->setRecordObserver({});
    m_httpThread->quit();
    m_httpThread->wait();
    for (QThread *thread : std::as_const(m_shardThreads)) {
        thread->quit();
        thread->wait();
    }
    qDeleteAll(m_shardThreads);
    m_shardThreads.clear();
    m_shards.clear();
    delete m_httpThread;
    m_httpThread = nullptr;
    m_http = nullptr;
    m_admin = nullptr;
    m_clientAcceptor.reset();
    m_hub->setSinks({});
    if (m_port)
        qCInfo(lcServer) << "stopped";
}

} // namespace sb
