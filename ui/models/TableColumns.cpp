#include "models/TableColumns.h"

#include <QCoreApplication>

namespace sb::ui {

QVariant columnHeader(const QAbstractItemModel &model, ColumnHeaders headers, int section,
                      Qt::Orientation orientation, int role)
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0
        || std::size_t(section) >= headers.size())
        return {};
    return QCoreApplication::translate(model.metaObject()->className(), headers[section]);
}

FlatTableModel::FlatTableModel(ColumnHeaders headers, QObject *parent)
    : QAbstractTableModel(parent), m_headers(headers)
{ }

int FlatTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : size();
}

int FlatTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_headers.size());
}

QVariant FlatTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    return columnHeader(*this, m_headers, section, orientation, role);
}

} // namespace sb::ui
