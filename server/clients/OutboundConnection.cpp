#include "clients/OutboundConnection.h"

#include "base/RawJson.h"
#include "clients/ClientTable.h"
#include "clients/ClientsLogging.h"
#include "commands/EmitService.h"

#include <QRandomGenerator>
#include <QUrl>
#include <QWebSocket>

#include <cmath>

namespace sb {

OutboundConnection::OutboundConnection(QString id, ClientSpec spec, Shared shared, QObject *parent)
    : QObject(parent), m_id(std::move(id)), m_spec(std::move(spec)), m_shared(shared)
{
    m_retry.setSingleShot(true);
    m_deadline.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, [this] { openSocket(); });
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        if (m_socket)
            m_socket->abort(); // reported as a loss through the state change
    });
}

OutboundConnection::~OutboundConnection()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        delete m_socket;
    }
}

qint64 OutboundConnection::backoffMs(int failures, double jitter)
{
    qint64 delay = kFirstDelayMs;
    for (int i = 0; i < failures && delay < kMaxDelayMs; ++i)
        delay *= 2;
    delay = qMin(delay, kMaxDelayMs);
    return qint64(std::llround(double(delay) * jitter));
}

void OutboundConnection::start()
{
    openSocket();
}

void OutboundConnection::openSocket()
{
    if (m_finishing || m_shutDown)
        return;
    if (m_opened)
        m_shared.table->countReconnect(m_id);
    m_opened = true;
    m_wasOpen = false;
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket->setMaxAllowedIncomingMessageSize(quint64(m_shared.options->maxMessageBytes));
    connect(m_socket, &QWebSocket::connected, this, &OutboundConnection::onConnected);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &OutboundConnection::onText);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, &OutboundConnection::onBinary);
    connect(m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            &OutboundConnection::onError);
    connect(m_socket, &QWebSocket::stateChanged, this, &OutboundConnection::onStateChanged);
    connect(m_socket, &QWebSocket::bytesWritten, this, &OutboundConnection::flushQueue);
    m_shared.table->setState(m_id, ClientInfo::State::Connecting);
    m_deadline.start(kConnectTimeoutMs);
    m_socket->open(QUrl(m_spec.uri));
}

void OutboundConnection::onConnected()
{
    m_deadline.stop();
    m_wasOpen = true;
    m_openedAt.start();
    m_shared.table->setState(m_id, ClientInfo::State::Open);
    qCInfo(lcClients).noquote() << "client" << m_id << "open to" << m_spec.uri;
    if (!m_spec.handler.isEmpty())
        toHandler(HandlerEvent::Method::Open);
    flushQueue();
    if (m_finishing && m_socket) {
        m_socket->close();
        m_deadline.start(kCloseTimeoutMs);
    }
}

void OutboundConnection::flushQueue()
{
    // A remote that does not read holds the rest here (bounded by send()), not in the socket.
    const qint64 limit = OutboundClients::kQueuedMessagesFactor * m_shared.options->maxMessageBytes;
    while (!m_queue.isEmpty() && m_socket && m_socket->state() == QAbstractSocket::ConnectedState
           && m_socket->bytesToWrite() < limit) {
        const QString text = m_queue.takeFirst();
        m_socket->sendTextMessage(text);
        m_shared.table->countSent(m_id, text.toUtf8().size());
    }
}

void OutboundConnection::enqueue(const QString &text)
{
    m_queue.append(text);
    flushQueue();
}

void OutboundConnection::onText(const QString &message)
{
    m_shared.table->countReceived(m_id);
    if (!m_spec.handler.isEmpty())
        toHandler(HandlerEvent::Method::Message, message);
    else
        emitToRoom(message);
}

void OutboundConnection::onBinary()
{
    m_shared.table->countReceived(m_id);
    if (!m_spec.handler.isEmpty()) {
        toHandler(HandlerEvent::Method::Error, {}, QStringLiteral("binary message ignored"));
        return;
    }
    qCWarning(lcClients).noquote()
            << "client" << m_id << "ignores a binary message (room" << m_spec.room << "takes text)";
}

// The message as `data`: its JSON when it is one strict JSON value, else a JSON string.
void OutboundConnection::emitToRoom(const QString &message)
{
    EmitRequest request;
    request.target = EmitTarget::Room;
    request.to = m_spec.room;
    request.event = m_spec.event;
    const QByteArray utf8 = message.toUtf8();
    request.data = rawjson::isValidValue(utf8) ? rawjson::compact(utf8) : rawjson::quote(message);
    request.source = EmitSource::Client;
    request.remote = m_spec.uri;
    ClientTable *table = m_shared.table;
    const QString id = m_id;
    m_shared.options->emits->emitAsync(
            request, m_shared.emitContext,
            [table, id](std::optional<EmitResult> result, const CommandError &error) {
                if (result && result->accepted)
                    return;
                const quint64 dropped = table->countDropped(id);
                if (dropped == 1 || dropped % 100 == 0)
                    qCWarning(lcClients).noquote() << "client" << id << "dropped a message ("
                                                   << dropped << "so far):" << error.message;
            });
}

void OutboundConnection::onError()
{
    if (!m_socket)
        return;
    const QString why = m_socket->errorString();
    m_shared.table->setError(m_id, why);
    if (!m_finishing && !m_shutDown)
        qCInfo(lcClients).noquote() << "client" << m_id << "to" << m_spec.uri << ":" << why;
    if (!m_spec.handler.isEmpty())
        toHandler(HandlerEvent::Method::Error, {}, why);
}

void OutboundConnection::onStateChanged(QAbstractSocket::SocketState state)
{
    if (state == QAbstractSocket::UnconnectedState && sender() == m_socket)
        lost();
}

void OutboundConnection::lost()
{
    m_deadline.stop();
    QWebSocket *socket = std::exchange(m_socket, nullptr);
    socket->disconnect(this);
    const auto code = socket->closeCode();
    socket->deleteLater();
    if (m_wasOpen) {
        if (!m_spec.handler.isEmpty())
            toHandler(HandlerEvent::Method::Close);
        if (m_openedAt.elapsed() >= kStableMs)
            m_failures = 0;
        if (!m_finishing && !m_shutDown && code != QWebSocketProtocol::CloseCodeNormal)
            m_shared.table->setError(m_id,
                                     QStringLiteral("connection closed (code %1)").arg(int(code)));
    }
    m_wasOpen = false;
    if (m_finishing) {
        qCInfo(lcClients).noquote() << "client" << m_id << "closed for good";
        deleteLater();
        return;
    }
    if (m_shutDown)
        return;
    m_shared.table->setState(m_id, ClientInfo::State::Closed);
    scheduleReconnect();
}

void OutboundConnection::scheduleReconnect()
{
    const double jitter = 0.8 + 0.4 * QRandomGenerator::global()->generateDouble();
    const qint64 delay = backoffMs(m_failures, jitter);
    ++m_failures;
    m_retry.start(int(delay));
}

void OutboundConnection::finish()
{
    m_finishing = true;
    m_retry.stop();
    if (!m_socket) {
        deleteLater();
        return;
    }
    const auto state = m_socket->state();
    if (state == QAbstractSocket::ConnectedState) {
        flushQueue();
        m_socket->close();
        m_deadline.start(kCloseTimeoutMs);
    } else if (m_queue.isEmpty()) {
        m_socket->abort(); // lost() deletes this
    }
    // else connecting with messages queued: onConnected() sends them, then closes (or the
    // connect fails or times out: lost() deletes this).
}

void OutboundConnection::shutdown()
{
    m_shutDown = true;
    m_retry.stop();
    m_deadline.stop();
    if (!m_socket)
        return;
    QWebSocket *socket = std::exchange(m_socket, nullptr);
    socket->disconnect(this);
    if (socket->state() == QAbstractSocket::ConnectedState) {
        socket->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("server stopping"));
        socket->flush();
    }
    socket->abort();
    delete socket;
}

void OutboundConnection::toHandler(HandlerEvent::Method method, const QString &message,
                                   const QString &error)
{
    if (!m_shared.options->toHandler)
        return;
    HandlerEvent event;
    event.method = method;
    event.client = m_id;
    event.handler = m_spec.handler;
    event.message = message;
    event.error = error;
    m_shared.options->toHandler(event);
}

} // namespace sb
