#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace sb::ui {

class ClientDialog;
class ClientsModel;
class ConsoleBackend;

// The outbound WebSocket clients of the server shown (docs/API.md, "Admin stream"): their
// state, counters and last error; Create... (POST /api/clients), Send... (a text message)
// and Close (DELETE: the client ends for good, after a confirmation).
class ClientsPanel final : public QWidget
{
    Q_OBJECT

public:
    ClientsPanel(ConsoleBackend *backend, ClientsModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QLabel *summary() const { return m_summary; }
    QPushButton *createButton() const { return m_create; }
    QPushButton *sendButton() const { return m_send; }
    QPushButton *closeButton() const { return m_close; }
    // The id of the selected client; empty when none is selected.
    QString selectedClient() const;
    void selectClient(const QString &id);
    // A create dialog on this panel (not yet shown); the panel reports what it created.
    ClientDialog *newCreateDialog();
    // Without asking: what Send... and Close do once the text is typed or the close confirmed.
    void sendText(const QString &id, const QString &text);
    void closeClient(const QString &id);

Q_SIGNALS:
    void message(const QString &text, bool error);

private:
    void askCreate();
    void askSend();
    void askClose();
    void updateState();

    ConsoleBackend *m_backend;
    ClientsModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLabel *m_summary;
    QPushButton *m_create;
    QPushButton *m_send;
    QPushButton *m_close;
};

} // namespace sb::ui
