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
constexpr qsizetype kMaxChunkLine = 1024;

bool isTokenChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isBlank(char c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\v';
}

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

void RequestGuard::analyze(const QByteArray &bytes, qsizetype i)
{
    const qsizetype n = bytes.size();
    // Progress on a request in flight: read_timeout_s counts from the last byte received, and
    // a request may take at most kMaxRequestTimeouts of them in all (no endless trickle).
    if (m_state != State::Idle && m_state != State::Rejected && i < n) {
        if (m_requestClock.elapsed()
            > qint64(m_config->readTimeoutS) * 1000 * kMaxRequestTimeouts) {
            reject(408, "timeout",
                   QStringLiteral("request not complete within %1 s")
                           .arg(m_config->readTimeoutS * kMaxRequestTimeouts));
            return;
        }
        armTimer(m_config->readTimeoutS * 1000);
    }
    while (i < n && m_state != State::Rejected && m_state != State::Deferred) {
        switch (m_state) {
        case State::Idle:
            while (i < n && isBlank(bytes[i]))
                ++i;
            if (i < n) {
                m_state = State::Head;
                m_head.clear();
                m_current = {};
                m_expectContinue = false;
                m_bodyTotal = 0;
                m_drainRemaining = -1;
                m_requestClock.start();
                armTimer(m_config->readTimeoutS * 1000);
            }
            break;
        case State::Head: {
            const qsizetype nl = bytes.indexOf('\n', i);
            const qsizetype end = nl < 0 ? n : nl + 1;
            const bool firstLine = !m_head.contains('\n');
            if (!charge(end - i))
                return;
            m_head.append(bytes.constData() + i, end - i);
            i = end;
            if (m_head.size() > kMaxHead) {
                reject(431, "too_large", QStringLiteral("request headers are larger than 64 KiB"));
                return;
            }
            if (nl < 0)
                break;
            if (!firstLine && (m_head.endsWith("\n\r\n") || m_head.endsWith("\n\n"))) {
                m_bytesAfterHead = n - i;
                if (!finishHead())
                    return;
                if (m_state == State::Idle)
                    requestComplete(i);
                else if (m_expectContinue && !m_current.http10 && i == n)
                    m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
            }
            break;
        }
        case State::Body: {
            const qint64 take = qMin<qint64>(m_bodyRemaining, n - i);
            if (!charge(take))
                return;
            m_bodyRemaining -= take;
            i += take;
            if (m_bodyRemaining == 0)
                requestComplete(i);
            break;
        }
        case State::ChunkSize:
        case State::Trailer:
        case State::ChunkDataEnd: {
            const qsizetype nl = bytes.indexOf('\n', i);
            const qsizetype end = nl < 0 ? n : nl + 1;
            if (!charge(end - i))
                return;
            m_chunkLine.append(bytes.constData() + i, end - i);
            i = end;
            if (m_chunkLine.size() > kMaxChunkLine) {
                reject(400, "bad_request",
                       QStringLiteral("chunked body: chunk size line too long"));
                return;
            }
            if (nl < 0)
                break;
            const QByteArray line = m_chunkLine.trimmed();
            m_chunkLine.clear();
            if (m_state == State::ChunkDataEnd) {
                m_state = State::ChunkSize;
            } else if (m_state == State::Trailer) {
                if (line.isEmpty())
                    requestComplete(i);
            } else {
                const qsizetype semi = line.indexOf(';');
                bool ok = false;
                const qint64 size =
                        (semi < 0 ? line : line.left(semi)).trimmed().toLongLong(&ok, 16);
                if (!ok || size < 0) {
                    reject(400, "bad_request",
                           QStringLiteral("chunked body: '%1' is not a chunk size")
                                   .arg(QString::fromLatin1(line.left(40))));
                    return;
                }
                if (size == 0) {
                    m_state = State::Trailer;
                } else {
                    m_bodyTotal += size;
                    if (m_bodyTotal > m_config->maxBodyBytes) {
                        m_drainRemaining = -1; // unknown: linger until the client goes quiet
                        reject(413, "too_large",
                               QStringLiteral(
                                       "request body is larger than %1 bytes (max_body_bytes)")
                                       .arg(m_config->maxBodyBytes));
                        return;
                    }
                    m_chunkRemaining = size;
                    m_state = State::ChunkData;
                }
            }
            break;
        }
        case State::ChunkData: {
            const qint64 take = qMin<qint64>(m_chunkRemaining, n - i);
            if (!charge(take))
                return;
            m_chunkRemaining -= take;
            i += take;
            if (m_chunkRemaining == 0)
                m_state = State::ChunkDataEnd;
            break;
        }
        case State::Deferred:
        case State::Rejected:
            return;
        }
    }
}

bool RequestGuard::finishHead()
{
    m_current.headNs = Metrics::nowNs();
    const QList<QByteArray> lines = m_head.split('\n');
    const QByteArray requestLine = lines.value(0).trimmed();
    const QList<QByteArray> parts = requestLine.split(' ');
    const bool methodOk = !parts.value(0).isEmpty()
            && std::all_of(parts[0].cbegin(), parts[0].cend(), isTokenChar);
    const QByteArray version = parts.size() == 3 ? parts[2] : QByteArray();
    if (parts.size() != 3 || !methodOk || parts[1].isEmpty()
        || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
        reject(400, "bad_request",
               QStringLiteral("malformed request line; expected METHOD /path HTTP/1.1"));
        return false;
    }
    m_current.http10 = version == "HTTP/1.0";
    // Qt 6.4's parser drops every header of a request with more than 100 of them, which would
    // let the body be read as another request.
    if (lines.size() - 3 > kMaxHeaderFields) {
        reject(431, "too_large",
               QStringLiteral("request has more than %1 header fields").arg(kMaxHeaderFields));
        return false;
    }
    qint64 contentLength = 0;
    bool haveLength = false, chunked = false, connectionClose = false;
    for (qsizetype k = 1; k < lines.size(); ++k) {
        const QByteArray &line = lines[k];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "content-length") {
            bool ok = false;
            const qint64 length = value.toLongLong(&ok);
            if (!ok || length < 0 || (haveLength && length != contentLength)) {
                reject(400, "bad_request", QStringLiteral("Content-Length is not a valid length"));
                return false;
            }
            haveLength = true;
            contentLength = length;
        } else if (name == "transfer-encoding") {
            chunked = chunked || value.toLower().contains("chunked");
        } else if (name == "expect") {
            m_expectContinue = value.toLower().contains("100-continue");
        } else if (name == "connection") {
            connectionClose = connectionClose || value.toLower().contains("close");
        }
    }
    m_current.closeAfter = m_current.http10 || connectionClose;
    if (chunked) {
        m_state = State::ChunkSize;
        m_chunkLine.clear();
        return true;
    }
    if (contentLength > m_config->maxBodyBytes) {
        m_drainRemaining = qMax<qint64>(1, contentLength - m_bytesAfterHead);
        reject(413, "too_large",
               QStringLiteral("request body of %1 bytes is larger than %2 bytes (max_body_bytes)")
                       .arg(contentLength)
                       .arg(m_config->maxBodyBytes));
        return false;
    }
    if (contentLength > 0) {
        m_bodyRemaining = contentLength;
        m_state = State::Body;
    } else {
        m_state = State::Idle;
    }
    return true;
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
