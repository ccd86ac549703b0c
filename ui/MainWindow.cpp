#include "MainWindow.h"

#include "backend/ConsoleBackend.h"
#include "models/ClientsModel.h"
#include "models/ConnectionsModel.h"
#include "models/EndpointsModel.h"
#include "models/LogModel.h"
#include "models/NodesModel.h"
#include "models/RoomsModel.h"
#include "widgets/BroadcastPanel.h"
#include "widgets/ClientsPanel.h"
#include "widgets/ConnectionsPanel.h"
#include "widgets/EndpointsPanel.h"
#include "widgets/LogPanel.h"
#include "widgets/NodesPanel.h"
#include "widgets/RoomsPanel.h"
#include "widgets/SettingsDialog.h"
#include "widgets/StatusPanel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPointer>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>

namespace sb::ui {

namespace {
// Sent/received counters are not in the stream: polled while the table is small enough.
constexpr int kCountersIntervalMs = 2000;
constexpr int kCountersMaxConnections = 5000;
} // namespace

MainWindow::MainWindow(ConsoleBackend *backend, QString settingsPath, QStringList overriddenKeys,
                       QWidget *parent)
    : QMainWindow(parent),
      m_backend(backend),
      m_settingsPath(std::move(settingsPath)),
      m_overridden(std::move(overriddenKeys)),
      m_connections(new ConnectionsModel(this)),
      m_rooms(new RoomsModel(this)),
      m_log(new LogModel(this)),
      m_nodes(new NodesModel(this)),
      m_endpoints(new EndpointsModel(this)),
      m_clients(new ClientsModel(this)),
      m_status(new StatusPanel(backend, this)),
      m_connectionsPanel(new ConnectionsPanel(backend, m_connections, this)),
      m_roomsPanel(new RoomsPanel(m_rooms, this)),
      m_logPanel(new LogPanel(backend, m_log, this)),
      m_broadcast(new BroadcastPanel(backend, m_rooms, m_connections, this)),
      m_nodesPanel(new NodesPanel(backend, m_nodes, this)),
      m_endpointsPanel(new EndpointsPanel(backend, m_endpoints, this)),
      m_clientsPanel(new ClientsPanel(backend, m_clients, this)),
      m_connectionsDock(new QDockWidget(tr("Connections"), this)),
      m_roomsDock(new QDockWidget(tr("Rooms"), this)),
      m_broadcastDock(new QDockWidget(tr("Broadcast"), this)),
      m_nodesDock(new QDockWidget(tr("Nodes"), this)),
      m_endpointsDock(new QDockWidget(tr("Endpoints"), this)),
      m_clientsDock(new QDockWidget(tr("Outbound clients"), this)),
      m_stateLabel(new QLabel(this)),
      m_counters(new QTimer(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setDockOptions(AnimatedDocks | AllowNestedDocks | AllowTabbedDocks);

    buildLayout();
    buildMenus();
    m_defaultState = saveState();
    connectBackend();
    connectPanels();

    m_counters->setInterval(kCountersIntervalMs);
    connect(m_counters, &QTimer::timeout, this, &MainWindow::refreshCounters);
    m_counters->start();

    QSettings settings;
    resize(1360, 860);
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_logPanel->splitter()->restoreState(
            settings.value(QStringLiteral("window/logSplitter")).toByteArray());
    m_nodesDock->setVisible(m_nodes->isCluster()); // shown when the server is a cluster
    updateTitle();
}

MainWindow::~MainWindow() = default;

// The status tool bar, the log in the middle and the docks around it.
void MainWindow::buildLayout()
{
    auto *statusBarTool = new QToolBar(tr("Server status"), this);
    statusBarTool->setObjectName(QStringLiteral("statusToolBar"));
    statusBarTool->setMovable(false);
    statusBarTool->setFloatable(false);
    statusBarTool->addWidget(m_status);
    addToolBar(Qt::TopToolBarArea, statusBarTool);

    setCentralWidget(m_logPanel);
    const auto dock = [this](QDockWidget *d, const QString &name, QWidget *content,
                             Qt::DockWidgetArea area) {
        d->setObjectName(name);
        d->setWidget(content);
        d->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                       | QDockWidget::DockWidgetClosable);
        addDockWidget(area, d);
    };
    dock(m_connectionsDock, QStringLiteral("connectionsDock"), m_connectionsPanel,
         Qt::TopDockWidgetArea);
    dock(m_roomsDock, QStringLiteral("roomsDock"), m_roomsPanel, Qt::LeftDockWidgetArea);
    dock(m_broadcastDock, QStringLiteral("broadcastDock"), m_broadcast, Qt::RightDockWidgetArea);
    dock(m_nodesDock, QStringLiteral("nodesDock"), m_nodesPanel, Qt::TopDockWidgetArea);
    splitDockWidget(m_connectionsDock, m_nodesDock, Qt::Horizontal);
    // Endpoints and outbound clients share the connections' place, as tabs.
    dock(m_endpointsDock, QStringLiteral("endpointsDock"), m_endpointsPanel, Qt::TopDockWidgetArea);
    dock(m_clientsDock, QStringLiteral("clientsDock"), m_clientsPanel, Qt::TopDockWidgetArea);
    tabifyDockWidget(m_connectionsDock, m_endpointsDock);
    tabifyDockWidget(m_endpointsDock, m_clientsDock);
    m_connectionsDock->raise();
    resizeDocks({m_roomsDock, m_broadcastDock}, {300, 340}, Qt::Horizontal);
    resizeDocks({m_connectionsDock}, {230}, Qt::Vertical);
    statusBar()->addPermanentWidget(m_stateLabel);
}

// The live picture: a snapshot starts the models over; batches follow.
void MainWindow::connectBackend()
{
    connect(m_backend, &ConsoleBackend::snapshotReceived, this,
            [this](const AdminFrameReader::Snapshot &s) {
                m_connections->reset(s.connections);
                m_rooms->reset(s.connections);
                if (m_log->rowCount() == 0 && m_log->pendingCount() == 0) {
                    m_log->reset(s.log);
                } else {
                    // Attached again: records between the last one seen and the snapshot's
                    // oldest were missed here (they are in the server's log).
                    if (!s.log.isEmpty() && s.log.first().id > m_log->newestId() + 1
                        && m_log->newestId() > 0) {
                        m_log->addDropped(s.log.first().id - m_log->newestId() - 1);
                    }
                    m_log->append(s.log);
                }
            });
    connect(m_backend, &ConsoleBackend::liveChanges, this,
            [this](const QList<LiveChange> &changes) {
                m_connections->apply(changes);
                m_rooms->apply(changes);
            });
    connect(m_backend, &ConsoleBackend::recordsReceived, this,
            [this](const QList<LogRecord> &records, quint64 dropped) {
                m_log->append(records);
                m_log->addDropped(dropped);
            });
    connect(m_backend, &ConsoleBackend::stateChanged, this, [this] { updateTitle(); });
}

// What the panels ask of each other and of the window.
void MainWindow::connectPanels()
{
    connect(m_status, &StatusPanel::startRequested, m_backend, &ConsoleBackend::start);
    connect(m_status, &StatusPanel::stopRequested, m_backend, &ConsoleBackend::stop);
    connect(m_connectionsPanel, &ConnectionsPanel::message, this, &MainWindow::showMessage);
    connect(m_logPanel, &LogPanel::message, this, &MainWindow::showMessage);
    connect(m_nodesPanel, &NodesPanel::message, this, &MainWindow::showMessage);
    connect(m_clientsPanel, &ClientsPanel::message, this, &MainWindow::showMessage);
    connect(m_nodesPanel, &NodesPanel::clusterChanged, this, [this](bool cluster) {
        m_nodesDock->setVisible(cluster);
        if (cluster) // room for its columns next to the connections
            resizeDocks({m_connectionsDock, m_nodesDock}, {width() - 700, 700}, Qt::Horizontal);
    });
    connect(m_connectionsPanel, &ConnectionsPanel::sendEventRequested, this,
            [this](const QString &id) {
                broadcastTo(int(ConsoleBackend::Target::Connection), id);
            });
    connect(m_roomsPanel, &RoomsPanel::filterLogRequested, m_logPanel, &LogPanel::setRoomFilter);
    connect(m_roomsPanel, &RoomsPanel::broadcastRequested, this,
            [this](const QString &room) { broadcastTo(int(ConsoleBackend::Target::Room), room); });
    connect(m_roomsPanel, &RoomsPanel::connectionChosen, this, [this](const QString &id) {
        m_connectionsDock->show();
        m_connectionsDock->raise();
        m_connectionsPanel->setFilterText(id);
    });
    connect(m_broadcast, &BroadcastPanel::sent, this,
            [this](quint64 id, qint64 delivered, const QString &error) {
                if (delivered < 0)
                    showMessage(tr("Broadcast failed: %1").arg(error), true);
                else
                    showMessage(
                            tr("Message %1 delivered to %n connection(s)", nullptr, int(delivered))
                                    .arg(id),
                            false);
            });
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    if (m_backend->isHosted()) {
        QAction *settings = file->addAction(tr("&Settings..."), this, &MainWindow::showSettings);
        settings->setShortcut(QKeySequence::Preferences);
    }
    file->addAction(tr("&Export log rows..."), m_logPanel, [this] { m_logPanel->exportRows(); });
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    if (m_backend->isHosted()) {
        QMenu *server = menuBar()->addMenu(tr("&Server"));
        server->addAction(tr("&Start"), m_backend, &ConsoleBackend::start);
        server->addAction(tr("S&top"), m_backend, &ConsoleBackend::stop);
        server->addAction(tr("&Restart"), this, [this] {
            if (m_restart)
                m_restart();
        });
    }

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_connectionsDock->toggleViewAction());
    view->addAction(m_roomsDock->toggleViewAction());
    view->addAction(m_broadcastDock->toggleViewAction());
    view->addAction(m_nodesDock->toggleViewAction());
    view->addAction(m_endpointsDock->toggleViewAction());
    view->addAction(m_clientsDock->toggleViewAction());
    view->addSeparator();
    QAction *pause = view->addAction(tr("&Pause log"));
    pause->setCheckable(true);
    pause->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    connect(pause, &QAction::toggled, m_logPanel, &LogPanel::setPaused);
    view->addAction(tr("&Reset layout"), this, &MainWindow::resetLayout);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Switchboard"), this, [this] {
        QMessageBox::about(
                this, tr("About Switchboard"),
                tr("<h3>Switchboard %1</h3><p>Databases push events over HTTP REST; browsers "
                   "receive them over WebSocket rooms.</p><p>This console shows %2.</p>")
                        .arg(QStringLiteral(SWITCHBOARD_VERSION),
                             m_backend->address().toHtmlEscaped()));
    });
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::updateTitle()
{
    const QString mode = m_backend->isHosted() ? tr("hosted") : tr("attached");
    const QString where = m_backend->address().isEmpty() ? QString() : m_backend->address() + u' ';
    setWindowTitle(tr("Switchboard - %1(%2, %3)")
                           .arg(where, mode, ConsoleBackend::stateName(m_backend->state())));
    m_stateLabel->setText(m_backend->stateDetail());
    if (m_backend->state() == ConsoleBackend::State::Failed)
        showMessage(m_backend->stateDetail(), true);
}

void MainWindow::showMessage(const QString &text, bool error)
{
    statusBar()->setStyleSheet(error ? QStringLiteral("QStatusBar { color: #c62828; }")
                                     : QString());
    statusBar()->showMessage(text, error ? 15000 : 6000);
}

void MainWindow::broadcastTo(int target, const QString &name)
{
    m_broadcastDock->show();
    m_broadcastDock->raise();
    m_broadcast->setTarget(ConsoleBackend::Target(target), name);
    m_broadcast->setFocus();
}

void MainWindow::refreshCounters()
{
    if (m_fetchingCounters || m_backend->state() != ConsoleBackend::State::Live
        || m_connectionsDock->isHidden() || m_connections->rowCount() == 0
        || m_connections->rowCount() > kCountersMaxConnections)
        return;
    m_fetchingCounters = true;
    QPointer<MainWindow> self(this);
    m_backend->fetchConnections([self](const QList<ConnectionInfo> &fresh, const QString &) {
        if (!self)
            return;
        self->m_fetchingCounters = false;
        self->m_connections->updateCounters(fresh);
    });
}

void MainWindow::showSettings()
{
    if (m_settingsPath.isEmpty())
        return;
    SettingsDialog dialog(m_backend, m_overridden, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const auto answer = QMessageBox::question(
            this, tr("Settings saved"),
            tr("The settings were saved. Restart the hosted server now to apply them? "
               "Connected clients get close code 1001 and reconnect."));
    if (answer == QMessageBox::Yes && m_restart)
        m_restart();
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState);
    for (QDockWidget *d :
         {m_connectionsDock, m_roomsDock, m_broadcastDock, m_endpointsDock, m_clientsDock})
        d->show();
    m_connectionsDock->raise();
    m_nodesDock->setVisible(m_nodes->isCluster());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/logSplitter"), m_logPanel->splitter()->saveState());
    event->accept();
}

} // namespace sb::ui
