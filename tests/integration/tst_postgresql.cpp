// The PostgreSQL side (docs/API.md, "Database notifications (LISTEN/NOTIFY)"), against a real
// PostgreSQL 15 (the pg_cluster_start fixture) and the real switchboardd:
//  - sql/postgresql/install.sql installs into a fresh database; switchboard.configure() points
//    it at the daemon started here; emit_to_room/user/all from SQL reach WebSocket clients and
//    return the message id; register() returns a token that joins; unregister() returns the
//    number of connections removed; a non-2xx answer raises an exception carrying the server's
//    message (SQLSTATE SB<status>); uninstall.sql removes the schema.
//  - open_client() makes an outbound client of the daemon (POST /api/clients) that
//    GET /api/clients lists with its uri, room and event, and close_client() removes it
//    (DELETE /api/clients/{id}); closing it again is SB404, a bad uri SB400
//    (docs/endpoints.md, "Outbound clients").
//  - the package never follows a redirect (the API key would go along to the new host).
//  - switchboardd --pg-listen: a trigger that calls switchboard.notify() emits when its
//    transaction commits and never when it rolls back (log records with source notify); bad
//    payloads are skipped with a warning and the next good one still arrives; the listener
//    survives `scripts/pg-test-cluster.sh restart` of a private cluster (--pg-channel too).
//  - notifications are authenticated (docs/postgresql.md, "How notifications are signed"): a
//    role with nothing but CONNECT can NOTIFY and LISTEN, but what it sends (plain, forged,
//    or a signed notification it captured) is dropped and counted in
//    switchboard_notify_rejected_total; switchboard.notify() after configure is delivered;
//    with --insecure and no api_key unsigned notifications are taken, with a warning.
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
#include <QMessageAuthenticationCode>
#include <QMutex>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
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

// The envelope of switchboard.notify() (docs/postgresql.md, "How notifications are signed"),
// made here for what the package never sends (payloads that are no emit, old timestamps) and
// for a private cluster without the package: sb1.<ts>.<nonce>.<sig>.<payload>, sig the hex
// HMAC-SHA256 with the API key over sb1|<channel>|<ts>|<nonce>|<payload>.
QByteArray signNotification(const QByteArray &key, const QString &channel,
                            const QByteArray &payload, qint64 tsMs = nowMs())
{
    quint32 random[4];
    QRandomGenerator::global()->fillRange(random);
    const QByteArray nonce =
            QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex();
    const QByteArray ts = QByteArray::number(tsMs);
    const QByteArray sig = QMessageAuthenticationCode::hash("sb1|" + channel.toUtf8() + '|' + ts
                                                                    + '|' + nonce + '|' + payload,
                                                            key, QCryptographicHash::Sha256)
                                   .toHex();
    return "sb1." + ts + '.' + nonce + '.' + sig + '.' + payload;
}

QString psqlPath()
{
    const QString found = QStandardPaths::findExecutable(u"psql"_s);
    return found.isEmpty() ? u"/usr/lib/postgresql/15/bin/psql"_s : found;
}

QString sourcePath(const QString &relative)
{
    return QDir(QStringLiteral(SB_SOURCE_DIR)).filePath(relative);
}

// A PostgreSQL cluster of its own (scripts/pg-test-cluster.sh in a temporary folder), so that
// restarting it disturbs no other test. Stopped at the end when start() succeeded.
class PrivateCluster
{
public:
    PrivateCluster()
        : m_script(sourcePath(u"scripts/pg-test-cluster.sh"_s)),
          m_clusterDir(m_dir.filePath(u"cluster"_s))
    { }
    ~PrivateCluster()
    {
        if (m_started)
            QProcess::execute(u"bash"_s, {m_script, u"stop"_s, m_clusterDir});
    }
    Q_DISABLE_COPY_MOVE(PrivateCluster)

    // Creates and starts the cluster: false, error() saying why, when it could not.
    bool start()
    {
        if (!m_dir.isValid()) {
            m_error = u"no temporary folder: "_s + m_dir.errorString();
            return false;
        }
        m_started = run(u"start"_s, &m_url);
        if (!m_started)
            m_error = m_url;
        return m_started;
    }
    QString url() const { return m_url; }
    QString error() const { return m_error; }
    // Starts the script's command (stop, restart) in p, for a caller that waits itself.
    void startCommand(QProcess &p, const QString &command) const
    {
        p.start(u"bash"_s, {m_script, command, m_clusterDir});
    }
    // Runs the script's command to its end: true when it succeeded. *out: what it printed (the
    // URL, for start), and its errors when it failed.
    bool run(const QString &command, QString *out) const
    {
        QProcess p;
        p.setProcessChannelMode(QProcess::SeparateChannels);
        startCommand(p, command);
        const bool ok = p.waitForFinished(180000) && p.exitStatus() == QProcess::NormalExit
                && p.exitCode() == 0;
        *out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
        if (!ok)
            *out += QString::fromUtf8(p.readAllStandardError());
        return ok;
    }

private:
    QTemporaryDir m_dir;
    QString m_script;
    QString m_clusterDir;
    QString m_url;
    QString m_error;
    bool m_started = false;
};

// A tiny HTTP/1.1 server on a thread of its own (the test's thread is blocked in the SQL call
// that makes PostgreSQL connect to it): each request is read in full (head and Content-Length
// body), its head recorded, and answered with `answer`, then the connection is closed.
class TinyHttpServer
{
public:
    explicit TinyHttpServer(QByteArray answer) : m_answer(std::move(answer))
    {
        m_thread.start();
        m_context.moveToThread(&m_thread);
        QMetaObject::invokeMethod(
                &m_context, [this] { listen(); }, Qt::BlockingQueuedConnection);
    }
    ~TinyHttpServer()
    {
        QMetaObject::invokeMethod(
                &m_context, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    quint16 port() const { return m_port; }
    QList<QByteArray> requests() const
    {
        QMutexLocker lock(&m_mutex);
        return m_requests;
    }

private:
    void listen()
    {
        m_server = new QTcpServer;
        if (m_server->listen(QHostAddress::LocalHost, 0))
            m_port = m_server->serverPort();
        QObject::connect(m_server, &QTcpServer::newConnection, m_server, [this] {
            while (QTcpSocket *socket = m_server->nextPendingConnection()) {
                QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                QObject::connect(socket, &QTcpSocket::readyRead, socket,
                                 [this, socket] { read(socket); });
            }
        });
    }
    void read(QTcpSocket *socket)
    {
        QByteArray buffer = socket->property("buffer").toByteArray() + socket->readAll();
        socket->setProperty("buffer", buffer);
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0 || socket->property("answered").toBool())
            return;
        const QByteArray head = buffer.left(end);
        qsizetype length = 0;
        for (const QByteArray &line : head.split('\n')) {
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        }
        if (buffer.size() < end + 4 + length)
            return;
        {
            QMutexLocker lock(&m_mutex);
            m_requests << head;
        }
        socket->setProperty("answered", true);
        socket->write(m_answer);
        socket->disconnectFromHost();
    }

    const QByteArray m_answer;
    QThread m_thread;
    QObject m_context;
    QTcpServer *m_server = nullptr; // on m_thread
    quint16 m_port = 0;
    mutable QMutex m_mutex;
    QList<QByteArray> m_requests;
};

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
    void openAndCloseClient();
    void nonSuccessRaisesWithTheServersMessage();
    void redirectsAreNotFollowed_data();
    void redirectsAreNotFollowed();
    void triggerEmitsOnCommitNotOnRollback();
    void notifyRefusesWhatNotifyCannotCarry();
    void badPayloadsAreSkippedAndTheNextArrives();
    void forgedNotificationsAreDroppedAndCounted();
    void notifyIsSignedAndDelivered();
    void capturedNotificationReplayedIsRefused();
    void insecureWithoutKeyTakesUnsignedNotifications();
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
    // switchboard_notify_rejected_total{reason=...} of the daemon (-1 when absent).
    double rejected(const QString &reason) const;
    // Notifications published (switchboard_messages_total{source="notify"}).
    double notified() const;
    // A role with nothing but CONNECT on the test database (created on first use), as a URL.
    QString nobodyUrl();
    // A connection of `url` that LISTENs on channel: what arrives is in m_heard[connection]
    // until unlisten(connection) closes it.
    bool listen(const QString &connection, const QString &url, const QString &channel,
                QString *error);
    void unlisten(const QString &connection);
    // The setup of the tests of what goes over the channel: while it lives, connection
    // "nobody-listen" of nobodyUrl() LISTENs on the server's channel (heard: what arrived), and
    // member is joined to room (a fresh uniqueName(roomPrefix)) as U/S. error: why not.
    struct ChannelWatch
    {
        ChannelWatch(TestPostgresql *test, const QString &roomPrefix);
        ~ChannelWatch();
        Q_DISABLE_COPY_MOVE(ChannelWatch)

        TestPostgresql *test;
        const QStringList &heard;
        QString room;
        std::unique_ptr<WsClient> member;
        QString error;
    };

    QString m_pgServer;
    QString m_pgAdmin;
    QString m_adminDbUrl; // the superuser in m_pg's database
    sbtest::PgTestDatabase m_pg;
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    QStringList m_connections;
    QString m_nobody; // the role of nobodyUrl()
    QString m_nobodyUrl;
    QHash<QString, QStringList> m_heard; // by listen()
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

double TestPostgresql::notified() const
{
    const QByteArray prefix = "switchboard_messages_total{source=\"notify\"} ";
    for (const QByteArray &line : m_api->get("/metrics").body.split('\n')) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).toDouble();
    }
    return -1;
}

double TestPostgresql::rejected(const QString &reason) const
{
    const QByteArray prefix =
            "switchboard_notify_rejected_total{reason=\"" + reason.toLatin1() + "\"} ";
    for (const QByteArray &line : m_api->get("/metrics").body.split('\n')) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).toDouble();
    }
    return -1;
}

QString TestPostgresql::nobodyUrl()
{
    if (!m_nobodyUrl.isEmpty())
        return m_nobodyUrl;
    const QString role = u"sb_nobody_%1"_s.arg(QCoreApplication::applicationPid());
    const QString password = QString::number(QRandomGenerator::global()->generate64(), 16);
    QString error;
    // Nothing for PUBLIC on this database, CONNECT for the role: nothing more.
    if (!admin(u"CREATE ROLE %1 LOGIN PASSWORD '%2'; REVOKE ALL ON DATABASE \"%3\" FROM PUBLIC; "
               "GRANT CONNECT ON DATABASE \"%3\" TO %1"_s.arg(role, password, m_pg.name()),
               {}, &error)
                 .isValid()) {
        qWarning("cannot create role %s: %s", qPrintable(role), qPrintable(error));
        return {};
    }
    m_nobody = role;
    QUrl url(m_pg.url());
    url.setUserName(role);
    url.setPassword(password);
    m_nobodyUrl = url.toString();
    return m_nobodyUrl;
}

bool TestPostgresql::listen(const QString &connection, const QString &url, const QString &channel,
                            QString *error)
{
    if (!sql(connection, url, u"SELECT 1"_s, {}, error).isValid())
        return false;
    QSqlDatabase db = QSqlDatabase::database(u"tst-pg-"_s + connection);
    if (!db.driver()->subscribeToNotification(channel)) {
        *error = db.driver()->lastError().text();
        return false;
    }
    m_heard[connection].clear();
    connect(db.driver(), &QSqlDriver::notification, this,
            [this, connection](const QString &, QSqlDriver::NotificationSource,
                               const QVariant &payload) {
                m_heard[connection] << payload.toString();
            });
    return true;
}

void TestPostgresql::unlisten(const QString &connection)
{
    QSqlDatabase db = QSqlDatabase::database(u"tst-pg-"_s + connection, false);
    if (db.isValid()) {
        disconnect(db.driver(), &QSqlDriver::notification, this, nullptr);
        db.close();
    }
}

TestPostgresql::ChannelWatch::ChannelWatch(TestPostgresql *owner, const QString &roomPrefix)
    : test(owner), heard(owner->m_heard[u"nobody-listen"_s]), room(uniqueName(roomPrefix))
{
    const QString nobody = test->nobodyUrl();
    if (nobody.isEmpty()) {
        error = u"no URL of a role with only CONNECT"_s;
        return;
    }
    if (!test->listen(u"nobody-listen"_s, nobody, u"switchboard"_s, &error))
        return;
    member = openJoined(*test->m_server, *test->m_api, room, u"U"_s, u"S"_s, false, &error);
}

TestPostgresql::ChannelWatch::~ChannelWatch()
{
    test->unlisten(u"nobody-listen"_s);
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
    if (!m_nobody.isEmpty()) {
        for (const QString &name : std::as_const(m_connections)) {
            if (name.contains(u"nobody"_s))
                QSqlDatabase::database(name, false).close();
        }
        QString error;
        if (!admin(u"REVOKE ALL ON DATABASE \"%1\" FROM %2; DROP ROLE %2"_s.arg(m_pg.name(),
                                                                                m_nobody),
                   {}, &error)
                     .isValid())
            qWarning("cannot drop role %s: %s", qPrintable(m_nobody), qPrintable(error));
    }
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
    // The role that may call notify() cannot sign by itself: the key stays out of its reach.
    QCOMPARE(admin(u"SELECT has_function_privilege('switchboard_test', "
                   "'switchboard.notify_envelope(text, text, bigint, text, text)', 'EXECUTE')"_s)
                     .toBool(),
             false);
    QString state;
    QVERIFY(!sql(u"app"_s, m_pg.url(), u"SELECT api_key FROM switchboard.settings"_s, {}, &error,
                 &state)
                     .isValid());
    QCOMPARE(state, u"42501"_s); // insufficient_privilege
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

void TestPostgresql::openAndCloseClient()
{
    // A port where nothing listens: the client stays "connecting" (retrying with backoff),
    // which is all that opening and closing it need.
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    const QString uri = u"ws://127.0.0.1:%1/feed"_s.arg(port);
    const QString room = uniqueName(u"sql:client:"_s);
    // GET /api/clients: the clients (an array; {"clients": [...]} is taken too).
    const auto listed = [this](const QString &id) {
        const HttpResponse r = m_api->get("/api/clients");
        const QJsonArray clients =
                r.json().isArray() ? r.array() : r.object().value(u"clients"_s).toArray();
        for (const QJsonValue &c : clients) {
            if (c.toObject().value(u"id"_s).toString() == id)
                return c.toObject();
        }
        return QJsonObject();
    };

    QString error, state;
    const QVariant id =
            admin(u"SELECT switchboard.open_client(?, ?, 'Tick')"_s, {uri, room}, &error, &state);
    QVERIFY2(id.isValid(), qPrintable(u"%1 (%2)"_s.arg(error, state)));
    const QString clientId = id.toString();
    QVERIFY2(clientId.startsWith(u'w'), qPrintable(clientId));

    const QJsonObject client = listed(clientId);
    QVERIFY2(!client.isEmpty(), m_api->get("/api/clients").body.constData());
    QCOMPARE(client.value(u"uri"_s).toString(), uri);
    QCOMPARE(client.value(u"room"_s).toString(), room);
    QCOMPARE(client.value(u"event"_s).toString(), u"Tick"_s);
    const QString clientState = client.value(u"state"_s).toString();
    QVERIFY2(clientState == u"connecting"_s || clientState == u"closed"_s,
             qPrintable(clientState)); // never "open": nothing listens there
    QCOMPARE(m_api->get("/api/clients/" + clientId.toUtf8()).status, 200);

    QVERIFY2(admin(u"SELECT switchboard.close_client(?)"_s, {clientId}, &error, &state).isValid(),
             qPrintable(u"%1 (%2)"_s.arg(error, state)));
    QVERIFY(listed(clientId).isEmpty());
    const HttpResponse gone = m_api->get("/api/clients/" + clientId.toUtf8());
    QCOMPARE(gone.status, 404);

    // Closing it again: the server's 404, as SB404 with its message.
    QVERIFY(!admin(u"SELECT switchboard.close_client(?)"_s, {clientId}, &error, &state).isValid());
    QCOMPARE(state, u"SB404"_s);
    QVERIFY2(error.contains(u"HTTP 404"_s), qPrintable(error));
    if (!gone.errorMessage().isEmpty())
        QVERIFY2(error.contains(gone.errorMessage()), qPrintable(error));

    // A uri that is not ws:// or wss://: the server's 400 naming uri.
    QVERIFY(!admin(u"SELECT switchboard.open_client('http://127.0.0.1:1/', ?, 'Tick')"_s, {room},
                   &error, &state)
                     .isValid());
    QCOMPARE(state, u"SB400"_s);
    QVERIFY2(error.contains(u"uri"_s), qPrintable(error));
    // An empty id never reaches the server.
    QVERIFY(!admin(u"SELECT switchboard.close_client('')"_s, {}, &error, &state).isValid());
    QCOMPARE(state, u"22023"_s);
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

void TestPostgresql::redirectsAreNotFollowed_data()
{
    QTest::addColumn<int>("status");
    // Python's urllib follows 301, 302 and 303 after a POST (as a GET, X-API-Key kept) and
    // refuses 307 and 308: none may be followed.
    for (const int status : {301, 302, 303, 307, 308})
        QTest::addRow("%d", status) << status;
}

void TestPostgresql::redirectsAreNotFollowed()
{
    QFETCH(int, status);
    // The key must go only to the configured base URL: a server there that redirects to
    // another (here: another port, which would answer any request it got) gets nothing
    // followed, and the call fails naming the Location.
    const QByteArray ok = R"({"id":1,"delivered":0})"_ba;
    TinyHttpServer elsewhere("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + QByteArray::number(ok.size()) + "\r\nConnection: close\r\n\r\n"
                             + ok);
    QVERIFY(elsewhere.port());
    const QByteArray location =
            "http://127.0.0.1:" + QByteArray::number(elsewhere.port()) + "/api/emit/all";
    TinyHttpServer redirector("HTTP/1.1 " + QByteArray::number(status) + " Moved\r\nLocation: "
                              + location + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    QVERIFY(redirector.port());

    QString error, state;
    struct Restore
    {
        TestPostgresql *test;
        ~Restore() { test->admin(test->configureSql()); }
    } restore{this};
    QVERIFY2(admin(u"SELECT switchboard.configure('http://127.0.0.1:%1', '%2', 'switchboard', 5)"_s
                           .arg(redirector.port())
                           .arg(QString::fromLatin1(m_server->apiKey())),
                   {}, &error)
                     .isValid(),
             qPrintable(error));
    const QVariant id =
            admin(u"SELECT switchboard.emit_to_all('redirected')"_s, {}, &error, &state);

    // The configured server got the key (it is the one to have it) ...
    const QList<QByteArray> asked = redirector.requests();
    QCOMPARE(asked.size(), 1);
    // (urllib sends the header as "X-api-key")
    QVERIFY2(asked.first().toLower().contains(
                     QByteArray("x-api-key: " + m_server->apiKey().toLower())),
             asked.first());
    // ... the other one got no request at all, with or without the key.
    const QList<QByteArray> leaked = elsewhere.requests();
    QVERIFY2(leaked.isEmpty(), leaked.join("\n----\n"));
    // An error that names where the server pointed.
    QVERIFY2(!id.isValid(), "a redirected call succeeded");
    QCOMPARE(state, u"SB%1"_s.arg(status));
    QVERIFY2(error.contains(u"HTTP %1"_s.arg(status)), qPrintable(error));
    QVERIFY2(error.contains(QString::fromLatin1(location)), qPrintable(error));
    QVERIFY2(error.contains(u"not followed"_s), qPrintable(error));
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
    QVERIFY2(error.contains(u"at most 7883, with the 116 bytes of the signature"_s),
             qPrintable(error));
    // What fits a NOTIFY unsigned but not with the signature.
    QVERIFY(!admin(u"SELECT switchboard.notify(jsonb_build_object('all', true, 'event', 'big', "
                   "'data', repeat('x', 7900)))"_s,
                   {}, &error)
                     .isValid());
    QVERIFY2(error.contains(u"the payload is 7941 bytes"_s), qPrintable(error));
    // 7883 bytes fit: 7883 - 41 of {"all": true, "data": "...", "event": "big"}. It goes to
    // every connection: the case waits for it, or a later case's member could receive it.
    const double notifiedBefore = notified();
    QVERIFY2(admin(u"SELECT switchboard.notify(jsonb_build_object('all', true, 'event', 'big', "
                   "'data', repeat('x', 7842)))"_s,
                   {}, &error)
                     .isValid(),
             qPrintable(error));
    QVERIFY(waitUntil([&] { return notified() > notifiedBefore; }, 10000));
    // Not configured: nothing to sign with.
    QSqlDatabase db = QSqlDatabase::database(u"tst-pg-admin"_s);
    QVERIFY(db.transaction());
    QVERIFY(admin(u"DELETE FROM switchboard.settings"_s).isValid());
    QString state;
    QVERIFY(!admin(u"SELECT switchboard.notify('{\"all\": true, \"event\": \"e\"}')"_s, {}, &error,
                   &state)
                     .isValid());
    QVERIFY(db.rollback());
    QVERIFY2(error.contains(u"not configured"_s), qPrintable(error));
    QCOMPARE(state, u"SB000"_s);
    QCOMPARE(admin(u"SELECT count(*) FROM switchboard.settings"_s).toInt(), 1);
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
    // Signed with the key (switchboard.notify() takes only JSON objects, so they are signed
    // here): they verify, and are then refused for what they say.
    const double invalidBefore = rejected(u"invalid"_s);
    auto send = [&](const QString &payload) {
        return admin(u"SELECT pg_notify('switchboard', ?)"_s,
                     {QString::fromUtf8(signNotification(m_server->apiKey(), u"switchboard"_s,
                                                         payload.toUtf8()))},
                     &error)
                .isValid();
    };
    for (const QString &payload : bad)
        QVERIFY2(send(payload), qPrintable(error));
    QVERIFY2(
            send(u"{\"room\":\"%1\",\"event\":\"good\",\"data\":{\"big\":123456789012345678901234567890}}"_s
                         .arg(room)),
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
    QCOMPARE(rejected(u"invalid"_s), invalidBefore + double(bad.size()));
}

void TestPostgresql::forgedNotificationsAreDroppedAndCounted()
{
    // PostgreSQL checks no privilege for NOTIFY: a role with only CONNECT can send on the
    // channel. It cannot call switchboard.notify() nor read the key, so all it can send is
    // refused.
    const QString nobody = nobodyUrl();
    QVERIFY(!nobody.isEmpty());
    QString why, error, state;
    const QString room = uniqueName(u"sql:forged:"_s);
    auto member = openJoined(*m_server, *m_api, room, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    QVERIFY(!sql(u"nobody"_s, nobody,
                 u"SELECT switchboard.notify('{\"all\": true, \"event\": \"e\"}')"_s, {}, &error,
                 &state)
                     .isValid());
    QCOMPARE(state, u"42501"_s); // permission denied for schema switchboard
    QVERIFY(!sql(u"nobody"_s, nobody, u"SELECT api_key FROM switchboard.settings"_s, {}, &error,
                 &state)
                     .isValid());
    QCOMPARE(state, u"42501"_s);

    const double signatureBefore = rejected(u"signature"_s);
    const double invalidBefore = rejected(u"invalid"_s);
    const QByteArray forged = R"({"all": true, "event": "forgedByNobody", "data": "pwned"})";
    const QByteArray forgedRoom =
            u"{\"room\": \"%1\", \"event\": \"forgedByNobody\"}"_s.arg(room).toUtf8();
    const QList<QByteArray> sent = {
            forged,     // plain, as the contract stood before
            forgedRoom, // plain, to the room
            // signed with guesses at the key
            signNotification("", u"switchboard"_s, forged),
            signNotification("switchboard", u"switchboard"_s, forged),
            signNotification(m_server->apiKey().left(m_server->apiKey().size() - 1),
                             u"switchboard"_s, forged),
    };
    for (const QByteArray &payload : sent) {
        QVERIFY2(sql(u"nobody"_s, nobody,
                     u"NOTIFY switchboard, '%1'"_s.arg(QString::fromUtf8(payload)), {}, &error)
                         .isValid(),
                 qPrintable(error));
    }
    // Malformed: refused as invalid.
    QVERIFY2(sql(u"nobody"_s, nobody, u"SELECT pg_notify('switchboard', 'sb1.1.2.3.{}')"_s, {},
                 &error)
                     .isValid(),
             qPrintable(error));
    QVERIFY2(waitUntil([&] { return rejected(u"signature"_s) >= signatureBefore + 5; }, 5000),
             qPrintable(u"signature: %1, before %2"_s.arg(rejected(u"signature"_s))
                                .arg(signatureBefore)));
    QVERIFY(waitUntil([&] { return rejected(u"invalid"_s) >= invalidBefore + 1; }, 5000));
    QVERIFY2(member->noFrameWithin(500, u"event"_s), "a forged notification was emitted");
    QCOMPARE(rejected(u"signature"_s), signatureBefore + 5);

    // Logged as rejected (at most every 10 s), never with the payload.
    const QString out = m_server->output();
    QVERIFY2(out.contains(u"rejected a notification on channel switchboard ("_s), qPrintable(out));
    QVERIFY2(!out.contains(u"forgedByNobody"_s), qPrintable(out));
    QVERIFY2(!out.contains(u"pwned"_s), qPrintable(out));
    // Nothing was emitted with source notify for them.
    const HttpResponse log = m_api->get("/api/log?limit=1000");
    QVERIFY2(!log.body.contains("forgedByNobody"), log.body.left(2000));

    // The genuine way still works.
    QVERIFY2(sql(u"app"_s, m_pg.url(),
                 u"SELECT switchboard.notify(jsonb_build_object('room', ?::text, "
                 "'event', 'genuine'))"_s,
                 {room}, &error)
                     .isValid(),
             qPrintable(error));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"genuine"_s);
}

void TestPostgresql::notifyIsSignedAndDelivered()
{
    // switchboard.notify() by the application role after configure (initTestCase): delivered,
    // and what goes over the channel is the signed envelope (any role may LISTEN and see it).
    const ChannelWatch w(this, u"sql:signed:"_s);
    QVERIFY2(w.member, qPrintable(w.error));
    const QStringList &seen = w.heard;
    QString error;
    const double rejectedBefore = rejected(u"signature"_s) + rejected(u"stale"_s)
            + rejected(u"replay"_s) + rejected(u"invalid"_s);

    // One transaction: the same payload twice is one notification (PostgreSQL folds identical
    // ones, and the signature keeps them identical), another payload is another.
    QSqlDatabase app = QSqlDatabase::database(u"tst-pg-app"_s);
    QVERIFY(app.isOpen());
    QVERIFY(app.transaction());
    struct Rollback
    {
        QSqlDatabase db;
        bool done = false;
        ~Rollback()
        {
            if (!done)
                db.rollback();
        }
    } rollback{app};
    const QString notify =
            u"SELECT switchboard.notify(jsonb_build_object('room', ?::text, 'event', ?::text, "
            "'data', jsonb_build_object('n', 1.50)))"_s;
    QVERIFY2(sql(u"app"_s, {}, notify, {w.room, u"same"_s}, &error).isValid(), qPrintable(error));
    QVERIFY2(sql(u"app"_s, {}, notify, {w.room, u"same"_s}, &error).isValid(), qPrintable(error));
    QVERIFY2(sql(u"app"_s, {}, notify, {w.room, u"other"_s}, &error).isValid(), qPrintable(error));
    QVERIFY(app.commit());
    rollback.done = true;

    WsFrame frame;
    QVERIFY(w.member->waitForFrame(u"event"_s, &frame));
    QCOMPARE(frame.object.value(u"event"_s).toString(), u"same"_s);
    QCOMPARE(rawJsonValue(frame.text.toUtf8(), "data"), R"({"n":1.50})"_ba);
    const QJsonObject record = logRecord(*m_api, frame.object.value(u"id"_s).toInteger());
    QCOMPARE(record.value(u"source"_s).toString(), u"notify"_s);
    QCOMPARE(w.member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"other"_s);
    QVERIFY(w.member->noFrameWithin(500, u"event"_s));

    // The envelope: sb1.<ts>.<nonce>.<sig>.<the jsonb text>, signed with the server's key.
    QVERIFY(waitUntil([&] { return seen.size() >= 2; }, 5000));
    QCOMPARE(seen.size(), qsizetype(2));
    const QString envelope = seen.first();
    const QStringList parts = envelope.split(u'.');
    QVERIFY2(parts.size() >= 6 && parts[0] == u"sb1"_s, qPrintable(envelope));
    const qint64 ts = parts[1].toLongLong();
    QVERIFY2(qAbs(ts - nowMs()) < 10000, qPrintable(envelope));
    QCOMPARE(parts[2].size(), qsizetype(32));
    QCOMPARE(parts[3].size(), qsizetype(64));
    const QByteArray payload = envelope.section(u'.', 4).toUtf8();
    QCOMPARE(payload,
             u"{\"data\": {\"n\": 1.50}, \"room\": \"%1\", \"event\": \"same\"}"_s.arg(w.room)
                     .toUtf8());
    const QByteArray expected =
            QMessageAuthenticationCode::hash("sb1|switchboard|" + parts[1].toLatin1() + '|'
                                                     + parts[2].toLatin1() + '|' + payload,
                                             m_server->apiKey(), QCryptographicHash::Sha256)
                    .toHex();
    QCOMPARE(parts[3].toLatin1(), expected);
    QVERIFY(!envelope.contains(QString::fromLatin1(m_server->apiKey())));
    // Both in one transaction: one timestamp.
    QCOMPARE(seen[1].section(u'.', 1, 1), parts[1]);
    QVERIFY(seen[1].section(u'.', 2, 2) != parts[2]);

    // Non-ASCII text is signed and checked as the same UTF-8 bytes on both sides.
    QVERIFY2(
            sql(u"app"_s, {},
                u"SELECT switchboard.notify(jsonb_build_object('room', ?::text, 'event', ?::text))"_s,
                {w.room, u"Ereignis-äß€😀"_s}, &error)
                    .isValid(),
            qPrintable(error));
    QCOMPARE(w.member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"Ereignis-äß€😀"_s);

    QCOMPARE(rejected(u"signature"_s) + rejected(u"stale"_s) + rejected(u"replay"_s)
                     + rejected(u"invalid"_s),
             rejectedBefore);
}

void TestPostgresql::capturedNotificationReplayedIsRefused()
{
    // NOTIFY payloads are visible to every listener: a role with only CONNECT captures a
    // signed notification and sends it again, as it is or changed.
    const ChannelWatch w(this, u"sql:replay:"_s);
    QVERIFY2(w.member, qPrintable(w.error));
    const QStringList &seen = w.heard;
    QString error;

    QVERIFY2(
            sql(u"app"_s, m_pg.url(),
                u"SELECT switchboard.notify(jsonb_build_object('room', ?::text, 'event', 'once'))"_s,
                {w.room}, &error)
                    .isValid(),
            qPrintable(error));
    QCOMPARE(w.member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"once"_s);
    QVERIFY(waitUntil([&] { return !seen.isEmpty(); }, 5000));
    const QString captured = seen.first();
    QVERIFY2(captured.startsWith(u"sb1."_s), qPrintable(captured));

    const double replayBefore = rejected(u"replay"_s);
    const double signatureBefore = rejected(u"signature"_s);
    const double staleBefore = rejected(u"stale"_s);
    auto resend = [&](const QString &text) {
        return sql(u"nobody"_s, nobodyUrl(), u"SELECT pg_notify('switchboard', ?)"_s, {text},
                   &error)
                .isValid();
    };
    // As it was, twice (each in a transaction of its own).
    QVERIFY2(resend(captured), qPrintable(error));
    QVERIFY2(resend(captured), qPrintable(error));
    // Changed: another event, another room, a later timestamp.
    QString otherEvent = captured;
    otherEvent.replace(u"\"once\""_s, u"\"twice\""_s);
    QVERIFY(otherEvent != captured);
    QVERIFY2(resend(otherEvent), qPrintable(error));
    const QString ts = captured.section(u'.', 1, 1);
    QString later = captured;
    later.replace(4, ts.size(), QString::number(ts.toLongLong() + 1));
    QVERIFY2(resend(later), qPrintable(error));
    // Signed properly (the test knows the key) but two minutes old: stale.
    QVERIFY2(resend(QString::fromUtf8(signNotification(
                     m_server->apiKey(), u"switchboard"_s,
                     u"{\"room\": \"%1\", \"event\": \"old\"}"_s.arg(w.room).toUtf8(),
                     nowMs() - 120000))),
             qPrintable(error));

    QVERIFY(waitUntil([&] { return rejected(u"replay"_s) >= replayBefore + 2; }, 5000));
    QVERIFY(waitUntil([&] { return rejected(u"signature"_s) >= signatureBefore + 2; }, 5000));
    QVERIFY(waitUntil([&] { return rejected(u"stale"_s) >= staleBefore + 1; }, 5000));
    QVERIFY2(w.member->noFrameWithin(500, u"event"_s), "a replayed notification was emitted");
    QCOMPARE(rejected(u"replay"_s), replayBefore + 2);
    QCOMPARE(rejected(u"signature"_s), signatureBefore + 2);
    QCOMPARE(rejected(u"stale"_s), staleBefore + 1);
}

void TestPostgresql::insecureWithoutKeyTakesUnsignedNotifications()
{
    // --insecure with no api_key: nothing to check signatures with. Plain notifications are
    // taken (as REST calls without a key are), with a loud warning at start.
    ServerProcess open;
    ServerProcess::Options o;
    o.defaultSecrets = false;
    open.setOptions(o);
    QVERIFY2(open.start({u"--insecure"_s, u"--jwt-secret"_s, QString::fromLatin1(open.jwtSecret()),
                         u"--pg-listen"_s, m_pg.url(), u"--pg-channel"_s, u"sb_insecure"_s}),
             qPrintable(open.lastError()));
    QVERIFY(waitUntil([&] { return open.output().contains(u"[notify] listening on"_s); }, 10000));
    QVERIFY2(open.output().contains(u"NOT AUTHENTICATED: no api_key"_s), qPrintable(open.output()));
    auto api = open.client(false);
    const QString room = uniqueName(u"sql:insecure:"_s);
    QString why, error;
    auto member = openJoined(open, *api, room, u"U"_s, u"S"_s, false, &why);
    QVERIFY2(member, qPrintable(why));
    QVERIFY2(admin(u"SELECT pg_notify('sb_insecure', ?)"_s,
                   {u"{\"room\":\"%1\",\"event\":\"plain\"}"_s.arg(room)}, &error)
                     .isValid(),
             qPrintable(error));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"plain"_s);
    // An envelope (switchboard.notify() configured with some key) is unwrapped.
    QVERIFY2(admin(u"SELECT pg_notify('sb_insecure', ?)"_s,
                   {QString::fromUtf8(signNotification(
                           "any-key", u"sb_insecure"_s,
                           u"{\"room\":\"%1\",\"event\":\"enveloped\"}"_s.arg(room).toUtf8()))},
                   &error)
                     .isValid(),
             qPrintable(error));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"enveloped"_s);
    QCOMPARE(open.stop(), 0);
}

void TestPostgresql::listenerSurvivesPostgresRestart()
{
    PrivateCluster cluster;
    QVERIFY2(cluster.start(), qPrintable(cluster.error()));

    ServerProcess daemon;
    QVERIFY2(daemon.start({u"--pg-listen"_s, cluster.url(), u"--pg-channel"_s, u"sb_private"_s}),
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
        const QByteArray payload =
                u"{\"room\":\"%1\",\"event\":\"%2\"}"_s.arg(room, event).toUtf8();
        const bool ok =
                sql(u"private-"_s + event, cluster.url(), u"SELECT pg_notify('sb_private', ?)"_s,
                    {QString::fromUtf8(
                            signNotification(daemon.apiKey(), u"sb_private"_s, payload))},
                    &e)
                        .isValid();
        if (!ok)
            qWarning("pg_notify failed: %s", qPrintable(e));
        return ok;
    };
    QVERIFY(notify(u"before"_s));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"before"_s);
    // Not the default channel: the listener takes only its own.
    // (signed as for sb_private: only the channel is wrong)
    QVERIFY(sql(u"private-other"_s, cluster.url(), u"SELECT pg_notify('switchboard', ?)"_s,
                {QString::fromUtf8(signNotification(
                        daemon.apiKey(), u"sb_private"_s,
                        u"{\"room\":\"%1\",\"event\":\"otherChannel\"}"_s.arg(room).toUtf8()))},
                &error)
                    .isValid());

    QString out;
    QVERIFY2(cluster.run(u"restart"_s, &out), qPrintable(out));
    QVERIFY2(waitUntil([&] { return daemon.output().contains(u"reconnected: listening on"_s); },
                       20000),
             qPrintable(daemon.output()));
    const QString log = daemon.output();
    QVERIFY2(log.contains(u"lost the connection to postgresql://switchboard_test@127.0.0.1:"_s),
             qPrintable(log));
    QVERIFY2(!log.contains(cluster.url().section(u':', 2).section(u'@', 0, 0)),
             "the password was logged");

    QVERIFY(notify(u"after"_s));
    QCOMPARE(member->waitForFrame(u"event"_s).value(u"event"_s).toString(), u"after"_s);
    QCOMPARE(member->count(u"event"_s), 0); // otherChannel never came
    QCOMPARE(daemon.stop(), 0);
}

void TestPostgresql::messageLogSurvivesPostgresRestart()
{
    PrivateCluster cluster;
    QVERIFY2(cluster.start(), qPrintable(cluster.error()));

    ServerProcess daemon;
    QVERIFY2(daemon.start({u"--log-database"_s, cluster.url()}), qPrintable(daemon.lastError()));
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
    cluster.startCommand(restart, u"restart"_s);
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
    const QVariant rows = sql(u"private-log"_s, cluster.url(),
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
