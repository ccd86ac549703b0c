#pragma once

#include "backend/ConsoleTypes.h"
#include "models/TableColumns.h"

namespace sb::ui {

// The *.websocket endpoints of the server shown (docs/API.md, "Admin stream"): one row per
// descriptor file, replaced as a whole by every snapshot and endpoints frame. A file that is
// not in service shows its error in red; the description is the row's tooltip.
class EndpointsModel final : public FlatTableModel
{
    Q_OBJECT

public:
    enum Column { Endpoint, Handler, Auth, Sessions, Calls, Failures, File, Error, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, BrokenRole };

    explicit EndpointsModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    void reset(const QList<EndpointEntry> &endpoints);
    const EndpointEntry &at(int row) const { return m_rows.at(row); }
    int rowOf(const QString &name) const;
    // Descriptor files with an error (not in service).
    int brokenCount() const;

private:
    int size() const override { return int(m_rows.size()); }
    QVariant display(const EndpointEntry &e, int column) const;

    QList<EndpointEntry> m_rows;
};

} // namespace sb::ui
