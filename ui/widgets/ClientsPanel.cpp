#include "widgets/ClientsPanel.h"

#include "backend/ConsoleBackend.h"
#include "models/ClientsModel.h"
#include "widgets/ClientDialog.h"
#include "widgets/PanelSetup.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace sb::ui {

ClientsPanel::ClientsPanel(ConsoleBackend *backend, ClientsModel *model, QWidget *parent)
    : QWidget(parent),
      m_backend(backend),
      m_model(model),
      m_proxy(new QSortFilterProxyModel(this)),
      m_view(new QTableView(this)),
      m_summary(new QLabel(this)),
      m_create(new QPushButton(tr("Create..."), this)),
      m_send(new QPushButton(tr("Send..."), this)),
      m_close(new QPushButton(tr("Close"), this))
{
    setUpFilterProxy(m_proxy, model, ClientsModel::SortRole, -1);
    setUpRecordTable(m_view, QStringLiteral("clientsView"), m_proxy,
                     QAbstractItemView::SingleSelection);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(ClientsModel::Id, Qt::AscendingOrder);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->setColumnWidth(ClientsModel::Id, 55);
    m_view->setColumnWidth(ClientsModel::Uri, 200);
    m_view->setColumnWidth(ClientsModel::Target, 170);
    m_view->setColumnWidth(ClientsModel::State, 90);
    m_view->setColumnWidth(ClientsModel::Since, 140);
    m_view->setColumnWidth(ClientsModel::Received, 70);
    m_view->setColumnWidth(ClientsModel::Sent, 55);
    m_view->setColumnWidth(ClientsModel::Reconnects, 85);
    m_summary->setObjectName(QStringLiteral("clientsSummary"));
    m_create->setObjectName(QStringLiteral("clientsCreate"));
    m_send->setObjectName(QStringLiteral("clientsSend"));
    m_close->setObjectName(QStringLiteral("clientsClose"));
    m_create->setToolTip(tr("Open a WebSocket client from this server to another one"));
    m_close->setToolTip(tr("Close the selected client for good (it does not reconnect)"));
    connect(m_create, &QPushButton::clicked, this, &ClientsPanel::askCreate);
    connect(m_send, &QPushButton::clicked, this, &ClientsPanel::askSend);
    connect(m_close, &QPushButton::clicked, this, &ClientsPanel::askClose);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ClientsPanel::updateState);

    auto *top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(m_create);
    top->addWidget(m_send);
    top->addWidget(m_close);
    setUpPanelLayout(this, top)->addWidget(m_view);

    // Every snapshot and clients frame carries the whole list (docs/API.md, "Admin stream").
    connect(backend, &ConsoleBackend::clientsChanged, this,
            [this](const QList<OutboundClient> &clients) {
                const QString selected = selectedClient();
                m_model->reset(clients);
                if (!selected.isEmpty() && selectedClient() != selected)
                    selectClient(selected);
                updateState();
            });
    updateState();
}

QString ClientsPanel::selectedClient() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows(ClientsModel::Id);
    return rows.isEmpty() ? QString() : rows.first().data().toString();
}

void ClientsPanel::selectClient(const QString &id)
{
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        if (m_proxy->index(row, ClientsModel::Id).data().toString() == id) {
            m_view->selectRow(row);
            return;
        }
    }
    m_view->clearSelection();
}

void ClientsPanel::updateState()
{
    const int rows = m_model->rowCount();
    int open = 0;
    for (int row = 0; row < rows; ++row)
        open += m_model->at(row).state == u"open" ? 1 : 0;
    m_summary->setText(rows == 0 ? tr("No outbound clients.")
                                 : tr("%n client(s)", nullptr, rows) + u", "
                                       + tr("%n open", nullptr, open));
    const bool selected = !selectedClient().isEmpty();
    m_send->setEnabled(selected);
    m_close->setEnabled(selected);
}

ClientDialog *ClientsPanel::newCreateDialog()
{
    auto *dialog = new ClientDialog(m_backend, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ClientDialog::created, this,
            [this](const QString &id) { Q_EMIT message(tr("Client %1 created").arg(id), false); });
    return dialog;
}

void ClientsPanel::askCreate()
{
    newCreateDialog()->open();
}

void ClientsPanel::askSend()
{
    const QString id = selectedClient();
    if (id.isEmpty())
        return;
    bool ok = false;
    const QString text = QInputDialog::getMultiLineText(
            this, tr("Send to client"), tr("Text message for %1 to send to its server:").arg(id),
            QString(), &ok);
    if (ok)
        sendText(id, text);
}

void ClientsPanel::askClose()
{
    const QString id = selectedClient();
    if (id.isEmpty())
        return;
    const auto answer = QMessageBox::question(
            this, tr("Close client"),
            tr("Close client %1 for good? It does not reconnect and is forgotten.").arg(id));
    if (answer == QMessageBox::Yes)
        closeClient(id);
}

void ClientsPanel::sendText(const QString &id, const QString &text)
{
    QPointer<ClientsPanel> self(this);
    m_backend->sendToClient(id, text, [self, id](const RestClient::Reply &reply) {
        if (!self)
            return;
        if (reply.ok())
            Q_EMIT self->message(tr("Sent to client %1").arg(id), false);
        else
            Q_EMIT self->message(tr("Sending to client %1 failed: %2").arg(id, reply.error), true);
    });
}

void ClientsPanel::closeClient(const QString &id)
{
    QPointer<ClientsPanel> self(this);
    m_backend->closeClient(id, [self, id](const RestClient::Reply &reply) {
        if (!self)
            return;
        if (reply.ok())
            Q_EMIT self->message(tr("Client %1 closed").arg(id), false);
        else
            Q_EMIT self->message(tr("Closing client %1 failed: %2").arg(id, reply.error), true);
    });
}

} // namespace sb::ui
