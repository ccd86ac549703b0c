#pragma once

#include "backend/ConsoleBackend.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QStringListModel;

namespace sb::ui {

class ConnectionsModel;
class RoomsModel;

// Sends an event from the console: a target (all, room, user, connection) with completion
// from what is live, an event (the predefined ones or a custom name), and JSON data that is
// checked as it is typed (what is wrong and where). Send shows the delivered count; recent
// sends can be repeated.
class BroadcastPanel final : public QWidget
{
    Q_OBJECT

public:
    BroadcastPanel(ConsoleBackend *backend, RoomsModel *rooms, ConnectionsModel *connections,
                   QWidget *parent = nullptr);

    void setTarget(ConsoleBackend::Target target, const QString &name = {});
    void setEvent(const QString &event);
    void setDataText(const QString &text);
    ConsoleBackend::Target target() const;
    QString targetName() const;
    QString event() const;
    QString dataText() const;
    bool canSend() const;
    // The validation line under the data editor, and the outcome of the last send.
    QString validationText() const;
    QString resultText() const;
    int recentCount() const;

public Q_SLOTS:
    void send();
    void repeatRecent(int row);

Q_SIGNALS:
    // delivered < 0: the send failed (error says why).
    void sent(quint64 id, qint64 delivered, const QString &error);

private:
    void layOut(QPushButton *repeat);
    struct Recent
    {
        ConsoleBackend::Target target;
        QString name;
        QString event;
        QString data;
    };

    void targetChanged();
    void validate();
    void refreshCompletion();
    void addRecent(const Recent &recent);
    void loadRecent();
    void saveRecent() const;
    static QString recentLabel(const Recent &recent);

    ConsoleBackend *m_backend;
    RoomsModel *m_rooms;
    ConnectionsModel *m_connections;
    QComboBox *m_target;
    QLineEdit *m_name;
    QStringListModel *m_completions;
    QComboBox *m_event;
    QPlainTextEdit *m_data;
    QLabel *m_validation;
    QPushButton *m_send;
    QLabel *m_result;
    QListWidget *m_recent;
    QList<Recent> m_recentSends;
    bool m_dataValid = true;
    bool m_sending = false;
};

} // namespace sb::ui
