#pragma once

#include "backend/ConsoleTypes.h"

#include <QJsonArray>
#include <QJsonObject>

#include <optional>

namespace sb::ui {

// Reads the JSON frames of the admin stream into the console's value types. Shared by the
// local and the remote backend: both receive the same frames.
class AdminFrameReader
{
public:
    struct Snapshot
    {
        QList<ConnectionInfo> connections;
        QList<LogRecord> log;
        ServerStats stats;
        QList<NodeInfo> nodes; // empty on a single node
        QList<EndpointEntry> endpoints;
        QList<OutboundClient> clients;
    };

    // What one frame holds; `type` is empty for a frame that is not understood.
    struct Frame
    {
        QString type;
        Snapshot snapshot;              // "snapshot"
        std::optional<LiveChange> live; // connection.* and room.*
        QList<LogRecord> records;       // "messages"
        quint64 dropped = 0;            // "messages": records the server could not batch
        ServerStats stats;              // "stats"
        QList<NodeInfo> nodes;          // "nodes"
        QList<EndpointEntry> endpoints; // "endpoints"
        QList<OutboundClient> clients;  // "clients"
        QString error;                  // why the frame was not understood
    };

    static Frame read(const QByteArray &utf8);

    static ConnectionInfo connection(const QJsonObject &o);
    static ServerStats stats(const QJsonObject &o);
    static NodeInfo node(const QJsonObject &o);
    // The entries of a nodes array (GET /api/nodes, snapshot and nodes frames).
    static QList<NodeInfo> nodes(const QJsonArray &array);
    static EndpointEntry endpoint(const QJsonObject &o);
    static QList<EndpointEntry> endpoints(const QJsonArray &array);
    static OutboundClient client(const QJsonObject &o);
    static QList<OutboundClient> clients(const QJsonArray &array);
    // `text` is the whole record's JSON text: `data` is taken from it as sent, digits intact.
    static LogRecord record(const QJsonObject &o, QByteArrayView text);
    // The records of a {"records":[...]} body (GET /api/log, messages frames).
    static QList<LogRecord> records(const QByteArray &utf8, QString *error = nullptr);
};

} // namespace sb::ui
