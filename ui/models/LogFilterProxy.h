#pragma once

#include <QSortFilterProxyModel>

namespace sb::ui {

class LogModel;

// The log table's filters: room, user and event match exactly (as GET /api/log does, so
// older history loads with the same filter); text matches anywhere in the event, the target
// name, the data or the remote address, case-insensitively. All filters combine with AND.
class LogFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit LogFilterProxy(LogModel *source, QObject *parent = nullptr);

    void setRoom(const QString &room);
    void setUser(const QString &user);
    void setEvent(const QString &event);
    void setText(const QString &text);
    QString room() const { return m_room; }
    QString user() const { return m_user; }
    QString event() const { return m_event; }
    QString text() const { return m_text; }
    bool isFiltering() const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    void changed(QString &field, const QString &value);

    LogModel *m_log;
    QString m_room;
    QString m_user;
    QString m_event;
    QString m_text;
};

} // namespace sb::ui
