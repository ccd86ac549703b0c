#include "PosixClient.h"

#include <QElapsedTimer>
#include <QString>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sbit {

bool PosixClient::connectTo(quint16 port, int receiveBuffer)
{
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return false;
    if (receiveBuffer > 0)
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) < 0 && errno != EINPROGRESS)
        return false;
    pollfd p{m_fd, POLLOUT, 0};
    return ::poll(&p, 1, 5000) == 1 && !(p.revents & (POLLERR | POLLHUP));
}

void PosixClient::close()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

qint64 PosixClient::send(const QByteArray &bytes, int timeoutMs)
{
    qint64 sent = 0;
    QElapsedTimer t;
    t.start();
    while (sent < bytes.size() && t.elapsed() < timeoutMs) {
        const ssize_t n =
                ::send(m_fd, bytes.constData() + sent, size_t(bytes.size() - sent), MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            break;
        pollfd p{m_fd, POLLOUT, 0};
        ::poll(&p, 1, 50);
    }
    return sent;
}

QByteArray PosixClient::receive(int timeoutMs, const std::function<bool(const QByteArray &)> &until)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs && !m_eof && !m_reset) {
        if (until && until(m_in))
            break;
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0)
            continue;
        char buf[65536];
        const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        if (n > 0)
            m_in.append(buf, n);
        else if (n == 0)
            m_eof = true;
        else if (errno == ECONNRESET)
            m_reset = true;
        else if (errno != EAGAIN && errno != EINTR)
            m_reset = true;
    }
    return m_in;
}

bool PosixClient::upgrade(quint16 port, const QByteArray &path, int receiveBuffer)
{
    if (!connectTo(port, receiveBuffer))
        return false;
    send(upgradeRequest(path), 2000);
    receive(5000, [](const QByteArray &in) { return in.contains("\r\n\r\n"); });
    const qsizetype end = m_in.indexOf("\r\n\r\n");
    if (end < 0 || !m_in.startsWith("HTTP/1.1 101"))
        return false;
    m_in.remove(0, end + 4);
    return true;
}

QByteArray PosixClient::upgradeRequest(const QByteArray &path)
{
    return "GET " + path
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: "
              "13\r\n\r\n";
}

} // namespace sbit
