#include "clients/ClientTable.h"

#include <QDateTime>

namespace sb {

quint64 ClientTable::idNumber(QStringView id)
{
    if (id.size() < 2 || id.size() > 20 || id.front() != u'w' || id[1] == u'0')
        return 0;
    for (const QChar c : id.mid(1)) {
        if (c < u'0' || c > u'9')
            return 0;
    }
    bool ok = false;
    const quint64 n = id.mid(1).toULongLong(&ok);
    return ok ? n : 0;
}

void ClientTable::setState(const QString &id, ClientInfo::State state, const QString &error)
{
    {
        QMutexLocker lock(&m_mutex);
        const auto it = m_entries.find(idNumber(id));
        if (it == m_entries.end())
            return;
        if (!error.isEmpty())
            it->lastError = error;
        if (it->state == state && error.isEmpty())
            return;
        it->state = state;
        it->sinceMs = QDateTime::currentMSecsSinceEpoch();
    }
    notify();
}

void ClientTable::setError(const QString &id, const QString &error)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(idNumber(id));
    if (it != m_entries.end())
        it->lastError = error;
    m_dirty.store(true, std::memory_order_relaxed);
}

void ClientTable::countReceived(const QString &id)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(idNumber(id));
    if (it != m_entries.end())
        ++it->received;
    m_dirty.store(true, std::memory_order_relaxed);
}

void ClientTable::countSent(const QString &id, qint64 bytes)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(idNumber(id));
    if (it != m_entries.end())
        ++it->sent;
    const auto pending = m_pending.find(id);
    if (pending != m_pending.end())
        *pending = qMax<qint64>(0, *pending - bytes);
    m_dirty.store(true, std::memory_order_relaxed);
}

void ClientTable::countReconnect(const QString &id)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(idNumber(id));
    if (it != m_entries.end())
        ++it->reconnects;
    m_dirty.store(true, std::memory_order_relaxed);
}

quint64 ClientTable::countDropped(const QString &id)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(idNumber(id));
    m_dirty.store(true, std::memory_order_relaxed);
    return it != m_entries.end() ? ++it->dropped : 0;
}

void ClientTable::setObserver(std::function<void()> observer)
{
    QMutexLocker lock(&m_observerMutex);
    m_observer = std::move(observer);
}

void ClientTable::notify()
{
    m_dirty.store(false, std::memory_order_relaxed);
    QMutexLocker lock(&m_observerMutex);
    if (m_observer)
        m_observer();
}

} // namespace sb
