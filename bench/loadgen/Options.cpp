#include "Options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <span>
#include <vector>

namespace loadgen {

namespace {

constexpr int kUsageError = 2;

constexpr std::string_view kUsage = R"(Usage: sb-loadgen [options]

Benchmark load generator for WebSocket fan-out servers: connects WebSocket clients to one
room, emits events into it over HTTP REST and measures delivery latency, throughput, loss
and (with --pid) the server's CPU time and memory. One thread, epoll; pin it with taskset.
Prints one JSON line on stdout; progress goes to stderr.

Server:
  --protocol P              switchboard (default), bridge (express + ws) or socketio
  --host H                  server address (default 127.0.0.1)
  --port N                  server port (default 8080)
  --emit-port N             emit to this port of the same host instead (another node of a
                            cluster: every event crosses the cluster's bus)
  --api-key K               X-API-Key header for the REST calls (default none)
  --room R                  room the clients join and the emits target (default bench)
  --pid P                   server process: report its CPU time, RSS and threads

Clients:
  --clients N               WebSocket clients (default 100; 0: REST only)
  --connect-concurrency N   most handshakes in flight (default 200)
  --connect-timeout S       give up connecting after S seconds without progress (default 10)
  --idle                    clients join <room>-idle, emits go to the empty <room>
                            (REST throughput with idle clients; not with bridge)
  --settle S                wait S seconds after all clients are ready before reading the
                            server's "connected" RSS (default 2)

Emits:
  --emitters N              keep-alive HTTP connections, one request in flight each (default 8)
  --rate R                  open loop: R emits per second; 0 (default) is the closed loop
  --window W                closed loop: most emits not yet delivered to every client
                            (default 8)
  --payload-bytes B         length of the "pad" string in each event (default 64)
  --warmup S                emit S seconds before measuring, not recorded (default 1)
  --duration S              measure S seconds (default 10)
  --emits N                 stop after N measured emits (with --duration: whichever first;
                            alone: no time limit)
  --drain-timeout S         after the last emit, wait for the deliveries until S seconds pass
                            without progress (default 10)

Output:
  --label TEXT              copied into the JSON line
  --help                    this text

The JSON line: duration_s is the measurement window, from the first measured emit to the
last delivery or response; emits_*, expected, delivered and the latencies count measured
emits; lost and emit_errors count every emit, the warmup's too; loadgen_cpu_s is this
program's own CPU time in the window (close to duration_s: the generator was the limit).

Exit status: 0 the run completed cleanly, 1 deliveries were lost, clients failed or closed,
emits failed or the run was cut short, 2 usage error.
)";

struct Context
{
    std::string_view name;
    std::string_view value;
};

int usageError(const std::string &message)
{
    std::fprintf(stderr, "sb-loadgen: %s\n(see sb-loadgen --help)\n", message.c_str());
    return kUsageError;
}

std::string describe(const Context &c, std::string_view expected)
{
    return "--" + std::string(c.name) + ": expected " + std::string(expected) + ", got '"
            + std::string(c.value) + "'";
}

// Each parser returns an error message, empty on success.
std::string parseInt(const Context &c, int64_t min, int64_t max, int64_t &out)
{
    int64_t value = 0;
    const char *end = c.value.data() + c.value.size();
    const auto [ptr, ec] = std::from_chars(c.value.data(), end, value);
    if (c.value.empty() || ec != std::errc() || ptr != end || value < min || value > max)
        return describe(c, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    out = value;
    return {};
}

std::string parseSeconds(const Context &c, bool allowZero, double &out)
{
    double value = 0;
    const char *end = c.value.data() + c.value.size();
    const auto [ptr, ec] = std::from_chars(c.value.data(), end, value);
    const bool valid = !c.value.empty() && ec == std::errc() && ptr == end && std::isfinite(value)
            && (allowZero ? value >= 0 : value > 0) && value <= 1e7;
    if (!valid)
        return describe(c, allowZero ? "a number >= 0" : "a number > 0");
    out = value;
    return {};
}

template<typename T>
std::function<std::string(const Context &)> intOption(T &target, int64_t min, int64_t max)
{
    return [&target, min, max](const Context &c) {
        int64_t value = 0;
        std::string error = parseInt(c, min, max, value);
        if (error.empty())
            target = static_cast<T>(value);
        return error;
    };
}

std::function<std::string(const Context &)> secondsOption(double &target, bool allowZero)
{
    return [&target, allowZero](const Context &c) { return parseSeconds(c, allowZero, target); };
}

std::function<std::string(const Context &)> textOption(std::string &target, bool allowEmpty)
{
    return [&target, allowEmpty](const Context &c) {
        if (!allowEmpty && c.value.empty())
            return describe(c, "a non-empty value");
        target = c.value;
        return std::string();
    };
}

struct OptionSpec
{
    std::string_view name;
    std::function<std::string(const Context &)> apply;
};

} // namespace

std::string_view protocolName(Protocol protocol)
{
    switch (protocol) {
    case Protocol::Switchboard:
        return "switchboard";
    case Protocol::Bridge:
        return "bridge";
    case Protocol::SocketIo:
        return "socketio";
    }
    return "unknown";
}

ParsedOptions parseOptions(int argc, char **argv)
{
    Options o;
    bool durationGiven = false;
    double duration = 10;
    constexpr int64_t kMaxCount = 10'000'000;

    const std::vector<OptionSpec> specs = {
            {"protocol",
             [&o](const Context &c) {
                 for (Protocol p : {Protocol::Switchboard, Protocol::Bridge, Protocol::SocketIo}) {
                     if (c.value == protocolName(p)) {
                         o.protocol = p;
                         return std::string();
                     }
                 }
                 return describe(c, "switchboard, bridge or socketio");
             }},
            {"host", textOption(o.host, false)},
            {"port", intOption(o.port, 1, 65535)},
            {"emit-port", intOption(o.emitPort, 1, 65535)},
            {"room", textOption(o.room, false)},
            {"api-key", textOption(o.apiKey, true)},
            {"clients", intOption(o.clients, 0, kMaxCount)},
            {"emitters", intOption(o.emitters, 1, 10'000)},
            {"connect-concurrency", intOption(o.connectConcurrency, 1, kMaxCount)},
            {"connect-timeout", secondsOption(o.connectTimeoutS, false)},
            {"rate",
             [&o](const Context &c) {
                 std::string error = parseSeconds(c, true, o.rate);
                 return error.empty() ? error : describe(c, "emits per second, a number >= 0");
             }},
            {"window", intOption(o.window, 1, kMaxCount)},
            {"duration",
             [&duration, &durationGiven](const Context &c) {
                 durationGiven = true;
                 return parseSeconds(c, false, duration);
             }},
            {"emits", intOption(o.emits, 1, std::numeric_limits<int64_t>::max())},
            {"drain-timeout", secondsOption(o.drainTimeoutS, false)},
            {"warmup", secondsOption(o.warmupS, true)},
            {"payload-bytes", intOption(o.payloadBytes, 0, 16 * 1024 * 1024)},
            {"settle", secondsOption(o.settleS, true)},
            {"pid", intOption(o.pid, 1, std::numeric_limits<int>::max())},
            {"label", textOption(o.label, true)},
    };

    const std::span<char *> args(argv + 1, argc > 0 ? size_t(argc - 1) : 0);
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") {
            std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
            return {std::nullopt, 0};
        }
        if (arg == "--idle") {
            o.idle = true;
            continue;
        }
        if (!arg.starts_with("--"))
            return {std::nullopt, usageError("unexpected argument '" + std::string(arg) + "'")};
        arg.remove_prefix(2);
        std::string_view name = arg;
        std::optional<std::string_view> value;
        if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        const OptionSpec *spec = nullptr;
        for (const OptionSpec &candidate : specs) {
            if (candidate.name == name)
                spec = &candidate;
        }
        if (!spec)
            return {std::nullopt, usageError("unknown option --" + std::string(name))};
        if (!value) {
            if (i + 1 >= args.size())
                return {std::nullopt, usageError("--" + std::string(name) + ": missing value")};
            value = std::string_view(args[++i]);
        }
        if (std::string error = spec->apply(Context{name, *value}); !error.empty())
            return {std::nullopt, usageError(error)};
    }

    // --emits alone runs until that many emits; with --duration, whichever comes first.
    if (durationGiven || o.emits == 0)
        o.durationS = duration;
    else
        o.durationS.reset();

    if (o.idle && o.protocol == Protocol::Bridge)
        return {std::nullopt,
                usageError("--idle: not supported with --protocol bridge (the bridge broadcasts "
                           "to every connected client, it has no rooms)")};
    return {o, 0};
}

} // namespace loadgen
