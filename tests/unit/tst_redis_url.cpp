// Unit tests of sb::RedisUrl: the redis:// and unix:// forms, the errors (each names the
// field `redis`) and the redaction of the password for logs (docs/ARCHITECTURE.md,
// "The Redis client").

#include "redis/RedisUrl.h"

#include <QtTest>

using namespace Qt::StringLiterals;
using sb::RedisUrl;

class TestRedisUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void redacted();
    void nullError();
};

void TestRedisUrl::valid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("unixPath");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<int>("db");

    const auto row = [](const char *name, const QString &text, const QString &host, int port,
                        const QString &unixPath, const QString &user, const QString &password,
                        int db) {
        QTest::newRow(name) << text << host << port << unixPath << user << password << db;
    };
    row("host only", u"redis://localhost"_s, u"localhost"_s, 6379, {}, {}, {}, 0);
    row("host and port", u"redis://10.0.0.5:6380"_s, u"10.0.0.5"_s, 6380, {}, {}, {}, 0);
    row("db", u"redis://r1.example.com:7000/3"_s, u"r1.example.com"_s, 7000, {}, {}, {}, 3);
    row("empty db", u"redis://h/"_s, u"h"_s, 6379, {}, {}, {}, 0);
    row("password only", u"redis://:s3cret@h"_s, u"h"_s, 6379, {}, {}, u"s3cret"_s, 0);
    row("user and password", u"redis://sb:pw@h:1/2"_s, u"h"_s, 1, {}, u"sb"_s, u"pw"_s, 2);
    row("percent-decoded", u"redis://a%20b:p%40ss%3Aw%2F@h"_s, u"h"_s, 6379, {}, u"a b"_s,
        u"p@ss:w/"_s, 0);
    row("raw @ and / in password", u"redis://:p@ss/w@h:9/1"_s, u"h"_s, 9, {}, {}, u"p@ss/w"_s, 1);
    row("ipv6", u"redis://[::1]:6390/4"_s, u"::1"_s, 6390, {}, {}, {}, 4);
    row("ipv6 no port", u"redis://[fe80::1]"_s, u"fe80::1"_s, 6379, {}, {}, {}, 0);
    row("scheme case", u"REDIS://H:1"_s, u"H"_s, 1, {}, {}, {}, 0);
    row("spaces trimmed", u"  redis://h  "_s, u"h"_s, 6379, {}, {}, {}, 0);
    row("unix", u"unix:///run/redis/redis.sock"_s, {}, 6379, u"/run/redis/redis.sock"_s, {}, {}, 0);
    row("unix db", u"unix:///tmp/r.sock?db=5"_s, {}, 6379, u"/tmp/r.sock"_s, {}, {}, 5);
}

void TestRedisUrl::valid()
{
    QFETCH(QString, text);
    QString error = u"untouched"_s;
    const auto url = RedisUrl::parse(text, &error);
    QVERIFY2(url, qPrintable(error));
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, unixPath);
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(int, db);
    QCOMPARE(url->host, host);
    QCOMPARE(url->port, port);
    QCOMPARE(url->unixPath, unixPath);
    QCOMPARE(url->isUnix(), !unixPath.isEmpty());
    QCOMPARE(url->user, user);
    QCOMPARE(url->password, password);
    QCOMPARE(url->db, db);
}

void TestRedisUrl::invalid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected"); // a part of the error

    QTest::newRow("empty") << u""_s << u"empty"_s;
    QTest::newRow("scheme") << u"http://h"_s << u"redis:// or unix://"_s;
    QTest::newRow("no scheme") << u"localhost:6379"_s << u"redis:// or unix://"_s;
    QTest::newRow("tls") << u"rediss://h"_s << u"TLS"_s;
    QTest::newRow("port 0") << u"redis://h:0"_s << u"port must be 1-65535"_s;
    QTest::newRow("port big") << u"redis://h:65536"_s << u"port must be 1-65535"_s;
    QTest::newRow("port text") << u"redis://h:abc"_s << u"port must be 1-65535"_s;
    QTest::newRow("port sign") << u"redis://h:+80"_s << u"port must be 1-65535"_s;
    QTest::newRow("port empty") << u"redis://h:"_s << u"port must be 1-65535"_s;
    QTest::newRow("no host") << u"redis://:6379"_s << u"host is missing"_s;
    QTest::newRow("no host at all") << u"redis://"_s << u"host is missing"_s;
    QTest::newRow("host chars") << u"redis://h st"_s << u"host"_s;
    QTest::newRow("db text") << u"redis://h/x"_s << u"db must be"_s;
    QTest::newRow("db negative") << u"redis://h/-1"_s << u"db must be"_s;
    QTest::newRow("query") << u"redis://h?db=1"_s << u"'?'"_s;
    QTest::newRow("user no colon") << u"redis://user@h"_s << u"user:password"_s;
    QTest::newRow("empty password") << u"redis://user:@h"_s << u"password is empty"_s;
    QTest::newRow("bad percent") << u"redis://:a%zz@h"_s << u"password has a '%'"_s;
    QTest::newRow("ipv6 open") << u"redis://[::1"_s << u"closing ']'"_s;
    QTest::newRow("ipv6 bad") << u"redis://[nothost]:1"_s << u"not an IPv6 address"_s;
    QTest::newRow("ipv6 junk") << u"redis://[::1]x"_s << u"after ']'"_s;
    QTest::newRow("unix relative") << u"unix://run/r.sock"_s << u"absolute"_s;
    QTest::newRow("unix empty") << u"unix://"_s << u"absolute"_s;
    QTest::newRow("unix param") << u"unix:///r.sock?x=1"_s << u"unknown parameter 'x'"_s;
    QTest::newRow("unix db") << u"unix:///r.sock?db=z"_s << u"db must be"_s;
}

void TestRedisUrl::invalid()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QString error;
    QVERIFY(!RedisUrl::parse(text, &error));
    QVERIFY2(error.startsWith(u"redis: "_s), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestRedisUrl::redacted()
{
    QString error;
    auto url = RedisUrl::parse(u"redis://sb:top%40secret@h:7000/2"_s, &error);
    QVERIFY2(url, qPrintable(error));
    QCOMPARE(url->redacted(), u"redis://sb:***@h:7000/2"_s);
    QVERIFY(!url->redacted().contains(u"secret"_s));
    url = RedisUrl::parse(u"redis://:pw@[::1]"_s, &error);
    QCOMPARE(url->redacted(), u"redis://:***@[::1]:6379"_s);
    url = RedisUrl::parse(u"redis://h"_s, &error);
    QCOMPARE(url->redacted(), u"redis://h:6379"_s);
    url = RedisUrl::parse(u"unix:///tmp/r.sock?db=3"_s, &error);
    QCOMPARE(url->redacted(), u"unix:///tmp/r.sock?db=3"_s);

    // An error never shows the password, not even a malformed one.
    QVERIFY(!RedisUrl::parse(u"redis://:hunter2@h:99999"_s, &error));
    QVERIFY2(!error.contains(u"hunter2"_s), qPrintable(error));
}

void TestRedisUrl::nullError()
{
    QVERIFY(!RedisUrl::parse(u"nonsense"_s, nullptr));
    QVERIFY(RedisUrl::parse(u"redis://h"_s, nullptr));
}

QTEST_GUILESS_MAIN(TestRedisUrl)
#include "tst_redis_url.moc"
