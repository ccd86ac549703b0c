#include "clients/ClientWorker.h"

#include "clients/ClientTable.h"

namespace sb {

ClientWorker::ClientWorker(ClientTable *table, const OutboundClients::Options *options)
    : m_table(table), m_options(options), m_tick(this)
{
    // Counters change with every message: the observer hears of them on this clock only.
    m_tick.setInterval(kCounterNotifyMs);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        if (m_table->takeDirty())
            m_table->notify();
    });
}

void ClientWorker::add(const QString &id, const ClientSpec &spec)
{
    if (m_connections.contains(id))
        return;
    if (!m_tick.isActive())
        m_tick.start();
    auto *connection = new OutboundConnection(
            id, spec, OutboundConnection::Shared{m_table, m_options, this}, this);
    m_connections.insert(id, connection);
    connection->start();
}

void ClientWorker::enqueue(const QString &id, const QString &text)
{
    if (OutboundConnection *connection = m_connections.value(id))
        connection->enqueue(text);
}

void ClientWorker::finish(const QString &id)
{
    OutboundConnection *connection = m_connections.take(id);
    if (!connection)
        return;
    m_finishing.removeIf([](const QPointer<OutboundConnection> &c) { return c.isNull(); });
    m_finishing.append(connection);
    connection->finish(); // deletes itself once closed
}

void ClientWorker::shutdown()
{
    m_tick.stop();
    for (OutboundConnection *connection : std::as_const(m_connections)) {
        connection->shutdown();
        delete connection;
    }
    m_connections.clear();
    // Connections still finishing (deleted clients) go with their sockets.
    for (const QPointer<OutboundConnection> &connection : std::as_const(m_finishing))
        delete connection.data();
    m_finishing.clear();
}

} // namespace sb
