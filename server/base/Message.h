#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <array>
#include <atomic>
#include <memory>
#include <optional>

namespace sb {

// Server-assigned connection id; shown to users as "c<m>" on a single node and as
// "n<k>.c<m>" in a cluster (docs/API.md, "Cluster"), where k is the node's number. The node's
// number lives in the bits above kConnNodeShift, so an id names the node that holds it.
using ConnId = quint64;
constexpr int kConnNodeShift = 40;
constexpr quint64 kConnNodeMax = 0xFFFF; // node numbers 1..65535
constexpr ConnId kConnLocalMask = (ConnId(1) << kConnNodeShift) - 1;

QString connectionIdText(ConnId id);
ConnId parseConnectionId(QStringView text); // 0 when not an id
// The node number of an id (0 on a single node) and its number within that node.
inline quint64 connectionNode(ConnId id)
{
    return id >> kConnNodeShift;
}
inline ConnId firstConnectionId(quint64 node)
{
    return (ConnId(node) << kConnNodeShift) + 1;
}

// Endpoint: a session of a `*.websocket` endpoint (docs/API.md, "Endpoints"): raw text frames
// that go to the endpoint's handler, never an event target.
enum class ConnectionKind : quint8 { Native, Legacy, Endpoint };
enum class EmitTarget : quint8 { Room, User, All, Connection, Legacy };
enum class EmitSource : quint8 { Rest, Ws, Console, Compat, Notify, Handler, Client };
constexpr int kEmitSourceCount = 7; // the values of EmitSource are 0..6

QLatin1String targetName(EmitTarget target);
QLatin1String sourceName(EmitSource source);
// The inverse of targetName()/sourceName(); nullopt for any other text.
std::optional<EmitTarget> parseTargetName(QStringView name);
std::optional<EmitSource> parseSourceName(QStringView name);

// A client WebSocket the HTTP side upgraded, as it hands it to the I/O shards.
struct ClientUpgrade
{
    ConnectionKind kind = ConnectionKind::Native;
    QString remote;
    QString endpoint; // Endpoint sessions: the endpoint's name
    QString user;     // Endpoint sessions with auth: the token's sub
};

// Counters a connection updates on its own thread and the API reads from any thread.
struct ConnectionCounters
{
    std::atomic<quint64> sent{0};
    std::atomic<quint64> received{0};
};

// One emit as it enters the hub. `data` is the raw JSON text of the value (never null:
// "null" when absent). For legacy pushes `legacyText` is the text sent to legacy clients.
struct EmitRequest
{
    EmitTarget target = EmitTarget::Room;
    QString to; // room, user or connection id text; empty for all and legacy
    QString event;
    QByteArray data = QByteArrayLiteral("null");
    EmitSource source = EmitSource::Rest;
    QString remote;
    ConnId exclude = 0;           // the sender of a client emit
    bool excludeIsTarget = false; // cluster: the sender is one of the targets (delivered - 1)
    QByteArray legacyText;        // also push this text to every legacy connection
    bool eventFrame = true;       // false: legacy push only (POST /)
};

struct EmitResult
{
    quint64 id = 0;
    qint64 delivered = 0;
    qint64 legacyDelivered = 0;
    bool accepted = true; // false: the I/O queues are full, nothing was sent
};

// The record of an accepted emit, as the message log and the admin stream see it.
struct MessageRecord
{
    quint64 id = 0;
    qint64 ts = 0;
    EmitSource source = EmitSource::Rest;
    EmitTarget target = EmitTarget::Room;
    QString to; // null for all and legacy
    QString event;
    QByteArray data;
    qint64 delivered = 0;
    QString remote;
    QString node; // cluster: the node that accepted the emit; null on a single node
};

// An emit the cluster has ordered (docs/ARCHITECTURE.md, "Cluster"): every node hands the
// ones it reads from the bus to its hub, in id order, with the cluster's counts.
struct OrderedEmit
{
    EmitRequest request;
    quint64 id = 0;
    qint64 ts = 0;
    qint64 delivered = 0; // matching connections on all nodes when it was ordered
    qint64 legacyDelivered = 0;
    QString node;       // the node that accepted it
    bool local = false; // this node accepted it (counted in its messages in)
};

// What the hub counts (Hub::stats(); /api/stats and /metrics show them).
struct HubStats
{
    qint64 connections = 0; // open /ws connections
    qint64 legacyConnections = 0;
    qint64 endpointSessions = 0; // sessions of the `*.websocket` endpoints
    qint64 rooms = 0;
    qint64 users = 0;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 lastId = 0;
    std::array<quint64, kEmitSourceCount> messagesBySource{}; // messagesIn by EmitSource
};

// Work handed from the hub to an I/O shard: one pre-encoded frame for many connections.
struct Delivery
{
    QByteArray wire;       // complete WebSocket frame bytes, shared by all targets
    QList<ConnId> targets; // implicitly shared snapshot of the members
    ConnId exclude = 0;
    quint16 closeCode = 0;    // non-zero: close the targets with this code after `wire`
    bool countsAsSent = true; // an event frame (counts in the connection's `sent`)
    qint64 writes() const { return targets.size(); }
};

} // namespace sb
