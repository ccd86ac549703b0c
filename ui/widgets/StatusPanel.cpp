#include "widgets/StatusPanel.h"

#include "widgets/RateChart.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QStyle>
#include <QTimer>

namespace sb::ui {

namespace {

QString uptimeText(qint64 s)
{
    if (s < 0)
        return QStringLiteral("-");
    const qint64 days = s / 86400;
    const QString hms = QStringLiteral("%1:%2:%3")
                                .arg((s / 3600) % 24, 2, 10, QLatin1Char('0'))
                                .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
                                .arg(s % 60, 2, 10, QLatin1Char('0'));
    return days > 0 ? StatusPanel::tr("%n day(s) %1", nullptr, int(days)).arg(hms) : hms;
}

QLabel *valueLabel(QWidget *parent)
{
    auto *label = new QLabel(QStringLiteral("-"), parent);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}

} // namespace

StatusPanel::StatusPanel(ConsoleBackend *backend, QWidget *parent)
    : QFrame(parent),
      m_backend(backend),
      m_state(new QLabel(this)),
      m_address(valueLabel(this)),
      m_tls(valueLabel(this)),
      m_uptime(valueLabel(this)),
      m_connections(valueLabel(this)),
      m_rooms(valueLabel(this)),
      m_users(valueLabel(this)),
      m_rates(valueLabel(this)),
      m_totals(valueLabel(this)),
      m_chart(new RateChart(this)),
      m_start(new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this)),
      m_stop(new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this)),
      m_clock(new QTimer(this))
{
    setObjectName(QStringLiteral("statusPanel"));
    setFrameShape(QFrame::StyledPanel);
    m_state->setObjectName(QStringLiteral("serverState"));
    m_state->setMinimumWidth(110);
    m_state->setAlignment(Qt::AlignCenter);
    m_state->setMargin(4);

    auto *grid = new QGridLayout;
    grid->setHorizontalSpacing(14);
    grid->setVerticalSpacing(2);
    const auto add = [this, grid](int row, int col, const QString &name, QLabel *value) {
        auto *caption = new QLabel(name, this);
        caption->setForegroundRole(QPalette::PlaceholderText);
        grid->addWidget(caption, row, col * 2);
        grid->addWidget(value, row, col * 2 + 1);
    };
    add(0, 0, tr("Address"), m_address);
    add(1, 0, tr("TLS"), m_tls);
    add(0, 1, tr("Uptime"), m_uptime);
    add(1, 1, tr("Connections"), m_connections);
    add(0, 2, tr("Rooms"), m_rooms);
    add(1, 2, tr("Users"), m_users);
    add(0, 3, tr("Messages/s"), m_rates);
    add(1, 3, tr("Total in / out"), m_totals);

    m_start->setObjectName(QStringLiteral("startServer"));
    m_stop->setObjectName(QStringLiteral("stopServer"));
    m_start->setToolTip(tr("Start the hosted server"));
    m_stop->setToolTip(tr("Stop the hosted server (clients get close code 1001)"));
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    m_start->setVisible(backend->isHosted());
    m_stop->setVisible(backend->isHosted());

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->addWidget(m_state);
    layout->addLayout(grid);
    layout->addWidget(m_chart, 1);
    layout->addLayout(buttons);

    connect(m_start, &QPushButton::clicked, this, &StatusPanel::startRequested);
    connect(m_stop, &QPushButton::clicked, this, &StatusPanel::stopRequested);
    connect(backend, &ConsoleBackend::stateChanged, this, &StatusPanel::showState);
    connect(backend, &ConsoleBackend::statsReceived, this, &StatusPanel::showStats);
    connect(backend, &ConsoleBackend::snapshotReceived, this,
            [this](const AdminFrameReader::Snapshot &s) {
                m_chart->clear();
                showStats(s.stats);
            });
    m_clock->setInterval(1000);
    connect(m_clock, &QTimer::timeout, this, &StatusPanel::tick);
    showState(backend->state(), backend->stateDetail());
}

void StatusPanel::showState(ConsoleBackend::State state, const QString &detail)
{
    const bool live = state == ConsoleBackend::State::Live;
    QString color;
    switch (state) {
    case ConsoleBackend::State::Live:
        color = QStringLiteral("#2e7d32");
        break;
    case ConsoleBackend::State::Starting:
    case ConsoleBackend::State::Reconnecting:
        color = QStringLiteral("#b26a00");
        break;
    case ConsoleBackend::State::Failed:
        color = QStringLiteral("#c62828");
        break;
    case ConsoleBackend::State::Stopped:
        color = QStringLiteral("#616161");
        break;
    }
    m_state->setText(ConsoleBackend::stateName(state).toUpper());
    m_state->setStyleSheet(QStringLiteral("QLabel { color: white; background: %1; border-radius: 4px; "
                                          "font-weight: bold; padding: 4px 10px; }")
                                   .arg(color));
    m_state->setToolTip(detail);
    m_address->setText(live || state == ConsoleBackend::State::Reconnecting
                               ? m_backend->address()
                               : QStringLiteral("-"));
    m_tls->setText(m_backend->tlsEnabled() ? tr("on (https, wss)") : tr("off"));
    m_start->setEnabled(state == ConsoleBackend::State::Stopped
                        || state == ConsoleBackend::State::Failed);
    m_stop->setEnabled(live || state == ConsoleBackend::State::Starting);
    if (live) {
        m_clock->start();
    } else {
        m_clock->stop();
        if (state != ConsoleBackend::State::Reconnecting) {
            m_uptimeS = -1;
            m_uptime->setText(QStringLiteral("-"));
        }
    }
}

void StatusPanel::showStats(const ServerStats &s)
{
    const QLocale locale;
    m_uptimeS = s.uptimeS;
    m_uptime->setText(uptimeText(m_uptimeS));
    m_connections->setText(locale.toString(s.connections));
    m_rooms->setText(locale.toString(s.rooms));
    m_users->setText(locale.toString(s.users));
    m_rates->setText(tr("%1 in, %2 out")
                             .arg(locale.toString(s.messagesInPerS, 'f', 0),
                                  locale.toString(s.messagesOutPerS, 'f', 0)));
    m_totals->setText(QStringLiteral("%1 / %2").arg(locale.toString(qulonglong(s.messagesInTotal)),
                                                   locale.toString(qulonglong(s.messagesOutTotal))));
    m_chart->addSample(s.messagesInPerS, s.messagesOutPerS);
}

void StatusPanel::tick()
{
    if (m_uptimeS < 0)
        return;
    ++m_uptimeS; // between stats frames; each frame sets the server's own figure
    m_uptime->setText(uptimeText(m_uptimeS));
}

QString StatusPanel::stateText() const
{
    return m_state->text();
}

} // namespace sb::ui
