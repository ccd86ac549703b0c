#include "cluster/ClusterAsks.h"

#include "base/Logging.h"
#include "redis/RedisClient.h"

#include <QJsonDocument>
#include <QTimer>

namespace sb {

namespace {

QByteArray questionChannel(quint64 node)
{
    return node ? QByteArrayLiteral("sb:rpc:") + QByteArray::number(node)
                : QByteArrayLiteral("sb:rpc:all");
}

QByteArray replyChannel(quint64 node)
{
    return QByteArrayLiteral("sb:reply:") + QByteArray::number(node);
}

} // namespace

ClusterAsks::ClusterAsks(RedisClient *commands, QObject *parent)
    : QObject(parent), m_commands(commands)
{ }

void ClusterAsks::start(const RedisUrl &url, quint64 node, const QString &nodeName,
                        Answerer answerer)
{
    m_node = node;
    m_nodeName = nodeName;
    m_answerer = std::move(answerer);
    m_subscriber = new RedisClient(this);
    const auto onQuestion = [this](const QByteArray &, const QByteArray &message) {
        question(message);
    };
    m_subscriber->subscribe(questionChannel(0), onQuestion);
    m_subscriber->subscribe(questionChannel(node), onQuestion);
    m_subscriber->subscribe(
            replyChannel(node),
            [this](const QByteArray &, const QByteArray &message) { answer(message); });
    m_subscriber->open(url, "switchboard-asks:" + nodeName.toUtf8());
}

void ClusterAsks::stop()
{
    if (m_subscriber)
        m_subscriber->close();
    const QList<quint64> ids = m_pending.keys();
    for (quint64 id : ids)
        finish(id, false);
}

void ClusterAsks::ask(quint64 node, const QString &op, const QJsonObject &args, Done done)
{
    if (!m_subscriber || !m_subscriber->isConnected() || !m_commands->isConnected()) {
        done(false, {});
        return;
    }
    const quint64 id = ++m_nextId;
    Pending &pending = m_pending[id];
    pending.done = std::move(done);
    pending.timer = new QTimer(this);
    pending.timer->setSingleShot(true);
    connect(pending.timer, &QTimer::timeout, this, [this, id] { finish(id, true); });
    pending.timer->start(kTimeoutMs);
    const QJsonObject question{{u"id"_qs, QString::number(id)},
                               {u"from"_qs, qint64(m_node)},
                               {u"op"_qs, op},
                               {u"args"_qs, args}};
    const bool sent = m_commands->command({QByteArrayLiteral("PUBLISH"), questionChannel(node),
                                           QJsonDocument(question).toJson(QJsonDocument::Compact)},
                                          [this, id](const RedisReply &reply) {
                                              const auto it = m_pending.find(id);
                                              if (it == m_pending.end())
                                                  return;
                                              if (reply.isError()) {
                                                  finish(id, false);
                                                  return;
                                              }
                                              it->expected = reply.toInt();
                                              if (it->answers.size() >= it->expected)
                                                  finish(id, true);
                                          });
    if (!sent)
        finish(id, false);
}

void ClusterAsks::question(const QByteArray &message)
{
    const QJsonObject q = QJsonDocument::fromJson(message).object();
    const quint64 from = quint64(q.value(u"from").toInteger());
    if (from == 0 || !m_answerer)
        return;
    QJsonObject a = m_answerer(q.value(u"op").toString(), q.value(u"args").toObject());
    a.insert(u"node"_qs, m_nodeName);
    QJsonObject reply{{u"id"_qs, q.value(u"id")}, {u"answer"_qs, a}};
    QByteArray bytes = QJsonDocument(reply).toJson(QJsonDocument::Compact);
    if (bytes.size() > kMaxAnswerBytes) {
        reply.insert(
                u"answer"_qs,
                QJsonObject{{u"node"_qs, m_nodeName}, {u"error"_qs, QStringLiteral("too large")}});
        bytes = QJsonDocument(reply).toJson(QJsonDocument::Compact);
    }
    m_commands->command({QByteArrayLiteral("PUBLISH"), replyChannel(from), bytes});
}

void ClusterAsks::answer(const QByteArray &message)
{
    const QJsonObject a = QJsonDocument::fromJson(message).object();
    const quint64 id = a.value(u"id").toString().toULongLong();
    const auto it = m_pending.find(id);
    if (it == m_pending.end())
        return; // timed out already
    it->answers.append(a.value(u"answer").toObject());
    if (it->expected >= 0 && it->answers.size() >= it->expected)
        finish(id, true);
}

void ClusterAsks::finish(quint64 id, bool ok)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    Pending pending = std::move(*it);
    m_pending.erase(it);
    pending.timer->stop();
    pending.timer->deleteLater(); // finish() may run in the timer's own timeout
    pending.done(ok, pending.answers);
}

} // namespace sb
