// The message log from outside the process: every emit is a record in GET /api/log, with the
// filters of docs/API.md, "`GET /api/log`: message log"; an emit answered 200 survives kill -9; ids
// continue after a restart. As tst_integration_message_log_pg (SB_TEST_LOG_BACKEND=postgresql) the
// daemon logs to a real PostgreSQL server instead (--log-database postgresql://...), each daemon in
// a fresh database of its own (tests/common/PgTestDatabase.h).

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "PgTestDatabase.h"
#include "ServerProcess.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

using namespace sbit;
using namespace Qt::StringLiterals;

class TestMessageLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void recordsHaveTheProtocolShape();
    void filtersAndPaging();
    void badQueryValuesNameTheField();
    void killMinus9LosesNoAnsweredEmit();

private:
    static QList<qint64> ids(const HttpResponse &response);
    // The daemon's arguments: SQLite in its data dir, or the PostgreSQL database `pg`.
    QStringList serverArgs(const sbtest::PgTestDatabase &pg) const;
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    QString m_pgServer;          // the PostgreSQL variant: the test server's URL
    sbtest::PgTestDatabase m_pg; // ...and m_server's database there
};

void TestMessageLog::initTestCase()
{
    if (sbtest::postgresqlWanted()) {
        if (sbtest::postgresqlDisabled())
            QSKIP(sbtest::kPostgresqlSkipped);
        QString error;
        m_pgServer = sbtest::postgresqlServerUrl(&error);
        QVERIFY2(!m_pgServer.isEmpty(), qPrintable(error));
        QVERIFY2(m_pg.create(m_pgServer, &error), qPrintable(error));
        qInfo("log database: PostgreSQL");
    }
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start(serverArgs(m_pg)), qPrintable(m_server->lastError()));
    m_api = m_server->client();
}

void TestMessageLog::cleanupTestCase()
{
    // The daemon first: its database is dropped after it.
    m_api.reset();
    m_server.reset();
    m_pg.drop();
}

QStringList TestMessageLog::serverArgs(const sbtest::PgTestDatabase &pg) const
{
    QStringList args{u"--log-level"_s, u"warning"_s};
    if (!m_pgServer.isEmpty())
        args << u"--log-database"_s << pg.url();
    return args;
}

QList<qint64> TestMessageLog::ids(const HttpResponse &response)
{
    QList<qint64> out;
    for (const QJsonValue &v : response.object().value(u"records"_s).toArray())
        out << v.toObject().value(u"id"_s).toInteger();
    return out;
}

void TestMessageLog::recordsHaveTheProtocolShape()
{
    const QString room = uniqueName(u"log:shape"_s);
    const HttpResponse emitted =
            emitRawData(*m_api, room, u"Shape"_s, R"({"big":12345678901234567890123,"f":1.0})");
    QCOMPARE(emitted.status, 200);
    const qint64 id = emitted.object().value(u"id"_s).toInteger();
    QVERIFY(id > 0);

    const HttpResponse log = m_api->get("/api/log?room=" + encodeSegment(room));
    QCOMPARE(log.status, 200);
    const QJsonArray records = log.object().value(u"records"_s).toArray();
    QCOMPARE(records.size(), 1);
    const QJsonObject r = records.first().toObject();
    QCOMPARE(r.value(u"id"_s).toInteger(), id);
    QVERIFY(qAbs(r.value(u"ts"_s).toInteger() - nowMs()) < 60000);
    QCOMPARE(r.value(u"source"_s).toString(), u"rest"_s);
    QCOMPARE(r.value(u"target"_s).toString(), u"room"_s);
    QCOMPARE(r.value(u"to"_s).toString(), room);
    QCOMPARE(r.value(u"event"_s).toString(), u"Shape"_s);
    QCOMPARE(r.value(u"delivered"_s).toInteger(), 0);
    QVERIFY(r.value(u"remote"_s).toString().startsWith(u"127.0.0.1:"_s));
    // data exactly as sent: no rounding, 1.0 stays 1.0
    const QByteArray record = minifyJson(log.body);
    QVERIFY2(record.contains(R"("data":{"big":12345678901234567890123,"f":1.0})"), record);

    // emit/all: "to" is null
    QCOMPARE(m_api->postJson("/api/emit/all", {{u"event"_s, u"ToAll"_s}}).status, 200);
    const HttpResponse all = m_api->get("/api/log?event=ToAll&limit=1");
    const QJsonObject a = all.object().value(u"records"_s).toArray().first().toObject();
    QCOMPARE(a.value(u"target"_s).toString(), u"all"_s);
    QVERIFY(a.value(u"to"_s).isNull());
}

void TestMessageLog::filtersAndPaging()
{
    const QString room = uniqueName(u"log:filter"_s);
    const QString user = uniqueName(u"LOGUSER"_s);
    QList<qint64> roomIds, userIds, pingIds;
    for (int i = 0; i < 6; ++i) {
        const QString event = i % 2 ? u"Ping"_s : u"Pong"_s;
        const HttpResponse r = m_api->postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, event}, {u"data"_s, i}});
        QCOMPARE(r.status, 200);
        roomIds << r.object().value(u"id"_s).toInteger();
        if (i % 2)
            pingIds << roomIds.last();
    }
    for (int i = 0; i < 2; ++i) {
        const HttpResponse r =
                m_api->postJson("/api/emit/user", {{u"user"_s, user}, {u"event"_s, u"Ping"_s}});
        QCOMPARE(r.status, 200);
        userIds << r.object().value(u"id"_s).toInteger();
    }
    const QByteArray r = "room=" + encodeSegment(room);
    QCOMPARE(ids(m_api->get("/api/log?" + r)), roomIds);
    QCOMPARE(ids(m_api->get("/api/log?user=" + encodeSegment(user))), userIds);
    QCOMPARE(ids(m_api->get("/api/log?" + r + "&event=Ping")), pingIds);
    // the newest `limit`, oldest first; since_id forwards; before_id backwards
    QCOMPARE(ids(m_api->get("/api/log?" + r + "&limit=2")), roomIds.mid(4));
    QCOMPARE(ids(m_api->get("/api/log?" + r
                            + "&limit=2&since_id=" + QByteArray::number(roomIds[0]))),
             roomIds.mid(1, 2));
    QCOMPARE(ids(m_api->get("/api/log?" + r
                            + "&limit=2&before_id=" + QByteArray::number(roomIds[4]))),
             roomIds.mid(2, 2));
    QCOMPARE(ids(m_api->get("/api/log?" + r + "&limit=5000")), roomIds); // clamped, not refused
    QCOMPARE(ids(m_api->get("/api/log?room=no-such-room")), QList<qint64>{});
}

void TestMessageLog::badQueryValuesNameTheField()
{
    for (const QByteArray &query : {QByteArrayLiteral("limit=0"), QByteArrayLiteral("limit=abc"),
                                    QByteArrayLiteral("limit=-1"), QByteArrayLiteral("since_id=x"),
                                    QByteArrayLiteral("before_id=1.5")}) {
        const HttpResponse r = m_api->get("/api/log?" + query);
        QCOMPARE(r.status, 400);
        const QString field = QString::fromLatin1(query.left(query.indexOf('=')));
        QVERIFY2(r.object()
                         .value(u"error"_s)
                         .toObject()
                         .value(u"message"_s)
                         .toString()
                         .contains(field),
                 r.body.constData());
    }
    QCOMPARE(m_server->client(false)->get("/api/log").status, 401);
}

void TestMessageLog::killMinus9LosesNoAnsweredEmit()
{
    // A daemon and a log of its own (restarted on the same data dir and database).
    sbtest::PgTestDatabase pg;
    QString error;
    if (!m_pgServer.isEmpty())
        QVERIFY2(pg.create(m_pgServer, &error), qPrintable(error));
    ServerProcess server;
    QVERIFY2(server.start(serverArgs(pg)), qPrintable(server.lastError()));
    auto api = server.client();
    const QString room = uniqueName(u"log:kill"_s);
    QList<qint64> answered;
    for (int i = 0; i < 300; ++i) {
        const HttpResponse r = api->postJson(
                "/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"Durable"_s}, {u"data"_s, i}});
        QCOMPARE(r.status, 200);
        answered << r.object().value(u"id"_s).toInteger();
    }
    server.kill(); // SIGKILL right after the last answer
    QVERIFY2(server.start(serverArgs(pg)), qPrintable(server.lastError()));
    auto again = server.client();
    const HttpResponse log =
            again->get("/api/log?limit=1000&since_id=0&room=" + encodeSegment(room));
    QCOMPARE(log.status, 200);
    QCOMPARE(ids(log), answered);
    // Ids go on after the highest one recorded.
    const HttpResponse next =
            again->postJson("/api/emit/room", {{u"room"_s, room}, {u"event"_s, u"After"_s}});
    QCOMPARE(next.status, 200);
    QCOMPARE(next.object().value(u"id"_s).toInteger(), answered.last() + 1);

    if (!m_pgServer.isEmpty()) {
        // Reopening an existing log is quiet (no libpq NOTICEs about the schema on stderr).
        QVERIFY2(!server.output().contains(u"NOTICE"_s), qPrintable(server.output()));
        // The records are in PostgreSQL itself, not somewhere else the daemon fell back to.
        // stop() writes what is still queued (the "After" emit).
        QCOMPARE(server.stop(), 0);
        const QVariant rows =
                pg.scalar(u"SELECT count(*) FROM messages WHERE to_name = ?"_s, {room}, &error);
        QVERIFY2(rows.isValid(), qPrintable(error));
        QCOMPARE(rows.toLongLong(), qint64(answered.size() + 1));
    }
}

QTEST_MAIN(TestMessageLog)
#include "tst_message_log.moc"
