#pragma once

#include "Net.h"
#include "Options.h"
#include "Stats.h"
#include "Wire.h"

#include <sys/epoll.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

// Where each protocol upgrades to WebSocket and where it takes emits.
struct Routes
{
    std::string_view wsPath;
    std::string_view emitPath;
};

// A TCP connection: its socket and the bytes the socket has not taken yet.
struct Connection
{
    Fd fd;
    std::string out;
    size_t outSent = 0;          // bytes of `out` already written
    bool watchingOutput = false; // EPOLLOUT is in the interest set

    bool hasUnsent() const { return outSent < out.size(); }
};

enum class ClientState : uint8_t { NotStarted, Connecting, Upgrading, Joining, Ready, Gone };

struct Client
{
    Connection conn;
    ClientState state = ClientState::NotStarted;
    uint8_t socketIoStep = 0;   // Joining over Socket.IO: 0 awaits "0{...}", 1 "40", 2 "joined"
    uint8_t fragmentOpcode = 0; // of the fragmented message being assembled, 0 if none
    std::string in;             // the upgrade response head, then a partial frame
    std::string fragments;      // the fragmented message being assembled

    bool settingUp() const
    {
        return state == ClientState::Connecting || state == ClientState::Upgrading
                || state == ClientState::Joining;
    }
};

enum class EmitterState : uint8_t { Down, Connecting, Idle, Busy };

struct Emitter
{
    Connection conn;
    EmitterState state = EmitterState::Down;
    http::ResponseParser response;
    uint64_t seq = 0;        // of the request in flight
    int64_t retryAtNs = 0;   // while Down: when to connect again
    int64_t idleSinceNs = 0; // while Idle: since when
};

// One emit, indexed by its seq.
struct EmitRecord
{
    int64_t sentNs = 0;
    uint32_t expected = 0; // deliveries: the ready clients when it was sent (0 when idle)
    uint32_t delivered = 0;
    bool measured = false; // false: a warmup emit
    bool answered = false; // the HTTP response (or the connection's loss) arrived
    bool ok = false;       // answered with 2xx
    bool complete = false; // answered, and delivered to every client unless it failed
};

enum class Phase { Setup, Settle, Warmup, WarmupDrain, Measure, Drain, Finished };

// The observed server, from /proc.
struct ServerSamples
{
    std::optional<ProcessStatus> before;
    std::optional<ProcessStatus> connected;
    std::optional<ProcessStatus> end;
    std::optional<double> cpuStart;
    std::optional<double> cpuEnd;
};

// The whole run: one epoll loop over the WebSocket clients, the HTTP emitters, a timer and
// the termination signals, moving through setup, settle, warmup, measurement and drain.
class LoadGenerator
{
public:
    static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

    // Before init(): the emitters connect here (--emit-port: another node of a cluster).
    void setEmitEndpoint(Endpoint endpoint) { m_emitEndpoint = std::move(endpoint); }
    LoadGenerator(const Options &options, Endpoint endpoint, std::string token,
                  std::optional<ProcessStatus> statusBefore);

    bool init(std::string &error);
    void run();
    std::string report() const;
    int exitStatus() const;

private:
    // Loop
    int64_t nextDeadline() const;
    void armTimer(int64_t deadline);
    void dispatch(const epoll_event &event);
    void advance(int64_t now);
    void advanceOnce(int64_t now);
    void enterPhase(Phase phase, int64_t now);
    void startMeasuring(int64_t now);
    void finish(int64_t endNs);
    void abandonOutstanding();
    bool allClientsResolved() const;
    bool anyEmitterConnected() const;
    int64_t quietSinceNs() const;

    // Sockets
    bool addToEpoll(Connection &conn, uint64_t key, uint32_t events);
    bool watchOutput(Connection &conn, uint64_t key, bool on);
    int sendBytes(Connection &conn, uint64_t key, std::string_view bytes);
    int flush(Connection &conn, uint64_t key);

    // WebSocket clients
    uint64_t keyOf(const Client &client) const;
    void startClients(int64_t now);
    void onClientEvent(Client &client, uint32_t events);
    void readClient(Client &client);
    bool onClientBytes(Client &client, std::string_view data, int64_t now);
    bool onOpen(Client &client, int64_t now);
    bool onFrames(Client &client, std::string_view data, int64_t now);
    bool onFrame(Client &client, const ws::Frame &frame, int64_t now);
    bool onMessage(Client &client, std::string_view text, int64_t now);
    bool onSocketIoPacket(Client &client, std::string_view text, int64_t now);
    bool sendFrame(Client &client, ws::Opcode opcode, std::string_view payload);
    void clientReady(Client &client, int64_t now);
    void dropClient(Client &client, const std::string &reason);
    void recordDelivery(std::string_view text, int64_t now);

    // HTTP emitters
    uint64_t keyOf(const Emitter &emitter) const;
    void connectEmitter(Emitter &emitter, int64_t now);
    void reconnectEmitters(int64_t now);
    void becomeIdle(Emitter &emitter, int64_t now);
    void emitterConnectFailed(Emitter &emitter, int error, int64_t now);
    void emitterDown(Emitter &emitter, const std::string &reason, int64_t now);
    void onEmitterEvent(Emitter &emitter, uint32_t events);
    void readEmitter(Emitter &emitter);
    void onResponse(Emitter &emitter, int64_t now);
    Emitter *idleEmitter(size_t preferred);
    bool hasIdleEmitter() const;
    bool emitAllowed(int64_t now) const;
    int64_t scheduledAt(uint64_t index) const;
    void pumpEmits(int64_t now);
    void sendEmit(Emitter &emitter, bool late, int64_t now);
    void answerEmit(EmitRecord &record, bool ok, const std::string &error);
    void completeEmit(EmitRecord &record);

    const Options m_options;
    const Endpoint m_endpoint;
    Endpoint m_emitEndpoint; // where the emitters connect (m_endpoint unless --emit-port)
    const std::string m_token;
    const Routes m_routes;
    Rng m_rng;

    Fd m_epoll;
    Fd m_timer;
    Fd m_signals;
    int64_t m_armedNs = kNever; // kNever: not armed

    Phase m_phase = Phase::Setup;
    int64_t m_phaseStartNs = 0;
    int64_t m_lastProgressNs = 0;   // a client set up, a delivery, a response
    int64_t m_lastCompletionNs = 0; // the last delivery or response
    int64_t m_setupStartNs = 0;
    std::string m_aborted; // why the run was cut short, empty when it was not

    // Clients
    std::vector<Client> m_clients;
    size_t m_nextClient = 0;
    int m_setupInFlight = 0;
    int m_clientsReady = 0; // ever became ready
    int m_liveReady = 0;    // ready and still connected
    int m_connectFailures = 0;
    int m_clientsClosed = 0;
    std::string m_firstClientError;
    std::string m_joinText;       // the switchboard join or the Socket.IO join-room packet
    uint64_t m_otherMessages = 0; // text messages that are no delivery
    uint64_t m_unknownSeq = 0;    // deliveries with a seq never sent

    // Emitters
    std::vector<Emitter> m_emitters;
    size_t m_emitterCursor = 0;
    int m_emitterConnectFailures = 0;
    int m_emitterReconnects = 0;
    std::string m_requestHead; // up to the Content-Length value
    std::string m_bodyPrefix;  // up to the value of "t"
    std::string m_bodySuffix;  // from ,"pad" on
    std::string m_body;
    std::string m_request;
    std::string m_frame;

    // Emits
    std::vector<EmitRecord> m_records;
    uint64_t m_outstanding = 0; // sent, not complete
    uint64_t m_warmupSent = 0;
    uint64_t m_measuredSent = 0;
    uint64_t m_measuredOk = 0;
    uint64_t m_emitErrors = 0;
    uint64_t m_lateSends = 0;
    std::string m_firstEmitError;
    uint64_t m_scheduleIndex = 0; // open loop: the next scheduled emit
    int64_t m_scheduleStartNs = 0;
    bool m_scheduleBlocked = false; // open loop: a due emit found no idle emitter

    // Measurement
    int64_t m_measureStartNs = 0;
    int64_t m_measureEndNs = 0;
    uint64_t m_measuredDeliveries = 0;
    LatencyHistogram m_latency;
    LatencyHistogram m_restLatency;
    ServerSamples m_server;
    double m_ownCpuStartS = 0; // this process's CPU time when the measurement started
    double m_ownCpuS = 0;      // ... and spent during it

    // Summed up by finish()
    uint64_t m_expected = 0;
    uint64_t m_lost = 0;
    uint64_t m_duplicates = 0;
};

} // namespace loadgen
