#pragma once

#include "backend/AdminFrameReader.h"
#include "backend/ConsoleTypes.h"
#include "backend/RestClient.h"

#include <QObject>
#include <QUrl>

#include <functional>
#include <optional>

namespace sb::ui {

// What the console shows and does, whatever the server: hosted in this process
// (LocalBackend) or a remote switchboardd (RemoteBackend). Both deliver the frames of the
// admin stream (docs/API.md, "Admin stream"): a snapshot, then batches of changes, records
// and stats; both act through the REST API. The widgets and models know only this class.
//
// Signals come in batches: everything that arrived together is one signal, never one per
// message, so a flood of emits cannot flood the GUI thread.
class ConsoleBackend : public QObject
{
    Q_OBJECT

public:
    enum class State { Stopped, Starting, Live, Reconnecting, Failed };
    Q_ENUM(State)

    enum class Target { All, Room, User, Connection };
    Q_ENUM(Target)

    struct LogFilter
    {
        QString room;
        QString user;
        QString event;
        quint64 beforeId = 0; // 0: the newest
        int limit = 200;
    };

    using Done = std::function<void(const RestClient::Reply &)>;

    explicit ConsoleBackend(QObject *parent = nullptr);
    ~ConsoleBackend() override;

    virtual void start() = 0;
    virtual void stop() = 0;
    // True when this process runs the server (it can be started, stopped and configured).
    virtual bool isHosted() const = 0;
    virtual bool tlsEnabled() const = 0;
    // Where clients connect, e.g. "http://127.0.0.1:8080".
    virtual QString address() const = 0;

    State state() const { return m_state; }
    QString stateDetail() const { return m_stateDetail; }
    static QString stateName(State state);
    RestClient *rest() const { return m_rest; }

    // POST /api/emit/<target>; `dataText` is JSON text (empty: no data). Logged as "console".
    void emitEvent(Target target, const QString &to, const QString &event,
                   const QByteArray &dataText, Done done);
    void disconnectConnection(const QString &id, Done done);
    void sendRawText(const QString &id, const QString &text, Done done);
    // GET /api/log with the filter: older records, oldest first.
    void fetchLog(const LogFilter &filter,
                  std::function<void(const QList<LogRecord> &, const QString &error)> done);
    // GET /api/connections: the counters (sent, received) that the stream does not carry.
    void
    fetchConnections(std::function<void(const QList<ConnectionInfo> &, const QString &error)> done);

    static QString targetPath(Target target);

    // The cluster's nodes as last received (empty on a single node) and the name of the node
    // this console is attached to (docs/API.md, "Admin stream").
    QList<NodeInfo> nodes() const { return m_nodes; }
    QString attachedNode() const { return m_attachedNode; }
    // Whether attachToNode() can move the console to another node; when not, *why says why.
    virtual bool canAttachToNode(QString *why) const = 0;
    // Attaches the console to `node` (its address, with this backend's scheme and key); false
    // with *error when it cannot.
    virtual bool attachToNode(const NodeInfo &node, QString *error) = 0;

    // The endpoints and the outbound clients as last received (docs/API.md, "Admin stream").
    QList<EndpointEntry> endpoints() const { return m_endpoints; }
    QList<OutboundClient> clients() const { return m_clients; }
    // POST /api/clients: the reply carries the new client (201) or the server's refusal.
    virtual void createClient(const ClientRequest &request, Done done);
    // POST /api/clients/{id}/send {"text"}.
    virtual void sendToClient(const QString &id, const QString &text, Done done);
    // DELETE /api/clients/{id}: closes the client for good.
    virtual void closeClient(const QString &id, Done done);
    // The body of POST /api/clients: {"uri","handler"} when a handler is given, else
    // {"uri","room","event"}.
    static QByteArray clientRequestBody(const ClientRequest &request);

    // The server's settings (its configuration file). Every setting's key, type, range and
    // default: the schema the server's configuration loader checks values with.
    static QList<SettingSpec> settingsSchema();
    // The spec of `key`, or nullopt.
    static std::optional<SettingSpec> settingSpec(const QString &key);
    // A fresh random secret, as the server generates them (api_key, jwt_secret).
    static QString generateSecret();
    // Where the settings are saved (a file), or empty when this backend cannot edit them.
    virtual QString settingsLocation() const = 0;
    // The values the configuration file sets (a key it does not set is absent).
    virtual std::optional<SettingValues> loadSettings(QString *error) const = 0;
    // Checks `values` as the server checks its configuration at start, then writes them: an
    // empty value removes the key (its default applies), keys not in `values` stay as they
    // are. On failure nothing is written and the error names each wrong setting.
    virtual bool saveSettings(const SettingValues &values, QString *error) = 0;

Q_SIGNALS:
    void stateChanged(sb::ui::ConsoleBackend::State state, const QString &detail);
    // A complete picture: models start over from it.
    void snapshotReceived(const sb::ui::AdminFrameReader::Snapshot &snapshot);
    void liveChanges(const QList<sb::ui::LiveChange> &changes);
    void recordsReceived(const QList<sb::ui::LogRecord> &records, quint64 dropped);
    void statsReceived(const sb::ui::ServerStats &stats);
    // After every snapshot (empty on a single node) and every nodes frame.
    void nodesChanged(const QList<sb::ui::NodeInfo> &nodes);
    // The node this console is attached to; empty on a single node.
    void attachedNodeChanged(const QString &node);
    // After every snapshot and every endpoints frame, the whole list.
    void endpointsChanged(const QList<sb::ui::EndpointEntry> &endpoints);
    // After every snapshot and every clients frame, the whole list.
    void clientsChanged(const QList<sb::ui::OutboundClient> &clients);

protected:
    void setState(State state, const QString &detail = {});
    // Handles frames that arrived together, in order, and emits one signal per kind.
    void handleFrames(const QList<QByteArray> &frames);

private:
    void setNodes(const QList<NodeInfo> &nodes, bool fromSnapshot);
    void setLists(std::optional<QList<EndpointEntry>> endpoints,
                  std::optional<QList<OutboundClient>> clients);
    void findAttachedNode();
    void setAttachedNode(const QString &node);

    RestClient *m_rest;
    QList<NodeInfo> m_nodes;
    QList<EndpointEntry> m_endpoints;
    QList<OutboundClient> m_clients;
    QString m_attachedNode;
    quint64 m_snapshots = 0; // a GET /api/health answer for an older snapshot is ignored
    State m_state = State::Stopped;
    QString m_stateDetail;
};

} // namespace sb::ui

Q_DECLARE_METATYPE(sb::ui::AdminFrameReader::Snapshot)
