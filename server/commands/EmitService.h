#pragma once

#include "base/Message.h"
#include "commands/CommandError.h"

#include <QStringView>

#include <functional>
#include <optional>

class QObject;

namespace sb {

class DecodedBody;
class EmitOrderer;
class Hub;

// The one way an emit enters the server (docs/ARCHITECTURE.md, "The command layer"): REST
// and the compatibility routes, the clients' `emit` frames, the console (through REST) and
// LISTEN/NOTIFY all read their fields and publish here. Thread-safe (the hub is).
class EmitService
{
public:
    explicit EmitService(Hub *hub) : m_hub(hub) { }

    // Reads an emit of `target` from a decoded body: the target's name from the field
    // `toField` (room, user, connection, or a seed route's own name such as username; none
    // for All), `event` and `data`. nullopt: *error names the first bad field (400).
    static std::optional<EmitRequest> read(const DecodedBody &body, EmitTarget target,
                                           QStringView toField, CommandError *error);

    // Checks a request built elsewhere (an `emit` frame): the target's and the event's names.
    static bool validate(const EmitRequest &request, CommandError *error);

    // Orders, records and delivers. nullopt: the delivery or log queues are full (503,
    // *error says to retry); nothing was published. On a single node only: in a cluster
    // (ordersElsewhere()) the answer comes later, through emitAsync().
    std::optional<EmitResult> emit(const EmitRequest &request, CommandError *error) const;

    using Done = std::function<void(std::optional<EmitResult> result, const CommandError &error)>;
    // The same for every node: `done` runs exactly once on `context`'s thread (on a single
    // node at once, inside this call). `context` must outlive the answer: an object that
    // lives as long as its thread (the HTTP server, an I/O shard, the LISTEN listener).
    void emitAsync(const EmitRequest &request, QObject *context, Done done) const;
    // Cluster: emits are ordered by `orderer` (set before the server starts taking them).
    void setOrderer(EmitOrderer *orderer) { m_orderer = orderer; }
    bool ordersElsewhere() const { return m_orderer != nullptr; }

private:
    static CommandError busy();

    Hub *m_hub;
    EmitOrderer *m_orderer = nullptr;
};

} // namespace sb
