#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace sb::ui {

class RoomsModel;

// The live rooms tree with members. Select a room to filter the log by it (double-click or
// the button) or to broadcast to it.
class RoomsPanel final : public QWidget
{
    Q_OBJECT

public:
    RoomsPanel(RoomsModel *model, QWidget *parent = nullptr);

    QTreeView *view() const { return m_view; }
    QString selectedRoom() const;

Q_SIGNALS:
    void filterLogRequested(const QString &room);
    void broadcastRequested(const QString &room);
    void connectionChosen(const QString &connection);

private:
    void showMenu(const QPoint &pos);
    void updateCount();

    RoomsModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTreeView *m_view;
    QLineEdit *m_filter;
    QLabel *m_count;
};

} // namespace sb::ui
