#pragma once

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>

#include <functional>

class QTimer;

namespace sb {

class RedisClient;
struct RedisUrl;

// Questions one node asks the others, over Redis pub/sub (docs/ARCHITECTURE.md, "Cluster"):
// the cluster-wide lists of connections and rooms, a connection on another node (close, send),
// an unregister on every node. A question goes to sb:rpc:all or sb:rpc:<k>; each node that
// hears it answers on sb:reply:<asker>. PUBLISH says how many nodes heard it, so the asker
// knows how many answers to wait for (at most kTimeoutMs). Lives on the cluster's thread.
class ClusterAsks final : public QObject
{
    Q_OBJECT
public:
    // The answers, each with "node" (the answering node's name); ok false: Redis was not
    // reachable, nobody was asked.
    using Done = std::function<void(bool ok, const QList<QJsonObject> &answers)>;
    // How this node answers a question (runs on the cluster's thread).
    using Answerer = std::function<QJsonObject(const QString &op, const QJsonObject &args)>;

    static constexpr int kTimeoutMs = 2000;
    // Answers past this size are refused (a list of every connection of a huge node would
    // take Redis's memory for a moment): the node answers {"error": "too large"}.
    static constexpr qsizetype kMaxAnswerBytes = 64 * 1024 * 1024;

    // commands: the node's command connection (PUBLISH). The subscriber connection is made here.
    ClusterAsks(RedisClient *commands, QObject *parent = nullptr);

    // Once the node's number is known: subscribes to the questions for all and for `node`.
    void start(const RedisUrl &url, quint64 node, const QString &nodeName, Answerer answerer);
    void stop();
    // node 0: every node (this one too).
    void ask(quint64 node, const QString &op, const QJsonObject &args, Done done);

private:
    struct Pending
    {
        qint64 expected = -1; // unknown until PUBLISH answers
        QList<QJsonObject> answers;
        Done done;
        QTimer *timer = nullptr;
    };
    void question(const QByteArray &message);
    void answer(const QByteArray &message);
    void finish(quint64 id, bool ok);

    RedisClient *const m_commands;
    RedisClient *m_subscriber = nullptr;
    quint64 m_node = 0;
    QString m_nodeName;
    Answerer m_answerer;
    quint64 m_nextId = 0;
    QHash<quint64, Pending> m_pending;
};

} // namespace sb
