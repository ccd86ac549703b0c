// Being written (issue 17).
#include "endpoints/EndpointHost.h"

namespace sb {

class EndpointHost::Private
{ };

EndpointHost::EndpointHost(const ServerContext *, OutboundClients *)
    : d(std::make_unique<Private>())
{ }
EndpointHost::~EndpointHost() = default;
void EndpointHost::start() { }
void EndpointHost::stop() { }
QList<EndpointInfo> EndpointHost::list() const
{
    return {};
}
std::optional<EndpointInfo> EndpointHost::find(const QString &) const
{
    return std::nullopt;
}
std::optional<EndpointInfo> EndpointHost::create(const QJsonObject &, CommandError *)
{
    return std::nullopt;
}
bool EndpointHost::remove(const QString &, CommandError *)
{
    return false;
}
bool EndpointHost::handlerExists(const QString &, QString *) const
{
    return false;
}
bool EndpointHost::sessionEvent(HandlerEvent)
{
    return false;
}
void EndpointHost::clientEvent(HandlerEvent) { }
void EndpointHost::setChangeObserver(std::function<void()>) { }

} // namespace sb
