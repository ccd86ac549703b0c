#pragma once

// The cluster's views and cluster-wide calls (tst_cluster_views.cpp, tst_cluster_presence.cpp);
// see tst_cluster_views.cpp.

#include "ClusterFixture.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSet>

#include <memory>

using namespace sbit;

class TestClusterViews : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    // tst_cluster_views.cpp
    void connectionCallsRouteToTheNode();
    void viewsAnswerForTheCluster();
    // tst_cluster_presence.cpp
    void unregisterRevokesOnEveryNode();
    void presenceIsClusterWide();
    void adminStreamShowsTheNodes();

private:
    bool startCluster(int nodes);
    // A /ws client on node `on` that sent join with token; *answer: the joined or error frame.
    std::unique_ptr<WsClient> joinWith(int on, const QByteArray &token, QJsonObject *answer);
    // The id of client's connection, as node `on` (where it is connected) lists it.
    QString connectionOf(int on, const WsClient &client);
    // GET path on node i: the answer, failing the case (empty) when it is not 200.
    QJsonDocument getOk(int i, const QByteArray &path);

    // viewsAnswerForTheCluster, as node i sees it.
    void verifyConnections(int i, const QString &room, const QString &other);
    void verifyRooms(int i, const QString &room, const QString &other);
    void verifyStatsAndHealth(int i);
    void verifyMetrics(int i);

    // The "user/session" pairs (sorted, duplicates kept) of the presence frame member gets
    // for room; {"<no presence frame>"} when none came.
    static QStringList presencePairs(WsClient &member, const QString &room);
    // Reads frames of admin until records with all of ids came; *nodeOf: id -> record's node.
    static bool readRecords(WsClient &admin, const QList<qint64> &ids,
                            QHash<qint64, QString> *nodeOf);

    std::unique_ptr<ClusterFixture> m_cluster;
};

// "user/session" of each entry of members (an array of objects with user and session).
QStringList pairsOf(const QJsonArray &members);
// The set of the values of key in the objects of array.
QSet<QString> valuesOf(const QJsonArray &array, const QString &key);
