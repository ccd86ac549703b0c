#include "http/RequestGuard.h"

#include "base/Logging.h"
#include "config/ServerConfig.h"
#include "http/HttpLimits.h"
#include "http/HttpResponse.h"
#include "metrics/Metrics.h"
#include "net/LingeringClose.h"
#include "net/MemoryTrim.h"

#include <QElapsedTimer>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>

namespace sb {

namespace {

constexpr int kIdleTimeoutMs = 75000; // keep-alive connections with no request (nginx default)
constexpr int kDrainLingerMs = 2000;  // after a refusal: close when the client goes quiet

} // namespace

RequestGuard::RequestGuard(QTcpSocket *socket, const ServerConfig *config, QObject *httpServer,
                           Metrics *metrics, std::shared_ptr<HttpLimits> limits)
    : QObject(socket),
      m_socket(socket),
      m_config(config),
      m_httpServer(httpServer),
      m_metrics(metrics),
      m_limits(std::move(limits)),
      m_peer(socket->peerAddress()),
      m_timer(new QTimer(this)),
      m_stallTimer(new QTimer(this))
{
    setObjectName(QStringLiteral("switchboard-request-guard"));
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &RequestGuard::onTimeout);
    m_stallTimer->setSingleShot(true);
    connect(m_stallTimer, &QTimer::timeout, this, &RequestGuard::onStalled);
    // Connected before the HTTP server's own slot, so it sees every byte first.
    connect(socket, &QIODevice::readyRead, this, &RequestGuard::onReadyRead);
    connect(socket, &QIODevice::bytesWritten, this, &RequestGuard::onBytesWritten);
    armTimer(kIdleTimeoutMs);
}

// The socket is gone or upgraded: its request bytes and its place in the per-address count
// go back to the listener (the listener admitted it before making this guard).
RequestGuard::~RequestGuard()
{
    // Request bytes that never became a request (a refused or stalled body, a client gone
    // mid-body) are freed with the socket, now: the heap gives them back.
    net::noteFreed(m_abandoned + m_charged);
    uncharge();
    if (m_limits)
        m_limits->release(m_peer);
}

RequestGuard *RequestGuard::of(QTcpSocket *socket)
{
    return socket->findChild<RequestGuard *>(QStringLiteral("switchboard-request-guard"),
                                             Qt::FindDirectChildrenOnly);
}

RequestGuard::RequestMeta RequestGuard::takeMeta()
{
    if (m_meta.empty())
        return {};
    RequestMeta meta = m_meta.front();
    m_meta.pop_front();
    return meta;
}

void RequestGuard::release()
{
    m_timer->stop();
    m_stallTimer->stop();
    disconnect(m_socket, nullptr, this, nullptr);
    deleteLater();
}

qint64 RequestGuard::unsentBytes() const
{
    qint64 unsent = m_socket->bytesToWrite() + m_heldBytes;
    if (const auto *ssl = qobject_cast<const QSslSocket *>(m_socket))
        unsent += ssl->encryptedBytesToWrite();
    return unsent;
}

void RequestGuard::outputChanged(qint64 heldBytes)
{
    m_heldBytes = heldBytes;
    const qint64 unsent = unsentBytes();
    if (!m_paused && unsent > kMaxUnsentBytes) {
        // Called between requests (Qt commits its transaction before handing one over), so
        // there is no transaction of Qt's to disturb; anywhere else, wait for the next answer.
        if (!m_socket->isTransactionStarted())
            pause();
    } else if (m_paused && unsent <= kMaxUnsentBytes / 2) {
        resume();
    }
}

void RequestGuard::pause()
{
    m_paused = true;
    m_socket->startTransaction();
    hideBuffered();
    m_socket->setReadBufferSize(kPausedReadBuffer);
    // The request clock waits with the client: it cannot send while the server does not read.
    m_timer->stop();
    m_stallTimer->start(m_config->readTimeoutS * 1000);
    qCDebug(lcHttp).noquote() << "reading paused for" << m_socket->peerAddress().toString() << ":"
                              << unsentBytes() << "bytes of answers unread";
}

// Inside the guard's transaction: reads what is buffered, so that Qt's parser finds nothing;
// the transaction keeps the bytes for resume().
void RequestGuard::hideBuffered()
{
    char scratch[4096];
    while (m_socket->bytesAvailable() > 0) {
        if (m_socket->read(scratch, sizeof scratch) <= 0)
            break;
    }
}

void RequestGuard::resume()
{
    m_paused = false;
    m_stallTimer->stop();
    m_socket->setReadBufferSize(0);
    if (m_socket->isTransactionStarted())
        m_socket->rollbackTransaction();
    armTimer(m_state == State::Idle ? kIdleTimeoutMs : m_config->readTimeoutS * 1000);
    if (m_socket->bytesAvailable() > 0) {
        QTcpSocket *socket = m_socket;
        QMetaObject::invokeMethod(
                socket, [socket] { Q_EMIT socket->readyRead(); }, Qt::QueuedConnection);
    }
}

void RequestGuard::onBytesWritten()
{
    if (m_paused) {
        m_stallTimer->start(m_config->readTimeoutS * 1000); // progress
        outputChanged(m_heldBytes);
    }
}

// The client has not read a byte of its answers for read_timeout_s: it never will.
void RequestGuard::onStalled()
{
    const qint64 unsent = unsentBytes();
    if (unsent - m_heldBytes <= 0 && m_state != State::Rejected) {
        // Everything written was read; what remains waits for the message log, not for the
        // client: keep waiting (the log answers or refuses every emit).
        m_stallTimer->start(m_config->readTimeoutS * 1000);
        return;
    }
    qCInfo(lcHttp).noquote() << "closing" << m_socket->peerAddress().toString() << "after"
                             << m_config->readTimeoutS << "s without reading;" << unsent
                             << "bytes of answers unread";
    net::cancelLinger(m_socket);
    m_socket->abort();
    net::noteFreed(unsent);
}

// Ends the connection after what was written; a client that does not read it is cut off
// after read_timeout_s instead of holding the answers forever.
void RequestGuard::closeSocket()
{
    m_socket->disconnectFromHost();
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_stallTimer->start(m_config->readTimeoutS * 1000);
}

bool RequestGuard::charge(qint64 bytes)
{
    if (!m_limits || bytes <= 0)
        return true;
    if (!m_limits->charge(bytes)) {
        m_drainRemaining = -1; // unknown: linger until the client goes quiet
        reject(503, "unavailable",
               QStringLiteral("server busy: the request bytes buffered for all clients are over "
                              "max_request_buffer_bytes (%1); retry")
                       .arg(m_limits->maxBuffered()));
        return false;
    }
    m_charged += bytes;
    return true;
}

void RequestGuard::uncharge()
{
    if (m_limits && m_charged > 0)
        m_limits->uncharge(m_charged);
    m_charged = 0;
}

void RequestGuard::armTimer(int ms)
{
    m_timer->start(ms);
}

void RequestGuard::onReadyRead()
{
    if (m_paused) {
        // Keep hiding from Qt's parser what arrives (up to the small read buffer); the
        // guard's bookkeeping waits for resume().
        hideBuffered();
        return;
    }
    if (m_state == State::Rejected) {
        // skip(), not readAll(): discarding allocates nothing.
        const qint64 discarded = m_socket->skip(m_socket->bytesAvailable());
        if (m_drainClock.elapsed() > kMaxDrainMs) {
            m_socket->abort();
            return;
        }
        if (m_drainRemaining > 0) {
            m_drainRemaining = qMax<qint64>(0, m_drainRemaining - qMax<qint64>(0, discarded));
            if (m_drainRemaining == 0)
                closeSocket();
        }
        armTimer(kDrainLingerMs);
        return;
    }
    // The HTTP server ran once since our last look: it read everything up to the end of the
    // first complete request, or everything when none was complete.
    qint64 leftover = 0;
    if (!m_boundaries.empty()) {
        const qint64 consumed = m_boundaries.front();
        m_boundaries.pop_front();
        for (qint64 &b : m_boundaries)
            b -= consumed;
        leftover = m_unreadAtExit - consumed;
    }
    const qint64 available = m_socket->bytesAvailable();
    if (leftover > available) {
        leftover = available;
        m_boundaries.clear();
    }
    if (m_state == State::Deferred) {
        // The requests ahead of the refused one are answered: now refuse it.
        if (m_boundaries.empty()) {
            const Refusal refusal = m_deferred;
            reject(refusal.status, refusal.code, refusal.message);
        } else {
            m_unreadAtExit = available;
        }
        return;
    }
    if (available > leftover)
        analyze(m_socket->peek(available), leftover);
    if (m_state != State::Rejected)
        m_unreadAtExit = available;
}

void RequestGuard::requestComplete(qsizetype endOffset)
{
    // Qt's parser takes the request from here (at once, or after the answers ahead of it).
    uncharge();
    m_boundaries.push_back(endOffset);
    m_meta.push_back(m_current);
    m_state = State::Idle;
    armTimer(kIdleTimeoutMs);
}

void RequestGuard::reject(int status, const char *code, const QString &message)
{
    // Complete requests pipelined ahead of this one are still to be read by the HTTP server:
    // let it answer them first (it stops at the end of each), then refuse.
    if (!m_boundaries.empty() && status != 408 && m_state != State::Deferred) {
        m_deferred = Refusal{status, code, message};
        m_state = State::Deferred;
        return;
    }
    qCInfo(lcHttp).noquote() << status << QString::fromLatin1(code) << "from"
                             << m_socket->peerAddress().toString() << message;
    countRefusal(status);
    m_abandoned += m_charged;
    uncharge();
    if (m_paused) {
        m_paused = false;
        m_socket->setReadBufferSize(0);
    }
    // Take the socket away from the HTTP server: it must not buffer what follows.
    if (m_httpServer)
        QObject::disconnect(m_socket, &QIODevice::readyRead, m_httpServer, nullptr);
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    m_socket->skip(m_socket->bytesAvailable()); // counted in m_drainRemaining by the caller
    m_state = State::Rejected;
    m_drainClock.start();
    m_boundaries.clear();
    m_meta.clear();
    const QByteArray answer =
            HttpReply::error(status, QString::fromLatin1(code), message).serialize(true);
    const bool closeNow = status == 408 || m_drainRemaining == 0;
    if (m_answerQueue && m_answerQueue(answer, closeNow)) {
        if (closeNow)
            return; // the HTTP server closes after the answers ahead of this one
    } else {
        m_socket->write(answer);
        if (closeNow) {
            closeSocket();
            return;
        }
    }
    // Linger: keep reading (and discarding) the rest of the body, so that no TCP reset
    // destroys the answer before the client reads it; close once the client goes quiet.
    armTimer(kDrainLingerMs);
}

// A refusal counts like any answer, under the route of the request line's path (the head
// may be incomplete: then the time runs from the request's first byte).
void RequestGuard::countRefusal(int status)
{
    if (!m_metrics)
        return;
    const qint64 now = Metrics::nowNs();
    qint64 start = m_current.headNs;
    if (!start)
        start = m_requestClock.isValid() ? now - m_requestClock.nsecsElapsed() : now;
    const qsizetype lineEnd = m_head.indexOf('\n');
    const QList<QByteArray> parts = m_head.left(lineEnd < 0 ? m_head.size() : lineEnd).split(' ');
    int route = Metrics::kRouteOther;
    if (lineEnd >= 0 && parts.size() == 3) {
        const qsizetype query = parts[1].indexOf('?');
        route = m_metrics->routeForPath(
                QString::fromLatin1(query < 0 ? parts[1] : parts[1].left(query)));
    }
    m_metrics->countHttp(route, status, start);
}

void RequestGuard::onTimeout()
{
    switch (m_state) {
    case State::Idle:
    case State::Rejected:
        closeSocket();
        break;
    default:
        reject(408, "timeout",
               QStringLiteral("request not complete within %1 s (read_timeout_s)")
                       .arg(m_config->readTimeoutS));
        break;
    }
}

} // namespace sb
