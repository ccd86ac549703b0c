#include "endpoints/EndpointServices.h"

#include "base/RawJson.h"
#include "commands/EmitService.h"
#include "context/ServerContext.h"
#include "hub/Hub.h"

#include <future>

namespace sb {

std::optional<quint64> EndpointServices::emit(EmitTarget target, const QString &to,
                                              const QString &event, const QByteArray &data,
                                              QString *error)
{
    EmitRequest request;
    request.target = target;
    request.to = to;
    request.event = event;
    request.data = data.isEmpty() ? QByteArrayLiteral("null") : data;
    request.source = EmitSource::Handler;
    request.remote = QStringLiteral("handler");
    CommandError why;
    if (!EmitService::validate(request, &why)) {
        *error = why.message;
        return std::nullopt;
    }
    if (request.data.size() > m_context->config.maxBodyBytes) {
        *error = QStringLiteral("data is larger than max_body_bytes (%1)")
                         .arg(m_context->config.maxBodyBytes);
        return std::nullopt;
    }
    if (QString bad; !rawjson::isStrictJson(request.data, &bad)) {
        *error = QStringLiteral("data is not valid JSON: ") + bad;
        return std::nullopt;
    }
    EmitService *emits = m_context->emits;
    if (!emits->ordersElsewhere()) {
        const std::optional<EmitResult> result = emits->emit(request, &why);
        if (!result)
            *error = why.message;
        return result ? std::optional<quint64>(result->id) : std::nullopt;
    }
    // Cluster: the answer comes on the host's thread; this handler thread waits for it.
    auto answer = std::make_shared<std::promise<std::pair<quint64, QString>>>();
    std::future<std::pair<quint64, QString>> future = answer->get_future();
    emits->emitAsync(request, m_anchor,
                     [answer](std::optional<EmitResult> result, const CommandError &refused) {
                         answer->set_value(result ? std::pair(result->id, QString())
                                                  : std::pair(quint64(0), refused.message));
                     });
    if (future.wait_for(std::chrono::milliseconds(kEmitWaitMs)) != std::future_status::ready) {
        *error = QStringLiteral("the cluster did not order the emit within %1 ms").arg(kEmitWaitMs);
        return std::nullopt;
    }
    const auto [id, refused] = future.get();
    if (!id)
        *error = refused;
    return id ? std::optional<quint64>(id) : std::nullopt;
}

bool EndpointServices::sendToSession(ConnId session, const QString &text)
{
    const std::optional<ConnectionSnapshot> c = m_context->hub->connection(session);
    if (!c || c->kind != ConnectionKind::Endpoint)
        return false;
    return m_context->hub->sendRaw(session, text.toUtf8());
}

bool EndpointServices::closeSession(ConnId session, quint16 code)
{
    const std::optional<ConnectionSnapshot> c = m_context->hub->connection(session);
    if (!c || c->kind != ConnectionKind::Endpoint)
        return false;
    return m_context->hub->closeConnectionWithCode(session, code);
}

QList<QPair<ConnId, QString>> EndpointServices::sessions(const QString &endpoint) const
{
    QList<QPair<ConnId, QString>> out;
    for (const ConnectionSnapshot &s : m_context->hub->endpointSessions(endpoint))
        out.append({s.id, s.user});
    return out;
}

} // namespace sb
