#include "ClusterFixture.h"

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QDebug>
#include <QRandomGenerator>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace sbit {

namespace {

QByteArray randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    for (int i = 0; i < bytes; ++i)
        raw[i] = char(QRandomGenerator::global()->bounded(256));
    return raw.toHex();
}

} // namespace

ClusterFixture::ClusterFixture()
    : m_apiKey("cluster-key-" + randomHex(12)), m_jwtSecret("cluster-secret-" + randomHex(16))
{ }

ClusterFixture::~ClusterFixture()
{
    reset();
}

bool ClusterFixture::startRedis(bool persistent, QString *why)
{
    m_redis = std::make_unique<RedisServerProcess>();
    RedisServerProcess::Options options;
    if (persistent)
        options.extraArgs = QStringList{u"--appendonly"_s, u"yes"_s};
    m_redis->setOptions(options);
    if (!m_redis->start()) {
        *why = m_redis->lastError();
        return false;
    }
    return true;
}

QStringList ClusterFixture::nodeArgs(const QString &name) const
{
    return QStringList{u"--redis"_s, m_redis->url(), u"--node-name"_s, name} + m_extraNodeArgs;
}

std::unique_ptr<ServerProcess> ClusterFixture::newNode() const
{
    auto node = std::make_unique<ServerProcess>();
    node->setApiKey(m_apiKey);
    node->setJwtSecret(m_jwtSecret);
    return node;
}

bool ClusterFixture::startNodes(int count, QString *why)
{
    for (int i = 0; i < count; ++i) {
        auto node = newNode();
        if (!node->start(nodeArgs(nodeName(size())))) {
            *why = node->lastError();
            return false;
        }
        m_apis.push_back(node->client());
        m_nodes.push_back(std::move(node));
    }
    // A node lists the others from its heartbeat (every second): wait until each lists all.
    for (int i = 0; i < size(); ++i) {
        if (!waitUntil([&] { return nodesList(api(i)).size() == size(); }, 5000)) {
            *why = nodeName(i) % u" lists "_s
                    % QString::fromUtf8(json({{u"nodes"_s, nodesList(api(i))}}));
            return false;
        }
    }
    return true;
}

void ClusterFixture::killNode(int i)
{
    node(i).kill();
}

std::unique_ptr<WsClient> ClusterFixture::member(int on, const QString &room, const QString &user,
                                                 const QString &session, bool publish, QString *why)
{
    QString ignored;
    QString &reason = why ? *why : ignored;
    HttpResponse reg;
    QJsonObject extra;
    if (publish)
        extra.insert(u"publish"_s, true);
    // Registered on another node: tokens are the cluster's, any node mints them.
    const QByteArray token =
            registerToken(api((on + 1) % size()), room, user, session, extra, &reg);
    if (token.isEmpty()) {
        reason = u"register failed: "_s % reg.describe();
        return nullptr;
    }
    auto client = std::make_unique<WsClient>();
    if (!client->open(node(on).wsUrl(u"/ws"_s))) {
        reason = u"cannot open /ws on "_s % nodeName(on) % u": "_s % client->errorString();
        return nullptr;
    }
    const QJsonObject joined = client->join(token);
    if (joined.value(u"type"_s).toString() != u"joined") {
        reason = u"join on "_s % nodeName(on) % u" answered "_s % compact(joined);
        return nullptr;
    }
    return client;
}

bool ClusterFixture::stopNodes(QString *problems)
{
    QStringList found;
    for (int i = 0; i < size(); ++i) {
        ServerProcess &n = node(i);
        // (a node killed by the test is not stopped, but its output is read too)
        const int code = n.isRunning() ? n.stop(15000) : 0;
        const QString out = n.output();
        const qsizetype report =
                std::max({out.indexOf(u"Sanitizer"_s), out.indexOf(u"runtime error:"_s)});
        if (code != 0)
            found << nodeName(i) % u" exited with "_s % QString::number(code);
        if (report >= 0)
            found << nodeName(i) % u" printed a sanitizer report:\n"_s % out.mid(report, 6000);
    }
    *problems = found.join(u'\n');
    return found.isEmpty();
}

void ClusterFixture::printOutputs() const
{
    for (size_t i = 0; i < m_nodes.size(); ++i)
        qWarning().noquote() << nodeName(int(i)) << "output (tail):\n"
                             << m_nodes[i]->output().right(3000);
    if (m_redis)
        qWarning().noquote() << "redis output (tail):\n" << m_redis->output().right(1500);
}

void ClusterFixture::reset()
{
    m_apis.clear();
    for (auto &n : m_nodes)
        n->kill();
    m_nodes.clear();
    if (m_redis)
        m_redis->kill();
    m_redis.reset();
}

EmitStream::EmitStream(const ServerProcess &server, const QString &room, const QString &source,
                       int window)
    : m_server(server), m_room(room), m_source(source), m_window(window)
{ }

bool EmitStream::connectTo()
{
    m_parser = HttpResponseParser();
    m_socket.abort();
    m_socket.connectToHost(m_server.host(), m_server.port());
    return waitUntil([&] { return m_socket.state() == QAbstractSocket::ConnectedState; }, 5000);
}

QByteArray EmitStream::request(int n) const
{
    const QByteArray body = R"({"room":")" + m_room.toUtf8() + R"(","event":"load","data":{"src":")"
            + m_source.toUtf8() + R"(","n":)" + QByteArray::number(n) + "}}";
    return rawRequest(m_server, "POST", "/api/emit/room", body);
}

void EmitStream::take(const HttpResponse &r)
{
    ++m_answered;
    if (r.status >= 200 && r.status < 300) {
        ids.append(r.object().value(u"id"_s).toInteger());
    } else if (r.status == 503 && r.errorCode() == u"unavailable") {
        if (unavailable++ == 0)
            unavailableMessage = r.errorMessage();
        if (r.errorMessage().contains(u"(in doubt)"))
            ++inDoubt;
        if (r.header("Retry-After").isEmpty())
            ++unavailableNoRetry;
    } else {
        if (others++ < 3)
            qWarning().noquote() << "emit answered" << r.describe();
    }
}

void EmitStream::pump()
{
    m_parser.feed(m_socket.readAll());
    HttpResponse r;
    while (m_parser.take(&r)) {
        if (r.status >= 200) // not a 1xx interim answer
            take(r);
    }
    if (m_socket.state() != QAbstractSocket::ConnectedState) {
        // The server closed the connection: what was in flight has no answer.
        lost += m_sent - m_answered;
        qWarning() << "emit connection closed;" << m_sent - m_answered << "requests lost";
        m_answered = m_sent;
        if (!connectTo())
            return;
    }
    QByteArray out;
    while (!m_stopped && (m_total < 0 || m_sent < m_total) && m_sent - m_answered < m_window)
        out += request(m_sent++);
    if (!out.isEmpty())
        m_socket.write(out);
}

bool EmitStream::finished() const
{
    return m_sent == m_answered && (m_stopped || m_sent == m_total);
}

void Receiver::collect()
{
    const QList<WsFrame> frames = client->take(u"event"_s);
    for (const WsFrame &f : frames) {
        const qint64 id = f.object.value(u"id"_s).toInteger();
        if (problem.isEmpty() && !ids.isEmpty() && id <= ids.last())
            problem = u"%1 received id %2 after %3"_s.arg(where).arg(id).arg(ids.last());
        ids.append(id);
    }
}

bool allReceived(std::vector<Receiver> &receivers, int count)
{
    bool all = true;
    for (Receiver &r : receivers) {
        r.collect();
        all = all && r.ids.size() >= count;
    }
    return all;
}

QJsonArray allLogRecords(HttpClient &api)
{
    QJsonArray out;
    qint64 since = 0;
    for (;;) {
        const HttpResponse r = api.get("/api/log?limit=1000&since_id=" + QByteArray::number(since));
        const QJsonArray page = r.object().value(u"records"_s).toArray();
        for (const QJsonValue &v : page)
            out.append(v);
        if (r.status != 200 || page.size() < 1000)
            return out;
        since = page.last().toObject().value(u"id"_s).toInteger();
    }
}

QList<qint64> idsOf(const QJsonArray &records)
{
    QList<qint64> ids;
    for (const QJsonValue &v : records)
        ids.append(v.toObject().value(u"id"_s).toInteger());
    return ids;
}

QJsonArray nodesList(HttpClient &api)
{
    return api.get("/api/nodes").array();
}

QString describeIds(const QList<qint64> &ids)
{
    QList<qint64> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    QStringList parts;
    for (qsizetype i = 0; i < sorted.size() && i < 20; ++i)
        parts << QString::number(sorted[i]);
    if (sorted.size() > 20)
        parts << u"... (%1 ids)"_s.arg(sorted.size());
    return parts.join(u' ');
}

} // namespace sbit
