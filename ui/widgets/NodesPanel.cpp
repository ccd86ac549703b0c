#include "widgets/NodesPanel.h"

#include "backend/ConsoleBackend.h"
#include "models/NodesModel.h"
#include "widgets/PanelSetup.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace sb::ui {

namespace {
constexpr int kAgeingIntervalMs = 1000;
} // namespace

NodesPanel::NodesPanel(ConsoleBackend *backend, NodesModel *model, QWidget *parent)
    : QWidget(parent),
      m_backend(backend),
      m_model(model),
      m_proxy(new QSortFilterProxyModel(this)),
      m_view(new QTableView(this)),
      m_summary(new QLabel(this)),
      m_attach(new QPushButton(tr("Attach to this node"), this)),
      m_ageing(new QTimer(this))
{
    setUpFilterProxy(m_proxy, model, NodesModel::SortRole, -1);
    setUpRecordTable(m_view, QStringLiteral("nodesView"), m_proxy,
                     QAbstractItemView::SingleSelection);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(NodesModel::Number, Qt::AscendingOrder);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->setColumnWidth(NodesModel::Node, 70);
    m_view->setColumnWidth(NodesModel::Number, 75);
    m_view->setColumnWidth(NodesModel::Address, 120);
    m_view->setColumnWidth(NodesModel::Health, 105);
    m_view->setColumnWidth(NodesModel::Connections, 95);
    m_view->setColumnWidth(NodesModel::Rooms, 55);
    m_view->setColumnWidth(NodesModel::Uptime, 85);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QTableView::customContextMenuRequested, this, &NodesPanel::showMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &NodesPanel::updateState);
    m_summary->setObjectName(QStringLiteral("nodesSummary"));
    m_attach->setObjectName(QStringLiteral("nodesAttach"));
    connect(m_attach, &QPushButton::clicked, this, &NodesPanel::attachToSelected);

    auto *top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(m_attach);
    setUpPanelLayout(this, top)->addWidget(m_view);

    // A snapshot starts the list over; nodes frames update it (docs/API.md, "Admin stream").
    connect(backend, &ConsoleBackend::snapshotReceived, this,
            [this](const AdminFrameReader::Snapshot &s) { m_model->reset(s.nodes); });
    connect(backend, &ConsoleBackend::nodesChanged, this,
            [this](const QList<NodeInfo> &nodes) { m_model->update(nodes); });
    connect(backend, &ConsoleBackend::attachedNodeChanged, model, &NodesModel::setAttachedNode);
    connect(model, &NodesModel::healthChanged, this, &NodesPanel::updateState);
    connect(model, &QAbstractItemModel::modelReset, this, &NodesPanel::updateState);
    m_ageing->setInterval(kAgeingIntervalMs);
    connect(m_ageing, &QTimer::timeout, model, [model] { model->refresh(); });
    m_ageing->start();
    updateState();
}

QString NodesPanel::selectedNode() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows(NodesModel::Node);
    return rows.isEmpty() ? QString() : rows.first().data().toString();
}

void NodesPanel::selectNode(const QString &name)
{
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        if (m_proxy->index(row, NodesModel::Node).data().toString() == name) {
            m_view->selectRow(row);
            return;
        }
    }
    m_view->clearSelection();
}

void NodesPanel::attachToSelected()
{
    const int row = m_model->rowOf(selectedNode());
    if (row < 0 || m_model->at(row).name == m_model->attachedNode())
        return;
    const NodeInfo node = m_model->at(row);
    QString error;
    if (!m_backend->attachToNode(node, &error)) {
        Q_EMIT message(tr("Cannot attach to %1: %2").arg(node.name, error), true);
        return;
    }
    Q_EMIT message(tr("Attaching to node %1 at %2").arg(node.name, node.address), false);
}

void NodesPanel::showMenu(const QPoint &pos)
{
    const QModelIndex at = m_view->indexAt(pos);
    if (!at.isValid())
        return;
    m_view->selectRow(at.row());
    const QString name = selectedNode();
    const int row = m_model->rowOf(name);
    if (row < 0)
        return;
    QMenu menu(this);
    QAction *attach = menu.addAction(tr("Attach to this node"));
    attach->setEnabled(m_attach->isEnabled());
    attach->setToolTip(m_attach->toolTip());
    menu.setToolTipsVisible(true);
    QAction *copy = menu.addAction(tr("Copy address"));
    QAction *chosen = menu.exec(m_view->viewport()->mapToGlobal(pos));
    if (chosen == attach)
        attachToSelected();
    else if (chosen == copy)
        QApplication::clipboard()->setText(m_model->at(row).address);
}

void NodesPanel::updateState()
{
    const bool cluster = m_model->isCluster();
    m_view->setVisible(cluster);
    if (cluster)
        m_summary->setText(tr("%1 of %n node(s) live", nullptr, m_model->rowCount())
                                   .arg(m_model->liveCount()));
    else
        m_summary->setText(tr("Single node: this server is not part of a cluster."));
    QString why;
    const bool can = m_backend->canAttachToNode(&why);
    const QString selected = selectedNode();
    m_attach->setVisible(cluster);
    m_attach->setEnabled(can && !selected.isEmpty() && selected != m_model->attachedNode());
    m_attach->setToolTip(can ? tr("Reconnect the console to the selected node (same API key)")
                             : why);
    if (cluster != m_cluster) {
        m_cluster = cluster;
        Q_EMIT clusterChanged(cluster);
    }
}

} // namespace sb::ui
