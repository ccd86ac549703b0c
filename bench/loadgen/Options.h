#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loadgen {

// The three kinds of fan-out server the generator can drive.
enum class Protocol { Switchboard, Bridge, SocketIo };

std::string_view protocolName(Protocol protocol);

struct Options
{
    Protocol protocol = Protocol::Switchboard;
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    uint16_t emitPort = 0; // the emitters' port on the same host (another node); 0: port
    std::string room = "bench";
    std::string apiKey;
    int clients = 100;
    int emitters = 8;
    int connectConcurrency = 200;
    double connectTimeoutS = 10; // setup gives up after this long without progress
    double rate = 0;             // emits per second; 0 is the closed loop
    int window = 8;              // closed loop: most emits sent but not yet fully delivered
    std::optional<double> durationS = 10; // no value: only --emits ends the measurement
    uint64_t emits = 0;                   // 0: no limit
    double drainTimeoutS = 10;
    double warmupS = 1;
    int payloadBytes = 64;
    double settleS = 2;
    int pid = 0; // 0: no server process to observe
    std::string label;
    bool idle = false;

    bool closedLoop() const { return rate == 0; }
    // Whether emits are expected to reach the WebSocket clients.
    bool expectDeliveries() const { return clients > 0 && !idle; }
    // The room the clients join.
    std::string clientRoom() const { return idle ? room + "-idle" : room; }
};

// Either options to run with, or the exit status to leave with (after --help or a usage error,
// both already printed).
struct ParsedOptions
{
    std::optional<Options> options;
    int exitStatus = 0;
};

ParsedOptions parseOptions(int argc, char **argv);

} // namespace loadgen
