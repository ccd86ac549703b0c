// The message log from outside the process: every emit is a record in GET /api/log, with the
// filters of PROTOCOL.md; an emit answered 200 survives kill -9; ids continue after a
// restart.

#include "HttpClient.h"
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
    void recordsHaveTheProtocolShape();
    void filtersAndPaging();
    void badQueryValuesNameTheField();
    void killMinus9LosesNoAnsweredEmit();

private:
    static QList<qint64> ids(const HttpResponse &response);
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
};

void TestMessageLog::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start({u"--log-level"_s, u"warning"_s}), qPrintable(m_server->lastError()));
    m_api = m_server->client();
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
    const HttpResponse emitted = m_api->post(
            "/api/emit/room",
            R"({"room":")" + room.toUtf8()
                    + R"(","event":"Shape","data":{"big":12345678901234567890123,"f":1.0}})",
            "application/json");
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
    ServerProcess server;
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
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
    QVERIFY2(server.start({u"--log-level"_s, u"warning"_s}), qPrintable(server.lastError()));
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
}

QTEST_MAIN(TestMessageLog)
#include "tst_message_log.moc"
