#pragma once

#include <QHash>
#include <QHostAddress>

namespace sb {

// Limits shared by every HTTP connection of the listener (docs/SECURITY.md, "Limits"); on the
// HTTP thread only.
//   - Connections per client address while they speak HTTP (an upgraded WebSocket no longer
//     counts): max_http_connections_per_address. Beyond it a new connection gets a 503 and is
//     closed, so one host cannot hold every socket of the server with stalled requests.
//   - Request bytes buffered by all connections together (heads and bodies that are not yet
//     complete): max_request_buffer_bytes. A request that would pass it is refused with 503,
//     so a few hundred clients that each stall one byte short of a 1 MiB body cannot hold
//     hundreds of MiB.
class HttpLimits
{
public:
    HttpLimits(qint64 maxBufferedBytes, int maxPerAddress)
        : m_maxBuffered(maxBufferedBytes), m_maxPerAddress(maxPerAddress)
    { }

    // A new connection from `address`: false when that address already has the maximum.
    bool admit(const QHostAddress &address);
    void release(const QHostAddress &address);
    int connectionsOf(const QHostAddress &address) const;

    // Request bytes now buffered: false (nothing charged) when `bytes` more would pass the budget.
    bool charge(qint64 bytes);
    void uncharge(qint64 bytes);
    qint64 buffered() const { return m_buffered; }
    qint64 maxBuffered() const { return m_maxBuffered; }
    int maxPerAddress() const { return m_maxPerAddress; }

private:
    static QHostAddress key(const QHostAddress &address);

    const qint64 m_maxBuffered;
    const int m_maxPerAddress;
    qint64 m_buffered = 0;
    QHash<QHostAddress, int> m_perAddress;
};

} // namespace sb
