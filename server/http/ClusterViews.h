#pragma once

#include "http/HttpCall.h"
#include "http/HttpResponse.h"

#include <QJsonObject>
#include <QString>

namespace sb {

struct ServerContext;
class StatsSampler;

// The REST views of a cluster (docs/API.md, "Cluster"): what GET /api/connections, /api/rooms,
// /api/rooms/{room}, /api/stats and the calls on one connection answer for the whole cluster,
// built from every node's answer to a question (Cluster::ask), and this node's answers to
// the others' questions (answer(), installed as the cluster's answerer). The answers come
// later (HttpReply::later), on the HTTP thread.
class ClusterViews
{
public:
    ClusterViews(const ServerContext *context, const StatsSampler *stats)
        : m_context(context), m_stats(stats)
    { }

    // On the cluster's thread: this node's part of a question.
    QJsonObject answer(const QString &op, const QJsonObject &args) const;

    HttpReply connections(const HttpCall &call, const QString &room, const QString &user) const;
    HttpReply connection(const HttpCall &call, const QString &id) const;
    HttpReply close(const HttpCall &call, const QString &id) const;
    HttpReply send(const HttpCall &call, const QString &id, const QString &text) const;
    HttpReply rooms(const HttpCall &call) const;
    HttpReply room(const HttpCall &call, const QString &room) const;
    HttpReply stats(const HttpCall &call) const;
    HttpReply unregister(const HttpCall &call, const QString &room, const QString &user,
                         const QString &session) const;

private:
    QJsonObject statsAnswer() const;
    QJsonObject roomsAnswer() const;
    QJsonObject revokeAnswer(const QJsonObject &args) const;
    // Asks node `node` (0: all) and answers with what `merge` makes of the answers; 503 when
    // Redis is not reachable.
    HttpReply askAndMerge(const HttpCall &call, quint64 node, const QString &op,
                          const QJsonObject &args,
                          std::function<HttpReply(const QList<QJsonObject> &answers)> merge) const;

    const ServerContext *m_context;
    const StatsSampler *m_stats;
};

} // namespace sb
