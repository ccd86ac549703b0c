#include "widgets/BroadcastPanel.h"

#include "models/ConnectionsModel.h"
#include "models/RoomsModel.h"
#include "util/JsonText.h"

#include <QComboBox>
#include <QCompleter>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QStringListModel>
#include <QVBoxLayout>

namespace sb::ui {

namespace {
constexpr int kMaxRecent = 20;
const char kPredefinedMessage[] = "websocket::message";
const char kPredefinedRefresh[] = "websocket::refresh";
} // namespace

BroadcastPanel::BroadcastPanel(ConsoleBackend *backend, RoomsModel *rooms,
                               ConnectionsModel *connections, QWidget *parent)
    : QWidget(parent),
      m_backend(backend),
      m_rooms(rooms),
      m_connections(connections),
      m_target(new QComboBox(this)),
      m_name(new QLineEdit(this)),
      m_completions(new QStringListModel(this)),
      m_event(new QComboBox(this)),
      m_data(new QPlainTextEdit(this)),
      m_validation(new QLabel(this)),
      m_send(new QPushButton(tr("Send"), this)),
      m_result(new QLabel(this)),
      m_recent(new QListWidget(this))
{
    m_target->setObjectName(QStringLiteral("broadcastTarget"));
    m_target->addItem(tr("All connections"), int(ConsoleBackend::Target::All));
    m_target->addItem(tr("Room"), int(ConsoleBackend::Target::Room));
    m_target->addItem(tr("User"), int(ConsoleBackend::Target::User));
    m_target->addItem(tr("Connection"), int(ConsoleBackend::Target::Connection));
    m_target->setCurrentIndex(1);

    m_name->setObjectName(QStringLiteral("broadcastName"));
    auto *completer = new QCompleter(m_completions, this);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    m_name->setCompleter(completer);

    m_event->setObjectName(QStringLiteral("broadcastEvent"));
    m_event->setEditable(true);
    m_event->addItem(QString::fromLatin1(kPredefinedMessage));
    m_event->addItem(QString::fromLatin1(kPredefinedRefresh));
    m_event->setToolTip(tr("A predefined event or any custom name (1 to 130 characters)"));

    m_data->setObjectName(QStringLiteral("broadcastData"));
    m_data->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_data->setPlaceholderText(tr("JSON data, e.g. {\"text\": \"hello\"} (empty: null)"));
    m_data->setTabChangesFocus(true);
    m_validation->setObjectName(QStringLiteral("broadcastValidation"));
    m_validation->setWordWrap(true);

    m_send->setObjectName(QStringLiteral("broadcastSend"));
    m_send->setDefault(true);
    m_result->setObjectName(QStringLiteral("broadcastResult"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_recent->setObjectName(QStringLiteral("broadcastRecent"));
    m_recent->setToolTip(tr("Double-click to send again"));
    auto *repeat = new QPushButton(tr("Send again"), this);
    repeat->setObjectName(QStringLiteral("broadcastRepeat"));

    layOut(repeat);

    connect(m_target, &QComboBox::currentIndexChanged, this, &BroadcastPanel::targetChanged);
    connect(m_name, &QLineEdit::textChanged, this, &BroadcastPanel::validate);
    connect(m_event, &QComboBox::currentTextChanged, this, &BroadcastPanel::validate);
    connect(m_data, &QPlainTextEdit::textChanged, this, &BroadcastPanel::validate);
    connect(m_send, &QPushButton::clicked, this, &BroadcastPanel::send);
    connect(m_name, &QLineEdit::returnPressed, this, [this] {
        if (canSend())
            send();
    });
    connect(m_recent, &QListWidget::itemDoubleClicked, this,
            [this](QListWidgetItem *item) { repeatRecent(m_recent->row(item)); });
    connect(repeat, &QPushButton::clicked, this, [this] {
        if (m_recent->currentRow() >= 0)
            repeatRecent(m_recent->currentRow());
    });
    connect(backend, &ConsoleBackend::stateChanged, this, &BroadcastPanel::validate);
    // Completion follows what is live: refreshed when the user starts typing a name.
    connect(m_name, &QLineEdit::textEdited, this, &BroadcastPanel::refreshCompletion);
    for (QAbstractItemModel *model : {static_cast<QAbstractItemModel *>(rooms),
                                      static_cast<QAbstractItemModel *>(connections)}) {
        connect(model, &QAbstractItemModel::modelReset, this, &BroadcastPanel::refreshCompletion);
    }
    loadRecent();
    targetChanged();
}

// The form (target, name, event), the data, the send row and the recent sends.
void BroadcastPanel::layOut(QPushButton *repeat)
{
    auto *form = new QFormLayout;
    form->addRow(tr("Target"), m_target);
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Event"), m_event);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Data (JSON)"), this));
    layout->addWidget(m_data, 2);
    layout->addWidget(m_validation);
    auto *sendRow = new QHBoxLayout;
    sendRow->addWidget(m_result, 1);
    sendRow->addWidget(m_send);
    layout->addLayout(sendRow);
    layout->addWidget(new QLabel(tr("Recent sends"), this));
    layout->addWidget(m_recent, 1);
    layout->addWidget(repeat, 0, Qt::AlignRight);
}

void BroadcastPanel::setTarget(ConsoleBackend::Target target, const QString &name)
{
    m_target->setCurrentIndex(m_target->findData(int(target)));
    m_name->setText(name);
    validate();
}

void BroadcastPanel::setEvent(const QString &event)
{
    m_event->setCurrentText(event);
}

void BroadcastPanel::setDataText(const QString &text)
{
    m_data->setPlainText(text);
}

ConsoleBackend::Target BroadcastPanel::target() const
{
    return ConsoleBackend::Target(m_target->currentData().toInt());
}

QString BroadcastPanel::targetName() const
{
    return m_name->text().trimmed();
}

QString BroadcastPanel::event() const
{
    return m_event->currentText().trimmed();
}

QString BroadcastPanel::dataText() const
{
    return m_data->toPlainText();
}

QString BroadcastPanel::validationText() const
{
    return m_validation->text();
}

QString BroadcastPanel::resultText() const
{
    return m_result->text();
}

int BroadcastPanel::recentCount() const
{
    return m_recent->count();
}

void BroadcastPanel::targetChanged()
{
    const ConsoleBackend::Target t = target();
    m_name->setEnabled(t != ConsoleBackend::Target::All);
    switch (t) {
    case ConsoleBackend::Target::All:
        m_name->setPlaceholderText(tr("every connection that joined a room"));
        break;
    case ConsoleBackend::Target::Room:
        m_name->setPlaceholderText(tr("room, e.g. hr:emp:1234"));
        break;
    case ConsoleBackend::Target::User:
        m_name->setPlaceholderText(tr("user name, e.g. SCOTT"));
        break;
    case ConsoleBackend::Target::Connection:
        m_name->setPlaceholderText(tr("connection id, e.g. c12"));
        break;
    }
    refreshCompletion();
    validate();
}

void BroadcastPanel::refreshCompletion()
{
    switch (target()) {
    case ConsoleBackend::Target::All:
        m_completions->setStringList({});
        break;
    case ConsoleBackend::Target::Room:
        m_completions->setStringList(m_rooms->roomNames());
        break;
    case ConsoleBackend::Target::User:
        m_completions->setStringList(m_connections->users());
        break;
    case ConsoleBackend::Target::Connection:
        m_completions->setStringList(m_connections->ids());
        break;
    }
}

bool BroadcastPanel::canSend() const
{
    if (m_sending || !m_dataValid || m_backend->state() != ConsoleBackend::State::Live)
        return false;
    const qsizetype eventLength = event().size();
    if (eventLength < 1 || eventLength > 130)
        return false;
    return target() == ConsoleBackend::Target::All || !targetName().isEmpty();
}

void BroadcastPanel::validate()
{
    const QString text = m_data->toPlainText();
    QString problem;
    if (text.trimmed().isEmpty()) {
        m_dataValid = true;
        m_validation->setText(tr("No data: the event carries null."));
        m_validation->setStyleSheet(QString());
    } else {
        const jsontext::Check check = jsontext::check(text);
        m_dataValid = check.ok;
        if (check.ok) {
            m_validation->setText(tr("Valid JSON."));
            m_validation->setStyleSheet(QStringLiteral("QLabel { color: #2e7d32; }"));
        } else {
            m_validation->setText(tr("Invalid JSON at line %1, column %2: %3")
                                          .arg(check.line)
                                          .arg(check.column)
                                          .arg(check.message));
            m_validation->setStyleSheet(QStringLiteral("QLabel { color: #c62828; }"));
        }
    }
    if (event().size() > 130)
        problem = tr("The event name is longer than 130 characters.");
    else if (target() != ConsoleBackend::Target::All && targetName().isEmpty())
        problem = tr("Enter a %1 name.").arg(m_target->currentText().toLower());
    else if (m_backend->state() != ConsoleBackend::State::Live)
        problem = tr("The server is not live.");
    m_send->setEnabled(canSend());
    m_send->setToolTip(problem);
}

void BroadcastPanel::send()
{
    if (!canSend()) {
        validate();
        return;
    }
    const Recent recent{target(), targetName(), event(), m_data->toPlainText()};
    m_sending = true;
    m_send->setEnabled(false);
    m_result->setText(tr("Sending..."));
    QPointer<BroadcastPanel> self(this);
    m_backend->emitEvent(
            recent.target, recent.name, recent.event, recent.data.trimmed().toUtf8(),
            [self, recent](const RestClient::Reply &reply) {
                if (!self)
                    return;
                self->m_sending = false;
                if (!reply.ok()) {
                    self->m_result->setText(tr("Not sent: %1").arg(reply.error));
                    self->m_result->setStyleSheet(QStringLiteral("QLabel { color: #c62828; }"));
                    self->validate();
                    Q_EMIT self->sent(0, -1, reply.error);
                    return;
                }
                const QJsonObject answer = QJsonDocument::fromJson(reply.body).object();
                const quint64 id = quint64(answer.value(u"id").toDouble());
                const qint64 delivered = qint64(answer.value(u"delivered").toDouble());
                self->m_result->setText(tr("Delivered to %n connection(s) (message id %1).",
                                           nullptr, int(delivered))
                                                .arg(id));
                self->m_result->setStyleSheet(QStringLiteral("QLabel { color: #2e7d32; }"));
                self->addRecent(recent);
                self->validate();
                Q_EMIT self->sent(id, delivered, QString());
            });
}

QString BroadcastPanel::recentLabel(const Recent &r)
{
    QString to;
    switch (r.target) {
    case ConsoleBackend::Target::All:
        to = tr("all");
        break;
    case ConsoleBackend::Target::Room:
        to = tr("room %1").arg(r.name);
        break;
    case ConsoleBackend::Target::User:
        to = tr("user %1").arg(r.name);
        break;
    case ConsoleBackend::Target::Connection:
        to = tr("connection %1").arg(r.name);
        break;
    }
    QString data = r.data.simplified();
    if (data.size() > 60)
        data = data.left(60) + QChar(0x2026);
    return QStringLiteral("%1  %2  %3").arg(to, r.event, data);
}

void BroadcastPanel::addRecent(const Recent &recent)
{
    // The same send again moves to the top instead of repeating itself in the list.
    for (qsizetype i = 0; i < m_recentSends.size(); ++i) {
        const Recent &r = m_recentSends.at(i);
        if (r.target == recent.target && r.name == recent.name && r.event == recent.event
            && r.data == recent.data) {
            m_recentSends.removeAt(i);
            delete m_recent->takeItem(int(i));
            break;
        }
    }
    m_recentSends.prepend(recent);
    m_recent->insertItem(0, recentLabel(recent));
    while (m_recentSends.size() > kMaxRecent) {
        m_recentSends.removeLast();
        delete m_recent->takeItem(m_recent->count() - 1);
    }
    saveRecent();
}

void BroadcastPanel::repeatRecent(int row)
{
    if (row < 0 || row >= m_recentSends.size())
        return;
    const Recent r = m_recentSends.at(row);
    setTarget(r.target, r.name);
    setEvent(r.event);
    setDataText(r.data);
    send();
}

void BroadcastPanel::loadRecent()
{
    QSettings settings;
    const int n = settings.beginReadArray(QStringLiteral("broadcast/recent"));
    for (int i = 0; i < n && i < kMaxRecent; ++i) {
        settings.setArrayIndex(i);
        Recent r{ConsoleBackend::Target(settings.value(QStringLiteral("target")).toInt()),
                 settings.value(QStringLiteral("name")).toString(),
                 settings.value(QStringLiteral("event")).toString(),
                 settings.value(QStringLiteral("data")).toString()};
        if (r.event.isEmpty())
            continue;
        m_recentSends.append(r);
        m_recent->addItem(recentLabel(r));
    }
    settings.endArray();
}

void BroadcastPanel::saveRecent() const
{
    QSettings settings;
    settings.beginWriteArray(QStringLiteral("broadcast/recent"), int(m_recentSends.size()));
    for (int i = 0; i < m_recentSends.size(); ++i) {
        settings.setArrayIndex(i);
        const Recent &r = m_recentSends.at(i);
        settings.setValue(QStringLiteral("target"), int(r.target));
        settings.setValue(QStringLiteral("name"), r.name);
        settings.setValue(QStringLiteral("event"), r.event);
        settings.setValue(QStringLiteral("data"), r.data);
    }
    settings.endArray();
}

} // namespace sb::ui
