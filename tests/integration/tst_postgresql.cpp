// The PostgreSQL side of PROTOCOL.md's "Database side", against a real PostgreSQL 15 (the
// pg_cluster_start fixture) and the real switchboardd:
//  - sql/postgresql/install.sql installs into a fresh database; switchboard.configure() points
//    it at the daemon started here; emit_to_room/user/all from SQL reach WebSocket clients and
//    return the message id; register() returns a token that joins; unregister() returns the
//    number of connections removed; a non-2xx answer raises an exception carrying the server's
//    message (SQLSTATE SB<status>); uninstall.sql removes the schema.
//  - switchboardd --pg-listen: a trigger that calls switchboard.notify() emits when its
//    transaction commits and never when it rolls back (log records with source notify); bad
//    payloads are skipped with a warning and the next good one still arrives; the listener
//    survives `scripts/pg-test-cluster.sh restart` of a private cluster (--pg-channel too).
//  - switchboardd --log-database on a private cluster that is restarted while emits go on:
//    every emit answered 200, during the restart too, is in GET /api/log afterwards (the
//    writer reconnects by itself) and in the database's messages table.

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "PgTestDatabase.h"
#include "ServerProcess.h"
#include "TestSupport.h"
#include "WsClient.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <functional>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

// What a trigger on an application table looks like (docs/postgresql.md): the row goes to the
// room of its department when the transaction commits.
const char *const kTriggerSql = R"SQL(
CREATE TABLE employees (id integer PRIMARY KEY, name text NOT NULL, dept text NOT NULL);
CREATE FUNCTION employees_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM switchboard.notify(jsonb_build_object(
        'room', 'hr:dept:' || NEW.dept,
        'event', 'RefreshEmployees',
        'data', jsonb_build_object('id', NEW.id, 'name', NEW.name)));
    RETURN NEW;
END;
$$;
CREATE TRIGGER employees_notify AFTER INSERT OR UPDATE ON employees
    FOR EACH ROW EXECUTE FUNCTION employees_changed();
)SQL";

QString psqlPath()
{
    const QString found = QStandardPaths::findExecutable(u"psql"_s);
    return found.isEmpty() ? u"/usr/lib/postgresql/15/bin/psql"_s : found;
}

QString sourcePath(const QString &relative)
{
    return QDir(QStringLiteral(SB_SOURCE_DIR)).filePath(relative);
}

} // namespace

class TestPostgresql : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void installIsRepeatable();
    void emitToRoomReachesWebSocketAndReturnsTheId();
    void registerReturnsATokenThatJoins();
    void emitToUserAndAll();
    void unregisterReturnsTheCount();
    void nonSuccessRaisesWithTheServersMessage();
    void triggerEmitsOnCommitNotOnRollback();
    void notifyRefusesWhatNotifyCannotCarry();
    void badPayloadsAreSkippedAndTheNextArrives();
    void listenerSurvivesPostgresRestart();
    void messageLogSurvivesPostgresRestart();
    void uninstallRemovesTheSchema();

private:
    // Runs sql on the connection named `connection` (opened on url if needed); returns the
    // first column of the first row. On failure: invalid QVariant, *error = the database's
    // text, *sqlState = the SQLSTATE.
    QVariant sql(const QString &connection, const QString &url, const QString &query,
                 const QVariantList &values = {}, QString *error = nullptr,
                 QString *sqlState = nullptr);
    QVariant admin(const QString &query, const QVariantList &values = {}, QString *error = nullptr,
                   QString *sqlState = nullptr)
    {
        return sql(u"admin"_s, m_adminDbUrl, query, values, error, sqlState);
    }
    // Runs a script file with psql as the superuser; false with *output on failure.
    bool runScript(const QString &path, QString *output);
    QString configureSql() const;
    static QJsonObject logRecord(HttpClient &api, qint64 id);

    QString m_pgServer;
    QString m_pgAdmin;
    QString m_adminDbUrl; // the superuser in m_pg's database
    sbtest::PgTestDatabase m_pg;
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    QStringList m_connections;
};

QVariant TestPostgresql::sql(const QString &connection, const QString &url, const QString &query,
                             const QVariantList &values, QString *error, QString *sqlState)
{
    const QString name = u"tst-pg-"_s + connection;
    QSqlDatabase db = QSqlDatabase::database(name, false);
    if (!db.isValid()) {
        db = QSqlDatabase::addDatabase(u"QPSQL"_s, name);
        const QUrl u(url, QUrl::StrictMode);
        db.setHostName(u.host());
        db.setPort(u.port(5432));
        db.setUserName(u.userName(QUrl::FullyDecoded));
        db.setPassword(u.password(QUrl::FullyDecoded));
        db.setDatabaseName(u.path().mid(1));
        m_connections << name;
    }
    if (!db.isOpen() && !db.open()) {
        if (error)
            *error = db.lastError().text();
        return {};
    }
    QSqlQuery q(db);
    bool ok = values.isEmpty() ? q.exec(query) : q.prepare(query);
    if (ok && !values.isEmpty()) {
        for (const QVariant &v : values)
            q.addBindValue(v);
        ok = q.exec();
    }
    if (!ok) {
        if (error)
            *error = q.lastError().databaseText();
        if (sqlState)
            *sqlState = q.lastError().nativeErrorCode();
        return {};
    }
    if (q.isSelect() && q.next())
        return q.value(0).isNull() ? QVariant(u"<null>"_s) : q.value(0);
    return QVariant(u"<ok>"_s);
}

bool TestPostgresql::runScript(const QString &path, QString *output)
{
    QProcess psql;
    psql.setProcessChannelMode(QProcess::MergedChannels);
    psql.start(psqlPath(),
               {u"-X"_s, u"-q"_s, u"-v"_s, u"ON_ERROR_STOP=1"_s, u"-d"_s, m_adminDbUrl, u"-f"_s,
                path});
    if (!psql.waitForFinished(60000)) {
        *output = u"psql did not finish: "_s + psql.errorString();
        psql.kill();
        return false;
    }
    *output = QString::fromUtf8(psql.readAll());
    return psql.exitStatus() == QProcess::NormalExit && psql.exitCode() == 0;
}

QString TestPostgresql::configureSql() const
{
    return u"SELECT switchboard.configure('http://127.0.0.1:%1', '%2')"_s.arg(m_server->port())
            .arg(QString::fromLatin1(m_server->apiKey()));
}

QJsonObject TestPostgresql::logRecord(HttpClient &api, qint64 id)
{
    const HttpResponse r = api.get("/api/log?since_id=" + QByteArray::number(id - 1) + "&limit=1");
    const QJsonArray records = r.object().value(u"records"_s).toArray();
    return records.isEmpty() ? QJsonObject() : records.first().toObject();
}

void TestPostgresql::initTestCase()
{
    if (sbtest::postgresqlDisabled())
        QSKIP(sbtest::kPostgresqlSkipped);
    QVERIFY2(QSqlDatabase::isDriverAvailable(u"QPSQL"_s), "the QPSQL driver is not installed");
    QString error;
    m_pgServer = sbtest::postgresqlServerUrl(&error);
    QVERIFY2(!m_pgServer.isEmpty(), qPrintable(error));
    m_pgAdmin = sbtest::postgresqlAdminUrl(&error);
    QVERIFY2(!m_pgAdmin.isEmpty(), qPrintable(error));
    QVERIFY2(m_pg.create(m_pgServer, &error), qPrintable(error));
    m_adminDbUrl = sbtest::withDatabase(m_pgAdmin, m_pg.name());

    // The daemon listens on the test database as its ordinary (non-superuser) role.
    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start({u"--pg-listen"_s, m_pg.url()}), qPrintable(m_server->lastError()));
    m_api = m_server->client();
    QVERIFY(waitUntil([&] { return m_server->output().contains(u"[notify] listening on"_s); },
                      10000));
    const QString password = QUrl(m_pg.url()).password();
    QVERIFY(!password.isEmpty());
    QVERIFY2(!m_server->output().contains(password), "the database password was logged");

    QString output;
    QVERIFY2(runScript(sourcePath(u"sql/postgresql/install.sql"_s), &output), qPrintable(output));
    QVERIFY2(admin(configureSql(), {}, &error).isValid(), qPrintable(error));
    // The application role may call what it is granted, nothing else.
    QVERIFY2(admin(u"GRANT USAGE ON SCHEMA switchboard TO switchboard_test; "
                   "GRANT EXECUTE ON FUNCTION switchboard.notify(jsonb), "
                   "switchboard.emit_to_room(text, text, jsonb) TO switchboard_test"_s,
                   {}, &error)
                     .isValid(),
             qPrintable(error));
}

void TestPostgresql::cleanupTestCase()
{
    for (const QString &name : std::as_const(m_connections)) {
        {
            QSqlDatabase db = QSqlDatabase::database(name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }
    m_connections.clear();
    m_api.reset();
    m_server.reset();
    m_pg.drop();
}

void TestPostgresql::installIsRepeatable()
{
    // A second run upgrades the functions and keeps the settings.
    QString output, error;
    QVERIFY2(runScript(sourcePath(u"sql/postgresql/install.sql"_s), &output), qPrintable(output));
    QVERIFY2(!output.contains(u"NOTICE"_s), qPrintable(output));
    QCOMPARE(admin(u"SELECT base_url FROM switchboard.settings"_s, {}, &error).toString(),
             u"http://127.0.0.1:%1"_s.arg(m_server->port()));
    // Nothing for PUBLIC: a role without grants cannot call the HTTP functions.
    QCOMPARE(admin(u"SELECT has_function_privilege('public', 'switchboard.emit_to_all(text, "
                   "jsonb)', 'EXECUTE')"_s)
                     .toBool(),
             false);
    QCOMPARE(admin(u"SELECT has_table_privilege('switchboard_test', 'switchboard.settings', "
                   "'SELECT')"_s)
                     .toBool(),
             false);
}

void TestPostgresql::emitToRoomReachesWebSocketAndReturnsTheId()
{
    const QString room = uniqueName(u"hr:emp:"_s);
    QString why;
    auto member = openJoined(*m_server, *m_api, room, u"SCOTT"_s, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));

    QString error;
    const QVariant id = admin(u"SELECT switchboard.emit_to_room(?, 'RefreshEmployees', "
                              "'{\"id\": 1234, \"n\": 1.50}'::jsonb)"_s,
                              {room}, &error);
    QVERIFY2(id.isValid(), qPrintable(error));
    QVERIFY(id.toLongLong() > 0);

    WsFrame frame;
    QVERIFY(member->waitForFrame(u"event"_s, &frame));
    QCOMPARE(frame.object.value(u"id"_s).toInteger(), id.toLongLong());
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"RefreshEmployees"_s);
    QCOMPARE(frame.object.value(u"room"_s).toString(), room);
    // jsonb's text: numbers keep their digits (1.50 stays 1.50).
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"), R"({"n":1.50,"id":1234})"_ba);

    const QJsonObject record = logRecord(*m_api, id.toLongLong());
    QCOMPARE(record.value(u"id"_s).toInteger(), id.toLongLong());
    QCOMPARE(record.value(u"source"_s).toString(), u"rest"_s);
    QCOMPARE(record.value(u"delivered"_s).toInteger(), 1);

    // emit without data: data is null.
    const QVariant id2 =
            admin(u"SELECT switchboard.emit_to_room(?, 'websocket::refresh')"_s, {room}, &error);
    QVERIFY2(id2.isValid(), qPrintable(error));
    QVERIFY(id2.toLongLong() > id.toLongLong());
    const QJsonObject second = member->waitForFrame(u"event"_s);
    QCOMPARE(second.value(u"id"_s).toInteger(), id2.toLongLong());
    QVERIFY(second.value(u"data"_s).isNull());

    // The application role with its grant calls it too.
    const QVariant id3 = sql(u"app"_s, m_pg.url(),
                             u"SELECT switchboard.emit_to_room(?, 'FromApp')"_s, {room}, &error);
    QVERIFY2(id3.isValid(), qPrintable(error));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"FromApp"_s);
}

void TestPostgresql::registerReturnsATokenThatJoins()
{
    const QString room = uniqueName(u"sql:register:"_s);
    QString error;
    const QVariant token = admin(u"SELECT switchboard.register(?, 'ADAMS', 'APP-42', 120, true)"_s,
                                 {room}, &error);
    QVERIFY2(token.isValid(), qPrintable(error));
    const QByteArray jwt = token.toString().toLatin1();
    QVERIFY(Jwt::verifyHs256(jwt, m_server->jwtSecret()));
    const QJsonObject claims = Jwt::claims(jwt);
    QCOMPARE(claims.value(u"sub"_s).toString(), u"ADAMS"_s);
    QCOMPARE(claims.value(u"room"_s).toString(), room);
    QCOMPARE(claims.value(u"sid"_s).toString(), u"APP-42"_s);
    QCOMPARE(claims.value(u"pub"_s).toBool(), true);
    QCOMPARE(claims.value(u"exp"_s).toInteger() - claims.value(u"iat"_s).toInteger(), 120);

    WsClient client;
    QVERIFY(client.open(m_server->wsUrl(u"/ws"_s)));
    const QJsonObject joined = client.join(jwt);
    QCOMPARE(joined.value(u"type"_s).toString(), u"joined"_s);
    QCOMPARE(joined.value(u"room"_s).toString(), room);

    // Defaults: no ttl (24 h), no publish.
    const QVariant plain =
            admin(u"SELECT switchboard.register(?, 'ADAMS', 'APP-43')"_s, {room}, &error);
    QVERIFY2(plain.isValid(), qPrintable(error));
    const QJsonObject plainClaims = Jwt::claims(plain.toString().toLatin1());
    QVERIFY(!plainClaims.contains(u"pub"_s) || !plainClaims.value(u"pub"_s).toBool());
    QCOMPARE(plainClaims.value(u"exp"_s).toInteger() - plainClaims.value(u"iat"_s).toInteger(),
             86400);
}

void TestPostgresql::emitToUserAndAll()
{
    const QString room = uniqueName(u"sql:user:"_s);
    const QString user = uniqueName(u"USER"_s);
    QString why, error;
    auto member = openJoined(*m_server, *m_api, room, user, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));

    const QVariant id = admin(u"SELECT switchboard.emit_to_user(?, 'websocket::message', "
                              "'{\"message\": \"Hello World!\"}')"_s,
                              {user}, &error);
    QVERIFY2(id.isValid(), qPrintable(error));
    QJsonObject frame = member->waitForFrame(u"event"_s);
    QCOMPARE(frame.value(u"id"_s).toInteger(), id.toLongLong());
    QCOMPARE(frame.value(u"event"_s).toString(), u"websocket::message"_s);
    QVERIFY(!frame.contains(u"room"_s)); // user emits carry no room
    QCOMPARE(frame.value(u"data"_s).toObject().value(u"message"_s).toString(), u"Hello World!"_s);
    QCOMPARE(logRecord(*m_api, id.toLongLong()).value(u"target"_s).toString(), u"user"_s);

    const QVariant all =
            admin(u"SELECT switchboard.emit_to_all('Broadcast', '[1, 2, 3]')"_s, {}, &error);
    QVERIFY2(all.isValid(), qPrintable(error));
    frame = member->waitForFrame(u"event"_s);
    QCOMPARE(frame.value(u"id"_s).toInteger(), all.toLongLong());
    QCOMPARE(frame.value(u"data"_s).toArray(), QJsonArray({1, 2, 3}));
    QCOMPARE(logRecord(*m_api, all.toLongLong()).value(u"target"_s).toString(), u"all"_s);
}

void TestPostgresql::unregisterReturnsTheCount()
{
    const QString room = uniqueName(u"sql:unregister:"_s);
    QString why, error;
    auto a = openJoined(*m_server, *m_api, room, u"MILLER"_s, u"S9"_s, false, &why);
    QVERIFY2(a, qPrintable(why));
    auto b = openJoined(*m_server, *m_api, room, u"MILLER"_s, u"S9"_s, false, &why);
    QVERIFY2(b, qPrintable(why));
    const QVariant removed =
            admin(u"SELECT switchboard.unregister(?, 'MILLER', 'S9')"_s, {room}, &error);
    QVERIFY2(removed.isValid(), qPrintable(error));
    QCOMPARE(removed.toInt(), 2);
    const QJsonObject left = a->waitForFrame(u"left"_s);
    QCOMPARE(left.value(u"reason"_s).toString(), u"revoked"_s);
    QCOMPARE(admin(u"SELECT switchboard.unregister(?, 'MILLER', 'S9')"_s, {room}, &error).toInt(),
             0);
}

void TestPostgresql::nonSuccessRaisesWithTheServersMessage()
{
    QString error, state;
    // 400: the same message a REST caller gets.
    const HttpResponse rest =
            m_api->postJson("/api/emit/room", {{u"room"_s, u""_s}, {u"event"_s, u"e"_s}});
    QCOMPARE(rest.status, 400);
    QVERIFY(!rest.errorMessage().isEmpty());
    QVERIFY(!admin(u"SELECT switchboard.emit_to_room('', 'e')"_s, {}, &error, &state).isValid());
    QVERIFY2(error.contains(u"HTTP 400 bad_request: "_s + rest.errorMessage()), qPrintable(error));
    QCOMPARE(state, u"SB400"_s);
    // An event name over 130 characters.
    QVERIFY(!admin(u"SELECT switchboard.emit_to_all(repeat('e', 131))"_s, {}, &error, &state)
                     .isValid());
    QVERIFY2(error.contains(u"event"_s) && state == u"SB400", qPrintable(error));

    // 401: a wrong key.
    QVERIFY(admin(u"SELECT switchboard.configure('http://127.0.0.1:%1', 'not-the-key')"_s.arg(
                          m_server->port()))
                    .isValid());
    const HttpResponse unauthorized = m_server->client(false)->postJson(
            "/api/emit/all", {{u"event"_s, u"e"_s}}, {{"X-API-Key", "not-the-key"}});
    QCOMPARE(unauthorized.status, 401);
    QVERIFY(!admin(u"SELECT switchboard.emit_to_all('e')"_s, {}, &error, &state).isValid());
    QVERIFY2(error.contains(unauthorized.errorMessage()), qPrintable(error));
    QVERIFY2(error.contains(u"HTTP 401"_s), qPrintable(error));
    QCOMPARE(state, u"SB401"_s);
    QVERIFY(!admin(u"SELECT switchboard.register('r', 'u', 's')"_s, {}, &error, &state).isValid());
    QCOMPARE(state, u"SB401"_s);

    // No server there: SB000, naming the URL.
    QVERIFY(admin(u"SELECT switchboard.configure('http://127.0.0.1:1', 'k', 'switchboard', 2)"_s)
                    .isValid());
    QVERIFY(!admin(u"SELECT switchboard.emit_to_all('e')"_s, {}, &error, &state).isValid());
    QVERIFY2(error.contains(u"cannot reach http://127.0.0.1:1/api/emit/all"_s), qPrintable(error));
    QCOMPARE(state, u"SB000"_s);

    // configure() checks what it stores.
    QVERIFY(!admin(u"SELECT switchboard.configure('ftp://x', 'k')"_s, {}, &error).isValid());
    QVERIFY2(error.contains(u"p_base_url"_s), qPrintable(error));
    QVERIFY(!admin(u"SELECT switchboard.configure('http://x', '')"_s, {}, &error).isValid());
    QVERIFY2(error.contains(u"p_api_key"_s), qPrintable(error));
    QVERIFY(!admin(u"SELECT switchboard.configure('http://x', 'k', 'bad channel')"_s, {}, &error)
                     .isValid());
    QVERIFY2(error.contains(u"p_channel"_s), qPrintable(error));

    QVERIFY2(admin(configureSql(), {}, &error).isValid(), qPrintable(error));
    QVERIFY2(admin(u"SELECT switchboard.emit_to_all('works again')"_s, {}, &error).isValid(),
             qPrintable(error));
}

void TestPostgresql::triggerEmitsOnCommitNotOnRollback()
{
    const QString dept = uniqueName(u"d"_s).remove(u'-');
    const QString room = u"hr:dept:"_s + dept;
    QString why, error;
    auto member = openJoined(*m_server, *m_api, room, u"HR"_s, u"S1"_s, false, &why);
    QVERIFY2(member, qPrintable(why));

    // The application role owns its table and trigger; it may call switchboard.notify().
    QVERIFY2(sql(u"app"_s, m_pg.url(), QString::fromUtf8(kTriggerSql), {}, &error).isValid(),
             qPrintable(error));
    QSqlDatabase app = QSqlDatabase::database(u"tst-pg-app"_s);
    QVERIFY(app.isOpen());

    // Committed: one event, with the row's data, logged with source notify.
    QVERIFY(app.transaction());
    QVERIFY2(sql(u"app"_s, {}, u"INSERT INTO employees VALUES (1, 'Ada', ?)"_s, {dept}, &error)
                     .isValid(),
             qPrintable(error));
    QVERIFY2(member->noFrameWithin(500, u"event"_s), "an event before the commit");
    QVERIFY(app.commit());
    WsFrame frame;
    QVERIFY(member->waitForFrame(u"event"_s, &frame));
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"RefreshEmployees"_s);
    QCOMPARE(frame.object.value(u"room"_s).toString(), room);
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"), R"({"id":1,"name":"Ada"})"_ba);
    const qint64 id = frame.object.value(u"id"_s).toInteger();
    const QJsonObject record = logRecord(*m_api, id);
    QCOMPARE(record.value(u"source"_s).toString(), u"notify"_s);
    QCOMPARE(record.value(u"target"_s).toString(), u"room"_s);
    QCOMPARE(record.value(u"to"_s).toString(), room);
    QCOMPARE(record.value(u"delivered"_s).toInteger(), 1);
    QVERIFY(!record.value(u"remote"_s).toString().isEmpty());

    // Rolled back: nothing, ever. A committed update afterwards is the next event.
    QVERIFY(app.transaction());
    QVERIFY(sql(u"app"_s, {}, u"INSERT INTO employees VALUES (2, 'Bob', ?)"_s, {dept}, &error)
                    .isValid());
    QVERIFY(app.rollback());
    QVERIFY2(member->noFrameWithin(1000, u"event"_s), "a rolled-back insert was emitted");
    QVERIFY(app.transaction());
    QVERIFY(sql(u"app"_s, {}, u"UPDATE employees SET name = 'Ada L.' WHERE id = 1"_s, {}, &error)
                    .isValid());
    QVERIFY(app.commit());
    const QJsonObject next = member->waitForFrame(u"event"_s);
    QCOMPARE(next.value(u"data"_s).toObject().value(u"name"_s).toString(), u"Ada L."_s);
    QVERIFY(next.value(u"id"_s).toInteger() > id);
    QCOMPARE(member->count(u"event"_s), 0);

    // Counted as notify emits.
    const QByteArray metrics = m_api->get("/metrics").body;
    QVERIFY2(metrics.contains("switchboard_messages_total{source=\"notify\"} 2"), metrics);
}

void TestPostgresql::notifyRefusesWhatNotifyCannotCarry()
{
    QString error;
    QVERIFY(!admin(u"SELECT switchboard.notify('[1, 2]')"_s, {}, &error).isValid());
    QVERIFY2(error.contains(u"JSON object"_s), qPrintable(error));
    QVERIFY(!admin(u"SELECT switchboard.notify(jsonb_build_object('all', true, 'event', 'big', "
                   "'data', repeat('x', 8000)))"_s,
                   {}, &error)
                     .isValid());
    QVERIFY2(error.contains(u"at most 7999"_s), qPrintable(error));
}

void TestPostgresql::badPayloadsAreSkippedAndTheNextArrives()
{
    const QString room = uniqueName(u"sql:bad:"_s);
    QString why, error;
    auto member = openJoined(*m_server, *m_api, room, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    const QStringList bad = {
            u"not json at all"_s,
            u"{\"event\":\"noTarget\"}"_s,
            u"{\"room\":\"%1\",\"user\":\"U\",\"event\":\"twoTargets\"}"_s.arg(room),
            u"{\"room\":\"%1\",\"event\":\"%2\"}"_s.arg(room, QString(131, u'e')),
            u"{\"room\":\"%1\"}"_s.arg(room),
            u"[\"%1\"]"_s.arg(room),
    };
    for (const QString &payload : bad) {
        QVERIFY2(admin(u"SELECT pg_notify('switchboard', ?)"_s, {payload}, &error).isValid(),
                 qPrintable(error));
    }
    QVERIFY2(
            admin(u"SELECT pg_notify('switchboard', ?)"_s,
                  {u"{\"room\":\"%1\",\"event\":\"good\",\"data\":{\"big\":123456789012345678901234567890}}"_s
                           .arg(room)},
                  &error)
                    .isValid(),
            qPrintable(error));
    WsFrame frame;
    QVERIFY(member->waitForFrame(u"event"_s, &frame));
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"good"_s);
    // pg_notify passes the text as it is: the digits arrive untouched.
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"),
             R"({"big":123456789012345678901234567890})"_ba);
    QVERIFY(member->noFrameWithin(300, u"event"_s));

    // Each bad one was logged with what was wrong.
    QVERIFY(waitUntil(
            [&] { return m_server->output().count(u"skipped a notification"_s) >= bad.size(); },
            5000));
    const QString out = m_server->output();
    QVERIFY2(out.contains(u"the payload is not valid JSON"_s), qPrintable(out));
    QVERIFY2(out.contains(u"names no target"_s), qPrintable(out));
    QVERIFY2(out.contains(u"names 2 targets (room, user)"_s), qPrintable(out));
    QVERIFY2(out.contains(u"event is 131 characters long"_s), qPrintable(out));
    QVERIFY2(out.contains(u"event is required"_s), qPrintable(out));
    QVERIFY2(out.contains(u"must be a JSON object"_s), qPrintable(out));
}

void TestPostgresql::listenerSurvivesPostgresRestart()
{
    // A private cluster, so that restarting it disturbs no other test.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString clusterDir = dir.filePath(u"cluster"_s);
    const QString script = sourcePath(u"scripts/pg-test-cluster.sh"_s);
    auto cluster = [&](const QString &command, QString *out) {
        QProcess p;
        p.setProcessChannelMode(QProcess::SeparateChannels);
        p.start(u"bash"_s, {script, command, clusterDir});
        const bool ok = p.waitForFinished(180000) && p.exitStatus() == QProcess::NormalExit
                && p.exitCode() == 0;
        *out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
        if (!ok)
            *out += QString::fromUtf8(p.readAllStandardError());
        return ok;
    };
    QString url;
    QVERIFY2(cluster(u"start"_s, &url), qPrintable(url));
    struct Stop
    {
        std::function<void()> f;
        ~Stop() { f(); }
    } stopCluster{[&] {
        QString ignored;
        cluster(u"stop"_s, &ignored);
    }};

    ServerProcess daemon;
    QVERIFY2(daemon.start({u"--pg-listen"_s, url, u"--pg-channel"_s, u"sb_private"_s}),
             qPrintable(daemon.lastError()));
    QVERIFY(waitUntil([&] { return daemon.output().contains(u"[notify] listening on"_s); }, 10000));
    auto api = daemon.client();
    const QString room = uniqueName(u"restart:"_s);
    QString why, error;
    auto member = openJoined(daemon, *api, room, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    auto notify = [&](const QString &event) {
        // A connection per call: the one of before the restart is gone.
        QString e;
        const bool ok = sql(u"private-"_s + event, url, u"SELECT pg_notify('sb_private', ?)"_s,
                            {u"{\"room\":\"%1\",\"event\":\"%2\"}"_s.arg(room, event)}, &e)
                                .isValid();
        if (!ok)
            qWarning("pg_notify failed: %s", qPrintable(e));
        return ok;
    };
    QVERIFY(notify(u"before"_s));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"before"_s);
    // Not the default channel: the listener takes only its own.
    QVERIFY(sql(u"private-other"_s, url, u"SELECT pg_notify('switchboard', ?)"_s,
                {u"{\"room\":\"%1\",\"event\":\"otherChannel\"}"_s.arg(room)}, &error)
                    .isValid());

    QString out;
    QVERIFY2(cluster(u"restart"_s, &out), qPrintable(out));
    QVERIFY2(waitUntil([&] { return daemon.output().contains(u"reconnected: listening on"_s); },
                       20000),
             qPrintable(daemon.output()));
    const QString log = daemon.output();
    QVERIFY2(log.contains(u"lost the connection to postgresql://switchboard_test@127.0.0.1:"_s),
             qPrintable(log));
    QVERIFY2(!log.contains(url.section(u':', 2).section(u'@', 0, 0)), "the password was logged");

    QVERIFY(notify(u"after"_s));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"after"_s);
    QCOMPARE(member->count(u"event"_s), 0); // otherChannel never came
    QCOMPARE(daemon.stop(), 0);
}

void TestPostgresql::messageLogSurvivesPostgresRestart()
{
    // A private cluster, so that restarting it disturbs no other test.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString clusterDir = dir.filePath(u"cluster"_s);
    const QString script = sourcePath(u"scripts/pg-test-cluster.sh"_s);
    QProcess start;
    start.start(u"bash"_s, {script, u"start"_s, clusterDir});
    QVERIFY(start.waitForFinished(180000));
    const QString url = QString::fromUtf8(start.readAllStandardOutput()).trimmed();
    QVERIFY2(start.exitStatus() == QProcess::NormalExit && start.exitCode() == 0,
             qPrintable(QString::fromUtf8(start.readAllStandardError())));
    struct Stop
    {
        QString script, dir;
        ~Stop() { QProcess::execute(u"bash"_s, {script, u"stop"_s, dir}); }
    } stopCluster{script, clusterDir};

    ServerProcess daemon;
    QVERIFY2(daemon.start({u"--log-database"_s, url}), qPrintable(daemon.lastError()));
    auto api = daemon.client();
    const QString room = uniqueName(u"logrestart:"_s);
    QList<qint64> answered;
    auto emitOne = [&] {
        const HttpResponse r = api->postJson(
                "/api/emit/room",
                {{u"room"_s, room}, {u"event"_s, u"Logged"_s}, {u"data"_s, answered.size()}});
        if (r.status == 200)
            answered << r.object().value(u"id"_s).toInteger();
        else
            qWarning("emit answered %d: %s", r.status, r.body.constData());
        return r.status == 200;
    };
    for (int i = 0; i < 5; ++i)
        QVERIFY(emitOne());
    // Emits go on while the cluster restarts: each one is answered (the journal holds it).
    QProcess restart;
    restart.setProcessChannelMode(QProcess::MergedChannels);
    restart.start(u"bash"_s, {script, u"restart"_s, clusterDir});
    QVERIFY(restart.waitForStarted());
    const qsizetype before = answered.size();
    do
        QVERIFY(emitOne());
    while (!restart.waitForFinished(50));
    qInfo("%d emits answered during the restart", int(answered.size() - before));
    QVERIFY2(restart.exitStatus() == QProcess::NormalExit && restart.exitCode() == 0,
             restart.readAll().constData());
    for (int i = 0; i < 5; ++i)
        QVERIFY(emitOne());

    // All of them are listed once the writer is back, without a restart of the daemon.
    const QByteArray query = "/api/log?limit=1000&since_id=0&room=" + encodeSegment(room);
    QList<qint64> logged;
    QVERIFY2(waitUntil(
                     [&] {
                         const HttpResponse log = api->get(query);
                         logged.clear();
                         for (const QJsonValue &v : log.object().value(u"records"_s).toArray())
                             logged << v.toObject().value(u"id"_s).toInteger();
                         return log.status == 200 && logged == answered;
                     },
                     30000),
             qPrintable(u"answered %1, logged %2\n%3"_s.arg(answered.size())
                                .arg(logged.size())
                                .arg(daemon.output())));
    const QString output = daemon.output();
    // The outage is reported once, and its end.
    QVERIFY2(output.count(u"cannot write ids"_s) == 1, qPrintable(output));
    QVERIFY2(output.contains(u"the log is written again after"_s), qPrintable(output));
    QCOMPARE(daemon.stop(), 0);
    QString error;
    const QVariant rows = sql(u"private-log"_s, url,
                              u"SELECT count(*) FROM messages WHERE to_name = ?"_s, {room}, &error);
    QVERIFY2(rows.isValid(), qPrintable(error));
    QCOMPARE(rows.toLongLong(), qint64(answered.size()));
}

void TestPostgresql::uninstallRemovesTheSchema()
{
    QString output, error;
    QVERIFY2(runScript(sourcePath(u"sql/postgresql/uninstall.sql"_s), &output), qPrintable(output));
    QCOMPARE(admin(u"SELECT count(*) FROM pg_namespace WHERE nspname = 'switchboard'"_s)
                     .toLongLong(),
             0);
    QVERIFY(!admin(u"SELECT switchboard.emit_to_all('gone')"_s, {}, &error).isValid());
    QVERIFY2(error.contains(u"does not exist"_s), qPrintable(error));
    // Twice is fine.
    QVERIFY2(runScript(sourcePath(u"sql/postgresql/uninstall.sql"_s), &output), qPrintable(output));
}

QTEST_GUILESS_MAIN(TestPostgresql)
#include "tst_postgresql.moc"
