#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace loadgen {

// CLOCK_MONOTONIC in nanoseconds: the clock of the "t" stamps and of every deadline.
int64_t monotonicNs();

constexpr int64_t kNsPerSecond = 1'000'000'000;

inline int64_t secondsToNs(double seconds)
{
    return static_cast<int64_t>(seconds * 1e9);
}

// Owns one file descriptor.
class Fd
{
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) { }
    ~Fd() { reset(); }
    Fd(Fd &&other) noexcept : m_fd(std::exchange(other.m_fd, -1)) { }
    Fd &operator=(Fd &&other) noexcept
    {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    void reset();

private:
    int m_fd = -1;
};

// The server's address, resolved once.
struct Endpoint
{
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string hostHeader; // "host:port"
};

// Resolves host and port; on failure returns nothing and sets error.
std::optional<Endpoint> resolveEndpoint(const std::string &host, uint16_t port, std::string &error);

// A non-blocking TCP socket (TCP_NODELAY, SO_LINGER {1, 0} so closing it leaves no TIME_WAIT)
// whose connect has been started. On failure returns an invalid Fd and sets error to errno.
Fd startConnect(const Endpoint &endpoint, int &error);

// The pending error of a socket whose connect finished (0 when it succeeded).
int socketError(int fd);

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
long raiseOpenFileLimit();

} // namespace loadgen
