#pragma once

#include "base/Message.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace sb {

class OutboundClients;

// What a handler may do besides answering its own event (docs/API.md, "Endpoints"): emit into
// rooms, send to and close sessions, list an endpoint's sessions, reach the outbound clients.
// Implemented by the endpoint host; thread-safe (every handler thread calls it).
class HandlerServices
{
public:
    virtual ~HandlerServices() = default;

    // Emits with source `handler`; `data` is JSON text. The message id, or nullopt with
    // *error (a bad name, the queues are full).
    virtual std::optional<quint64> emit(EmitTarget target, const QString &to, const QString &event,
                                        const QByteArray &data, QString *error) = 0;
    // False: no such session (any more).
    virtual bool sendToSession(ConnId session, const QString &text) = 0;
    virtual bool closeSession(ConnId session, quint16 code) = 0;
    // (id, user) of the endpoint's sessions, by id; user null without auth.
    virtual QList<QPair<ConnId, QString>> sessions(const QString &endpoint) const = 0;
    virtual OutboundClients *clients() const = 0;
};

} // namespace sb
