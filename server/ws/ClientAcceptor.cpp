#include "ws/ClientAcceptor.h"

#include "context/ServerContext.h"
#include "hub/Hub.h"
#include "ws/ClientConnection.h"
#include "ws/IoShard.h"

#include <QTcpSocket>
#include <QThread>
#include <QWebSocket>

namespace sb {

void ClientAcceptor::accept(QWebSocket *socket, QTcpSocket *tcp, const ClientUpgrade &upgrade)
{
    const ConnectionKind kind = upgrade.kind;
    const QString &remote = upgrade.remote;
    const int shardIndex = int(m_nextShard++ % quint64(m_shards.size()));
    IoShard *shard = m_shards.at(shardIndex);
    socket->setMaxAllowedIncomingFrameSize(quint64(m_context->config.maxMessageBytes));
    socket->setMaxAllowedIncomingMessageSize(quint64(m_context->config.maxMessageBytes));
    // Registered now, before the 101 answer leaves this thread's write buffer: whatever the
    // client does once it sees the upgrade finds the connection already in the hub.
    auto counters = std::make_shared<ConnectionCounters>();
    const ConnId id = m_context->hub->openConnection(
            shardIndex, kind, remote, socket->origin().isEmpty() ? QString() : socket->origin(),
            counters, upgrade.endpoint, upgrade.user);
    auto *connection =
            new ClientConnection(shard, id, kind, socket, tcp, remote, std::move(counters));
    if (kind == ConnectionKind::Endpoint)
        connection->setEndpoint(upgrade.endpoint, upgrade.user);
    // Until the shard adopts the connection nothing may read it: frames answered before
    // then would race the shard's own (and a bad frame's close would overtake the answer
    // to a good one). Its signals stay blocked until ClientConnection::start(); what
    // arrives meanwhile waits in the socket's read buffer (bounded, so the kernel holds
    // the rest).
    tcp->blockSignals(true);
    // The QTcpSocket is still a child of the listener and watched by Qt's internal
    // WebSocket server: free it from both, then move both objects to the shard's thread.
    QObject::disconnect(tcp, &QAbstractSocket::disconnected, nullptr, nullptr);
    tcp->setParent(nullptr);
    tcp->moveToThread(shard->thread());
    socket->moveToThread(shard->thread());
    shard->enqueueAdoption(connection);
}

} // namespace sb
