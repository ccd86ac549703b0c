#include "widgets/ConnectionsPanel.h"

#include "backend/ConsoleBackend.h"
#include "models/ConnectionsModel.h"
#include "widgets/PanelSetup.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace sb::ui {

ConnectionsPanel::ConnectionsPanel(ConsoleBackend *backend, ConnectionsModel *model,
                                   QWidget *parent)
    : QWidget(parent),
      m_backend(backend),
      m_model(model),
      m_proxy(new QSortFilterProxyModel(this)),
      m_view(new QTableView(this)),
      m_filter(new QLineEdit(this)),
      m_count(new QLabel(this))
{
    setUpFilterProxy(m_proxy, model, Qt::UserRole, -1); // any column
    setUpFilterField(m_filter, QStringLiteral("connectionsFilter"),
                     tr("Filter connections (id, user, session, room, address...)"));
    connect(m_filter, &QLineEdit::textChanged, this, &ConnectionsPanel::setFilterText);

    setUpRecordTable(m_view, QStringLiteral("connectionsView"), m_proxy,
                     QAbstractItemView::ExtendedSelection);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(ConnectionsModel::Id, Qt::AscendingOrder);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->setColumnWidth(ConnectionsModel::Id, 80);
    m_view->setColumnWidth(ConnectionsModel::Rooms, 160);
    m_view->setColumnWidth(ConnectionsModel::Endpoint, 100);
    m_view->setColumnWidth(ConnectionsModel::Remote, 130);
    m_view->setColumnWidth(ConnectionsModel::Origin, 190);
    m_view->setColumnWidth(ConnectionsModel::Since, 150);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QTableView::customContextMenuRequested, this, &ConnectionsPanel::showMenu);
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        const QString id = m_proxy->index(index.row(), ConnectionsModel::Id).data().toString();
        if (!id.isEmpty())
            Q_EMIT sendEventRequested(id);
    });

    auto *top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    top->addWidget(m_count);
    setUpPanelLayout(this, top)->addWidget(m_view);

    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_proxy, signal, this, &ConnectionsPanel::updateCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &ConnectionsPanel::updateCount);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &ConnectionsPanel::updateCount);
    updateCount();
}

void ConnectionsPanel::setFilterText(const QString &text)
{
    if (m_filter->text() != text)
        m_filter->setText(text);
    m_proxy->setFilterFixedString(text.trimmed());
    updateCount();
}

void ConnectionsPanel::updateCount()
{
    const int shown = m_proxy->rowCount();
    const int all = m_model->rowCount();
    m_count->setText(shown == all ? tr("%n connection(s)", nullptr, all)
                                  : tr("%1 of %2").arg(shown).arg(all));
}

QStringList ConnectionsPanel::selectedIds() const
{
    QStringList ids;
    for (const QModelIndex &row : m_view->selectionModel()->selectedRows(ConnectionsModel::Id))
        ids.append(row.data().toString());
    return ids;
}

void ConnectionsPanel::showMenu(const QPoint &pos)
{
    const QModelIndex at = m_view->indexAt(pos);
    if (!at.isValid())
        return;
    if (!m_view->selectionModel()->isRowSelected(at.row(), {}))
        m_view->selectRow(at.row());
    const QStringList ids = selectedIds();
    if (ids.isEmpty())
        return;
    const QString first = ids.first();
    QMenu menu(this);
    QAction *sendEvent = menu.addAction(tr("Send event to %1...").arg(first));
    QAction *sendRawText = menu.addAction(tr("Send raw text frame to %1...").arg(first));
    menu.addSeparator();
    QAction *copy = menu.addAction(
            ids.size() == 1 ? tr("Copy connection id")
                            : tr("Copy %n connection id(s)", nullptr, int(ids.size())));
    menu.addSeparator();
    QAction *disconnect = menu.addAction(
            ids.size() == 1 ? tr("Disconnect %1").arg(first)
                            : tr("Disconnect %n connection(s)", nullptr, int(ids.size())));
    QAction *chosen = menu.exec(m_view->viewport()->mapToGlobal(pos));
    if (chosen == sendEvent)
        Q_EMIT sendEventRequested(first);
    else if (chosen == sendRawText)
        sendRaw(first);
    else if (chosen == copy)
        QApplication::clipboard()->setText(ids.join(u'\n'));
    else if (chosen == disconnect)
        disconnectIds(ids);
}

void ConnectionsPanel::sendRaw(const QString &id)
{
    bool ok = false;
    const QString text = QInputDialog::getMultiLineText(
            this, tr("Send raw text"),
            tr("Text frame for %1 (sent as is: no id, no log record):").arg(id), QString(), &ok);
    if (!ok)
        return;
    QPointer<ConnectionsPanel> self(this);
    m_backend->sendRawText(id, text, [self, id](const RestClient::Reply &reply) {
        if (!self)
            return;
        Q_EMIT self->message(reply.ok() ? tr("Text sent to %1").arg(id)
                                        : tr("Sending to %1 failed: %2").arg(id, reply.error),
                             !reply.ok());
    });
}

void ConnectionsPanel::disconnectIds(const QStringList &ids)
{
    const auto answer = QMessageBox::question(
            this, tr("Disconnect"),
            tr("Close %n connection(s) with code 4000? Their pages do not reconnect by themselves.",
               nullptr, int(ids.size())));
    if (answer != QMessageBox::Yes)
        return;
    QPointer<ConnectionsPanel> self(this);
    for (const QString &id : ids) {
        m_backend->disconnectConnection(id, [self, id](const RestClient::Reply &reply) {
            if (!self)
                return;
            Q_EMIT self->message(reply.ok()
                                         ? tr("%1 disconnected").arg(id)
                                         : tr("Disconnecting %1 failed: %2").arg(id, reply.error),
                                 !reply.ok());
        });
    }
}

} // namespace sb::ui
