#pragma once

#include "clients/OutboundClients.h"

#include <QHash>
#include <QMap>
#include <QMutex>

#include <atomic>

namespace sb {

// The metadata of the outbound clients (docs/API.md, "Outbound clients"), shared by the
// public calls (any thread) and the connections (the registry's thread): one mutex over it.
// The connections report what happened here; the table counts, keeps the state and tells the
// change observer.
class ClientTable
{
public:
    // Ids "w1", "w2", ...: the number of an id (0 when the text is not one).
    static quint64 idNumber(QStringView id);
    static QString idText(quint64 number) { return u'w' + QString::number(number); }

    QMutex &mutex() const { return m_mutex; }

    // All under mutex(): the entries by id number (so lists come in id order).
    QMap<quint64, ClientInfo> &entriesLocked() { return m_entries; }
    quint64 &nextIdLocked() { return m_nextId; }
    // Bytes given to send() and not written yet, per client.
    QHash<QString, qint64> &pendingLocked() { return m_pending; }

    // Reports of the connections (registry thread). A client already forgotten is ignored.
    void setState(const QString &id, ClientInfo::State state, const QString &error = {});
    void setError(const QString &id, const QString &error);
    void countReceived(const QString &id);
    void countSent(const QString &id, qint64 bytes);
    void countReconnect(const QString &id);
    quint64 countDropped(const QString &id); // the client's dropped count after it

    // The change observer: state changes at once, counter changes through takeDirty() (the
    // registry polls it at most 4 times a second).
    void setObserver(std::function<void()> observer);
    void notify();
    bool takeDirty() { return m_dirty.exchange(false, std::memory_order_relaxed); }

private:
    mutable QMutex m_mutex;
    QMap<quint64, ClientInfo> m_entries;
    QHash<QString, qint64> m_pending;
    quint64 m_nextId = 1;
    QMutex m_observerMutex;
    std::function<void()> m_observer;
    std::atomic<bool> m_dirty{false};
};

} // namespace sb
