#pragma once

#include "backend/ConsoleBackend.h"

#include <QFrame>

class QLabel;
class QPushButton;
class QTimer;

namespace sb::ui {

class RateChart;

// The strip at the top of the window: server state and address, TLS, uptime, counts,
// messages per second with a live chart, and start/stop for a hosted server.
class StatusPanel final : public QFrame
{
    Q_OBJECT

public:
    explicit StatusPanel(ConsoleBackend *backend, QWidget *parent = nullptr);

    // The state badge's text, e.g. "LIVE".
    QString stateText() const;

Q_SIGNALS:
    void startRequested();
    void stopRequested();

private:
    void showState(ConsoleBackend::State state, const QString &detail);
    void showStats(const ServerStats &stats);
    void tick();

    ConsoleBackend *m_backend;
    QLabel *m_state;
    QLabel *m_address;
    QLabel *m_tls;
    QLabel *m_uptime;
    QLabel *m_connections;
    QLabel *m_rooms;
    QLabel *m_users;
    QLabel *m_rates;
    QLabel *m_totals;
    RateChart *m_chart;
    QPushButton *m_start;
    QPushButton *m_stop;
    qint64 m_uptimeS = 0;
    QTimer *m_clock;
};

} // namespace sb::ui
