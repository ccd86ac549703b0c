#pragma once

#include "base/Message.h"

#include <QString>

namespace sb {

// One event for a handler (docs/API.md, "Endpoints"): of an endpoint's session, or of an
// outbound client that names a handler. What getMethod()/getMessage()/getError() answer in a
// script and what an HTTP handler is POSTed.
struct HandlerEvent
{
    enum class Method : quint8 { Open, Message, Error, Close };
    Method method = Method::Open;
    QString endpoint;   // the endpoint of a session; null for a client's events
    ConnId session = 0; // the session; 0 for a client's events
    QString user;       // the session's user (the token's sub); null without auth
    QString message;    // Message: the text received
    QString error;      // Error: what went wrong
    QString client;     // a client's events: its id ("w1"); null for sessions
    QString handler;    // the handler that takes it (H of the descriptor or the client)

    // What the event holds in memory, about: queues of events are bounded by it.
    qint64 weight() const
    {
        return 256 + 2 * (qint64(message.size()) + error.size() + endpoint.size() + user.size());
    }

    // "onopen", "onmessage", "onerror", "onclose".
    static QLatin1String methodName(Method method)
    {
        switch (method) {
        case Method::Open:
            return QLatin1String("onopen");
        case Method::Message:
            return QLatin1String("onmessage");
        case Method::Error:
            return QLatin1String("onerror");
        case Method::Close:
            return QLatin1String("onclose");
        }
        return {};
    }
};

} // namespace sb
