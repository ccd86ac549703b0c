// sb-loadgen: benchmark load generator for WebSocket fan-out servers (Switchboard, a Node
// express + ws bridge, a Socket.IO 4 server). One thread, one epoll loop, non-blocking
// sockets, no libraries: it connects WebSocket clients to a room, emits events into the room
// over HTTP REST, and measures delivery latency, throughput, loss and the server's CPU and
// memory. `sb-loadgen --help` describes the options; the result is one JSON line on stdout.
#include "Diagnostics.h"
#include "LoadGenerator.h"
#include "Net.h"
#include "Options.h"
#include "Stats.h"
#include "Wire.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace loadgen {

namespace {

// --- Switchboard's token ---

// POST /api/register on a blocking socket; returns the token or sets error.
std::optional<std::string> registerToken(const Options &options, const Endpoint &endpoint,
                                         std::string &error)
{
    std::string body = R"({"user":"bench","session":"bench","room":)";
    appendJsonString(body, options.clientRoom());
    body += '}';
    std::string request = "POST /api/register HTTP/1.1\r\nHost: " + endpoint.hostHeader
            + "\r\nX-API-Key: " + options.apiKey
            + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
            + std::to_string(body.size()) + "\r\n\r\n" + body;

    Fd fd(::socket(endpoint.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const timeval timeout{10, 0};
    const linger reset{1, 0};
    if (!fd.valid() || setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout)
        || setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout)
        || setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset)
        || ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&endpoint.address),
                     endpoint.length)) {
        error = "register: cannot connect to " + endpoint.hostHeader + ": " + errnoText(errno);
        return std::nullopt;
    }
    for (std::string_view rest = request; !rest.empty();) {
        const ssize_t sent = ::send(fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0) {
            error = "register: send: " + errnoText(errno);
            return std::nullopt;
        }
        rest.remove_prefix(size_t(sent));
    }
    http::ResponseParser response(64 * 1024);
    std::array<char, 16 * 1024> buffer;
    bool done = false;
    while (!done) {
        const ssize_t received = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (received < 0 && errno == EINTR)
            continue;
        if (received < 0) {
            error = "register: recv: " + errnoText(errno);
            return std::nullopt;
        }
        if (received == 0) {
            if (!response.completeAtEof()) {
                error = "register: the server closed the connection before answering";
                return std::nullopt;
            }
            break;
        }
        size_t used = 0;
        const auto result = response.feed(std::string_view(buffer.data(), size_t(received)), used);
        if (result == http::ResponseParser::Result::Error) {
            error = "register: " + response.error();
            return std::nullopt;
        }
        done = result == http::ResponseParser::Result::Done;
    }
    if (response.status() != 200) {
        error = "register: HTTP " + std::to_string(response.status()) + ": "
                + snippet(response.body());
        return std::nullopt;
    }
    const std::string &answer = response.body();
    size_t pos = answer.find(R"("token")");
    if (pos != std::string::npos)
        pos = answer.find('"', answer.find(':', pos));
    const size_t end = pos == std::string::npos ? pos : answer.find('"', pos + 1);
    if (end == std::string::npos) {
        error = "register: no token in the answer: " + snippet(answer);
        return std::nullopt;
    }
    return answer.substr(pos + 1, end - pos - 1);
}

int runMain(int argc, char **argv)
{
    const ParsedOptions parsed = parseOptions(argc, argv);
    if (!parsed.options)
        return parsed.exitStatus;
    const Options &options = *parsed.options;

    std::signal(SIGPIPE, SIG_IGN);
    const long files = raiseOpenFileLimit();
    const long needed = long(options.clients) + options.emitters + 16;
    if (files > 0 && files < needed)
        note("warning: the open file limit %ld is below the %ld descriptors needed", files, needed);

    std::string error;
    const std::optional<Endpoint> endpoint = resolveEndpoint(options.host, options.port, error);
    if (!endpoint) {
        note("--host: %s", error.c_str());
        return 2;
    }

    std::optional<ProcessStatus> statusBefore;
    if (options.pid > 0) {
        statusBefore = readProcessStatus(options.pid);
        if (!statusBefore || !readCpuSeconds(options.pid)) {
            note("--pid: cannot read /proc/%d/status and /proc/%d/stat", options.pid, options.pid);
            return 2;
        }
    }

    std::string token;
    if (options.protocol == Protocol::Switchboard && options.clients > 0) {
        std::optional<std::string> registered = registerToken(options, *endpoint, error);
        if (!registered) {
            note("%s", error.c_str());
            return 1;
        }
        token = std::move(*registered);
    }

    LoadGenerator generator(options, *endpoint, std::move(token), statusBefore);
    if (options.emitPort != 0) {
        const std::optional<Endpoint> emitTo =
                resolveEndpoint(options.host, options.emitPort, error);
        if (!emitTo) {
            note("--emit-port: %s", error.c_str());
            return 2;
        }
        generator.setEmitEndpoint(*emitTo);
    }
    if (!generator.init(error)) {
        note("%s", error.c_str());
        return 1;
    }
    generator.run();
    const std::string line = generator.report() + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    return generator.exitStatus();
}

} // namespace

} // namespace loadgen

int main(int argc, char **argv)
{
    return loadgen::runMain(argc, argv);
}
