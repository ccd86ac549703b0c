#pragma once

#include "backend/ConsoleTypes.h"
#include "models/TableColumns.h"

#include <QHash>

namespace sb::ui {

// The live connections table: one row per /ws connection or endpoint session of the server
// shown.
class ConnectionsModel final : public FlatTableModel
{
    Q_OBJECT

public:
    enum Column {
        Id,
        User,
        Session,
        Rooms,
        Endpoint, // the *.websocket endpoint of a session (docs/API.md, "Admin stream")
        Remote,
        Origin,
        Since,
        Sent,
        Received,
        ColumnCount
    };
    // A batch larger than this resets the model instead of row-by-row signals.
    static constexpr int kResetThreshold = 64;

    explicit ConnectionsModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    void reset(const QList<ConnectionInfo> &connections);
    void apply(const QList<LiveChange> &changes);
    // Takes the counters (sent, received) and anything else newer from a fresh list.
    void updateCounters(const QList<ConnectionInfo> &fresh);

    const ConnectionInfo *find(const QString &id) const;
    const ConnectionInfo &at(int row) const { return m_rows.at(row); }
    QStringList ids() const;
    QStringList users() const;

private:
    int size() const override { return int(m_rows.size()); }
    void applyOne(const LiveChange &change, bool signal);
    void reindexFrom(int row);

    QList<ConnectionInfo> m_rows;
    QHash<QString, int> m_index; // connection id -> row
};

} // namespace sb::ui
