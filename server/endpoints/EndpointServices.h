#pragma once

#include "endpoints/HandlerServices.h"

#include <QObject>

namespace sb {

struct ServerContext;

// HandlerServices on the server's parts (docs/ARCHITECTURE.md, "Endpoints"): emits go
// through the emit service with source `handler` (in a cluster the handler's thread waits for
// the order, at most kEmitWaitMs), sessions are reached through the hub.
class EndpointServices final : public HandlerServices
{
public:
    EndpointServices(const ServerContext *context, OutboundClients *clients, QObject *anchor)
        : m_context(context), m_clients(clients), m_anchor(anchor)
    { }

    std::optional<quint64> emit(EmitTarget target, const QString &to, const QString &event,
                                const QByteArray &data, QString *error) override;
    bool sendToSession(ConnId session, const QString &text) override;
    bool closeSession(ConnId session, quint16 code) override;
    QList<QPair<ConnId, QString>> sessions(const QString &endpoint) const override;
    OutboundClients *clients() const override { return m_clients; }

    static constexpr int kEmitWaitMs = 5000;

private:
    const ServerContext *m_context;
    OutboundClients *m_clients;
    QObject *m_anchor; // lives on the endpoint host's thread: cluster answers arrive there
};

} // namespace sb
