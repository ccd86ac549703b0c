#pragma once

#include "clients/OutboundConnection.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace sb {

// The registry's object on its own thread (docs/API.md, "Outbound clients"): owns the
// connections; OutboundClients posts every action here. Also the context of the room
// targets' emit answers, and the clock that tells the change observer about counters (at
// most 4 times a second).
class ClientWorker : public QObject
{
public:
    static constexpr int kCounterNotifyMs = 250;

    ClientWorker(ClientTable *table, const OutboundClients::Options *options);

    void add(const QString &id, const ClientSpec &spec);
    void enqueue(const QString &id, const QString &text);
    void finish(const QString &id);
    // Closes every connection (no reconnect) and deletes them.
    void shutdown();

private:
    ClientTable *m_table;
    const OutboundClients::Options *m_options;
    QHash<QString, OutboundConnection *> m_connections;
    QList<QPointer<OutboundConnection>> m_finishing; // deleted clients closing (delete themselves)
    QTimer m_tick;
};

} // namespace sb
