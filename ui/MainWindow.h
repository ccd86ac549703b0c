#pragma once

#include <QMainWindow>

#include <functional>

class QDockWidget;
class QLabel;
class QTimer;

namespace sb::ui {

class BroadcastPanel;
class ClientsModel;
class ClientsPanel;
class ConnectionsModel;
class ConnectionsPanel;
class ConsoleBackend;
class EndpointsModel;
class EndpointsPanel;
class LogModel;
class LogPanel;
class NodesModel;
class NodesPanel;
class RoomsModel;
class RoomsPanel;
class StatusPanel;

// The admin console's window: the server's status strip on top, the live log in the middle,
// connections, endpoints, outbound clients, rooms, the broadcast panel and (in a cluster) the
// nodes in docks around it (layout remembered). It
// shows whatever backend it is given, hosted or remote, from the first frame on.
class MainWindow final : public QMainWindow
{
    Q_OBJECT

public:
    // `settingsPath` and `overriddenKeys` are for the settings dialog of a hosted server; the
    // handler given to setRestartHandler() applies saved settings (none when attached).
    MainWindow(ConsoleBackend *backend, QString settingsPath = {}, QStringList overriddenKeys = {},
               QWidget *parent = nullptr);
    ~MainWindow() override;

    ConnectionsModel *connectionsModel() const { return m_connections; }
    RoomsModel *roomsModel() const { return m_rooms; }
    LogModel *logModel() const { return m_log; }
    StatusPanel *statusPanel() const { return m_status; }
    ConnectionsPanel *connectionsPanel() const { return m_connectionsPanel; }
    RoomsPanel *roomsPanel() const { return m_roomsPanel; }
    LogPanel *logPanel() const { return m_logPanel; }
    BroadcastPanel *broadcastPanel() const { return m_broadcast; }
    NodesModel *nodesModel() const { return m_nodes; }
    NodesPanel *nodesPanel() const { return m_nodesPanel; }
    QDockWidget *nodesDock() const { return m_nodesDock; }
    EndpointsModel *endpointsModel() const { return m_endpoints; }
    EndpointsPanel *endpointsPanel() const { return m_endpointsPanel; }
    QDockWidget *endpointsDock() const { return m_endpointsDock; }
    ClientsModel *clientsModel() const { return m_clients; }
    ClientsPanel *clientsPanel() const { return m_clientsPanel; }
    QDockWidget *clientsDock() const { return m_clientsDock; }

    // Called when the settings dialog saved: a hosted console restarts its server.
    void setRestartHandler(std::function<void()> restart) { m_restart = std::move(restart); }

public Q_SLOTS:
    void showSettings();
    void resetLayout();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildLayout();
    void buildMenus();
    void connectBackend();
    void connectPanels();
    void showMessage(const QString &text, bool error);
    void updateTitle();
    void refreshCounters();
    void broadcastTo(int target, const QString &name);

    ConsoleBackend *m_backend;
    QString m_settingsPath;
    QStringList m_overridden;
    ConnectionsModel *m_connections;
    RoomsModel *m_rooms;
    LogModel *m_log;
    NodesModel *m_nodes;
    EndpointsModel *m_endpoints;
    ClientsModel *m_clients;
    StatusPanel *m_status;
    ConnectionsPanel *m_connectionsPanel;
    RoomsPanel *m_roomsPanel;
    LogPanel *m_logPanel;
    BroadcastPanel *m_broadcast;
    NodesPanel *m_nodesPanel;
    EndpointsPanel *m_endpointsPanel;
    ClientsPanel *m_clientsPanel;
    QDockWidget *m_connectionsDock;
    QDockWidget *m_roomsDock;
    QDockWidget *m_broadcastDock;
    QDockWidget *m_nodesDock;
    QDockWidget *m_endpointsDock;
    QDockWidget *m_clientsDock;
    QLabel *m_stateLabel;
    QTimer *m_counters;
    QByteArray m_defaultState;
    std::function<void()> m_restart;
    bool m_fetchingCounters = false;
};

} // namespace sb::ui
