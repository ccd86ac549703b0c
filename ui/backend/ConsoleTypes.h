#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QMetaType>
#include <QString>
#include <QStringList>

// Value types the console shows, read from admin-stream frames (docs/API.md, "Admin stream").
namespace sb::ui {

struct ConnectionInfo
{
    QString id;
    QString user;    // empty until known
    QString session; // empty until known
    QStringList rooms;
    QString endpoint; // the *.websocket endpoint of a session; empty for /ws connections
    QString remote;
    QString origin;
    qint64 since = 0; // unix ms
    quint64 sent = 0;
    quint64 received = 0;
};

struct RoomMemberInfo
{
    QString connection;
    QString user;
    QString session;
};

// One message log record; `data` is the JSON text exactly as the server logged it.
struct LogRecord
{
    quint64 id = 0;
    qint64 ts = 0;
    QString source;
    QString target;
    QString to; // empty for all and legacy
    QString event;
    QByteArray data;
    qint64 delivered = 0;
    QString remote;
    QString node; // the node that accepted the emit; empty on a single node
};

struct ServerStats
{
    qint64 connections = 0;
    qint64 rooms = 0;
    qint64 users = 0;
    quint64 messagesInTotal = 0;
    quint64 messagesOutTotal = 0;
    double messagesInPerS = 0;
    double messagesOutPerS = 0;
    qint64 uptimeS = 0;
};

// One node of a cluster, as GET /api/nodes and the admin stream's nodes frames list it
// (docs/API.md, "Admin stream").
struct NodeInfo
{
    QString name;
    qint64 number = 0;
    QString address; // host:port it listens on
    QString version;
    qint64 connections = 0;
    qint64 rooms = 0;
    qint64 uptimeS = 0;
    qint64 lastSeenMs = 0; // unix ms of its last heartbeat
};

// One *.websocket endpoint, as GET /api/endpoints and the admin stream list it (docs/API.md,
// "Admin stream").
struct EndpointEntry
{
    QString name; // empty when its file could not name one
    QString handler;
    QString description;
    QString file; // the descriptor, relative to endpoints_dir
    QString auth; // "none" or "token"
    qint64 sessions = 0;
    quint64 calls = 0;
    quint64 failures = 0;
    QString error;     // empty: in service; else why its file is not
    QString lastError; // the handler's last failure
};

// One outbound WebSocket client, as GET /api/clients and the admin stream list it.
struct OutboundClient
{
    QString id;
    QString uri;
    QString handler; // set: its events go to this handler
    QString room;    // else: its messages are emitted to this room as `event`
    QString event;
    QString state;    // connecting, open or closed
    qint64 since = 0; // unix ms, when it entered its state
    quint64 received = 0;
    quint64 sent = 0;
    quint64 reconnects = 0;
    QString error; // the last error, empty when none
};

// What POST /api/clients asks for: `uri` and a handler, or a room and an event.
struct ClientRequest
{
    QString uri;
    QString handler;
    QString room;
    QString event;
};

// One change of the live picture, in stream order.
struct LiveChange
{
    enum class Kind { Opened, Closed, Joined, Left } kind = Kind::Opened;
    ConnectionInfo connection; // Opened: all of it; otherwise only `id` is set
    QString room;              // Joined, Left
    QString user;              // Joined
    QString session;           // Joined
    int code = 0;              // Closed
};

// One setting of the server's configuration file, from the server's configuration schema (the
// one its loader checks values with): what the settings dialog renders and the range it allows.
struct SettingSpec
{
    enum class Type { Integer, Boolean, Text, Secret, Path, Choice, List };
    QString key; // INI key, e.g. max_body_bytes
    Type type = Type::Text;
    qint64 minimum = 0;   // Integer
    qint64 maximum = 0;   // Integer
    QString defaultValue; // as written in the file; empty: not set
    QString unit;         // Integer: bytes, seconds, days or n
    QStringList choices;  // Choice
    QString help;
};

// Values of settings by INI key, as text.
using SettingValues = QMap<QString, QString>;

} // namespace sb::ui

Q_DECLARE_METATYPE(sb::ui::ConnectionInfo)
Q_DECLARE_METATYPE(sb::ui::LogRecord)
Q_DECLARE_METATYPE(sb::ui::ServerStats)
Q_DECLARE_METATYPE(sb::ui::NodeInfo)
Q_DECLARE_METATYPE(sb::ui::LiveChange)
Q_DECLARE_METATYPE(sb::ui::EndpointEntry)
Q_DECLARE_METATYPE(sb::ui::OutboundClient)
