// Placeholder while the registry is written (issue 17): every call refuses.
#include "clients/OutboundClients.h"

namespace sb {

QLatin1String ClientInfo::stateName(State state)
{
    switch (state) {
    case State::Connecting:
        return QLatin1String("connecting");
    case State::Open:
        return QLatin1String("open");
    case State::Closed:
        return QLatin1String("closed");
    }
    return {};
}

class OutboundClients::Private
{
public:
    Options options;
};

OutboundClients::OutboundClients(Options options) : d(std::make_unique<Private>())
{
    d->options = std::move(options);
}

OutboundClients::~OutboundClients() = default;

void OutboundClients::start() { }
void OutboundClients::stop() { }

std::optional<ClientInfo> OutboundClients::create(const ClientSpec &, CommandError *error)
{
    error->status = 501;
    error->code = QStringLiteral("unavailable");
    error->message = QStringLiteral("outbound clients are not available yet");
    return std::nullopt;
}

QList<ClientInfo> OutboundClients::list() const
{
    return {};
}

std::optional<ClientInfo> OutboundClients::get(const QString &) const
{
    return std::nullopt;
}

std::optional<ClientInfo> OutboundClients::byHandler(const QString &) const
{
    return std::nullopt;
}

bool OutboundClients::remove(const QString &)
{
    return false;
}

bool OutboundClients::send(const QString &, const QString &, CommandError *error)
{
    error->status = 404;
    error->code = QStringLiteral("not_found");
    error->message = QStringLiteral("no such client");
    return false;
}

void OutboundClients::setChangeObserver(std::function<void()>) { }

} // namespace sb
