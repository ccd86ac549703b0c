#include "models/LogFilterProxy.h"

#include "models/LogModel.h"

namespace sb::ui {

LogFilterProxy::LogFilterProxy(LogModel *source, QObject *parent)
    : QSortFilterProxyModel(parent), m_log(source)
{
    setSourceModel(source);
    setDynamicSortFilter(false); // rows keep the log's order; new rows are filtered as they come
}

void LogFilterProxy::changed(QString &field, const QString &value)
{
    const QString v = value.trimmed();
    if (v == field)
        return;
    field = v;
    invalidateFilter();
}

void LogFilterProxy::setRoom(const QString &room)
{
    changed(m_room, room);
}

void LogFilterProxy::setUser(const QString &user)
{
    changed(m_user, user);
}

void LogFilterProxy::setEvent(const QString &event)
{
    changed(m_event, event);
}

void LogFilterProxy::setText(const QString &text)
{
    changed(m_text, text);
}

bool LogFilterProxy::isFiltering() const
{
    return !m_room.isEmpty() || !m_user.isEmpty() || !m_event.isEmpty() || !m_text.isEmpty();
}

bool LogFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &) const
{
    const LogRecord &r = m_log->at(sourceRow);
    if (!m_room.isEmpty() && (r.target != u"room" || r.to != m_room))
        return false;
    if (!m_user.isEmpty() && (r.target != u"user" || r.to != m_user))
        return false;
    if (!m_event.isEmpty() && r.event != m_event)
        return false;
    if (m_text.isEmpty())
        return true;
    return r.event.contains(m_text, Qt::CaseInsensitive)
            || r.to.contains(m_text, Qt::CaseInsensitive)
            || r.remote.contains(m_text, Qt::CaseInsensitive)
            || r.node.contains(m_text, Qt::CaseInsensitive)
            || QString::fromUtf8(r.data).contains(m_text, Qt::CaseInsensitive);
}

} // namespace sb::ui
