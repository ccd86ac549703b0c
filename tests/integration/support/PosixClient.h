#pragma once

// A raw POSIX TCP client for the integration tests that need a socket no event loop reads:
// unlike QTcpSocket it never reads unless asked, so the kernel buffers fill up as they would
// for an attacker that does not read.

#include <QByteArray>

#include <functional>

namespace sbit {

class PosixClient
{
public:
    PosixClient() = default;
    PosixClient(const PosixClient &) = delete;
    PosixClient &operator=(const PosixClient &) = delete;
    ~PosixClient() { close(); }

    // Connects to 127.0.0.1:port (non-blocking socket; SO_RCVBUF when receiveBuffer > 0).
    bool connectTo(quint16 port, int receiveBuffer = 0);
    void close();
    // Sends what the kernel takes within timeoutMs; returns the bytes sent.
    qint64 send(const QByteArray &bytes, int timeoutMs);
    // Reads what arrives within timeoutMs (until `until` says enough, EOF or an error).
    QByteArray receive(int timeoutMs, const std::function<bool(const QByteArray &)> &until = {});
    bool eof() const { return m_eof; }
    bool reset() const { return m_reset; }
    QByteArray &received() { return m_in; }
    int fd() const { return m_fd; }

    // The WebSocket upgrade at `path`; true once 101 came (what follows it stays received()).
    bool upgrade(quint16 port, const QByteArray &path, int receiveBuffer = 0);
    static QByteArray upgradeRequest(const QByteArray &path);

private:
    int m_fd = -1;
    QByteArray m_in;
    bool m_eof = false;
    bool m_reset = false;
};

} // namespace sbit
