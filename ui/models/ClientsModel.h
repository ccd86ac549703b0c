#pragma once

#include "backend/ConsoleTypes.h"
#include "models/TableColumns.h"

namespace sb::ui {

// The outbound WebSocket clients of the server shown (docs/API.md, "Admin stream"): one row
// per client with its state and counters. Every snapshot and clients frame carries the whole
// list; when the same clients come again their rows are updated in place (the selection
// stays), otherwise the model starts over.
class ClientsModel final : public FlatTableModel
{
    Q_OBJECT

public:
    enum Column { Id, Uri, Target, State, Since, Received, Sent, Reconnects, Error, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1 };

    explicit ClientsModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    void reset(const QList<OutboundClient> &clients);
    const OutboundClient &at(int row) const { return m_rows.at(row); }
    int rowOf(const QString &id) const;

    // "handler H" or "room R, event E".
    static QString targetText(const OutboundClient &client);
    // connecting, open, closed in the console's language.
    static QString stateText(const QString &state);

private:
    int size() const override { return int(m_rows.size()); }
    QVariant display(const OutboundClient &c, int column) const;

    QList<OutboundClient> m_rows;
};

} // namespace sb::ui
