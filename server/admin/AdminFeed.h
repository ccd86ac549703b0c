#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>

#include <functional>

namespace sb {

// An in-process observer of the admin stream: the console that hosts the server gets the very
// frames a remote /admin observer gets, without a socket in between.
//
// The admin stream pushes frames on the HTTP thread; the consumer takes them on its own
// thread when notified. The queue is bounded like a socket's send buffer: past
// `maxPendingBytes` the feed is closed with 1013 (the consumer attaches a new feed and gets a
// fresh snapshot), so a stalled consumer never makes the server wait or grow.
class AdminFeed
{
public:
    explicit AdminFeed(qint64 maxPendingBytes);

    // Consumer side. `notify` runs on the producer's thread, under the feed's lock, each time
    // frames arrive in an empty queue and when the feed is closed; it must only post work
    // (e.g. a queued call) to the consumer.
    void setNotifier(std::function<void()> notify);
    QList<QByteArray> take();
    // No more notifications; the stream forgets the feed at its next frame. Call before the
    // object that the notifier posts to is destroyed.
    void detach();
    bool isClosed() const;
    int closeCode() const;

    // Producer side. False when the feed is detached or has just been closed as too slow.
    bool push(const QByteArray &frame);
    bool isDetached() const;

private:
    mutable QMutex m_mutex;
    const qint64 m_maxPendingBytes;
    std::function<void()> m_notify;
    QList<QByteArray> m_frames;
    qint64 m_pendingBytes = 0;
    int m_closeCode = 0;
    bool m_detached = false;
};

} // namespace sb
