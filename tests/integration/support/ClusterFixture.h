#pragma once

// Support for the cluster tests (tst_cluster.cpp): one real redis-server and N switchboardd
// nodes started with --redis <url> --node-name n<i> and the same API key and JWT secret;
// members joined on a given node; pipelined REST emitters that record every answer; the
// receiving side of members, checked as it arrives (so 100,000 emits do not pile up frames).

#include "HttpClient.h"
#include "RedisServerProcess.h"
#include "ServerProcess.h"
#include "WsClient.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>
#include <QTcpSocket>

#include <memory>
#include <vector>

namespace sbit {

class ClusterFixture
{
public:
    ClusterFixture();
    ~ClusterFixture();
    Q_DISABLE_COPY_MOVE(ClusterFixture)

    // A fresh redis-server; persistent: --appendonly yes (its data survives a restart).
    bool startRedis(bool persistent, QString *why);
    // Starts nodes n1..n<count> on that Redis (after the ones already running) and waits until
    // every node's /api/nodes lists them all.
    bool startNodes(int count, QString *why);
    // The arguments of a node named `name` on this cluster's Redis (then the extra ones).
    QStringList nodeArgs(const QString &name) const;
    // Arguments every node started from now on gets too (a shared --log-database...).
    void setExtraNodeArgs(const QStringList &args) { m_extraNodeArgs = args; }
    // A node not started yet, with the cluster's key and secret.
    std::unique_ptr<ServerProcess> newNode() const;

    int size() const { return int(m_nodes.size()); }
    ServerProcess &node(int i) { return *m_nodes[size_t(i)]; }
    HttpClient &api(int i) { return *m_apis[size_t(i)]; }
    RedisServerProcess &redis() { return *m_redis; }
    static QString nodeName(int i) { return QStringLiteral("n%1").arg(i + 1); }
    QByteArray apiKey() const { return m_apiKey; }
    QByteArray jwtSecret() const { return m_jwtSecret; }

    // kill -9 of node i (it stays in the list, not running).
    void killNode(int i);
    // A /ws client joined to room on node `on`, its token registered on the next node.
    std::unique_ptr<WsClient> member(int on, const QString &room, const QString &user,
                                     const QString &session, bool publish = false,
                                     QString *why = nullptr);
    // Stops every running node with SIGTERM and reads every node's output. False, with
    // *problems naming the nodes, when one did not exit with 0 or printed a sanitizer report
    // (AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer's "runtime error:").
    bool stopNodes(QString *problems);
    // The tails of every process's output (for a failed case).
    void printOutputs() const;
    // Stops everything (kill).
    void reset();

private:
    QByteArray m_apiKey;
    QByteArray m_jwtSecret;
    QStringList m_extraNodeArgs;
    std::unique_ptr<RedisServerProcess> m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_nodes;
    std::vector<std::unique_ptr<HttpClient>> m_apis;
};

// One keep-alive connection that keeps up to `window` emits to `room` in flight (pipelined
// POST /api/emit/room) and records every answer. pump() from a wait loop drives it.
class EmitStream
{
public:
    EmitStream(const ServerProcess &server, const QString &room, const QString &source, int window);
    bool connectTo();
    // Sends `total` emits in all (-1: until stopSending()).
    void setTotal(int total) { m_total = total; }
    void stopSending() { m_stopped = true; }
    // Reads the answers that came, writes more requests.
    void pump();
    // Nothing in flight and nothing more to send.
    bool finished() const;

    QList<qint64> ids;          // of the 2xx answers, in answer order
    int unavailable = 0;        // 503 unavailable answers
    int unavailableNoRetry = 0; // ... of which without Retry-After
    QString unavailableMessage; // the first one's error message
    int inDoubt = 0;            // ... of which "in doubt": the emit may have been delivered
    int others = 0;             // any other answer
    int lost = 0;               // requests in flight when the connection closed
    int sent() const { return m_sent; }

private:
    void take(const HttpResponse &r);
    QByteArray request(int n) const;

    const ServerProcess &m_server;
    QString m_room;
    QString m_source;
    int m_window;
    int m_total = -1;
    bool m_stopped = false;
    int m_sent = 0;
    int m_answered = 0;
    QTcpSocket m_socket;
    HttpResponseParser m_parser;
};

// The event ids one member received, checked as they come: strictly increasing, each once.
struct Receiver
{
    std::unique_ptr<WsClient> client;
    QString where; // for messages: "n2 member 1"
    QList<qint64> ids;
    QString problem; // the first id out of order, empty when none

    // Moves the queued event frames' ids into ids.
    void collect();
};

// Collects all receivers; true when each has at least `count` ids.
bool allReceived(std::vector<Receiver> &receivers, int count);

// GET /api/log, every record (paged with since_id), oldest first.
QJsonArray allLogRecords(HttpClient &api);
// The ids of records.
QList<qint64> idsOf(const QJsonArray &records);

// GET /api/nodes.
QJsonArray nodesList(HttpClient &api);

// The numbers (sorted) in ids; text for failure messages.
QString describeIds(const QList<qint64> &ids);

} // namespace sbit
