#include "net/LingeringClose.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QPointer>
#include <QSocketNotifier>
#include <QSslSocket>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <cerrno>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sb::net {

namespace {

std::atomic<int> g_lingering{0};

// Owns the duplicate descriptor from the moment Qt has let go of the connection.
class Lingerer final : public QObject
{
public:
    Lingerer(int fd, QAbstractSocket *socket) : m_fd(fd), m_socket(socket)
    {
        g_lingering.fetch_add(1, std::memory_order_relaxed);
        m_clock.start();
        m_quiet.setSingleShot(true);
        QObject::connect(&m_quiet, &QTimer::timeout, this, [this] { finish(); });
        // Nobody owns a lingerer: when its thread ends (the server stops) while the client
        // has not closed yet, it goes with the thread, and so does the duplicate descriptor.
        // (finished() is emitted on the ending thread, before its last deferred deletions.)
        QObject::connect(QThread::currentThread(), &QThread::finished, this, &QObject::deleteLater,
                         Qt::DirectConnection);
    }
    ~Lingerer() override
    {
        if (m_fd >= 0)
            ::close(m_fd);
        g_lingering.fetch_sub(1, std::memory_order_relaxed);
    }

    // Qt has written everything and closed its descriptor: FIN, then drain.
    void start()
    {
        if (m_started)
            return;
        m_started = true;
        ::shutdown(m_fd, SHUT_WR);
        m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
        QObject::connect(m_notifier, &QSocketNotifier::activated, this, [this] { drain(); });
        m_quiet.start(kQuietMs);
        drain();
    }

    // The connection ends with Qt's own close (a reset when unread bytes remain).
    void closeNow()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
            m_fd = -1;
        }
        finish();
    }

    void finish()
    {
        if (m_socket) // cancelLinger() must not find a lingerer that is going
            m_socket->setProperty("sbLingerer", QVariant());
        if (m_notifier)
            m_notifier->setEnabled(false);
        deleteLater();
    }

private:
    void drain()
    {
        static thread_local char sink[64 * 1024];
        for (;;) {
            const ssize_t n = ::recv(m_fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n > 0) {
                m_quiet.start(kQuietMs);
                m_drained += n;
                if (m_clock.elapsed() > kMaxMs || m_drained > kMaxDrainBytes)
                    return finish();
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            return finish(); // EOF: the client closed too; or an error
        }
    }

    int m_fd;
    QPointer<QAbstractSocket> m_socket;
    bool m_started = false;
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_quiet;
    QElapsedTimer m_clock;
    qint64 m_drained = 0;
};

} // namespace

bool lingerAfterClose(QAbstractSocket *socket)
{
    if (!socket || qobject_cast<QSslSocket *>(socket) || socket->property("sbLinger").toBool())
        return false;
    const qintptr descriptor = socket->socketDescriptor();
    if (descriptor < 0 || socket->state() == QAbstractSocket::UnconnectedState)
        return false;
    if (g_lingering.load(std::memory_order_relaxed) >= kMaxLingering)
        return false;
    const int fd = ::fcntl(int(descriptor), F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return false;
    socket->setProperty("sbLinger", true);
    auto *lingerer = new Lingerer(fd, socket);
    socket->setProperty("sbLingerer", QVariant::fromValue<QObject *>(lingerer));
    // Qt closes its descriptor when the socket disconnects (after writing what it holds) or
    // when it is destroyed; the duplicate keeps the connection open until the drain ends.
    // An abort() also ends up here: the shutdown then only sends the FIN that close() would
    // have sent, without the reset.
    QPointer<Lingerer> guard(lingerer);
    QObject::connect(socket, &QAbstractSocket::disconnected, lingerer, [guard] {
        if (guard)
            guard->start();
    });
    QObject::connect(socket, &QObject::destroyed, lingerer, [guard] {
        if (guard)
            guard->start();
    });
    // Safety net: a socket that never closes (its owner forgot it) must not keep the
    // duplicate forever.
    QTimer::singleShot(kMaxMs * 6, lingerer, [guard] {
        if (guard)
            guard->finish();
    });
    return true;
}

void cancelLinger(QAbstractSocket *socket)
{
    if (!socket)
        return;
    const QVariant v = socket->property("sbLingerer");
    if (!v.isValid())
        return;
    socket->setProperty("sbLingerer", QVariant());
    // The lingerer is alive as long as the property is set: finish() clears it before the
    // lingerer is deleted (later, on this same thread).
    if (auto *lingerer = static_cast<Lingerer *>(v.value<QObject *>())) {
        lingerer->closeNow();
    }
}

int lingeringCount()
{
    return g_lingering.load(std::memory_order_relaxed);
}

} // namespace sb::net
