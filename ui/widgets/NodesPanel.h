#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace sb::ui {

class ConsoleBackend;
class NodesModel;
struct NodeInfo;

// The nodes of the cluster the console watches (docs/API.md, "Admin stream"): their health,
// counts and uptime, the attached node marked, and "Attach to this node" to move the console
// to another node (a remote console only). On a single node it says so.
class NodesPanel final : public QWidget
{
    Q_OBJECT

public:
    NodesPanel(ConsoleBackend *backend, NodesModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QPushButton *attachButton() const { return m_attach; }
    QLabel *summary() const { return m_summary; }
    // The node of the selected row; empty when none is selected.
    QString selectedNode() const;
    void selectNode(const QString &name);
    // Attaches the console to the selected node (what the button and the menu do).
    void attachToSelected();

Q_SIGNALS:
    // The server turned out to be a cluster, or a single node.
    void clusterChanged(bool cluster);
    void message(const QString &text, bool error);

private:
    void showMenu(const QPoint &pos);
    void updateState();

    ConsoleBackend *m_backend;
    NodesModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLabel *m_summary;
    QPushButton *m_attach;
    QTimer *m_ageing;
    bool m_cluster = false;
};

} // namespace sb::ui
