#include "models/ClientsModel.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>

namespace sb::ui {

namespace {
// Header texts by column (ClientsModel::Column).
constexpr const char *kHeaders[] = {
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Client"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "URI"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Target"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "State"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Since"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Received"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Sent"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Reconnects"),
        QT_TRANSLATE_NOOP("sb::ui::ClientsModel", "Error"),
};
static_assert(std::size(kHeaders) == ClientsModel::ColumnCount);

QVariant stateColor(const QString &state)
{
    if (state == u"open")
        return QBrush(QColor(0x2e, 0x7d, 0x32));
    if (state == u"connecting")
        return QBrush(QColor(0xef, 0x6c, 0x00));
    return QBrush(QColor(0xc6, 0x28, 0x28));
}
} // namespace

ClientsModel::ClientsModel(QObject *parent) : FlatTableModel(kHeaders, parent) { }

QString ClientsModel::targetText(const OutboundClient &c)
{
    if (!c.handler.isEmpty())
        return tr("handler %1").arg(c.handler);
    return tr("room %1, event %2").arg(c.room, c.event);
}

QString ClientsModel::stateText(const QString &state)
{
    if (state == u"connecting")
        return tr("connecting");
    if (state == u"open")
        return tr("open");
    if (state == u"closed")
        return tr("closed");
    return state;
}

QVariant ClientsModel::display(const OutboundClient &c, int column) const
{
    switch (column) {
    case Id:
        return c.id;
    case Uri:
        return c.uri;
    case Target:
        return targetText(c);
    case State:
        return stateText(c.state);
    case Since:
        return c.since > 0 ? QDateTime::fromMSecsSinceEpoch(c.since).toString(
                       QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                           : QString();
    case Received:
        return c.received;
    case Sent:
        return c.sent;
    case Reconnects:
        return c.reconnects;
    case Error:
        return c.error;
    default:
        return {};
    }
}

QVariant ClientsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const OutboundClient &c = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(c, index.column());
    case SortRole:
        if (index.column() == Id)
            return c.id.mid(1).toULongLong(); // "w12" sorts by number
        if (index.column() == Since)
            return c.since;
        return display(c, index.column());
    case Qt::ForegroundRole:
        if (index.column() == State)
            return stateColor(c.state);
        if (index.column() == Error && !c.error.isEmpty())
            return stateColor(QStringLiteral("closed"));
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() >= Received && index.column() <= Reconnects)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (index.column() == Error || index.column() == Uri)
            return display(c, index.column());
        return {};
    default:
        return {};
    }
}

void ClientsModel::reset(const QList<OutboundClient> &clients)
{
    bool same = clients.size() == m_rows.size();
    for (qsizetype i = 0; same && i < clients.size(); ++i)
        same = clients.at(i).id == m_rows.at(i).id;
    if (!same) {
        beginResetModel();
        m_rows = clients;
        endResetModel();
        return;
    }
    m_rows = clients;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
}

int ClientsModel::rowOf(const QString &id) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).id == id)
            return row;
    }
    return -1;
}

} // namespace sb::ui
