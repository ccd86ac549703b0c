#include "ws/ClientConnection.h"

#include "auth/TokenService.h"
#include "base/Logging.h"
#include "base/Names.h"
#include "base/RawJson.h"
#include "base/WsFrame.h"
#include "cluster/Cluster.h"
#include "commands/EmitService.h"
#include "commands/RecoveryService.h"
#include "context/ServerContext.h"
#include "endpoints/EndpointHost.h"
#include "hub/Hub.h"
#include "metrics/Metrics.h"
#include "net/LingeringClose.h"
#include "ws/IoShard.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUrlQuery>
#include <QWebSocket>

namespace sb {

namespace {

// QWebSocket needs a whole frame in the read buffer; beyond that the kernel holds the bytes.
constexpr qint64 kReadSlack = 64 * 1024;
// What a closing connection may still read before the kernel holds the rest.
constexpr qint64 kClosingReadBuffer = 4096;

} // namespace

ClientConnection::ClientConnection(IoShard *shard, ConnId id, ConnectionKind kind,
                                   QWebSocket *socket, QTcpSocket *tcp, QString remote,
                                   std::shared_ptr<ConnectionCounters> counters)
    : m_shard(shard),
      m_id(id),
      m_kind(kind),
      m_socket(socket),
      m_remote(std::move(remote)),
      m_counters(std::move(counters)),
      m_writer(shard, tcp),
      m_lastSeenMs(QDateTime::currentMSecsSinceEpoch())
{
    QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
                     [this](const QString &message) { onText(message); });
    QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket,
                     [this](const QByteArray &) { onBinary(); });
    QObject::connect(socket, &QWebSocket::pong, socket, [this](quint64, const QByteArray &) {
        m_lastSeenMs = QDateTime::currentMSecsSinceEpoch();
        m_readSinceRelease = true;
    });
    // Connected after QWebSocket's own reader, so it runs once the read was processed (and
    // any pongs written).
    QObject::connect(tcp, &QIODevice::readyRead, socket, [this] { checkUnsent(); });
    // QWebSocket closes by itself on a protocol error (a frame over max_message_bytes: 1009,
    // invalid UTF-8: 1007): its close frame must reach the client, not a reset.
    QObject::connect(socket, &QWebSocket::aboutToClose, socket, [this] {
        stopReading();
        net::lingerAfterClose(m_writer.socket());
    });
    tcp->setReadBufferSize(shard->context()->config.maxMessageBytes + kReadSlack);
    // Queued: removal must never run inside one of this object's own calls.
    QObject::connect(
            socket, &QWebSocket::disconnected, shard, [shard, id] { shard->removeConnection(id); },
            Qt::QueuedConnection);
}

ClientConnection::~ClientConnection()
{
    // Always called from the shard's event loop (never inside one of the socket's own
    // signals), so the socket can go at once; the TCP socket is its child.
    QObject::disconnect(m_socket, nullptr, nullptr, nullptr);
    delete m_socket;
    if (m_endpointOpen)
        toEndpoint(HandlerEvent::Method::Close);
}

bool ClientConnection::toEndpoint(HandlerEvent::Method method, const QString &text)
{
    HandlerEvent event;
    event.method = method;
    event.endpoint = m_endpoint;
    event.session = m_id;
    event.user = m_user;
    if (method == HandlerEvent::Method::Message)
        event.message = text;
    else if (method == HandlerEvent::Method::Error)
        event.error = text;
    if (m_shard->context()->endpoints->sessionEvent(std::move(event)))
        return true;
    if (method == HandlerEvent::Method::Close)
        return false; // the endpoint is gone (or the server stops): nobody to tell
    qCWarning(lcWs).noquote() << "endpoint" << m_endpoint << "has no room for an event of"
                              << connectionIdText(m_id) << "- closing it with 1013";
    closeWith(1013, "the endpoint's handler is busy");
    return false;
}

void ClientConnection::checkUnsent()
{
    if (!m_closing && m_writer.overLimit())
        closeTooSlow(" (it does not read its pongs)");
}

void ClientConnection::closeTooSlow(const char *why)
{
    qCWarning(lcWs).noquote() << "closing slow client" << connectionIdText(m_id) << "with"
                              << m_writer.unsentBytes() << QByteArrayLiteral("bytes unsent") + why;
    if (Metrics *metrics = m_shard->context()->metrics)
        metrics->countSlowClientDisconnect();
    closeWith(1013, "too slow: unsent queue over the limit");
}

void ClientConnection::stopReading()
{
    QTcpSocket *tcp = m_writer.socket();
    QObject::disconnect(tcp, &QIODevice::readyRead, m_socket, nullptr);
    tcp->setReadBufferSize(kClosingReadBuffer);
}

bool ClientConnection::send(const QByteArray &wire, bool countsAsSent)
{
    if (m_closing)
        return false;
    if (m_joinsAwaitingCounts > 0) {
        m_held.emplace_back(wire, countsAsSent);
        m_heldBytes += wire.size();
        if (m_heldBytes + m_writer.unsentBytes() > m_shard->context()->config.maxQueueBytes) {
            closeTooSlow(" (while its join was counted)");
            return false;
        }
        return true;
    }
    switch (m_writer.queue(wire)) {
    case SocketWriter::Queued::Yes:
        break;
    case SocketWriter::Queued::Disconnected:
        return false;
    case SocketWriter::Queued::OverLimit:
        closeTooSlow("");
        return false;
    }
    if (countsAsSent)
        m_counters->sent.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void ClientConnection::countsArrived()
{
    if (m_joinsAwaitingCounts == 0 || --m_joinsAwaitingCounts > 0)
        return;
    std::vector<std::pair<QByteArray, bool>> held;
    held.swap(m_held);
    m_heldBytes = 0;
    for (const auto &[wire, countsAsSent] : held) {
        if (!send(wire, countsAsSent))
            break;
    }
}

void ClientConnection::closeWith(quint16 code, QByteArrayView reason)
{
    if (m_closing)
        return;
    m_writer.flush(); // what was queued before the close goes before it
    m_closing = true;
    // Out of the hub at once: no more deliveries, counts or listings while the close flushes.
    m_shard->context()->hub->closeConnection(m_id, code);
    stopReading();
    m_writer.close(code, reason, m_socket);
}

void ClientConnection::ping()
{
    // Our own frame through the writer, not QWebSocket::ping(): that would write through
    // QTcpSocket's buffer and make it allocate its write chunk again.
    static const QByteArray frame = wsframe::ping();
    send(frame);
}

void ClientConnection::abort()
{
    m_closing = true;
    m_shard->context()->hub->closeConnection(m_id);
    m_writer.abort();
}

void ClientConnection::sendJson(QByteArray json, const QByteArray &ref)
{
    if (!ref.isNull()) {
        json.chop(1);
        json.append(R"(,"ref":)").append(ref).append('}');
    }
    send(wsframe::text(json));
}

void ClientConnection::sendError(const char *code, const QString &message, const QByteArray &ref)
{
    sendJson(QByteArrayLiteral(R"({"type":"error","code":")") + code
                     + QByteArrayLiteral(R"(","message":)") + rawjson::quote(message) + '}',
             ref);
}

void ClientConnection::releaseSocketBuffers()
{
    m_readSinceRelease = false;
    if (!m_closing)
        m_writer.releaseBuffers();
}

void ClientConnection::start()
{
    QTcpSocket *tcp = m_writer.socket();
    tcp->setParent(m_socket);
    tcp->blockSignals(false);
    releaseSocketBuffers();
    // Frames are coalesced per batch by the writer: Nagle's algorithm would only hold the
    // last small frame back until the client's delayed ACK (40 ms on Linux).
    tcp->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    qCInfo(lcWs).noquote() << "connect" << connectionIdText(m_id) << "from" << m_remote
                           << (m_kind == ConnectionKind::Legacy ? "legacy" : "ws")
                           << m_socket->requestUrl().path()
                           << (m_socket->origin().isEmpty()
                                       ? QString()
                                       : QStringLiteral("origin ") + m_socket->origin());
    if (m_kind == ConnectionKind::Native)
        joinFromQuery();
    else if (m_kind == ConnectionKind::Endpoint)
        m_endpointOpen = toEndpoint(HandlerEvent::Method::Open);
    // What the client sent since the upgrade is read now that everything is in place. The
    // shard is in a batch here; the answers leave at once all the same, so that a close
    // QWebSocket writes for a bad frame further on comes after them, as on the wire.
    m_writer.setFlushAtOnce(true);
    m_writer.flush();
    if (tcp->bytesAvailable() > 0)
        Q_EMIT tcp->readyRead();
    m_writer.setFlushAtOnce(false);
    // The client left while the signals were blocked: nobody else will notice.
    if (tcp->state() == QAbstractSocket::UnconnectedState) {
        IoShard *shard = m_shard;
        const ConnId id = m_id;
        QMetaObject::invokeMethod(
                shard, [shard, id] { shard->removeConnection(id); }, Qt::QueuedConnection);
    }
}

void ClientConnection::joinFromQuery()
{
    const QUrlQuery query(m_socket->requestUrl());
    if (!query.hasQueryItem(QStringLiteral("token")))
        return;
    const QByteArray token =
            query.queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded).toUtf8();
    QByteArray since;
    if (query.hasQueryItem(QStringLiteral("since")))
        since = query.queryItemValue(QStringLiteral("since"), QUrl::FullyDecoded).toUtf8();
    handleJoin(token, since, QByteArray());
}

void ClientConnection::onBinary()
{
    m_lastSeenMs = QDateTime::currentMSecsSinceEpoch();
    m_readSinceRelease = true;
    m_counters->received.fetch_add(1, std::memory_order_relaxed);
    handleBinary();
}

void ClientConnection::handleBinary()
{
    if (m_kind == ConnectionKind::Native)
        sendError("bad_request", QStringLiteral("binary frames are not supported; send JSON text"),
                  {});
    else if (m_kind == ConnectionKind::Endpoint && m_endpointOpen && !m_closing)
        toEndpoint(HandlerEvent::Method::Error,
                   QStringLiteral("binary frames are not supported; send text"));
}

void ClientConnection::onText(const QString &message)
{
    m_lastSeenMs = QDateTime::currentMSecsSinceEpoch();
    m_readSinceRelease = true;
    m_counters->received.fetch_add(1, std::memory_order_relaxed);
    handleText(message);
}

void ClientConnection::handleText(const QString &message)
{
    if (m_kind == ConnectionKind::Legacy) {
        qCDebug(lcWs).noquote() << "legacy message from" << connectionIdText(m_id)
                                << message.left(200);
        return;
    }
    if (m_kind == ConnectionKind::Endpoint) {
        if (m_endpointOpen && !m_closing)
            toEndpoint(HandlerEvent::Method::Message, message);
        return;
    }
    const QByteArray text = message.toUtf8();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        sendError("bad_request",
                  QStringLiteral("frame is not valid JSON: %1 at offset %2")
                          .arg(parseError.errorString())
                          .arg(parseError.offset),
                  {});
        return;
    }
    if (QString why; !rawjson::isStrictJson(text, &why)) // docs/API.md
        return sendError("bad_request", QStringLiteral("frame is not valid JSON: ") + why, {});
    if (!doc.isObject()) {
        sendError("bad_request", QStringLiteral("frame must be a JSON object with a type"), {});
        return;
    }
    const QJsonObject frame = doc.object();
    const QByteArray ref = frame.contains(u"ref") ? rawjson::member(text, u"ref") : QByteArray();
    const QJsonValue type = frame.value(u"type");
    if (!type.isString()) {
        sendError("bad_request", QStringLiteral("type is missing or not a string"), ref);
        return;
    }
    const QString t = type.toString();
    if (t == u"ping") {
        sendJson(QByteArrayLiteral(R"({"type":"pong"})"), ref);
    } else if (t == u"join") {
        const QJsonValue token = frame.value(u"token");
        if (!token.isString()) {
            sendError("bad_request", QStringLiteral("token is missing or not a string"), ref);
            return;
        }
        handleJoin(token.toString().toUtf8(),
                   frame.contains(u"since") ? rawjson::member(text, u"since") : QByteArray(), ref);
    } else if (t == u"leave") {
        handleLeave(frame, ref);
    } else if (t == u"emit") {
        handleEmit(text, frame, ref);
    } else if (t == u"presence") {
        handlePresence(frame, ref);
    } else {
        sendError("bad_request",
                  QStringLiteral("unknown type '%1'; expected join, leave, emit, presence or ping")
                          .arg(t.left(100)),
                  ref);
    }
}

} // namespace sb
