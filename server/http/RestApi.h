#pragma once

#include "http/ClusterViews.h"
#include "http/HttpCall.h"
#include "http/HttpResponse.h"

namespace sb {

struct ServerContext;
class StatsSampler;

// The handlers of the REST calls (/api/...; docs/API.md, "REST calls"). Authentication,
// routing and decoding the body of the routes that take one (HttpCall::body) are done by
// HttpServer before these run; each handler validates its own fields.
class RestApi
{
public:
    RestApi(const ServerContext *context, const StatsSampler *stats);

    HttpReply health(const HttpCall &call) const;
    HttpReply stats(const HttpCall &call) const;
    HttpReply healthLive(const HttpCall &call) const;
    HttpReply nodes(const HttpCall &call) const;
    HttpReply registerToken(const HttpCall &call) const;
    HttpReply unregister(const HttpCall &call) const;
    HttpReply emitTo(const HttpCall &call, const QString &target) const;
    HttpReply listConnections(const HttpCall &call) const;
    HttpReply getConnection(const HttpCall &call, const QString &id) const;
    HttpReply deleteConnection(const HttpCall &call, const QString &id) const;
    HttpReply sendToConnection(const HttpCall &call, const QString &id) const;
    HttpReply listRooms(const HttpCall &call) const;
    HttpReply getRoom(const HttpCall &call, const QString &room) const;
    HttpReply log(const HttpCall &call) const; // GET /api/log
    // /api/endpoints (http/EndpointsApi.cpp)
    HttpReply listEndpoints(const HttpCall &call) const;
    HttpReply createEndpoint(const HttpCall &call) const;
    HttpReply deleteEndpoint(const HttpCall &call, const QString &name) const;
    // GET /metrics: the Prometheus text exposition of Metrics.
    HttpReply metrics(const HttpCall &call) const;

    // Shared with the compatibility routes.
    struct Registration
    {
        QByteArray token;
        qint64 expires = 0;
    };
    Registration issueToken(const QString &room, const QString &user, const QString &session,
                            qint64 ttl, bool publish) const;

    // Cluster: this node's answer to another node's question (any thread; Cluster::setAnswerer).
    QJsonObject answerCluster(const QString &op, const QJsonObject &args) const
    {
        return m_clusterViews.answer(op, args);
    }

private:
    const ServerContext *m_context;
    const StatsSampler *m_stats;
    ClusterViews m_clusterViews; // the cluster-wide views (context->cluster set)
};

// The drop-in routes of the seed Node.js bridges (docs/API.md, "Drop-in compatibility
// routes"). broadcast() and pushLegacy() decode their bodies themselves; the others get
// HttpCall::body.
class CompatApi
{
public:
    CompatApi(const ServerContext *context, const RestApi *rest);

    HttpReply broadcast(const HttpCall &call) const;      // POST /api/broadcast
    HttpReply pushLegacy(const HttpCall &call) const;     // POST /
    HttpReply socketRegister(const HttpCall &call) const; // POST /socket
    HttpReply socketEmitRoom(const HttpCall &call) const; // PUT /socket/room
    HttpReply socketEmitUser(const HttpCall &call) const; // PUT /socket/user

    // {"ok": false, "message": ...}: the refusal shape of /api/broadcast.
    static HttpReply okFalse(int status, const QString &message);

private:
    const ServerContext *m_context;
    const RestApi *m_rest;
};

} // namespace sb
