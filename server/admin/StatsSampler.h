#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QMutex>
#include <QObject>

class QTimer;

namespace sb {

class Hub;

// Samples the hub's counters once a second to give per-second rates, and renders the
// /api/stats object (also the admin stream's stats frame). Lives on the HTTP thread;
// inPerSecond(), outPerSecond() and json() may be read from any thread.
class StatsSampler final : public QObject
{
    Q_OBJECT

public:
    StatsSampler(const Hub *hub, qint64 startedMs, QObject *parent = nullptr);

    QJsonObject json() const;
    double inPerSecond() const;
    double outPerSecond() const;

private:
    void sample();

    const Hub *m_hub;
    const qint64 m_startedMs;
    QTimer *m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastMs = 0;
    quint64 m_lastIn = 0;
    quint64 m_lastOut = 0;
    mutable QMutex m_mutex;
    double m_inPerS = 0;
    double m_outPerS = 0;
};

} // namespace sb
