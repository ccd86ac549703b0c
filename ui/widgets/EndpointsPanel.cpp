#include "widgets/EndpointsPanel.h"

#include "backend/ConsoleBackend.h"
#include "models/EndpointsModel.h"
#include "widgets/PanelSetup.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace sb::ui {

EndpointsPanel::EndpointsPanel(ConsoleBackend *backend, EndpointsModel *model, QWidget *parent)
    : QWidget(parent),
      m_model(model),
      m_proxy(new QSortFilterProxyModel(this)),
      m_view(new QTableView(this)),
      m_summary(new QLabel(this))
{
    setUpFilterProxy(m_proxy, model, EndpointsModel::SortRole, -1);
    setUpRecordTable(m_view, QStringLiteral("endpointsView"), m_proxy,
                     QAbstractItemView::SingleSelection);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(EndpointsModel::Endpoint, Qt::AscendingOrder);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->setColumnWidth(EndpointsModel::Endpoint, 120);
    m_view->setColumnWidth(EndpointsModel::Handler, 170);
    m_view->setColumnWidth(EndpointsModel::Auth, 55);
    m_view->setColumnWidth(EndpointsModel::Sessions, 70);
    m_view->setColumnWidth(EndpointsModel::Calls, 60);
    m_view->setColumnWidth(EndpointsModel::Failures, 65);
    m_view->setColumnWidth(EndpointsModel::File, 160); // the error, last, takes the rest
    m_summary->setObjectName(QStringLiteral("endpointsSummary"));

    auto *top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    setUpPanelLayout(this, top)->addWidget(m_view);

    // Every snapshot and endpoints frame carries the whole list (docs/API.md, "Admin stream").
    connect(backend, &ConsoleBackend::endpointsChanged, model, &EndpointsModel::reset);
    connect(model, &QAbstractItemModel::modelReset, this, &EndpointsPanel::updateSummary);
    updateSummary();
}

void EndpointsPanel::updateSummary()
{
    const int rows = m_model->rowCount();
    if (rows == 0) {
        m_summary->setText(tr("No endpoints: *.websocket files in the endpoints folder add them."));
        return;
    }
    const int broken = m_model->brokenCount();
    QString text = tr("%n endpoint(s)", nullptr, rows);
    if (broken > 0)
        text += u", " + tr("%n with an error", nullptr, broken);
    m_summary->setText(text);
}

} // namespace sb::ui
