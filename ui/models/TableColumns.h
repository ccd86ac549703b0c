#pragma once

#include <QAbstractTableModel>

#include <span>

namespace sb::ui {

// A model's column headers as data: one source text per column, in column order, marked with
// QT_TRANSLATE_NOOP in the model's own translation context (its class name, as tr() uses).
using ColumnHeaders = std::span<const char *const>;

// The header text of `section`, translated in the context of `model`'s class; nothing for
// vertical headers, other roles or sections out of range.
QVariant columnHeader(const QAbstractItemModel &model, ColumnHeaders headers, int section,
                      Qt::Orientation orientation, int role);

// What the console's flat tables (connections, log) share: rows with no children, a fixed set
// of columns, and headers from a ColumnHeaders table.
class FlatTableModel : public QAbstractTableModel
{
public:
    int rowCount(const QModelIndex &parent = {}) const final;
    int columnCount(const QModelIndex &parent = {}) const final;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const final;

protected:
    FlatTableModel(ColumnHeaders headers, QObject *parent);
    // How many rows the model holds.
    virtual int size() const = 0;

private:
    ColumnHeaders m_headers;
};

} // namespace sb::ui
