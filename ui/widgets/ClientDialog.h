#pragma once

#include "backend/ConsoleTypes.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QRadioButton;

namespace sb::ui {

class ConsoleBackend;

// Creates an outbound WebSocket client (POST /api/clients, docs/API.md "Admin stream"): a
// URI, and either a handler or a room and an event. The server checks the request; its
// refusal is shown as it answers and the dialog stays open.
class ClientDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit ClientDialog(ConsoleBackend *backend, QWidget *parent = nullptr);

    void setUri(const QString &uri);
    void setHandler(const QString &handler);
    void setRoomAndEvent(const QString &room, const QString &event);
    // What the dialog asks for as it is filled in.
    ClientRequest request() const;
    QLabel *errorLabel() const { return m_error; }

public Q_SLOTS:
    // Sends the request; accepted once the server created the client.
    void submit();

Q_SIGNALS:
    void created(const QString &id);

private:
    void updateState();

    ConsoleBackend *m_backend;
    QLineEdit *m_uri;
    QRadioButton *m_toHandler;
    QRadioButton *m_toRoom;
    QLineEdit *m_handler;
    QLineEdit *m_room;
    QLineEdit *m_event;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
    bool m_busy = false;
};

} // namespace sb::ui
