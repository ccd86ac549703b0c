#pragma once

#include "base/Message.h"

#include <QList>
#include <QString>

#include <atomic>

class QTcpSocket;
class QWebSocket;

namespace sb {

class IoShard;
struct ServerContext;

// Takes the client WebSockets the HTTP side has upgraded (/ws and the legacy paths) and
// hands each to an I/O shard, round robin: registered in the hub at once, adopted by the
// shard's thread (docs/ARCHITECTURE.md, "Threads"). Called on the HTTP thread.
class ClientAcceptor
{
public:
    ClientAcceptor(const ServerContext *context, QList<IoShard *> shards)
        : m_context(context), m_shards(std::move(shards))
    { }

    // Takes both sockets (tcp is the one under the WebSocket, still a child of the listener).
    void accept(QWebSocket *socket, QTcpSocket *tcp, const ClientUpgrade &upgrade);

private:
    const ServerContext *m_context;
    QList<IoShard *> m_shards;
    quint64 m_nextShard = 0;
};

} // namespace sb
