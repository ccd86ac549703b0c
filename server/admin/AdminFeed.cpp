#include "admin/AdminFeed.h"

namespace sb {

AdminFeed::AdminFeed(qint64 maxPendingBytes) : m_maxPendingBytes(maxPendingBytes) { }

void AdminFeed::setNotifier(std::function<void()> notify)
{
    QMutexLocker lock(&m_mutex);
    m_notify = std::move(notify);
}

QList<QByteArray> AdminFeed::take()
{
    QMutexLocker lock(&m_mutex);
    m_pendingBytes = 0;
    return std::exchange(m_frames, {});
}

void AdminFeed::detach()
{
    QMutexLocker lock(&m_mutex);
    m_detached = true;
    m_notify = nullptr;
    m_frames.clear();
    m_pendingBytes = 0;
}

bool AdminFeed::isClosed() const
{
    QMutexLocker lock(&m_mutex);
    return m_closeCode != 0;
}

int AdminFeed::closeCode() const
{
    QMutexLocker lock(&m_mutex);
    return m_closeCode;
}

bool AdminFeed::isDetached() const
{
    QMutexLocker lock(&m_mutex);
    return m_detached;
}

bool AdminFeed::push(const QByteArray &frame)
{
    QMutexLocker lock(&m_mutex);
    if (m_detached || m_closeCode != 0)
        return false;
    const bool wasEmpty = m_frames.isEmpty();
    m_pendingBytes += frame.size();
    if (m_pendingBytes > m_maxPendingBytes) {
        // The consumer does not keep up: what is queued stays readable, then it re-attaches.
        m_closeCode = 1013;
        if (m_notify)
            m_notify();
        return false;
    }
    m_frames.append(frame);
    if (wasEmpty && m_notify)
        m_notify();
    return true;
}

} // namespace sb
