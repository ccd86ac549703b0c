#include "http/RequestGuard.h"

#include "config/ServerConfig.h"
#include "metrics/Metrics.h"

#include <QTcpSocket>

#include <algorithm>

// The request framing of RequestGuard: where each request on the connection ends (its head,
// then Content-Length bytes or chunks), with the refusals that framing finds.

namespace sb {

namespace {

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
    // Each step returns the offset after what it took, or -1 when the guard stopped (a
    // refusal, or the listener's budget is spent).
    while (i >= 0 && i < n && m_state != State::Rejected && m_state != State::Deferred) {
        switch (m_state) {
        case State::Idle:
            i = startRequest(bytes, i);
            break;
        case State::Head:
            i = readHead(bytes, i);
            break;
        case State::Body:
            i = readBody(bytes, i);
            break;
        case State::ChunkSize:
        case State::Trailer:
        case State::ChunkDataEnd:
            i = readChunkLine(bytes, i);
            break;
        case State::ChunkData:
            i = readChunkData(bytes, i);
            break;
        case State::Deferred:
        case State::Rejected:
            return;
        }
    }
}

qsizetype RequestGuard::startRequest(const QByteArray &bytes, qsizetype i)
{
    const qsizetype n = bytes.size();
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
    return i;
}

qsizetype RequestGuard::readHead(const QByteArray &bytes, qsizetype i)
{
    const qsizetype n = bytes.size();
    const qsizetype nl = bytes.indexOf('\n', i);
    const qsizetype end = nl < 0 ? n : nl + 1;
    const bool firstLine = !m_head.contains('\n');
    if (!charge(end - i))
        return -1;
    m_head.append(bytes.constData() + i, end - i);
    i = end;
    if (m_head.size() > kMaxHead) {
        reject(431, "too_large", QStringLiteral("request headers are larger than 64 KiB"));
        return -1;
    }
    if (nl < 0)
        return i;
    if (!firstLine && (m_head.endsWith("\n\r\n") || m_head.endsWith("\n\n"))) {
        m_bytesAfterHead = n - i;
        if (!finishHead())
            return -1;
        if (m_state == State::Idle)
            requestComplete(i);
        else if (m_expectContinue && !m_current.http10 && i == n)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    return i;
}

qsizetype RequestGuard::readBody(const QByteArray &bytes, qsizetype i)
{
    const qint64 take = qMin<qint64>(m_bodyRemaining, bytes.size() - i);
    if (!charge(take))
        return -1;
    m_bodyRemaining -= take;
    i += take;
    if (m_bodyRemaining == 0)
        requestComplete(i);
    return i;
}

qsizetype RequestGuard::readChunkData(const QByteArray &bytes, qsizetype i)
{
    const qint64 take = qMin<qint64>(m_chunkRemaining, bytes.size() - i);
    if (!charge(take))
        return -1;
    m_chunkRemaining -= take;
    i += take;
    if (m_chunkRemaining == 0)
        m_state = State::ChunkDataEnd;
    return i;
}

qsizetype RequestGuard::readChunkLine(const QByteArray &bytes, qsizetype i)
{
    const qsizetype nl = bytes.indexOf('\n', i);
    const qsizetype end = nl < 0 ? bytes.size() : nl + 1;
    if (!charge(end - i))
        return -1;
    m_chunkLine.append(bytes.constData() + i, end - i);
    i = end;
    if (m_chunkLine.size() > kMaxChunkLine) {
        reject(400, "bad_request", QStringLiteral("chunked body: chunk size line too long"));
        return -1;
    }
    if (nl < 0)
        return i;
    const QByteArray line = m_chunkLine.trimmed();
    m_chunkLine.clear();
    if (m_state == State::ChunkDataEnd) {
        m_state = State::ChunkSize;
    } else if (m_state == State::Trailer) {
        if (line.isEmpty())
            requestComplete(i);
    } else if (!chunkSize(line)) {
        return -1;
    }
    return i;
}

bool RequestGuard::chunkSize(const QByteArray &line)
{
    const qsizetype semi = line.indexOf(';');
    bool ok = false;
    const qint64 size = (semi < 0 ? line : line.left(semi)).trimmed().toLongLong(&ok, 16);
    if (!ok || size < 0) {
        reject(400, "bad_request",
               QStringLiteral("chunked body: '%1' is not a chunk size")
                       .arg(QString::fromLatin1(line.left(40))));
        return false;
    }
    if (size == 0) {
        m_state = State::Trailer;
        return true;
    }
    m_bodyTotal += size;
    if (m_bodyTotal > m_config->maxBodyBytes) {
        m_drainRemaining = -1; // unknown: linger until the client goes quiet
        reject(413, "too_large",
               QStringLiteral("request body is larger than %1 bytes (max_body_bytes)")
                       .arg(m_config->maxBodyBytes));
        return false;
    }
    m_chunkRemaining = size;
    m_state = State::ChunkData;
    return true;
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

} // namespace sb
