#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace sb::ui {

class ConsoleBackend;
class ConnectionsModel;

// The live connections table, sortable and filterable, with context actions: send an event
// or a raw text frame to a connection, disconnect it (close code 4000), copy its id.
class ConnectionsPanel final : public QWidget
{
    Q_OBJECT

public:
    ConnectionsPanel(ConsoleBackend *backend, ConnectionsModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    void setFilterText(const QString &text);
    // The connection ids of the selected rows.
    QStringList selectedIds() const;

Q_SIGNALS:
    // The broadcast panel takes it from here.
    void sendEventRequested(const QString &connection);
    void message(const QString &text, bool error);

private:
    void showMenu(const QPoint &pos);
    void sendRaw(const QString &id);
    void disconnectIds(const QStringList &ids);
    void updateCount();

    ConsoleBackend *m_backend;
    ConnectionsModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLineEdit *m_filter;
    QLabel *m_count;
};

} // namespace sb::ui
