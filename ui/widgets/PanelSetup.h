#pragma once

#include <QAbstractItemView>

class QAbstractItemModel;
class QLayout;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QVBoxLayout;

// The widget setup the console's list panels (connections, rooms, log) share.
namespace sb::ui {

// A filter field: its object name, a placeholder and a clear button.
void setUpFilterField(QLineEdit *field, const QString &objectName, const QString &placeholder);

// A proxy over `source` that sorts by `sortRole` and filters column `filterColumn` (-1: any
// column), ignoring case.
void setUpFilterProxy(QSortFilterProxyModel *proxy, QAbstractItemModel *source, int sortRole,
                      int filterColumn);

// A table of records showing `model`: whole rows selected, alternating row colours, one line
// of text per row, no row numbers, the last column stretched.
void setUpRecordTable(QTableView *view, const QString &objectName, QAbstractItemModel *model,
                      QAbstractItemView::SelectionMode selection);

// The panel's own layout, with small margins and `bar` on top; the caller adds the rest.
QVBoxLayout *setUpPanelLayout(QWidget *panel, QLayout *bar);

} // namespace sb::ui
