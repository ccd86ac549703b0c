#pragma once

#include "base/Message.h"
#include "commands/CommandError.h"

#include <functional>
#include <optional>

namespace sb {

// Where emits are ordered when the node is one of a cluster (docs/ARCHITECTURE.md,
// "Cluster"): the cluster gives each emit its id and its counts, and every node's hub
// delivers it when the cluster's bus brings it back. EmitService hands emits here instead of
// to Hub::publish when one is set.
class EmitOrderer
{
public:
    // result: the id and the cluster's counts; nullopt: refused, *error says why (503 with
    // a Retry-After while the cluster cannot order anything).
    using Done = std::function<void(std::optional<EmitResult> result, const CommandError &error)>;

    virtual ~EmitOrderer() = default;
    // Thread-safe. `done` is called exactly once, on any thread.
    virtual void order(const EmitRequest &request, Done done) = 0;
};

} // namespace sb
