#pragma once

#include <QWidget>

class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace sb::ui {

class ConsoleBackend;
class EndpointsModel;

// The *.websocket endpoints of the server shown (docs/API.md, "Admin stream"): handler, auth,
// sessions, the handler's calls and failures, and why a descriptor file is not in service.
class EndpointsPanel final : public QWidget
{
    Q_OBJECT

public:
    EndpointsPanel(ConsoleBackend *backend, EndpointsModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QLabel *summary() const { return m_summary; }

private:
    void updateSummary();

    EndpointsModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLabel *m_summary;
};

} // namespace sb::ui
