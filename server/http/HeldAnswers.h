#pragma once

#include <QByteArray>
#include <QHash>
#include <QMetaObject>

#include <deque>

class QObject;
class QTcpSocket;

namespace sb {

struct ServerContext;

// The answers of the HTTP thread on their way to the connections. An answer that reports an
// emit (HttpReply::afterLogged) leaves once the message log holds the emit durably; any
// answer behind a held one on the same connection waits too, so each connection gets its
// answers in request order. After each write or hold the connection's RequestGuard learns
// how many bytes are held (it stops reading from a client that does not read its answers).
class HeldAnswers
{
public:
    struct Answer
    {
        QByteArray bytes;
        quint64 waitForLogId = 0; // 0: needs nothing from the log
        bool close = false;       // close the connection after it
        int metricsRoute = -1;    // counted when written (-1: a guard refusal, counted already)
        int status = 0;
        qint64 startNs = 0;
        quint64 pending = 0; // non-zero: the bytes come later (complete() with this token)
    };

    // owner: the context of the connections made to the sockets (the HTTP server).
    HeldAnswers(QObject *owner, const ServerContext *context);
    HeldAnswers(const HeldAnswers &) = delete;
    HeldAnswers &operator=(const HeldAnswers &) = delete;

    // Writes the answer now, or holds it (see above).
    void write(QTcpSocket *socket, Answer answer);
    // The message log committed every id up to upTo: the answers waiting for them leave.
    void logCommitted(quint64 upTo);
    // Holds the place of an answer not known yet (HttpReply::deferred); returns its token.
    quint64 hold(QTcpSocket *socket, Answer answer);
    // The answer of `token` is known: it leaves when its turn and its log id come. Nothing
    // happens when the connection is gone.
    void complete(QTcpSocket *socket, quint64 token, QByteArray bytes, quint64 waitForLogId,
                  int status);

    // Writes bytes; with close, closes without a reset (net/LingeringClose.h).
    static void writeBytes(QTcpSocket *socket, const QByteArray &bytes, bool close);

private:
    struct Queue
    {
        std::deque<Answer> answers;
        qint64 bytes = 0; // of the answers held
        QMetaObject::Connection onDestroyed;
    };
    Queue &holdFor(QTcpSocket *socket);
    bool mustWaitForLog(quint64 id) const;
    // Writes the answers at the front of the queue that may leave; false when it is empty.
    bool flush(QTcpSocket *socket, Queue &held);

    QObject *m_owner;
    const ServerContext *m_context;
    QHash<QTcpSocket *, Queue> m_held;
    quint64 m_logCommitted = 0;
    quint64 m_nextToken = 0;
};

} // namespace sb
