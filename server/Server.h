#pragma once

#include "config/ServerConfig.h"
#include "context/ServerContext.h"

#include <QList>
#include <QObject>
#include <QUrl>

#include <memory>

class QThread;

namespace sb {

class AdminFeed;
class Cluster;
class EndpointHost;
class OutboundClients;
class ClusterHistory;
class AdminStream;
class ClientAcceptor;
class HttpServer;
class EmitService;
class Hub;
class IoShard;
class MessageLog;
class Metrics;
class PgNotifyListener;
class RecoveryService;
class RevocationList;
class RoomHistory;
class TokenService;

// The whole server, shared by the daemon and the console: the hub, the I/O shards on their
// threads (switchboard-io-N), the HTTP listener on its own thread (switchboard-http), the
// message log's writer (switchboard-log, when the log is on) and the PostgreSQL listener
// (switchboard-pg-listen, with pg_listen). The object itself lives on the thread that
// creates it; start() and stop() block until the threads have done their part.
class Server final : public QObject
{
    Q_OBJECT

public:
    explicit Server(ServerConfig config, QObject *parent = nullptr);
    ~Server() override;

    // Starts the threads and binds the listener. Returns false with a clear `error` (port in
    // use, unreadable certificate, ...), after which the object can be destroyed.
    // *configError: the error is one of the configuration (the cluster refused this node's
    // name or secret): the daemon exits 2 then, as for a bad setting.
    bool start(QString *error, bool *configError = nullptr);
    // Closes every WebSocket with 1001 (waiting up to `graceMs` for them to go), then stops.
    void stop(int graceMs = 2000);

    bool isRunning() const { return m_running; }
    quint16 port() const { return m_port; }
    QUrl baseUrl() const;
    const ServerContext &context() const { return m_context; }
    Hub *hub() const { return m_hub.get(); }
    // Watches the admin stream in-process (the console hosting this server). Any thread;
    // false when the server is not running.
    bool addAdminFeed(const std::shared_ptr<AdminFeed> &feed);
    // The LISTEN/NOTIFY listener (pg_listen), null when none is configured. Its counters and
    // isListening() may be read from any thread.
    const PgNotifyListener *pgListener() const { return m_pgListener; }

private:
    bool joinCluster(QString *error, bool *configError);
    void installRecordObserver();
    bool createCore(QString *error);
    void createEndpoints();
    bool openLog(const ServerConfig &config, QString *error);
    void startShards();
    bool startHttp(QString *listenError);
    bool startPgListener(const ServerConfig &config, QString *error);
    void stopPgListener();
    ServerContext m_context;
    std::unique_ptr<Metrics> m_metrics; // first: outlives the log writer and the threads
    std::unique_ptr<RevocationList> m_revocations;
    std::unique_ptr<TokenService> m_tokens;
    std::unique_ptr<RoomHistory> m_history; // the hub's HistoryStore: outlives the hub
    std::unique_ptr<Hub> m_hub;
    std::unique_ptr<EmitService> m_emits;
    std::unique_ptr<MessageLog> m_log;
    // redis set: where a join's older events come from (Redis, then m_log)
    std::unique_ptr<ClusterHistory> m_clusterHistory;
    std::unique_ptr<RecoveryService> m_recovery;
    std::unique_ptr<Cluster> m_cluster;               // redis set: this node's part of the cluster
    std::unique_ptr<OutboundClients> m_clients;       // /api/clients (docs/API.md, "Endpoints")
    std::unique_ptr<EndpointHost> m_endpoints;        // the *.websocket endpoints
    std::unique_ptr<ClientAcceptor> m_clientAcceptor; // used on the HTTP thread
    QList<QThread *> m_shardThreads;
    QList<IoShard *> m_shards;
    QThread *m_httpThread = nullptr;
    HttpServer *m_http = nullptr;
    AdminStream *m_admin = nullptr; // on the HTTP thread, with the server
    QThread *m_pgThread = nullptr;
    PgNotifyListener *m_pgListener = nullptr;
    quint16 m_port = 0;
    QString m_nodeName;                  // cluster: this node's name
    bool m_clusterLogsEverything = true; // cluster: this node logs other nodes' emits too
    bool m_running = false;
};

} // namespace sb
