// sb::RedisClient (server/redis) against real redis-server processes: pipelining, binary
// argv, AUTH/SELECT from the URL, losses and reconnects, pub/sub across a restart, the
// pending bounds, and callbacks that call back into the client or delete it
// (docs/ARCHITECTURE.md, "The Redis client").

#include "RedisServerProcess.h"
#include "TestSupport.h"

#include "redis/RedisClient.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QtTest>

#include <memory>

using namespace Qt::StringLiterals;
using sb::RedisClient;
using sb::RedisReply;
using sb::RedisUrl;
using sbit::RedisServerProcess;
using sbit::waitUntil;

namespace {

RedisUrl parsed(const QString &text)
{
    QString error;
    const auto url = RedisUrl::parse(text, &error);
    if (!url)
        qFatal("bad test URL %s: %s", qPrintable(text), qPrintable(error));
    return *url;
}

// Opens the client and waits for connected().
bool openAndWait(RedisClient &client, const QString &url, const QByteArray &name = {})
{
    client.open(parsed(url), name);
    return waitUntil([&] { return client.isConnected(); }, 5000);
}

// Sends one command and waits for its reply.
RedisReply sync(RedisClient &client, const QList<QByteArray> &argv)
{
    std::optional<RedisReply> reply;
    if (!client.command(argv, [&](const RedisReply &r) { reply = r; }))
        return RedisReply::error("command() refused");
    waitUntil([&] { return reply.has_value(); }, 5000);
    return reply.value_or(RedisReply::error("no reply within 5 s"));
}

} // namespace

class TestRedisClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void pipelinedIncrsInOrder();
    void binarySafeArgv();
    void authUserAndDbFromUrl();
    void unixSocket();
    void wrongPasswordFails();
    void connectTimeout();
    void killFailsPendingOnceAndReconnects();
    void subscribeSurvivesRestart();
    void pendingLimits();
    void commandFromCallback();
    void deleteFromCallback();
    void closeFromCallback();

private:
    std::unique_ptr<RedisServerProcess> m_redis;
    bool startRedis(const RedisServerProcess::Options &options = {});
};

bool TestRedisClient::startRedis(const RedisServerProcess::Options &options)
{
    m_redis = std::make_unique<RedisServerProcess>();
    m_redis->setOptions(options);
    if (m_redis->start())
        return true;
    qWarning("%s", qPrintable(m_redis->lastError()));
    return false;
}

void TestRedisClient::init()
{
    m_redis.reset();
}

void TestRedisClient::pipelinedIncrsInOrder()
{
    QVERIFY(startRedis());
    RedisClient client;
    QVERIFY(openAndWait(client, m_redis->url()));
    QVERIFY(!client.command({}));
    qint64 latencies = 0;
    client.setLatencyObserver([&](qint64 ns) {
        QVERIFY(ns > 0);
        ++latencies;
    });
    constexpr int n = 20000;
    QList<qint64> seen;
    for (int i = 0; i < n; ++i) {
        QVERIFY(client.command({"INCR", "counter"}, [&](const RedisReply &r) {
            QCOMPARE(r.type, RedisReply::Type::Integer);
            seen.append(r.integer);
        }));
    }
    QCOMPARE(client.pendingCommands(), n);
    QVERIFY(client.pendingBytes() > 0);
    QVERIFY(waitUntil([&] { return seen.size() == n; }, 20000));
    for (int i = 0; i < n; ++i)
        QCOMPARE(seen[i], i + 1);
    QCOMPARE(client.pendingCommands(), 0);
    QCOMPARE(client.pendingBytes(), 0);
    QCOMPARE(latencies, n);
    bool ok = false;
    QCOMPARE(sync(client, {"GET", "counter"}).toInt(&ok), n);
    QVERIFY(ok);
}

void TestRedisClient::binarySafeArgv()
{
    QVERIFY(startRedis());
    RedisClient client;
    QVERIFY(openAndWait(client, m_redis->url()));
    const QByteArray key("k\0ey\r\n", 6);
    QByteArray value(1024 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < value.size(); ++i)
        value[i] = char(i * 131 % 256); // every byte value, NULs included
    QCOMPARE(sync(client, {"SET", key, value}).string, "OK");
    const RedisReply got = sync(client, {"GET", key});
    QCOMPARE(got.type, RedisReply::Type::String);
    QCOMPARE(got.string.size(), value.size());
    QVERIFY(got.string == value);
    QVERIFY(sync(client, {"GET", "k"}).isNil());
    const RedisReply list = sync(client, {"MGET", key, "missing"});
    QCOMPARE(list.elements.size(), 2);
    QVERIFY(list.elements[1].isNil());
    const RedisReply wrong = sync(client, {"NOSUCHCOMMAND"});
    QVERIFY(wrong.isError());
    QVERIFY2(wrong.errorText().contains(u"unknown command"_s), qPrintable(wrong.errorText()));
}

void TestRedisClient::authUserAndDbFromUrl()
{
    QVERIFY(startRedis({u"adminpw"_s, false, {}}));
    QString error;
    QVERIFY2(m_redis->call({"ACL", "SETUSER", "sb-node", "on", ">p@ss/w:rd", "~*", "&*", "+@all"},
                           nullptr, &error),
             qPrintable(error));
    RedisClient client;
    const QString url = u"redis://sb-node:p%40ss%2Fw%3Ard@127.0.0.1:%1/3"_s.arg(m_redis->port());
    QVERIFY(openAndWait(client, url, "switchboard-node-1"));
    QCOMPARE(sync(client, {"ACL", "WHOAMI"}).string, "sb-node");
    QCOMPARE(sync(client, {"CLIENT", "GETNAME"}).string, "switchboard-node-1");
    QCOMPARE(sync(client, {"SET", "where", "db3"}).string, "OK");
    QByteArray reply;
    QVERIFY(m_redis->call(
            {"EVAL", "redis.call('SELECT', 3) return redis.call('GET', 'where')", "0"}, &reply,
            &error));
    QCOMPARE(reply, "db3");

    // The default user with the password only.
    RedisClient admin;
    QVERIFY(openAndWait(admin, m_redis->url()));
    QCOMPARE(sync(admin, {"ACL", "WHOAMI"}).string, "default");
    QVERIFY(sync(admin, {"GET", "where"}).isNil()); // db 0
}

void TestRedisClient::unixSocket()
{
    QVERIFY(startRedis({{}, true, {}}));
    RedisClient client;
    QVERIFY(openAndWait(client, m_redis->unixUrl(2)));
    QCOMPARE(sync(client, {"PING"}).string, "PONG");
    QVERIFY(sync(client, {"CLIENT", "INFO"}).string.contains(" db=2 "));
}

void TestRedisClient::wrongPasswordFails()
{
    QVERIFY(startRedis({u"rightpw"_s, false, {}}));
    RedisClient client;
    QSignalSpy failed(&client, &RedisClient::failed);
    QSignalSpy connected(&client, &RedisClient::connected);
    client.open(parsed(u"redis://:wrongpw@127.0.0.1:%1"_s.arg(m_redis->port())));
    QVERIFY(waitUntil([&] { return !failed.isEmpty(); }, 5000));
    const QString why = failed.first().first().toString();
    QVERIFY2(why.startsWith(u"redis: "_s) && why.contains(u"AUTH refused"_s)
                     && why.contains(u"WRONGPASS"_s),
             qPrintable(why));
    QVERIFY2(!why.contains(u"wrongpw"_s), qPrintable(why));
    QVERIFY(!client.isConnected());
    QVERIFY(!client.command({"PING"}));
    // It keeps trying (with backoff) and keeps failing the same way.
    QVERIFY(waitUntil([&] { return failed.size() >= 2; }, 3000));
    QCOMPARE(connected.size(), 0);

    // No password at all: PING is refused.
    RedisClient none;
    QSignalSpy noneFailed(&none, &RedisClient::failed);
    none.open(parsed(m_redis->url().replace(u":rightpw@"_s, QString())));
    QVERIFY(waitUntil([&] { return !noneFailed.isEmpty(); }, 5000));
    QVERIFY2(noneFailed.first().first().toString().contains(u"NOAUTH"_s),
             qPrintable(noneFailed.first().first().toString()));
}

void TestRedisClient::connectTimeout()
{
    // A server that accepts and never answers: the handshake's PING times out.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    RedisClient client;
    QSignalSpy failed(&client, &RedisClient::failed);
    client.open(parsed(u"redis://127.0.0.1:%1"_s.arg(silent.serverPort())));
    QVERIFY(!waitUntil([&] { return !failed.isEmpty(); }, RedisClient::kConnectTimeoutMs - 300));
    QVERIFY(waitUntil([&] { return !failed.isEmpty(); }, 2000));
    QVERIFY2(failed.first().first().toString().contains(u"2000 ms"_s),
             qPrintable(failed.first().first().toString()));
}

void TestRedisClient::killFailsPendingOnceAndReconnects()
{
    QVERIFY(startRedis());
    RedisClient client;
    QSignalSpy disconnected(&client, &RedisClient::disconnected);
    QSignalSpy connected(&client, &RedisClient::connected);
    QVERIFY(openAndWait(client, m_redis->url()));
    // A blocked BLPOP, and commands queued behind it on the same connection.
    constexpr int n = 100;
    QList<int> calls(n + 1, 0);
    QStringList errors;
    const auto record = [&](int i) {
        return [&, i](const RedisReply &r) {
            ++calls[i];
            errors << r.errorText();
        };
    };
    QVERIFY(client.command({"BLPOP", "nothing", "0"}, record(0)));
    for (int i = 1; i <= n; ++i)
        QVERIFY(client.command({"INCR", "x"}, record(i)));
    sbit::spin(100);
    QCOMPARE(errors.size(), 0);
    m_redis->kill();
    QVERIFY(waitUntil([&] { return !disconnected.isEmpty(); }, 5000));
    QVERIFY(waitUntil([&] { return errors.size() == n + 1; }, 1000));
    for (int i = 0; i <= n; ++i)
        QCOMPARE(calls[i], 1);
    for (const QString &e : std::as_const(errors))
        QVERIFY2(e.startsWith(u"connection lost"_s), qPrintable(e));
    QCOMPARE(client.pendingCommands(), 0);
    QCOMPARE(client.pendingBytes(), 0);
    QVERIFY(!client.isConnected());
    QVERIFY(!client.command({"PING"}));

    // Back on the same port: reconnects within the backoff, commands work again.
    sbit::spin(600); // a few failed attempts first
    QVERIFY2(m_redis->start(), qPrintable(m_redis->lastError()));
    QVERIFY(waitUntil([&] { return client.isConnected(); }, 8000));
    QCOMPARE(connected.size(), 2);
    QCOMPARE(disconnected.size(), 1);
    QCOMPARE(sync(client, {"INCR", "x"}).integer, 1); // a fresh server
    sbit::spin(300);
    QCOMPARE(calls.count(1), n + 1); // nothing called twice
}

void TestRedisClient::subscribeSurvivesRestart()
{
    QVERIFY(startRedis());
    RedisClient sub;
    QList<QByteArrayList> got;
    QVERIFY(sub.subscribe("bus", [&](const QByteArray &ch, const QByteArray &msg) {
        got.append({ch, msg});
    }));
    QVERIFY(!sub.subscribe("bus", [](const QByteArray &, const QByteArray &) {}));
    QVERIFY(sub.psubscribe("node.*", [&](const QByteArray &ch, const QByteArray &msg) {
        got.append({"p:" + ch, msg});
    }));
    QVERIFY(openAndWait(sub, m_redis->url(), "sub"));
    QVERIFY(!sub.command({"PING"})); // a pub/sub client
    const auto publishUntilHeard = [&](const QByteArray &ch, const QByteArray &msg) {
        return waitUntil(
                [&] {
                    QByteArray receivers;
                    m_redis->call({"PUBLISH", ch, msg}, &receivers);
                    return receivers == "1";
                },
                8000);
    };
    QVERIFY(publishUntilHeard("bus", QByteArray("hello\0world", 11)));
    QVERIFY(publishUntilHeard("node.7", "to seven"));
    QVERIFY(waitUntil([&] { return got.size() == 2; }, 2000));
    QCOMPARE(got[0], (QByteArrayList{"bus", QByteArray("hello\0world", 11)}));
    QCOMPARE(got[1], (QByteArrayList{"p:node.7", "to seven"}));

    QSignalSpy disconnected(&sub, &RedisClient::disconnected);
    QVERIFY(m_redis->restart());
    QVERIFY(waitUntil([&] { return !disconnected.isEmpty(); }, 5000));
    QVERIFY(waitUntil([&] { return sub.isConnected(); }, 8000));
    got.clear();
    QVERIFY(publishUntilHeard("bus", "again"));
    QVERIFY(publishUntilHeard("node.1", "again 1"));
    QVERIFY(waitUntil([&] { return got.size() == 2; }, 2000));
    QCOMPARE(got[0], (QByteArrayList{"bus", "again"}));
    QCOMPARE(got[1], (QByteArrayList{"p:node.1", "again 1"}));
}

void TestRedisClient::pendingLimits()
{
    QVERIFY(startRedis());
    RedisClient client;
    QVERIFY(openAndWait(client, m_redis->url()));
    client.setPendingLimits(10, 1024);
    int answered = 0;
    QVERIFY(client.command({"BLPOP", "nothing", "0"}, [&](const RedisReply &) { ++answered; }));
    for (int i = 0; i < 9; ++i)
        QVERIFY(client.command({"PING"}, [&](const RedisReply &) { ++answered; }));
    QCOMPARE(client.pendingCommands(), 10);
    QVERIFY(!client.command({"PING"}, [&](const RedisReply &) { ++answered; }));
    client.setPendingLimits(100, 1024);
    QVERIFY(!client.command({"SET", "k", QByteArray(1024, 'x')}));
    QVERIFY(client.command({"SET", "k", QByteArray(900, 'x')},
                           [&](const RedisReply &) { ++answered; }));
    QCOMPARE(client.pendingCommands(), 11);
    client.close();
    QCOMPARE(answered, 11);
    QCOMPARE(client.pendingCommands(), 0);
    QVERIFY(!client.command({"PING"}));
    sbit::spin(600);
    QVERIFY(!client.isConnected()); // closed for good
}

void TestRedisClient::commandFromCallback()
{
    QVERIFY(startRedis());
    RedisClient client;
    QVERIFY(openAndWait(client, m_redis->url()));
    int depth = 0;
    std::function<void(const RedisReply &)> next = [&](const RedisReply &r) {
        QCOMPARE(r.integer, depth + 1);
        if (++depth < 200)
            QVERIFY(client.command({"INCR", "chain"}, next));
    };
    QVERIFY(client.command({"INCR", "chain"}, next));
    QVERIFY(waitUntil([&] { return depth == 200; }, 5000));
}

void TestRedisClient::deleteFromCallback()
{
    QVERIFY(startRedis());
    auto *client = new RedisClient;
    QVERIFY(openAndWait(*client, m_redis->url()));
    constexpr int n = 50;
    QList<int> calls(n, 0);
    QList<RedisReply> replies(n);
    for (int i = 0; i < n; ++i) {
        QVERIFY(client->command({"INCR", "d"}, [&, i](const RedisReply &r) {
            ++calls[i];
            replies[i] = r;
            if (i == 3) {
                delete client;
                client = nullptr;
            }
        }));
    }
    QVERIFY(client->command({"BLPOP", "nothing", "0"}, [&](const RedisReply &r) {
        QVERIFY(r.errorText().startsWith(u"connection lost"_s));
        calls.append(1);
    }));
    QVERIFY(waitUntil([&] { return client == nullptr && calls.size() == n + 1; }, 5000));
    for (int i = 0; i < n; ++i) {
        QCOMPARE(calls[i], 1);
        QVERIFY(replies[i].type == RedisReply::Type::Integer
                || replies[i].errorText().startsWith(u"connection lost"_s));
    }
    sbit::spin(200);

    // Deleted from its connected() signal too.
    auto *other = new RedisClient;
    connect(other, &RedisClient::connected, this, [&] {
        delete other;
        other = nullptr;
    });
    other->open(parsed(m_redis->url()));
    QVERIFY(waitUntil([&] { return other == nullptr; }, 5000));

    // And from a message handler (two messages in one read: the second is dropped).
    auto *sub = new RedisClient;
    QVERIFY(sub->subscribe("gone", [&](const QByteArray &, const QByteArray &) {
        delete sub;
        sub = nullptr;
    }));
    QVERIFY(openAndWait(*sub, m_redis->url()));
    QVERIFY(waitUntil(
            [&] {
                m_redis->call({"EVAL",
                               "redis.call('PUBLISH', 'gone', 1) "
                               "return redis.call('PUBLISH', 'gone', 2)",
                               "0"});
                return sub == nullptr;
            },
            5000));
}

void TestRedisClient::closeFromCallback()
{
    QVERIFY(startRedis());
    RedisClient client;
    QVERIFY(openAndWait(client, m_redis->url()));
    QStringList results;
    for (int i = 0; i < 5; ++i) {
        QVERIFY(client.command({"PING"}, [&, i](const RedisReply &r) {
            results << (r.isError() ? r.errorText() : QString::fromUtf8(r.string));
            if (i == 0)
                client.close();
        }));
    }
    QVERIFY(client.command({"BLPOP", "nothing", "0"},
                           [&](const RedisReply &r) { results << r.errorText(); }));
    QVERIFY(waitUntil([&] { return results.size() == 6; }, 5000));
    QCOMPARE(results.last(), u"connection lost: client closed"_s);
    QVERIFY(!client.isConnected());
    // open() again after close() works.
    QVERIFY(openAndWait(client, m_redis->url()));
    QCOMPARE(sync(client, {"PING"}).string, "PONG");
}

QTEST_GUILESS_MAIN(TestRedisClient)
#include "tst_redis_client.moc"
