#pragma once

#include "base/Message.h"
#include "commands/CommandError.h"

#include <QStringView>

#include <optional>

namespace sb {

class DecodedBody;
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
    // *error says to retry); nothing was published.
    std::optional<EmitResult> emit(const EmitRequest &request, CommandError *error) const;

private:
    Hub *m_hub;
};

} // namespace sb
