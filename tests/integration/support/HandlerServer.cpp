#include "HandlerServer.h"

#include "TestSupport.h"

#include <QHostAddress>
#include <QJsonDocument>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace sbit {

namespace {

constexpr char kPending[] = "sb_pending"; // a socket whose answer is still to be written
constexpr char kBuffer[] = "sb_buffer";   // bytes received and not yet taken

QByteArray reasonOf(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 500:
        return "Internal Server Error";
    default:
        return "Status";
    }
}

} // namespace

QByteArray HandlerRequest::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

int HandlerRequest::headerCount(const QByteArray &name) const
{
    int n = 0;
    for (const auto &h : headers)
        n += h.first.compare(name, Qt::CaseInsensitive) == 0 ? 1 : 0;
    return n;
}

HandlerServer::HandlerServer(QObject *parent) : QObject(parent), m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &HandlerServer::onConnection);
}

HandlerServer::~HandlerServer() = default;

bool HandlerServer::listen()
{
    return m_server->listen(QHostAddress::LocalHost, 0);
}

quint16 HandlerServer::port() const
{
    return m_server->serverPort();
}

QString HandlerServer::url(const QString &path) const
{
    return u"http://127.0.0.1:"_s % QString::number(port()) % path;
}

QList<HandlerRequest> HandlerServer::requests(const QByteArray &path) const
{
    QList<HandlerRequest> out;
    for (const HandlerRequest &r : m_requests) {
        if (path.isEmpty() || r.path == path)
            out.append(r);
    }
    return out;
}

QList<QJsonObject> HandlerServer::events(const QByteArray &path) const
{
    QList<QJsonObject> out;
    for (const HandlerRequest &r : requests(path))
        out.append(r.object);
    return out;
}

int HandlerServer::count(const QByteArray &path) const
{
    return int(requests(path).size());
}

bool HandlerServer::waitForCount(int n, const QByteArray &path, int timeoutMs) const
{
    return waitUntil([&] { return count(path) >= n; }, timeoutMs);
}

void HandlerServer::onConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void HandlerServer::onReadable(QTcpSocket *socket)
{
    socket->setProperty(kBuffer,
                        QByteArray(socket->property(kBuffer).toByteArray() + socket->readAll()));
    // One request at a time per connection: the next waits until this one is answered.
    while (!socket->property(kPending).toBool()) {
        HandlerRequest request;
        if (!takeRequest(socket, &request))
            return;
        request.receivedMs = nowMs();
        m_requests.append(request);
        const qsizetype index = m_requests.size() - 1;
        const HandlerReply reply = m_responder ? m_responder(request) : HandlerReply{};
        socket->setProperty(kPending, true);
        if (reply.delayMs <= 0) {
            answer(socket, index, reply);
            continue;
        }
        QPointer<QTcpSocket> guard(socket);
        QTimer::singleShot(reply.delayMs, this, [this, guard, index, reply] {
            if (!guard)
                return;
            answer(guard, index, reply);
            onReadable(guard);
        });
    }
}

bool HandlerServer::takeRequest(QTcpSocket *socket, HandlerRequest *out)
{
    QByteArray buffer = socket->property(kBuffer).toByteArray();
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return false;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    out->method = requestLine.value(0);
    out->path = requestLine.value(1);
    qint64 length = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = lines[i].left(colon).trimmed();
        const QByteArray value = lines[i].mid(colon + 1).trimmed();
        out->headers.append({name, value});
        if (name.compare("Content-Length", Qt::CaseInsensitive) == 0)
            length = value.toLongLong();
    }
    if (buffer.size() < headEnd + 4 + length)
        return false;
    out->body = buffer.mid(headEnd + 4, length);
    out->object = QJsonDocument::fromJson(out->body).object();
    socket->setProperty(kBuffer, buffer.mid(headEnd + 4 + length));
    return true;
}

void HandlerServer::answer(QTcpSocket *socket, qsizetype index, const HandlerReply &reply)
{
    if (index < m_requests.size())
        m_requests[index].answeredMs = nowMs();
    const QByteArray head = "HTTP/1.1 " + QByteArray::number(reply.status) + ' '
            + reasonOf(reply.status) + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(reply.body.size()) + "\r\nConnection: keep-alive\r\n\r\n";
    socket->write(QByteArray(head + reply.body));
    socket->setProperty(kPending, false);
}

} // namespace sbit
