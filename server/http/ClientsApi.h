#pragma once

#include "http/HttpCall.h"
#include "http/HttpResponse.h"

namespace sb {

struct ServerContext;

// /api/clients (docs/API.md, "Outbound clients"): the outbound WebSocket clients. The router
// checks the key and decodes the bodies (HttpCall::body) before these run.
class ClientsApi
{
public:
    explicit ClientsApi(const ServerContext *context) : m_context(context) { }

    HttpReply create(const HttpCall &call) const;                    // POST /api/clients
    HttpReply list(const HttpCall &call) const;                      // GET /api/clients
    HttpReply get(const HttpCall &call, const QString &id) const;    // GET /api/clients/{id}
    HttpReply remove(const HttpCall &call, const QString &id) const; // DELETE /api/clients/{id}
    HttpReply send(const HttpCall &call, const QString &id) const;   // POST .../{id}/send

private:
    const ServerContext *m_context;
};

} // namespace sb
