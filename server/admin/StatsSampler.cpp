#include "admin/StatsSampler.h"

#include "hub/Hub.h"

#include <QDateTime>
#include <QTimer>

#include <cmath>

namespace sb {

StatsSampler::StatsSampler(const Hub *hub, qint64 startedMs, QObject *parent)
    : QObject(parent), m_hub(hub), m_startedMs(startedMs), m_timer(new QTimer(this))
{
    const HubStats s = m_hub->stats();
    m_lastIn = s.messagesIn;
    m_lastOut = s.messagesOut;
    m_clock.start();
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &StatsSampler::sample);
    m_timer->start();
}

void StatsSampler::sample()
{
    const HubStats s = m_hub->stats();
    const qint64 now = m_clock.elapsed();
    const double seconds = qMax<qint64>(1, now - m_lastMs) / 1000.0;
    QMutexLocker lock(&m_mutex);
    m_inPerS = double(s.messagesIn - m_lastIn) / seconds;
    m_outPerS = double(s.messagesOut - m_lastOut) / seconds;
    m_lastIn = s.messagesIn;
    m_lastOut = s.messagesOut;
    m_lastMs = now;
}

double StatsSampler::inPerSecond() const
{
    QMutexLocker lock(&m_mutex);
    return m_inPerS;
}

double StatsSampler::outPerSecond() const
{
    QMutexLocker lock(&m_mutex);
    return m_outPerS;
}

QJsonObject StatsSampler::json() const
{
    const HubStats s = m_hub->stats();
    const auto round1 = [](double v) { return std::round(v * 10.0) / 10.0; };
    return QJsonObject{
            {QStringLiteral("connections"), double(s.connections)},
            {QStringLiteral("rooms"), double(s.rooms)},
            {QStringLiteral("users"), double(s.users)},
            {QStringLiteral("messages_in_total"), double(s.messagesIn)},
            {QStringLiteral("messages_out_total"), double(s.messagesOut)},
            {QStringLiteral("messages_in_per_s"), round1(inPerSecond())},
            {QStringLiteral("messages_out_per_s"), round1(outPerSecond())},
            {QStringLiteral("uptime_s"),
             double((QDateTime::currentMSecsSinceEpoch() - m_startedMs) / 1000)},
    };
}

} // namespace sb
