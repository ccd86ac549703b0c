#pragma once

// The real server for the network fuzz targets (fuzz_http_stream, fuzz_ws_frames): one
// sb::Server started once in the fuzzing process, on 127.0.0.1 with a free port, its own HTTP
// and I/O threads, no message log, small limits so that the refusals are reachable with
// small inputs. A blocking loopback client sends each input and reads until the server closes.

#include "Server.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QMessageAuthenticationCode>
#include <QTemporaryDir>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sbfuzz {

inline constexpr char kApiKey[] = "fuzz-key";
inline constexpr char kSecret[] = "fuzz-secret";

inline sb::Server &server()
{
    static int argc = 1;
    static char name[] = "fuzz";
    static char *argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    static QTemporaryDir dir;
    static std::unique_ptr<sb::Server> instance = [] {
        sb::ServerConfig c;
        c.listen = QStringLiteral("127.0.0.1:0");
        c.listenAddress = QHostAddress(QHostAddress::LocalHost);
        c.listenPort = 0;
        c.dataDir = dir.path();
        c.apiKey = QString::fromLatin1(kApiKey);
        c.jwtSecret = QString::fromLatin1(kSecret);
        c.logDatabase = QStringLiteral("off");
        c.maxBodyBytes = 4096;
        c.maxMessageBytes = 2048;
        c.maxQueueBytes = 64 * 1024;
        c.maxRequestBufferBytes = 256 * 1024;
        c.readTimeoutS = 2;
        c.ioThreads = 1;
        c.trustedNetworks = {{QHostAddress(QHostAddress::LocalHost), 32}};
        auto s = std::make_unique<sb::Server>(c);
        QString error;
        if (!s->start(&error)) {
            std::fprintf(stderr, "fuzz server did not start: %s\n", qPrintable(error));
            std::abort();
        }
        return s;
    }();
    // libFuzzer ends a run with exit(). Its static destructors would run while the server's
    // threads still work (Qt's socket engine registry went from under an I/O thread's queued
    // buffer release: a crash after "Done N runs"). Registered after the server started, this
    // handler runs first and ends the process at once; libFuzzer has reported by then, and
    // leaks are checked per input (-detect_leaks), not at exit.
    static const bool stopsAtExit = [] {
        std::atexit([] {
            std::fflush(nullptr);
            std::_Exit(0);
        });
        return true;
    }();
    Q_UNUSED(stopsAtExit);
    return *instance;
}

// A token for room "fuzz" that may publish, signed with the server's secret.
inline QByteArray token()
{
    auto b64 = [](const QByteArray &d) {
        return d.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    const QByteArray head = b64(R"({"alg":"HS256","typ":"JWT"})");
    const QByteArray claims =
            b64(R"({"sub":"u","room":"fuzz","sid":"s","iat":1,"exp":4102444800,"pub":true})");
    const QByteArray sig = QMessageAuthenticationCode::hash(head + '.' + claims, kSecret,
                                                            QCryptographicHash::Sha256);
    return head + '.' + claims + '.' + b64(sig);
}

// One loopback connection to the server.
class Connection
{
public:
    Connection()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(server().port());
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // libFuzzer's timers interrupt system calls (EINTR): an interrupted connect goes on in
        // the background, so wait for it.
        if (::connect(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
            if (errno != EINTR && errno != EINPROGRESS) {
                std::perror("fuzz: connect");
                std::abort();
            }
            pollfd p{m_fd, POLLOUT, 0};
            while (::poll(&p, 1, 5000) < 0 && errno == EINTR) { }
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) {
                std::fprintf(stderr, "fuzz: connect: %s\n", std::strerror(error));
                std::abort();
            }
        }
    }
    ~Connection() { ::close(m_fd); }
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    void send(const char *data, size_t size)
    {
        while (size > 0) {
            const ssize_t n = ::send(m_fd, data, size, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return; // the server closed: fine
            data += n;
            size -= size_t(n);
        }
    }
    void shutdownWrite() { ::shutdown(m_fd, SHUT_WR); }
    // Reads until `until` is found, the server closes, or timeoutMs pass; returns what came.
    QByteArray read(int timeoutMs, const char *until = nullptr)
    {
        QByteArray in;
        for (int waited = 0; waited < timeoutMs;) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 10) <= 0) {
                waited += 10;
                continue;
            }
            char buf[16384];
            const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            in.append(buf, n);
            if (until && in.contains(until))
                break;
        }
        return in;
    }

private:
    int m_fd = -1;
};

} // namespace sbfuzz
