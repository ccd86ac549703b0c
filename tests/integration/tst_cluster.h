#pragma once

// The cluster tests (tst_cluster.cpp, tst_cluster_redis.cpp); see tst_cluster.cpp.

#include "ClusterFixture.h"

#include <QObject>

#include <functional>
#include <memory>
#include <vector>

using namespace sbit;

class TestCluster : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void emitsReachEveryNodeExactlyOnceInOrder();
    void deliveredCountsMembersOnAllNodes();
    void deliveredCountsAMemberJustJoinedOnAnotherNode();
    void connectionIdsNameTheNode();
    void emitToConnectionOnAnotherNode();
    void logOnEveryNodeHoldsEveryEvent();
    void logRecordsNameTheAcceptingNode();
    void nodesListAndKillMinus9();
    void sameNameOrOtherSecretRefusesToStart_data();
    void sameNameOrOtherSecretRefusesToStart();
    void redisDownUnderLoad();
    void redisRestartedEmpty();

private:
    bool startCluster(int nodes, bool persistentRedis);
    // perNode members of room on every node (users "u<node>-<k>").
    std::vector<Receiver> joinMembers(const QString &room, int perNode);
    // Every receiver got exactly `accepted` (sorted), in that order, nothing else.
    static void verifyReceivedExactly(std::vector<Receiver> &receivers,
                                      const QList<qint64> &accepted);
    // The same when `inDoubt` emits were answered 503 "in doubt" (the connection to Redis
    // went while they were ordered: docs/API.md, "Redis lost"): every receiver got `accepted`
    // and the same few others (at most inDoubt), in id order, each once. *delivered: what they
    // got.
    static void verifyReceivedWithDoubt(std::vector<Receiver> &receivers,
                                        const QList<qint64> &accepted, int inDoubt,
                                        QList<qint64> *delivered);
    // POSTs body to path on node `on`; the answer's id (-1 when not 200 or delivered differs).
    qint64 emitExpecting(int on, const QByteArray &path, const QJsonObject &body, int delivered);
    // The next event of client has that id.
    static bool receivedId(WsClient &client, qint64 id);
    // The union of the emitters' 2xx ids, sorted; fails when one id was given twice.
    static QList<qint64> acceptedIds(const std::vector<std::unique_ptr<EmitStream>> &emitters);
    std::vector<std::unique_ptr<EmitStream>> emitters(const QString &room, int window);
    // Pumps every emitter and collects every receiver until pred() (false on timeout).
    static bool drive(std::vector<std::unique_ptr<EmitStream>> &emitters,
                      std::vector<Receiver> &receivers, const std::function<bool()> &pred,
                      int timeoutMs);
    void verifyDegraded(int i);
    // Emits 30 events from the three nodes in turn (room, user, all) to room, whose members
    // are u0-0, u1-0, u2-0; *answers: id -> {node, delivered}.
    void emitThirty(const QString &room, QHash<qint64, QJsonObject> *answers);
    // Waits until node i's log holds exactly `expected` ids; *records: its records.
    void verifyLogIds(int i, const QList<qint64> &expected, QJsonArray *records);

    std::unique_ptr<ClusterFixture> m_cluster;
};
