// The frames a client sends on /ws (docs/API.md, "WebSocket protocol"): join (with recovery),
// leave, presence and emit, answered on the connection's own thread. Some answers come later
// in a cluster (docs/API.md, "Cluster"): the connection's shard, which outlives its
// connections, takes them and finds the connection again if it is still there.
#include "ws/ClientConnection.h"

#include "auth/TokenService.h"
#include "base/Logging.h"
#include "base/Names.h"
#include "base/RawJson.h"
#include "cluster/Cluster.h"
#include "commands/EmitService.h"
#include "commands/RecoveryService.h"
#include "context/ServerContext.h"
#include "hub/Hub.h"
#include "ws/IoShard.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QWebSocket>

namespace sb {

namespace {

// since: a non-negative integer id, as JSON number or decimal text; absent or null: none.
bool parseSince(const QByteArray &text, std::optional<quint64> *since, QString *error)
{
    since->reset();
    if (text.isNull() || text == "null")
        return true;
    QByteArray t = text;
    if (t.startsWith('"') && t.endsWith('"') && t.size() >= 2)
        t = t.mid(1, t.size() - 2);
    bool ok = false;
    const quint64 v = t.toULongLong(&ok);
    if (!ok) {
        if (error)
            *error = QStringLiteral("since must be a non-negative integer message id");
        return false;
    }
    *since = v;
    return true;
}

} // namespace

void ClientConnection::handleJoin(const QByteArray &token, const QByteArray &sinceText,
                                  const QByteArray &ref)
{
    std::optional<quint64> since;
    QString sinceError;
    if (!parseSince(sinceText, &since, &sinceError)) {
        sendError("bad_request", sinceError, ref);
        return;
    }
    const ServerContext *ctx = m_shard->context();
    const TokenCheck check = ctx->tokens->verify(token, QDateTime::currentSecsSinceEpoch());
    if (!check.ok()) {
        qCInfo(lcWs).noquote() << "join refused" << connectionIdText(m_id) << check.code()
                               << check.message;
        sendError(check.code().toLatin1().constData(), check.message, ref);
        return;
    }
    // Memory first, then the message log (commands/RecoveryService).
    RecoveryService::Outcome joined = ctx->recovery->join(m_id, check.claims, since);
    if (joined.status == JoinResult::Status::Forbidden) {
        sendError("forbidden",
                  QStringLiteral("this connection belongs to another user; open a new connection "
                                 "for user %1")
                          .arg(check.claims.user),
                  ref);
        return;
    }
    if (joined.status == JoinResult::Status::Revoked) {
        sendError("revoked", QStringLiteral("token was revoked by unregister"), ref);
        return;
    }
    if (joined.status != JoinResult::Status::Joined)
        return;
    if (const Cluster *cluster = ctx->cluster) {
        // The answer waits until the cluster counts this member (docs/API.md, "Cluster"): an
        // emit ordered by any node after the client saw `joined` counts it in `delivered`.
        ++m_joinsAwaitingCounts;
        IoShard *shard = m_shard;
        const ConnId id = m_id;
        cluster->afterCounts(shard, [shard, id] {
            if (ClientConnection *self = shard->connection(id))
                self->countsArrived();
        });
    }
    for (const QByteArray &wire : std::as_const(joined.replay))
        send(wire, true);
    sendJson(QByteArrayLiteral(R"({"type":"joined","room":)") + rawjson::quote(check.claims.room)
                     + QByteArrayLiteral(R"(,"recovered":)")
                     + (joined.recovered ? QByteArrayLiteral("true") : QByteArrayLiteral("false"))
                     + QByteArrayLiteral(R"(,"last_id":)") + QByteArray::number(joined.lastId)
                     + '}',
             ref);
    qCInfo(lcWs).noquote() << "join" << connectionIdText(m_id) << "room" << check.claims.room
                           << "user" << check.claims.user
                           << (since ? QStringLiteral("since %1 replayed %2 (%3 from the log)%4")
                                               .arg(*since)
                                               .arg(joined.replay.size())
                                               .arg(joined.fromLog)
                                               .arg(joined.recovered
                                                            ? QString()
                                                            : QStringLiteral(", not recovered"))
                                     : QString());
    // Most connections say nothing more after their join: give back the read buffer that
    // frame left behind once QWebSocket is done with this read (the sweep does it later for
    // everything read afterwards). The socket is the context: gone with it, the call is too.
    QMetaObject::invokeMethod(
            m_socket,
            [this] {
                if (m_readSinceRelease)
                    releaseSocketBuffers();
            },
            Qt::QueuedConnection);
}

void ClientConnection::handleLeave(const QJsonObject &frame, const QByteArray &ref)
{
    const QJsonValue room = frame.value(u"room");
    if (!room.isString() || room.toString().isEmpty()) {
        sendError("bad_request", QStringLiteral("room is missing or not a string"), ref);
        return;
    }
    const bool wasMember = m_shard->context()->hub->leave(m_id, room.toString());
    if (wasMember)
        qCInfo(lcWs).noquote() << "leave" << connectionIdText(m_id) << "room" << room.toString();
    sendJson(QByteArrayLiteral(R"({"type":"left","room":)") + rawjson::quote(room.toString()) + '}',
             ref);
}

void ClientConnection::handlePresence(const QJsonObject &frame, const QByteArray &ref)
{
    const QJsonValue room = frame.value(u"room");
    if (!room.isString() || room.toString().isEmpty()) {
        sendError("bad_request", QStringLiteral("room is missing or not a string"), ref);
        return;
    }
    const auto members = m_shard->context()->hub->presence(m_id, room.toString());
    if (!members) {
        sendError("forbidden", QStringLiteral("presence needs the room to be joined first"), ref);
        return;
    }
    if (const Cluster *cluster = m_shard->context()->cluster) {
        // Every node's members (docs/API.md, "Cluster"); the shard outlives its connections.
        IoShard *shard = m_shard;
        const ConnId id = m_id;
        cluster->presence(room.toString(), shard,
                          [shard, id, room = room.toString(),
                           ref](bool ok, const QList<QPair<QString, QString>> &pairs) {
                              ClientConnection *self = shard->connection(id);
                              if (!self)
                                  return;
                              if (ok)
                                  self->sendPresence(room, pairs, ref);
                              else
                                  self->sendError("unavailable",
                                                  QStringLiteral("the cluster's Redis is "
                                                                 "unreachable; retry"),
                                                  ref);
                          });
        return;
    }
    sendPresence(room.toString(), *members, ref);
}

void ClientConnection::sendPresence(const QString &room,
                                    const QList<QPair<QString, QString>> &members,
                                    const QByteArray &ref)
{
    QJsonArray array;
    for (const auto &[user, session] : members)
        array.append(
                QJsonObject{{QStringLiteral("user"), user}, {QStringLiteral("session"), session}});
    sendJson(QByteArrayLiteral(R"({"type":"presence","room":)") + rawjson::quote(room)
                     + QByteArrayLiteral(R"(,"members":)")
                     + QJsonDocument(array).toJson(QJsonDocument::Compact) + '}',
             ref);
}

void ClientConnection::handleEmit(const QByteArray &text, const QJsonObject &frame,
                                  const QByteArray &ref)
{
    const QJsonValue room = frame.value(u"room");
    const QJsonValue event = frame.value(u"event");
    if (!room.isString()) {
        sendError("bad_request", QStringLiteral("room is missing or not a string"), ref);
        return;
    }
    if (QString why; !names::checkLength(u"room", room.toString(), names::kRoomMax, &why)) {
        sendError("bad_request", why, ref);
        return;
    }
    if (!event.isString()) {
        sendError("bad_request", QStringLiteral("event is missing or not a string"), ref);
        return;
    }
    EmitRequest request;
    request.target = EmitTarget::Room;
    request.to = room.toString();
    request.event = event.toString();
    CommandError why;
    if (!EmitService::validate(request, &why)) {
        sendError("bad_request", why.message, ref);
        return;
    }
    if (!m_shard->context()->hub->mayPublish(m_id, request.to)) {
        sendError("forbidden",
                  QStringLiteral("emit needs the room joined with a token that has pub (register "
                                 "with publish: true)"),
                  ref);
        return;
    }
    if (frame.contains(u"data"))
        request.data = rawjson::member(text, u"data");
    request.source = EmitSource::Ws;
    request.remote = m_remote;
    request.exclude = m_id;
    // The answer may come later (a cluster orders the emit): the shard, which outlives its
    // connections, takes it and finds the connection again if it is still there.
    IoShard *shard = m_shard;
    const ConnId id = m_id;
    m_shard->context()->emits->emitAsync(
            request, shard,
            [shard, id, request, ref](std::optional<EmitResult> result,
                                      const CommandError &refusal) {
                if (ClientConnection *self = shard->connection(id))
                    self->emitAnswered(request, ref, result ? &*result : nullptr, refusal);
            });
}

void ClientConnection::emitAnswered(const EmitRequest &request, const QByteArray &ref,
                                    const EmitResult *result, const CommandError &why)
{
    if (!result) {
        sendError(why.code.toLatin1().constData(), why.message, ref);
        return;
    }
    qCInfo(lcWs).noquote() << "emit" << result->id << "from" << connectionIdText(m_id) << "room"
                           << request.to << "event" << request.event << "delivered"
                           << result->delivered;
    if (!ref.isNull())
        sendJson(QByteArrayLiteral(R"({"type":"emitted","id":)") + QByteArray::number(result->id)
                         + QByteArrayLiteral(R"(,"delivered":)")
                         + QByteArray::number(result->delivered) + '}',
                 ref);
}

} // namespace sb
