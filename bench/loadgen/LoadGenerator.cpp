#include "LoadGenerator.h"

#include "Diagnostics.h"
#include "JsonObject.h"

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>

namespace loadgen {

namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr uint64_t kMaxMessageBytes = 64 * 1024 * 1024;
constexpr size_t kMaxHandshakeBytes = 16 * 1024;
constexpr size_t kRetainedInputBytes = 16 * 1024; // a larger idle input buffer is freed
constexpr int64_t kEmitterRetryNs = 100'000'000;
constexpr int64_t kIdleRefreshNs = 4'000'000'000;
constexpr int kMaxEvents = 1024;

double seconds(int64_t ns)
{
    return double(ns) / 1e9;
}

void appendNumber(std::string &out, uint64_t value)
{
    std::array<char, 24> digits{};
    const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), end);
}

JsonObject latencyJson(const LatencyHistogram &histogram)
{
    JsonObject json;
    const auto micros = [](uint64_t ns) { return int64_t((ns + 500) / 1000); };
    if (histogram.count() == 0) {
        for (const char *name : {"p50", "p90", "p99", "p999", "max"})
            json.null(name);
    } else {
        json.integer("p50", micros(histogram.quantile(0.50)))
                .integer("p90", micros(histogram.quantile(0.90)))
                .integer("p99", micros(histogram.quantile(0.99)))
                .integer("p999", micros(histogram.quantile(0.999)))
                .integer("max", micros(histogram.max()));
    }
    json.integer("samples", int64_t(histogram.count()));
    return json;
}

Routes routesOf(Protocol protocol)
{
    switch (protocol) {
    case Protocol::Switchboard:
        return {"/ws", "/api/emit/room"};
    case Protocol::Bridge:
        return {"/", "/api/broadcast"};
    case Protocol::SocketIo:
        return {"/socket.io/?EIO=4&transport=websocket", "/api/emit/room"};
    }
    return {"/", "/"};
}

// What an epoll event refers to: the kind in the low two bits, the index above them.
enum class Kind : uint64_t { Client = 0, Emitter = 1, Timer = 2, Signal = 3 };

uint64_t eventKey(Kind kind, size_t index)
{
    return uint64_t(index) << 2 | uint64_t(kind);
}

} // namespace

LoadGenerator::LoadGenerator(const Options &options, Endpoint endpoint, std::string token,
                             std::optional<ProcessStatus> statusBefore)
    : m_options(options),
      m_endpoint(std::move(endpoint)),
      m_emitEndpoint(m_endpoint),
      m_token(std::move(token)),
      m_routes(routesOf(options.protocol)),
      m_clients(size_t(options.clients)),
      m_emitters(size_t(options.emitters))
{
    m_server.before = statusBefore;

    std::string room;
    appendJsonString(room, m_options.room);
    if (m_options.protocol == Protocol::Switchboard) {
        m_joinText = R"({"type":"join","token":)";
        appendJsonString(m_joinText, m_token);
        m_joinText += '}';
    } else if (m_options.protocol == Protocol::SocketIo) {
        m_joinText = R"(42["join-room",)";
        appendJsonString(m_joinText, m_options.clientRoom());
        m_joinText += ']';
    }

    m_requestHead = "POST " + std::string(m_routes.emitPath)
            + " HTTP/1.1\r\nHost: " + m_endpoint.hostHeader + "\r\n";
    if (!m_options.apiKey.empty())
        m_requestHead += "X-API-Key: " + m_options.apiKey + "\r\n";
    m_requestHead += "Content-Type: application/json\r\nContent-Length: ";

    m_bodyPrefix = m_options.protocol == Protocol::Bridge
            ? R"({"channel":)" + room + R"(,"eventName":"tick","payload":{"t":)"
            : R"({"room":)" + room + R"(,"event":"tick","data":{"t":)";
    std::string pad(size_t(m_options.payloadBytes), 'a');
    for (size_t i = 0; i < pad.size(); ++i)
        pad[i] = char('a' + i % 26);
    m_bodySuffix = R"(,"pad":")" + pad + R"("}})";
    m_records.reserve(1 << 16);
}

bool LoadGenerator::init(std::string &error)
{
    m_epoll = Fd(epoll_create1(EPOLL_CLOEXEC));
    m_timer = Fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) == 0)
        m_signals = Fd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!m_epoll.valid() || !m_timer.valid() || !m_signals.valid()) {
        error = "cannot create the event loop: " + errnoText(errno);
        return false;
    }
    for (const auto &[fd, kind] :
         {std::pair{m_timer.get(), Kind::Timer}, std::pair{m_signals.get(), Kind::Signal}}) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = eventKey(kind, 0);
        if (epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
            error = "epoll_ctl: " + errnoText(errno);
            return false;
        }
    }
    return true;
}

// --- The loop ---

void LoadGenerator::run()
{
    const int64_t start = monotonicNs();
    m_phaseStartNs = m_lastProgressNs = m_setupStartNs = start;
    if (m_options.clients > 0)
        note("connecting %d %s clients to %s", m_options.clients,
             std::string(protocolName(m_options.protocol)).c_str(), m_endpoint.hostHeader.c_str());

    std::array<epoll_event, kMaxEvents> events{};
    for (;;) {
        // Sockets are only opened here, between batches, so that no event of a batch can
        // refer to a descriptor number that was closed and reused within it.
        const int64_t now = monotonicNs();
        reconnectEmitters(now); // the first time round: connects them all
        if (m_phase == Phase::Setup)
            startClients(now);
        advance(now);
        pumpEmits(now);
        if (m_phase == Phase::Finished)
            return;

        armTimer(nextDeadline());
        const int count = epoll_wait(m_epoll.get(), events.data(), kMaxEvents, -1);
        if (count < 0 && errno != EINTR) {
            m_aborted = "epoll_wait: " + errnoText(errno);
            finish(monotonicNs());
            return;
        }
        for (int i = 0; i < count; ++i)
            dispatch(events[size_t(i)]);
    }
}

void LoadGenerator::dispatch(const epoll_event &event)
{
    const auto kind = Kind(event.data.u64 & 3);
    const size_t index = size_t(event.data.u64 >> 2);
    switch (kind) {
    case Kind::Client:
        onClientEvent(m_clients[index], event.events);
        break;
    case Kind::Emitter:
        onEmitterEvent(m_emitters[index], event.events);
        break;
    case Kind::Timer: {
        uint64_t expirations = 0;
        if (::read(m_timer.get(), &expirations, sizeof expirations) < 0 && errno != EAGAIN)
            note("timerfd read: %s", errnoText(errno).c_str());
        m_armedNs = kNever; // fired
        break;
    }
    case Kind::Signal: {
        signalfd_siginfo info{};
        if (::read(m_signals.get(), &info, sizeof info) == ssize_t(sizeof info)) {
            note("interrupted by signal %u", info.ssi_signo);
            m_aborted = "interrupted";
            finish(monotonicNs());
        }
        break;
    }
    }
}

// The earliest moment at which advance(), pumpEmits() or reconnectEmitters() has something
// to do without a socket event. Only deadlines that are acted on may be listed, or the loop
// would spin on a timer that is always due.
int64_t LoadGenerator::nextDeadline() const
{
    int64_t deadline = kNever;
    const auto consider = [&deadline](int64_t at) { deadline = std::min(deadline, at); };
    if (m_phase <= Phase::Measure) {
        for (const Emitter &emitter : m_emitters) {
            if (emitter.state == EmitterState::Down)
                consider(emitter.retryAtNs);
            else if (emitter.state == EmitterState::Idle)
                consider(emitter.idleSinceNs + kIdleRefreshNs);
        }
    }
    const bool openLoopDue = !m_options.closedLoop() && hasIdleEmitter();
    switch (m_phase) {
    case Phase::Setup:
        consider(m_lastProgressNs + secondsToNs(m_options.connectTimeoutS));
        break;
    case Phase::Settle:
        consider(m_phaseStartNs + secondsToNs(m_options.settleS));
        break;
    case Phase::Warmup:
        consider(m_phaseStartNs + secondsToNs(m_options.warmupS));
        if (openLoopDue)
            consider(scheduledAt(m_scheduleIndex));
        break;
    case Phase::Measure:
        if (m_options.durationS)
            consider(m_measureStartNs + secondsToNs(*m_options.durationS));
        if (openLoopDue)
            consider(scheduledAt(m_scheduleIndex));
        if (m_outstanding > 0 || !anyEmitterConnected())
            consider(quietSinceNs() + secondsToNs(m_options.drainTimeoutS));
        break;
    case Phase::WarmupDrain:
    case Phase::Drain:
        consider(quietSinceNs() + secondsToNs(m_options.drainTimeoutS));
        break;
    case Phase::Finished:
        break;
    }
    return deadline;
}

// Only an earlier deadline re-arms the timer: one that moved later costs a spurious wake-up
// at most, after which the timer is armed for the current deadline.
void LoadGenerator::armTimer(int64_t deadline)
{
    if (deadline >= m_armedNs)
        return;
    const int64_t at = std::max<int64_t>(deadline, 1); // all zero would disarm
    itimerspec spec{};
    spec.it_value.tv_sec = time_t(at / kNsPerSecond);
    spec.it_value.tv_nsec = long(at % kNsPerSecond);
    if (timerfd_settime(m_timer.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
        note("timerfd_settime: %s", errnoText(errno).c_str());
    m_armedNs = deadline;
}

bool LoadGenerator::allClientsResolved() const
{
    return m_clientsReady + m_connectFailures == m_options.clients;
}

bool LoadGenerator::anyEmitterConnected() const
{
    return std::any_of(m_emitters.begin(), m_emitters.end(), [](const Emitter &e) {
        return e.state == EmitterState::Idle || e.state == EmitterState::Busy;
    });
}

// The drain and stall timeouts count from the last progress, but not from before the phase.
int64_t LoadGenerator::quietSinceNs() const
{
    return std::max(m_lastProgressNs, m_phaseStartNs);
}

// Moves through as many phases as are over by now: a warmup whose emits are all delivered
// starts the measurement at once, not at the next socket event.
void LoadGenerator::advance(int64_t now)
{
    Phase before = m_phase;
    for (;;) {
        advanceOnce(now);
        if (m_phase == before)
            return;
        before = m_phase;
    }
}

void LoadGenerator::advanceOnce(int64_t now)
{
    const int64_t drainTimeout = secondsToNs(m_options.drainTimeoutS);
    switch (m_phase) {
    case Phase::Setup:
        if (!allClientsResolved()
            && now - m_lastProgressNs >= secondsToNs(m_options.connectTimeoutS)) {
            note("no client progressed for %.1f s: giving up on the rest",
                 m_options.connectTimeoutS);
            for (Client &client : m_clients) {
                if (client.settingUp() || client.state == ClientState::NotStarted)
                    dropClient(client, "setup timed out");
            }
        }
        if (allClientsResolved()) {
            if (m_options.clients > 0)
                note("%d/%d clients ready in %.2f s (%d failed)", m_clientsReady, m_options.clients,
                     seconds(now - m_setupStartNs), m_connectFailures);
            if (m_options.clients > 0 && m_clientsReady == 0) {
                m_aborted = "no client connected";
                finish(now);
            } else {
                enterPhase(Phase::Settle, now);
            }
        }
        break;
    case Phase::Settle:
        if (m_options.clients == 0 || now >= m_phaseStartNs + secondsToNs(m_options.settleS)) {
            if (m_options.pid > 0)
                m_server.connected = readProcessStatus(m_options.pid);
            if (m_options.warmupS > 0) {
                note("warming up for %.1f s", m_options.warmupS);
                enterPhase(Phase::Warmup, now);
            } else {
                startMeasuring(now);
            }
        }
        break;
    case Phase::Warmup:
        if (now >= m_phaseStartNs + secondsToNs(m_options.warmupS))
            enterPhase(Phase::WarmupDrain, now);
        break;
    case Phase::WarmupDrain:
        if (m_outstanding == 0) {
            startMeasuring(now);
        } else if (now - quietSinceNs() >= drainTimeout) {
            note("%llu warmup emits still incomplete after %.1f s without progress",
                 static_cast<unsigned long long>(m_outstanding), m_options.drainTimeoutS);
            abandonOutstanding();
            startMeasuring(now);
        }
        break;
    case Phase::Measure:
        if (!emitAllowed(now)) {
            enterPhase(Phase::Drain, now);
        } else if ((m_outstanding > 0 || !anyEmitterConnected())
                   && now - quietSinceNs() >= drainTimeout) {
            note("no progress for %.1f s: stopping", m_options.drainTimeoutS);
            m_aborted = "stalled";
            enterPhase(Phase::Drain, now);
        }
        break;
    case Phase::Drain:
        // The window ends with the last delivery or response, not when the drain noticed it.
        if (m_outstanding == 0) {
            finish(m_lastCompletionNs);
        } else if (now - quietSinceNs() >= drainTimeout) {
            note("%llu emits still incomplete after %.1f s without progress",
                 static_cast<unsigned long long>(m_outstanding), m_options.drainTimeoutS);
            finish(m_lastCompletionNs);
        }
        break;
    case Phase::Finished:
        break;
    }
}

void LoadGenerator::enterPhase(Phase phase, int64_t now)
{
    m_phase = phase;
    m_phaseStartNs = now;
    m_scheduleIndex = 0;
    m_scheduleStartNs = now;
    m_scheduleBlocked = false;
}

void LoadGenerator::startMeasuring(int64_t now)
{
    if (m_options.pid > 0)
        m_server.cpuStart = readCpuSeconds(m_options.pid);
    m_ownCpuStartS = ownCpuSeconds();
    note("measuring (%s loop)", m_options.closedLoop() ? "closed" : "open");
    enterPhase(Phase::Measure, now);
    m_measureStartNs = now;
    m_lastCompletionNs = now;
}

// A warmup emit that never completes must not hold the closed loop's window: it is counted
// as lost at the end all the same.
void LoadGenerator::abandonOutstanding()
{
    for (EmitRecord &record : m_records)
        record.complete = true;
    m_outstanding = 0;
}

void LoadGenerator::finish(int64_t endNs)
{
    if (m_phase == Phase::Finished)
        return;
    m_phase = Phase::Finished;
    m_measureEndNs = m_measureStartNs > 0 ? std::max(endNs, m_measureStartNs) : 0;
    m_ownCpuS = m_measureStartNs > 0 ? ownCpuSeconds() - m_ownCpuStartS : 0;
    if (m_options.pid > 0) {
        m_server.cpuEnd = readCpuSeconds(m_options.pid);
        m_server.end = readProcessStatus(m_options.pid);
    }
    // Every emit ever sent must have reached every client that was ready when it was sent;
    // only an interrupt excuses the emits still under way.
    const bool interrupted = m_aborted == "interrupted";
    for (const EmitRecord &record : m_records) {
        const bool excused = interrupted && !record.complete;
        if (!record.answered && !excused) {
            ++m_emitErrors;
            if (m_firstEmitError.empty())
                m_firstEmitError = "no response before the drain timeout";
        }
        if (record.answered && !record.ok) {
            m_unknownSeq += record.delivered; // a failed emit should reach nobody
            continue;
        }
        if (record.measured)
            m_expected += record.expected;
        if (excused)
            continue;
        if (record.delivered < record.expected)
            m_lost += record.expected - record.delivered;
        else
            m_duplicates += record.delivered - record.expected;
    }
    if (m_clientsClosed > 0)
        note("%d clients closed", m_clientsClosed);
    if (m_lost > 0)
        note("%llu deliveries lost", static_cast<unsigned long long>(m_lost));
}

// --- Sockets ---

bool LoadGenerator::addToEpoll(Connection &conn, uint64_t key, uint32_t events)
{
    epoll_event event{};
    event.events = events;
    event.data.u64 = key;
    if (epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, conn.fd.get(), &event) != 0)
        return false;
    conn.watchingOutput = (events & EPOLLOUT) != 0;
    return true;
}

bool LoadGenerator::watchOutput(Connection &conn, uint64_t key, bool on)
{
    if (conn.watchingOutput == on)
        return true;
    epoll_event event{};
    event.events = EPOLLIN | (on ? uint32_t(EPOLLOUT) : 0);
    event.data.u64 = key;
    if (epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, conn.fd.get(), &event) != 0)
        return false;
    conn.watchingOutput = on;
    return true;
}

// Writes at once what the socket takes and keeps the rest for EPOLLOUT. Returns 0 or errno.
int LoadGenerator::sendBytes(Connection &conn, uint64_t key, std::string_view bytes)
{
    if (!conn.hasUnsent()) {
        conn.out.clear();
        conn.outSent = 0;
        while (!bytes.empty()) {
            const ssize_t sent = ::send(conn.fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                return errno;
            }
            bytes.remove_prefix(size_t(sent));
        }
        if (bytes.empty())
            return 0;
    }
    conn.out.append(bytes);
    return watchOutput(conn, key, true) ? 0 : errno;
}

int LoadGenerator::flush(Connection &conn, uint64_t key)
{
    while (conn.hasUnsent()) {
        const ssize_t sent = ::send(conn.fd.get(), conn.out.data() + conn.outSent,
                                    conn.out.size() - conn.outSent, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return errno;
        }
        conn.outSent += size_t(sent);
    }
    conn.out.clear();
    conn.outSent = 0;
    return watchOutput(conn, key, false) ? 0 : errno;
}

// --- WebSocket clients ---

uint64_t LoadGenerator::keyOf(const Client &client) const
{
    return eventKey(Kind::Client, size_t(&client - m_clients.data()));
}

void LoadGenerator::startClients(int64_t now)
{
    while (m_nextClient < m_clients.size() && m_setupInFlight < m_options.connectConcurrency) {
        Client &client = m_clients[m_nextClient++];
        client.state = ClientState::Connecting;
        ++m_setupInFlight;
        m_lastProgressNs = std::max(m_lastProgressNs, now); // starting one counts too
        int error = 0;
        client.conn.fd = startConnect(m_endpoint, error);
        if (!client.conn.fd.valid()) {
            dropClient(client, "connect: " + errnoText(error));
        } else if (!addToEpoll(client.conn, keyOf(client), EPOLLIN | EPOLLOUT)) {
            dropClient(client, "epoll_ctl: " + errnoText(errno));
        }
    }
}

void LoadGenerator::onClientEvent(Client &client, uint32_t events)
{
    if (client.state == ClientState::Gone)
        return; // dropped earlier in this batch
    const uint64_t key = keyOf(client);
    if (client.state == ClientState::Connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
            return;
        if (const int error = socketError(client.conn.fd.get()); error != 0) {
            dropClient(client, "connect: " + errnoText(error));
            return;
        }
        std::string keyBytes(16, '\0');
        for (size_t i = 0; i < keyBytes.size(); i += 8) {
            const uint64_t random = m_rng.next();
            std::memcpy(keyBytes.data() + i, &random, 8);
        }
        const std::string request = "GET " + std::string(m_routes.wsPath)
                + " HTTP/1.1\r\nHost: " + m_endpoint.hostHeader
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                + base64Encode(keyBytes) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        client.state = ClientState::Upgrading;
        if (!watchOutput(client.conn, key, false)) {
            dropClient(client, "epoll_ctl: " + errnoText(errno));
        } else if (const int error = sendBytes(client.conn, key, request); error != 0) {
            dropClient(client, "send: " + errnoText(error));
        }
        return;
    }
    if ((events & EPOLLOUT) != 0) {
        if (const int error = flush(client.conn, key); error != 0) {
            dropClient(client, "send: " + errnoText(error));
            return;
        }
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0)
        readClient(client);
}

void LoadGenerator::readClient(Client &client)
{
    std::array<char, kReadBufferSize> buffer;
    for (;;) {
        const ssize_t received = ::recv(client.conn.fd.get(), buffer.data(), buffer.size(), 0);
        if (received > 0) {
            const int64_t now = monotonicNs();
            if (!onClientBytes(client, std::string_view(buffer.data(), size_t(received)), now))
                return;
            if (size_t(received) < buffer.size())
                return; // drained; level-triggered epoll reports anything that comes later
            continue;
        }
        if (received == 0) {
            dropClient(client, "connection closed by the server");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            dropClient(client, "recv: " + errnoText(errno));
        return;
    }
}

// Returns false when the client was dropped.
bool LoadGenerator::onClientBytes(Client &client, std::string_view data, int64_t now)
{
    if (client.state != ClientState::Upgrading)
        return onFrames(client, data, now);

    client.in.append(data);
    const size_t headEnd = client.in.find("\r\n\r\n");
    if (headEnd == std::string::npos) {
        if (client.in.size() <= kMaxHandshakeBytes)
            return true;
        dropClient(client, "upgrade response head too large");
        return false;
    }
    const std::string_view statusLine =
            std::string_view(client.in).substr(0, client.in.find("\r\n"));
    if (http::parseStatusLine(statusLine) != 101) {
        dropClient(client,
                   "upgrade refused: " + snippet(statusLine) + " "
                           + snippet(std::string_view(client.in).substr(headEnd + 4)));
        return false;
    }
    // What follows the head is already the frame stream.
    const std::string rest = client.in.substr(headEnd + 4);
    client.in.clear();
    if (!onOpen(client, now))
        return false;
    return rest.empty() || onFrames(client, rest, now);
}

bool LoadGenerator::onOpen(Client &client, int64_t now)
{
    switch (m_options.protocol) {
    case Protocol::Switchboard:
        client.state = ClientState::Joining;
        return sendFrame(client, ws::Text, m_joinText);
    case Protocol::Bridge:
        clientReady(client, now);
        return true;
    case Protocol::SocketIo:
        client.state = ClientState::Joining;
        client.socketIoStep = 0;
        return true;
    }
    return true;
}

// Parses the frames in data, keeping a trailing partial frame in client.in.
bool LoadGenerator::onFrames(Client &client, std::string_view data, int64_t now)
{
    const bool buffered = !client.in.empty();
    if (buffered) {
        client.in.append(data);
        data = client.in;
    }
    size_t used = 0;
    while (used < data.size()) {
        ws::Frame frame;
        size_t length = 0;
        const ws::ParseStatus status =
                ws::parseServerFrame(data.substr(used), kMaxMessageBytes, frame, length);
        if (status == ws::ParseStatus::Incomplete)
            break;
        if (status == ws::ParseStatus::Error) {
            dropClient(client, "WebSocket protocol error in a server frame");
            return false;
        }
        used += length;
        // The frame's payload may point into client.in, which only dropClient() touches.
        if (!onFrame(client, frame, now))
            return false;
    }
    if (buffered)
        client.in.erase(0, used);
    else
        client.in.assign(data.substr(used));
    if (client.in.empty() && client.in.capacity() > kRetainedInputBytes)
        std::string().swap(client.in);
    return true;
}

bool LoadGenerator::onFrame(Client &client, const ws::Frame &frame, int64_t now)
{
    if (frame.opcode >= ws::Close) {
        if (!frame.fin || frame.payload.size() > 125) {
            dropClient(client, "invalid control frame from the server");
            return false;
        }
        switch (frame.opcode) {
        case ws::Ping:
            return sendFrame(client, ws::Pong, frame.payload);
        case ws::Pong:
            return true;
        case ws::Close: {
            std::string reason = "close frame from the server";
            if (frame.payload.size() >= 2) {
                const unsigned code =
                        unsigned(uint8_t(frame.payload[0])) << 8 | uint8_t(frame.payload[1]);
                reason += " " + std::to_string(code);
                if (frame.payload.size() > 2)
                    reason += " '" + snippet(frame.payload.substr(2)) + "'";
            }
            dropClient(client, reason);
            return false;
        }
        default:
            dropClient(client, "unknown control opcode " + std::to_string(frame.opcode));
            return false;
        }
    }
    if (frame.opcode == ws::Continuation) {
        if (client.fragmentOpcode == 0) {
            dropClient(client, "continuation frame outside a fragmented message");
            return false;
        }
        if (client.fragments.size() + frame.payload.size() > kMaxMessageBytes) {
            dropClient(client, "fragmented message too large");
            return false;
        }
        client.fragments.append(frame.payload);
        if (!frame.fin)
            return true;
        const uint8_t opcode = std::exchange(client.fragmentOpcode, uint8_t(0));
        const std::string message = std::exchange(client.fragments, std::string());
        return opcode != ws::Text || onMessage(client, message, now);
    }
    if (frame.opcode != ws::Text && frame.opcode != ws::Binary) {
        dropClient(client, "unknown data opcode " + std::to_string(frame.opcode));
        return false;
    }
    if (client.fragmentOpcode != 0) {
        dropClient(client, "new message inside a fragmented one");
        return false;
    }
    if (!frame.fin) {
        client.fragmentOpcode = frame.opcode;
        client.fragments.assign(frame.payload);
        return true;
    }
    return frame.opcode != ws::Text || onMessage(client, frame.payload, now);
}

bool LoadGenerator::onMessage(Client &client, std::string_view text, int64_t now)
{
    switch (m_options.protocol) {
    case Protocol::Switchboard:
        if (client.state == ClientState::Joining) {
            if (text.find(R"("type":"joined")") != std::string_view::npos) {
                clientReady(client, now);
            } else if (text.find(R"("type":"error")") != std::string_view::npos) {
                dropClient(client, "join refused: " + snippet(text));
                return false;
            }
            return true;
        }
        recordDelivery(text, now);
        return true;
    case Protocol::Bridge:
        recordDelivery(text, now);
        return true;
    case Protocol::SocketIo:
        return onSocketIoPacket(client, text, now);
    }
    return true;
}

// Engine.IO v4 packets: 0 open, 1 close, 2 ping, 3 pong, 4 message; a Socket.IO packet
// follows a 4: 0 connect, 1 disconnect, 2 event, 4 connect error.
bool LoadGenerator::onSocketIoPacket(Client &client, std::string_view text, int64_t now)
{
    if (text == "2")
        return sendFrame(client, ws::Text, "3");
    if (text.starts_with("1") || text.starts_with("41")) {
        dropClient(client, "Socket.IO disconnect from the server: " + snippet(text));
        return false;
    }
    if (client.state == ClientState::Ready) {
        if (text.starts_with("42"))
            recordDelivery(text, now);
        else
            ++m_otherMessages;
        return true;
    }
    if (text.starts_with("44")) {
        dropClient(client, "Socket.IO connect refused: " + snippet(text));
        return false;
    }
    if (client.socketIoStep == 0 && text.starts_with("0")) {
        client.socketIoStep = 1;
        return sendFrame(client, ws::Text, "40");
    }
    if (client.socketIoStep == 1 && text.starts_with("40")) {
        client.socketIoStep = 2;
        return sendFrame(client, ws::Text, m_joinText);
    }
    if (client.socketIoStep == 2 && text.starts_with(R"(42["joined")"))
        clientReady(client, now);
    return true;
}

bool LoadGenerator::sendFrame(Client &client, ws::Opcode opcode, std::string_view payload)
{
    m_frame.clear();
    ws::appendClientFrame(m_frame, opcode, payload, uint32_t(m_rng.next()));
    if (const int error = sendBytes(client.conn, keyOf(client), m_frame); error != 0) {
        dropClient(client, "send: " + errnoText(error));
        return false;
    }
    return true;
}

void LoadGenerator::clientReady(Client &client, int64_t now)
{
    client.state = ClientState::Ready;
    --m_setupInFlight;
    ++m_clientsReady;
    ++m_liveReady;
    m_lastProgressNs = now;
}

void LoadGenerator::dropClient(Client &client, const std::string &reason)
{
    if (client.state == ClientState::Gone)
        return;
    if (client.state == ClientState::Ready) {
        if (m_clientsClosed++ == 0)
            note("a client closed: %s", reason.c_str());
        --m_liveReady;
    } else {
        ++m_connectFailures;
        if (client.settingUp())
            --m_setupInFlight;
        m_lastProgressNs = monotonicNs();
    }
    if (m_firstClientError.empty())
        m_firstClientError = reason;
    client.state = ClientState::Gone;
    client.conn = Connection(); // closes the socket (with a reset: SO_LINGER {1, 0})
    std::string().swap(client.in);
    std::string().swap(client.fragments);
}

// A delivery carries "t" (CLOCK_MONOTONIC ns when its emit was written) and "seq".
void LoadGenerator::recordDelivery(std::string_view text, int64_t now)
{
    const std::optional<uint64_t> seq = findUnsigned(text, R"("seq":)");
    const std::optional<uint64_t> sentNs = findUnsigned(text, R"("t":)");
    if (!seq || !sentNs) {
        ++m_otherMessages;
        return;
    }
    if (*seq >= m_records.size()) {
        ++m_unknownSeq;
        return;
    }
    EmitRecord &record = m_records[size_t(*seq)];
    ++record.delivered;
    m_lastProgressNs = now;
    m_lastCompletionNs = now;
    if (record.measured) {
        ++m_measuredDeliveries;
        const int64_t latency = now - int64_t(*sentNs);
        m_latency.record(latency > 0 ? uint64_t(latency) : 0);
    }
    if (record.answered && record.ok && record.delivered >= record.expected)
        completeEmit(record);
}

// --- HTTP emitters ---

uint64_t LoadGenerator::keyOf(const Emitter &emitter) const
{
    return eventKey(Kind::Emitter, size_t(&emitter - m_emitters.data()));
}

void LoadGenerator::connectEmitter(Emitter &emitter, int64_t now)
{
    int error = 0;
    emitter.conn = Connection();
    emitter.conn.fd = startConnect(m_emitEndpoint, error);
    if (!emitter.conn.fd.valid()) {
        emitterConnectFailed(emitter, error, now);
    } else if (!addToEpoll(emitter.conn, keyOf(emitter), EPOLLIN | EPOLLOUT)) {
        emitterConnectFailed(emitter, errno, now);
    } else {
        emitter.state = EmitterState::Connecting;
        emitter.response.reset();
    }
}

// Connects emitters that are down, and replaces keep-alive connections that have been idle
// for a while before the server's idle timeout (Node's is 5 s) can close one just as a
// request goes out on it.
void LoadGenerator::reconnectEmitters(int64_t now)
{
    if (m_phase > Phase::Measure)
        return;
    for (Emitter &emitter : m_emitters) {
        const bool stale =
                emitter.state == EmitterState::Idle && now - emitter.idleSinceNs >= kIdleRefreshNs;
        if ((emitter.state == EmitterState::Down && emitter.retryAtNs <= now) || stale)
            connectEmitter(emitter, now);
    }
}

void LoadGenerator::becomeIdle(Emitter &emitter, int64_t now)
{
    emitter.state = EmitterState::Idle;
    emitter.idleSinceNs = now;
    emitter.response.reset();
}

void LoadGenerator::emitterConnectFailed(Emitter &emitter, int error, int64_t now)
{
    if (m_emitterConnectFailures++ == 0)
        note("emitter connect: %s (retrying)", errnoText(error).c_str());
    emitter.conn = Connection();
    emitter.state = EmitterState::Down;
    emitter.retryAtNs = now + kEmitterRetryNs;
}

// The connection is gone: a request in flight failed; connect again after the batch.
void LoadGenerator::emitterDown(Emitter &emitter, const std::string &reason, int64_t now)
{
    if (emitter.state == EmitterState::Busy)
        answerEmit(m_records[size_t(emitter.seq)], false, "emit connection lost: " + reason);
    if (m_emitterReconnects++ == 0)
        note("an emitter connection ended (%s): reconnecting", reason.c_str());
    emitter.conn = Connection();
    emitter.state = EmitterState::Down;
    emitter.retryAtNs = now;
    emitter.response.reset();
}

void LoadGenerator::onEmitterEvent(Emitter &emitter, uint32_t events)
{
    if (emitter.state == EmitterState::Down)
        return;
    const uint64_t key = keyOf(emitter);
    if (emitter.state == EmitterState::Connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
            return;
        if (const int error = socketError(emitter.conn.fd.get()); error != 0) {
            emitterConnectFailed(emitter, error, monotonicNs());
            return;
        }
        becomeIdle(emitter, monotonicNs());
        if (!watchOutput(emitter.conn, key, false))
            emitterDown(emitter, "epoll_ctl: " + errnoText(errno), monotonicNs());
        return;
    }
    if ((events & EPOLLOUT) != 0) {
        if (const int error = flush(emitter.conn, key); error != 0) {
            emitterDown(emitter, "send: " + errnoText(error), monotonicNs());
            return;
        }
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0)
        readEmitter(emitter);
}

void LoadGenerator::readEmitter(Emitter &emitter)
{
    std::array<char, kReadBufferSize> buffer;
    for (;;) {
        const ssize_t received = ::recv(emitter.conn.fd.get(), buffer.data(), buffer.size(), 0);
        const int64_t now = monotonicNs();
        if (received > 0) {
            if (emitter.state != EmitterState::Busy) {
                emitterDown(emitter, "bytes from the server with no request in flight", now);
                return;
            }
            const std::string_view data(buffer.data(), size_t(received));
            size_t used = 0;
            const http::ResponseParser::Result result = emitter.response.feed(data, used);
            if (result == http::ResponseParser::Result::Error) {
                emitterDown(emitter, "bad HTTP response: " + emitter.response.error(), now);
                return;
            }
            if (result == http::ResponseParser::Result::Done) {
                // Also when the server answered before taking the whole request.
                const bool close = emitter.response.closeAfter() || used < data.size()
                        || emitter.conn.hasUnsent();
                onResponse(emitter, now);
                if (close) {
                    emitterDown(emitter, "closed after a response", now);
                    return;
                }
            }
            if (size_t(received) < buffer.size())
                return;
            continue;
        }
        if (received == 0) {
            if (emitter.state == EmitterState::Busy && emitter.response.completeAtEof())
                onResponse(emitter, now);
            emitterDown(emitter, "connection closed by the server", now);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            emitterDown(emitter, "recv: " + errnoText(errno), now);
        return;
    }
}

void LoadGenerator::onResponse(Emitter &emitter, int64_t now)
{
    EmitRecord &record = m_records[size_t(emitter.seq)];
    const int status = emitter.response.status();
    const bool ok = status >= 200 && status < 300;
    if (record.measured)
        m_restLatency.record(uint64_t(std::max<int64_t>(now - record.sentNs, 0)));
    answerEmit(record, ok,
               ok ? std::string()
                  : "HTTP " + std::to_string(status) + ": " + snippet(emitter.response.body()));
    becomeIdle(emitter, now);
    m_lastProgressNs = now;
    m_lastCompletionNs = now;
}

bool LoadGenerator::hasIdleEmitter() const
{
    return std::any_of(m_emitters.begin(), m_emitters.end(),
                       [](const Emitter &e) { return e.state == EmitterState::Idle; });
}

// The preferred emitter when it is idle, else the next idle one round-robin.
Emitter *LoadGenerator::idleEmitter(size_t preferred)
{
    if (m_emitters[preferred].state == EmitterState::Idle)
        return &m_emitters[preferred];
    for (size_t i = 0; i < m_emitters.size(); ++i) {
        m_emitterCursor = (m_emitterCursor + 1) % m_emitters.size();
        if (m_emitters[m_emitterCursor].state == EmitterState::Idle)
            return &m_emitters[m_emitterCursor];
    }
    return nullptr;
}

bool LoadGenerator::emitAllowed(int64_t now) const
{
    switch (m_phase) {
    case Phase::Warmup:
        return now < m_phaseStartNs + secondsToNs(m_options.warmupS);
    case Phase::Measure:
        if (m_options.emits > 0 && m_measuredSent >= m_options.emits)
            return false;
        return !m_options.durationS || now < m_measureStartNs + secondsToNs(*m_options.durationS);
    default:
        return false;
    }
}

int64_t LoadGenerator::scheduledAt(uint64_t index) const
{
    return m_scheduleStartNs + int64_t(double(index) * 1e9 / m_options.rate);
}

void LoadGenerator::pumpEmits(int64_t now)
{
    if (m_options.closedLoop()) {
        const bool windowed = m_options.expectDeliveries();
        while (emitAllowed(now) && (!windowed || m_outstanding < uint64_t(m_options.window))) {
            Emitter *emitter = idleEmitter((m_emitterCursor + 1) % m_emitters.size());
            if (!emitter)
                break;
            sendEmit(*emitter, false, now);
        }
        return;
    }
    // Open loop: emit k is due at start + k/rate, on emitter k mod N when that one is idle.
    // One that finds no idle emitter waits for one, and it and those after it until the
    // schedule is caught up again count as late.
    while (emitAllowed(now)) {
        if (scheduledAt(m_scheduleIndex) > now) {
            m_scheduleBlocked = false;
            break;
        }
        Emitter *emitter = idleEmitter(size_t(m_scheduleIndex % m_emitters.size()));
        if (!emitter) {
            m_scheduleBlocked = true;
            break;
        }
        sendEmit(*emitter, m_scheduleBlocked, now);
        ++m_scheduleIndex;
    }
}

void LoadGenerator::sendEmit(Emitter &emitter, bool late, int64_t now)
{
    const uint64_t seq = m_records.size();
    EmitRecord record;
    record.measured = m_phase == Phase::Measure;
    record.expected = m_options.expectDeliveries() ? uint32_t(m_liveReady) : 0;
    if (record.measured) {
        ++m_measuredSent;
        m_lateSends += late ? 1 : 0;
    } else {
        ++m_warmupSent;
    }

    record.sentNs = monotonicNs(); // "t": the moment the request is written
    m_body.assign(m_bodyPrefix);
    appendNumber(m_body, uint64_t(record.sentNs));
    m_body += R"(,"seq":)";
    appendNumber(m_body, seq);
    m_body += m_bodySuffix;
    m_request.assign(m_requestHead);
    appendNumber(m_request, m_body.size());
    m_request += "\r\n\r\n";
    m_request += m_body;

    m_records.push_back(record);
    ++m_outstanding;
    emitter.state = EmitterState::Busy;
    emitter.seq = seq;
    emitter.response.reset();
    if (const int error = sendBytes(emitter.conn, keyOf(emitter), m_request); error != 0)
        emitterDown(emitter, "send: " + errnoText(error), now);
}

void LoadGenerator::answerEmit(EmitRecord &record, bool ok, const std::string &error)
{
    if (record.answered)
        return;
    record.answered = true;
    record.ok = ok;
    if (ok && record.measured)
        ++m_measuredOk;
    if (!ok) {
        ++m_emitErrors;
        if (m_firstEmitError.empty()) {
            m_firstEmitError = error;
            note("emit failed: %s", error.c_str());
        }
    }
    if (!ok || record.delivered >= record.expected)
        completeEmit(record);
}

void LoadGenerator::completeEmit(EmitRecord &record)
{
    if (record.complete)
        return;
    record.complete = true;
    --m_outstanding;
}

// --- The result ---

std::string LoadGenerator::report() const
{
    const double windowS = seconds(m_measureEndNs - m_measureStartNs);
    const auto perSecond = [windowS](uint64_t count) -> std::optional<double> {
        if (windowS <= 0)
            return std::nullopt;
        return double(count) / windowS;
    };

    JsonObject json;
    json.text("label", m_options.label)
            .text("protocol", protocolName(m_options.protocol))
            .integer("clients", m_options.clients)
            .integer("clients_ready", m_clientsReady)
            .integer("connect_failures", m_connectFailures)
            .integer("clients_closed", m_clientsClosed)
            .text("first_client_error", m_firstClientError)
            .integer("emitters", m_options.emitters)
            .text("mode", m_options.closedLoop() ? "closed" : "open")
            .integer("window", m_options.window)
            .real("rate", m_options.rate, 3)
            .integer("payload_bytes", m_options.payloadBytes)
            .boolean("idle", m_options.idle)
            .integer("warmup_emits", int64_t(m_warmupSent))
            .real("duration_s", windowS, 3)
            .integer("emits_sent", int64_t(m_measuredSent))
            .integer("emits_ok", int64_t(m_measuredOk))
            .integer("emit_errors", int64_t(m_emitErrors))
            .text("first_error", m_firstEmitError)
            .integer("late_sends", int64_t(m_lateSends))
            .integer("emitter_connect_failures", m_emitterConnectFailures)
            .integer("emitter_reconnects", m_emitterReconnects)
            .real("emits_per_s", perSecond(m_measuredOk), 1)
            .integer("expected", int64_t(m_expected))
            .integer("delivered", int64_t(m_measuredDeliveries))
            .integer("lost", int64_t(m_lost))
            .integer("duplicates", int64_t(m_duplicates))
            .integer("unexpected", int64_t(m_unknownSeq))
            .integer("other_messages", int64_t(m_otherMessages))
            .real("deliveries_per_s", perSecond(m_measuredDeliveries), 0)
            .object("latency_us", latencyJson(m_latency))
            .object("rest_latency_us", latencyJson(m_restLatency));

    if (m_options.pid == 0) {
        json.null("server");
    } else {
        JsonObject server;
        std::optional<double> cpu;
        if (m_server.cpuStart && m_server.cpuEnd)
            cpu = *m_server.cpuEnd - *m_server.cpuStart;
        const auto cpuPer = [&cpu](uint64_t count) -> std::optional<double> {
            if (!cpu || count == 0)
                return std::nullopt;
            return *cpu * 1e6 / double(count);
        };
        const auto rss = [&server](std::string_view name,
                                   const std::optional<ProcessStatus> &status) {
            if (status)
                server.integer(name, status->rssKb);
            else
                server.null(name);
        };
        server.integer("pid", m_options.pid).real("cpu_s", cpu, 3);
        server.real("cpu_us_per_delivery", cpuPer(m_measuredDeliveries), 3)
                .real("cpu_us_per_emit", cpuPer(m_measuredOk), 3);
        rss("rss_before_kb", m_server.before);
        rss("rss_connected_kb", m_server.connected);
        rss("rss_end_kb", m_server.end);
        if (m_server.before && m_server.connected && m_clientsReady > 0)
            server.real("rss_per_conn_bytes",
                        double(m_server.connected->rssKb - m_server.before->rssKb) * 1024.0
                                / m_clientsReady,
                        0);
        else
            server.null("rss_per_conn_bytes");
        if (m_server.end)
            server.integer("threads", m_server.end->threads);
        else
            server.null("threads");
        json.object("server", server);
    }
    // The generator's own CPU time: near duration_s, it and not the server was the limit.
    json.real("loadgen_cpu_s", m_ownCpuS, 3).text("aborted", m_aborted);
    return json.str();
}

int LoadGenerator::exitStatus() const
{
    const bool clean = m_lost == 0 && m_connectFailures == 0 && m_clientsClosed == 0
            && m_emitErrors == 0 && m_aborted.empty();
    return clean ? 0 : 1;
}

} // namespace loadgen
