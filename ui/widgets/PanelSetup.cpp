#include "widgets/PanelSetup.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace sb::ui {

void setUpFilterField(QLineEdit *field, const QString &objectName, const QString &placeholder)
{
    field->setObjectName(objectName);
    field->setPlaceholderText(placeholder);
    field->setClearButtonEnabled(true);
}

void setUpFilterProxy(QSortFilterProxyModel *proxy, QAbstractItemModel *source, int sortRole,
                      int filterColumn)
{
    proxy->setSourceModel(source);
    proxy->setSortRole(sortRole);
    proxy->setFilterKeyColumn(filterColumn);
    proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void setUpRecordTable(QTableView *view, const QString &objectName, QAbstractItemModel *model,
                      QAbstractItemView::SelectionMode selection)
{
    view->setObjectName(objectName);
    view->setModel(model);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(selection);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->horizontalHeader()->setStretchLastSection(true);
}

QVBoxLayout *setUpPanelLayout(QWidget *panel, QLayout *bar)
{
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    return layout;
}

} // namespace sb::ui
