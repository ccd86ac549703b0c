#pragma once

#include "auth/ApiKeyAuth.h"
#include "config/ServerConfig.h"

namespace sb {

class Cluster;
class EmitService;
class EndpointHost;
class OutboundClients;
class Hub;
class RecoveryService;
class MessageLog;
class Metrics;
class RevocationList;
class TokenService;

// What every part of the server shares; owned by Server, read-only after start.
struct ServerContext
{
    ServerConfig config;
    ApiKeyAuth apiKey;
    Hub *hub = nullptr;
    EmitService *emits = nullptr;        // every emit enters here (commands/EmitService)
    RecoveryService *recovery = nullptr; // joins with `since` (commands/RecoveryService)
    MessageLog *log = nullptr;
    Metrics *metrics = nullptr; // never null once the server has started
    TokenService *tokens = nullptr;
    RevocationList *revocations = nullptr;
    Cluster *cluster = nullptr;         // null on a single node (docs/API.md, "Cluster")
    EndpointHost *endpoints = nullptr;  // the *.websocket endpoints (docs/API.md, "Endpoints")
    OutboundClients *clients = nullptr; // outbound WebSocket clients (/api/clients)
    qint64 startedMs = 0;
};

} // namespace sb
