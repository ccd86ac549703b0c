#include "http/HeldAnswers.h"

#include "context/ServerContext.h"
#include "http/RequestGuard.h"
#include "metrics/Metrics.h"
#include "net/LingeringClose.h"
#include "store/MessageLog.h"

#include <QTcpSocket>

namespace sb {

namespace {

// The guard stops reading from a client that does not read its answers.
void outputChanged(QTcpSocket *socket, qint64 heldBytes)
{
    if (RequestGuard *guard = RequestGuard::of(socket))
        guard->outputChanged(heldBytes);
}

} // namespace

HeldAnswers::HeldAnswers(QObject *owner, const ServerContext *context)
    : m_owner(owner), m_context(context)
{ }

bool HeldAnswers::mustWaitForLog(quint64 id) const
{
    return id > m_logCommitted && m_context->log && id > m_context->log->durableId();
}

void HeldAnswers::write(QTcpSocket *socket, Answer answer)
{
    const bool mustWait = mustWaitForLog(answer.waitForLogId);
    auto held = m_held.find(socket);
    if (!mustWait && held == m_held.end()) {
        writeBytes(socket, answer.bytes, answer.close);
        m_context->metrics->countHttp(answer.metricsRoute, answer.status, answer.startNs);
        outputChanged(socket, 0);
        return;
    }
    // Behind an answer that waits for the log, or waiting itself: keep the request order.
    Queue &queue = held == m_held.end() ? holdFor(socket) : *held;
    if (!mustWait)
        answer.waitForLogId = 0;
    queue.bytes += answer.bytes.size();
    queue.answers.push_back(std::move(answer));
    outputChanged(socket, queue.bytes);
}

HeldAnswers::Queue &HeldAnswers::holdFor(QTcpSocket *socket)
{
    const auto held = m_held.insert(socket, {});
    held->onDestroyed = QObject::connect(socket, &QObject::destroyed, m_owner,
                                         [this, socket] { m_held.remove(socket); });
    if (RequestGuard *guard = RequestGuard::of(socket)) {
        // What the guard answers itself (a refusal) queues behind the held answers too.
        guard->setAnswerQueue([this, socket](const QByteArray &answer, bool closeAfter) {
            const auto it = m_held.find(socket);
            if (it == m_held.end() || it->answers.empty())
                return false;
            it->bytes += answer.size();
            it->answers.push_back({answer, 0, closeAfter});
            return true;
        });
    }
    return *held;
}

void HeldAnswers::writeBytes(QTcpSocket *socket, const QByteArray &bytes, bool close)
{
    socket->write(bytes);
    if (close) {
        // A client that pipelined more after its Connection: close request must still read
        // this answer: no reset (see net/LingeringClose.h).
        net::lingerAfterClose(socket);
        socket->disconnectFromHost();
    }
}

quint64 HeldAnswers::hold(QTcpSocket *socket, Answer answer)
{
    answer.pending = ++m_nextToken;
    const auto held = m_held.find(socket);
    Queue &queue = held == m_held.end() ? holdFor(socket) : *held;
    queue.answers.push_back(std::move(answer));
    return m_nextToken;
}

void HeldAnswers::complete(QTcpSocket *socket, quint64 token, QByteArray bytes,
                           quint64 waitForLogId, int status)
{
    const auto it = m_held.find(socket);
    if (it == m_held.end())
        return;
    for (Answer &answer : it->answers) {
        if (answer.pending != token)
            continue;
        answer.pending = 0;
        answer.bytes = std::move(bytes);
        answer.status = status;
        answer.waitForLogId = mustWaitForLog(waitForLogId) ? waitForLogId : 0;
        it->bytes += answer.bytes.size();
        break;
    }
    if (!flush(socket, *it)) {
        QObject::disconnect(it->onDestroyed);
        m_held.erase(it);
    }
}

bool HeldAnswers::flush(QTcpSocket *socket, Queue &held)
{
    bool wrote = false;
    while (!held.answers.empty() && held.answers.front().pending == 0
           && held.answers.front().waitForLogId <= m_logCommitted) {
        const Answer answer = std::move(held.answers.front());
        held.answers.pop_front();
        held.bytes -= answer.bytes.size();
        writeBytes(socket, answer.bytes, answer.close);
        wrote = true;
        if (answer.metricsRoute >= 0)
            m_context->metrics->countHttp(answer.metricsRoute, answer.status, answer.startNs);
    }
    if (wrote)
        outputChanged(socket, held.bytes);
    return !held.answers.empty();
}

void HeldAnswers::logCommitted(quint64 upTo)
{
    m_logCommitted = qMax(m_logCommitted, upTo);
    for (auto it = m_held.begin(); it != m_held.end();) {
        if (flush(it.key(), *it)) {
            ++it;
            continue;
        }
        QObject::disconnect(it->onDestroyed);
        it = m_held.erase(it);
    }
}

} // namespace sb
