#include "widgets/RoomsPanel.h"

#include "models/RoomsModel.h"
#include "widgets/PanelSetup.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

namespace sb::ui {

RoomsPanel::RoomsPanel(RoomsModel *model, QWidget *parent)
    : QWidget(parent),
      m_model(model),
      m_proxy(new QSortFilterProxyModel(this)),
      m_view(new QTreeView(this)),
      m_filter(new QLineEdit(this)),
      m_count(new QLabel(this))
{
    setUpFilterProxy(m_proxy, model, RoomsModel::SortRole, RoomsModel::Name);
    m_proxy->setRecursiveFilteringEnabled(true);
    setUpFilterField(m_filter, QStringLiteral("roomsFilter"), tr("Filter rooms"));
    connect(m_filter, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);

    auto *filterLog = new QToolButton(this);
    filterLog->setText(tr("Filter log"));
    filterLog->setToolTip(tr("Show only this room's messages in the log"));
    auto *broadcast = new QToolButton(this);
    broadcast->setText(tr("Broadcast"));
    broadcast->setToolTip(tr("Send an event to this room"));
    connect(filterLog, &QToolButton::clicked, this, [this] {
        if (!selectedRoom().isEmpty())
            Q_EMIT filterLogRequested(selectedRoom());
    });
    connect(broadcast, &QToolButton::clicked, this, [this] {
        if (!selectedRoom().isEmpty())
            Q_EMIT broadcastRequested(selectedRoom());
    });

    m_view->setObjectName(QStringLiteral("roomsView"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RoomsModel::Name, Qt::AscendingOrder);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setMinimumSectionSize(36);
    m_view->setColumnWidth(RoomsModel::Name, 150);
    for (int column : {RoomsModel::Connections, RoomsModel::Users})
        m_view->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QTreeView::customContextMenuRequested, this, &RoomsPanel::showMenu);
    connect(m_view, &QTreeView::doubleClicked, this, [this](const QModelIndex &index) {
        const QString connection = index.data(RoomsModel::ConnectionRole).toString();
        if (!connection.isEmpty())
            Q_EMIT connectionChosen(connection);
        else
            Q_EMIT filterLogRequested(index.data(RoomsModel::RoomRole).toString());
    });

    auto *top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    top->addWidget(filterLog);
    top->addWidget(broadcast);
    QVBoxLayout *layout = setUpPanelLayout(this, top);
    layout->addWidget(m_view);
    layout->addWidget(m_count);

    connect(model, &QAbstractItemModel::rowsInserted, this, &RoomsPanel::updateCount);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &RoomsPanel::updateCount);
    connect(model, &QAbstractItemModel::modelReset, this, &RoomsPanel::updateCount);
    updateCount();
}

QString RoomsPanel::selectedRoom() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? current.data(RoomsModel::RoomRole).toString() : QString();
}

void RoomsPanel::updateCount()
{
    m_count->setText(tr("%n room(s)", nullptr, m_model->rowCount()));
}

void RoomsPanel::showMenu(const QPoint &pos)
{
    const QModelIndex at = m_view->indexAt(pos);
    if (!at.isValid())
        return;
    const QString room = at.data(RoomsModel::RoomRole).toString();
    const QString connection = at.data(RoomsModel::ConnectionRole).toString();
    QMenu menu(this);
    QAction *filter = menu.addAction(tr("Show this room's messages in the log"));
    QAction *broadcast = menu.addAction(tr("Broadcast to %1...").arg(room));
    QAction *copy = menu.addAction(tr("Copy room name"));
    QAction *show = connection.isEmpty() ? nullptr
                                         : menu.addAction(tr("Show connection %1").arg(connection));
    QAction *chosen = menu.exec(m_view->viewport()->mapToGlobal(pos));
    if (!chosen)
        return;
    if (chosen == filter)
        Q_EMIT filterLogRequested(room);
    else if (chosen == broadcast)
        Q_EMIT broadcastRequested(room);
    else if (chosen == copy)
        QApplication::clipboard()->setText(room);
    else if (chosen == show)
        Q_EMIT connectionChosen(connection);
}

} // namespace sb::ui
