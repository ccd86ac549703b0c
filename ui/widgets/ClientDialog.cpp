#include "widgets/ClientDialog.h"

#include "backend/ConsoleBackend.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace sb::ui {

ClientDialog::ClientDialog(ConsoleBackend *backend, QWidget *parent)
    : QDialog(parent),
      m_backend(backend),
      m_uri(new QLineEdit(this)),
      m_toHandler(new QRadioButton(tr("Events go to a &handler"), this)),
      m_toRoom(new QRadioButton(tr("Messages are emitted to a &room"), this)),
      m_handler(new QLineEdit(this)),
      m_room(new QLineEdit(this)),
      m_event(new QLineEdit(this)),
      m_error(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("clientDialog"));
    setWindowTitle(tr("Create outbound client"));
    m_uri->setObjectName(QStringLiteral("clientUri"));
    m_uri->setPlaceholderText(tr("ws://host:port/path or wss://..."));
    m_handler->setObjectName(QStringLiteral("clientHandler"));
    m_handler->setPlaceholderText(tr("a script under endpoints_dir or an http(s) URL"));
    m_room->setObjectName(QStringLiteral("clientRoom"));
    m_event->setObjectName(QStringLiteral("clientEvent"));
    m_error->setObjectName(QStringLiteral("clientError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_toHandler->setChecked(true);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Create"));

    auto *form = new QFormLayout;
    form->addRow(tr("&URI:"), m_uri);
    form->addRow(m_toHandler);
    form->addRow(tr("Handler:"), m_handler);
    form->addRow(m_toRoom);
    form->addRow(tr("Room:"), m_room);
    form->addRow(tr("Event:"), m_event);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    setMinimumWidth(460);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &ClientDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (QRadioButton *b : {m_toHandler, m_toRoom})
        connect(b, &QRadioButton::toggled, this, &ClientDialog::updateState);
    for (QLineEdit *e : {m_uri, m_handler, m_room, m_event})
        connect(e, &QLineEdit::textChanged, this, &ClientDialog::updateState);
    updateState();
}

void ClientDialog::setUri(const QString &uri)
{
    m_uri->setText(uri);
}

void ClientDialog::setHandler(const QString &handler)
{
    m_toHandler->setChecked(true);
    m_handler->setText(handler);
}

void ClientDialog::setRoomAndEvent(const QString &room, const QString &event)
{
    m_toRoom->setChecked(true);
    m_room->setText(room);
    m_event->setText(event);
}

ClientRequest ClientDialog::request() const
{
    ClientRequest r;
    r.uri = m_uri->text().trimmed();
    if (m_toHandler->isChecked()) {
        r.handler = m_handler->text().trimmed();
    } else {
        r.room = m_room->text().trimmed();
        r.event = m_event->text().trimmed();
    }
    return r;
}

void ClientDialog::updateState()
{
    const bool handler = m_toHandler->isChecked();
    m_handler->setEnabled(handler);
    m_room->setEnabled(!handler);
    m_event->setEnabled(!handler);
    // Only "something in each field": the server checks the rest and says what is wrong.
    const ClientRequest r = request();
    const bool filled = !r.uri.isEmpty()
            && (handler ? !r.handler.isEmpty() : !r.room.isEmpty() && !r.event.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(filled && !m_busy);
}

void ClientDialog::submit()
{
    if (m_busy)
        return;
    m_busy = true;
    m_error->clear();
    updateState();
    QPointer<ClientDialog> self(this);
    m_backend->createClient(request(), [self](const RestClient::Reply &reply) {
        if (!self)
            return;
        self->m_busy = false;
        self->updateState();
        if (!reply.ok()) {
            self->m_error->setText(reply.error); // the server's message, as it answers
            return;
        }
        Q_EMIT self->created(QJsonDocument::fromJson(reply.body).object().value(u"id").toString());
        self->accept();
    });
}

} // namespace sb::ui
