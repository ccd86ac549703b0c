#include "models/EndpointsModel.h"

#include <QBrush>
#include <QColor>

namespace sb::ui {

namespace {
// Header texts by column (EndpointsModel::Column).
constexpr const char *kHeaders[] = {
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Endpoint"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Handler"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Auth"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Sessions"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Calls"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Failures"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "File"),
        QT_TRANSLATE_NOOP("sb::ui::EndpointsModel", "Error / last error"),
};
static_assert(std::size(kHeaders) == EndpointsModel::ColumnCount);

const QColor kErrorColor(0xc6, 0x28, 0x28);
} // namespace

EndpointsModel::EndpointsModel(QObject *parent) : FlatTableModel(kHeaders, parent) { }

QVariant EndpointsModel::display(const EndpointEntry &e, int column) const
{
    switch (column) {
    case Endpoint:
        return e.name;
    case Handler:
        return e.handler;
    case Auth:
        return e.auth == u"token" ? tr("token") : tr("none");
    case Sessions:
        return e.sessions;
    case Calls:
        return e.calls;
    case Failures:
        return e.failures;
    case Error:
        return e.error.isEmpty() ? e.lastError : e.error;
    case File:
        return e.file;
    default:
        return {};
    }
}

QVariant EndpointsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const EndpointEntry &e = m_rows.at(index.row());
    const bool broken = !e.error.isEmpty();
    switch (role) {
    case Qt::DisplayRole:
    case SortRole:
        return display(e, index.column());
    case BrokenRole:
        return broken;
    case Qt::ForegroundRole:
        // A file not in service is red; a handler's last failure only in its own column.
        if (broken || (index.column() == Error && !e.lastError.isEmpty()))
            return QBrush(kErrorColor);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Sessions || index.column() == Calls || index.column() == Failures)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole: {
        if (index.column() == Error && !display(e, Error).toString().isEmpty())
            return display(e, Error);
        QString tip = e.description.isEmpty() ? tr("(no description)") : e.description;
        if (!e.file.isEmpty())
            tip += u'\n' + tr("File: %1").arg(e.file);
        return tip;
    }
    default:
        return {};
    }
}

void EndpointsModel::reset(const QList<EndpointEntry> &endpoints)
{
    beginResetModel();
    m_rows = endpoints;
    endResetModel();
}

int EndpointsModel::rowOf(const QString &name) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).name == name)
            return row;
    }
    return -1;
}

int EndpointsModel::brokenCount() const
{
    int n = 0;
    for (const EndpointEntry &e : m_rows)
        n += e.error.isEmpty() ? 0 : 1;
    return n;
}

} // namespace sb::ui
