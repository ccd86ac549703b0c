#pragma once

// A real HTTP server in the test process that plays an endpoint's HTTP handler (docs/API.md,
// "Endpoints", HTTP handlers): it records every request (path, headers, exact body, when it
// came and when it was answered) and answers what the test's responder says, after an
// optional delay (a timer: the thread never sleeps, so the test's sockets keep working).

#include "HttpClient.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>

class QTcpServer;
class QTcpSocket;

namespace sbit {

struct HandlerRequest
{
    QByteArray method;
    QByteArray path;
    Headers headers;
    QByteArray body;
    QJsonObject object; // the body parsed (empty when it is not a JSON object)
    qint64 receivedMs = 0;
    qint64 answeredMs = 0; // 0 while the answer is pending

    QByteArray
    header(const QByteArray &name) const; // first value, case-insensitive; null if absent
    int headerCount(const QByteArray &name) const;
    QString kind() const { return object.value(QStringLiteral("method")).toString(); }
    QString message() const { return object.value(QStringLiteral("message")).toString(); }
    QString session() const { return object.value(QStringLiteral("session")).toString(); }
};

struct HandlerReply
{
    int status = 200;
    QByteArray body; // empty: no body
    int delayMs = 0;
};

class HandlerServer : public QObject
{
    Q_OBJECT
public:
    using Responder = std::function<HandlerReply(const HandlerRequest &)>;

    explicit HandlerServer(QObject *parent = nullptr);
    ~HandlerServer() override;

    bool listen();
    quint16 port() const;
    // http://127.0.0.1:PORT + path (path starts with '/').
    QString url(const QString &path) const;

    // Decides every answer (default: 200 with no body).
    void setResponder(Responder responder) { m_responder = std::move(responder); }

    // The requests of path (all paths when empty), in arrival order.
    QList<HandlerRequest> requests(const QByteArray &path = {}) const;
    // The same, only the bodies parsed.
    QList<QJsonObject> events(const QByteArray &path = {}) const;
    int count(const QByteArray &path = {}) const;
    // Spins the event loop until path has at least n requests.
    bool waitForCount(int n, const QByteArray &path, int timeoutMs = 5000) const;
    void clear() { m_requests.clear(); }

private:
    void onConnection();
    void onReadable(QTcpSocket *socket);
    // Takes one complete request from the socket's buffer; false when none is complete yet.
    bool takeRequest(QTcpSocket *socket, HandlerRequest *out);
    void answer(QTcpSocket *socket, qsizetype index, const HandlerReply &reply);

    QTcpServer *m_server;
    Responder m_responder;
    QList<HandlerRequest> m_requests;
};

} // namespace sbit
