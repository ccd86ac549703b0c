// MessageLog on a real SQLite file: group commit, what is committed, the query filters and
// order, retention by rows, ids after reopening, the database setting, and the record JSON.
// Nothing answered is lost: not while another connection holds the database's write lock
// (longer than the busy timeout, twice over), nor when the writer's PostgreSQL backend is
// terminated, nor when the process is killed while the database is locked (a second process,
// this test program started with --append-and-wait); the journal replay fills holes below the
// highest stored id; the queue bound counts the records the writer holds; queries and room
// histories keep to their byte budget; the files are private.
// As tst_message_log_pg (SB_TEST_LOG_BACKEND=postgresql) the same cases run on a real
// PostgreSQL server, each in a fresh database (tests/common/PgTestDatabase.h).

#include "store/MessageLog.h"

#include "PgTestDatabase.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cstdio>

#include <sys/stat.h>

using namespace sb;

namespace {
class WriteLock;
} // namespace

class TestMessageLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void appendCommitsInOrder();
    void queryFilters();
    void queryPaging();
    void retentionByRows();
    void retentionByAge();
    void reopenKeepsIds();
    void parseSettings();
    void recordJsonShape();
    void writeLockHeldPastTwoBusyTimeouts();
    void writerBackendTerminated();
    void killedWhileDatabaseLockedLosesNothing();
    void journalReplayFillsHoles_data();
    void journalReplayFillsHoles();
    void unreadableJournalRecordKeepsItsId();
    void retryAfterLostCommitIsIdempotent();
    void queueBoundCountsHeldRecords();
    void closeWithDatabaseLockedIsBounded();
    void queryKeepsToItsByteBudget();
    void roomHistoryKeepsToItsByteBudget();
    void filesArePrivate();
    void databaseThatIsNotAFileIsLeftAlone();

private:
    std::optional<LogDatabase> logDatabase() const;
    std::unique_ptr<MessageLog> openLog(qint64 retentionDays = 30, qint64 maxRows = 1000000);
    static MessageRecord record(quint64 id, EmitTarget target, const QString &to,
                                const QString &event, qint64 ts = 0);
    static bool waitCommitted(MessageLog &log, quint64 id);
    // Every record of the log, oldest first (empty on failure, with a warning).
    static QList<MessageRecord> everything(MessageLog &log);
    static QList<quint64> idsOf(const QList<MessageRecord> &records);
    // Runs sql on a connection of its own to the log's database.
    bool execSql(const QString &sql, QString *error) const;
    // Takes the write lock of the log's database (false, with a warning, when it cannot).
    bool lockDatabase(WriteLock &lock) const;
    // The writer's warning that ids (a pattern) could not be written, then its note that the
    // log is written again.
    static void expectWritesRetried(const QString &ids);
    // Appends records from..to (ids) for room r, event e; false at the first refused.
    static bool appendRoomRecords(MessageLog &log, quint64 from, quint64 to);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_pgServer;          // the PostgreSQL variant: the test server's URL
    sbtest::PgTestDatabase m_pg; // ...and this test case's own database there
};

namespace {

QList<quint64> range(quint64 from, quint64 to)
{
    QList<quint64> ids;
    for (quint64 id = from; id <= to; ++id)
        ids << id;
    return ids;
}

// A record whose data holds what a JSON-line journal could not: raw control characters ('\n',
// '\r', 0x1E among them), a stray quote and backslash, non-ASCII text and, where the database
// can store it (SQLite; PostgreSQL text cannot), a NUL.
MessageRecord awkwardRecord(quint64 id, bool withNul)
{
    MessageRecord r;
    r.id = id;
    r.ts = 1700000000000 + qint64(id);
    r.source = EmitSource::Ws;
    r.target = EmitTarget::Room;
    r.to = QStringLiteral("room \"q\" \\ \n,\"data\":");
    r.event = QStringLiteral("Awkward\u00e9");
    r.data =
            QByteArrayLiteral(R"({"n":)") + QByteArray::number(id) + QByteArrayLiteral(R"(,"s":")");
    for (int b = 1; b < 0x20; ++b)
        r.data += char(b);
    r.data += QByteArrayLiteral("\"\\ \xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80,\"delivered\":1");
    if (withNul)
        r.data += '\0';
    r.data += QByteArrayLiteral(R"("})");
    r.delivered = 3;
    r.remote = QStringLiteral("10.0.0.1:4711");
    return r;
}

// Another connection to the log's database holding its write lock: SQLite's BEGIN IMMEDIATE,
// PostgreSQL's LOCK TABLE ... IN EXCLUSIVE MODE (reads go on in both).
class WriteLock
{
public:
    ~WriteLock() { release(); }

    bool take(const LogDatabase &db, QString *error)
    {
        m_name = QStringLiteral("tst-write-lock");
        QSqlDatabase c = QSqlDatabase::addDatabase(db.driver, m_name);
        if (db.driver == u"QSQLITE") {
            c.setDatabaseName(db.path);
            c.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        } else {
            db.applyTo(c);
        }
        if (!c.open()) {
            *error = c.lastError().text();
            return false;
        }
        QSqlQuery q(c);
        const QStringList statements = db.driver == u"QSQLITE"
                ? QStringList{QStringLiteral("BEGIN IMMEDIATE")}
                : QStringList{QStringLiteral("BEGIN"),
                              QStringLiteral("LOCK TABLE messages IN EXCLUSIVE MODE")};
        for (const QString &sql : statements) {
            if (!q.exec(sql)) {
                *error = q.lastError().text();
                return false;
            }
        }
        return true;
    }

    // Runs sql in the transaction that holds the lock.
    bool exec(const QString &sql, QString *error)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (q.exec(sql))
            return true;
        *error = q.lastError().text();
        return false;
    }

    // Ends the transaction: rolled back, or committed (with what exec() wrote).
    void release(bool commit = false)
    {
        if (m_name.isEmpty())
            return;
        {
            QSqlDatabase c = QSqlDatabase::database(m_name, false);
            QSqlQuery(c).exec(commit ? QStringLiteral("COMMIT") : QStringLiteral("ROLLBACK"));
            c.close();
        }
        QSqlDatabase::removeDatabase(m_name);
        m_name.clear();
    }

private:
    QString m_name;
};

bool readLineFrom(QProcess &process, QByteArray *line, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!process.canReadLine()) {
        if (deadline.hasExpired() || !process.waitForReadyRead(int(deadline.remainingTime())))
            return false;
    }
    *line = process.readLine().trimmed();
    return true;
}

} // namespace

void TestMessageLog::initTestCase()
{
    if (!sbtest::postgresqlWanted())
        return;
    if (sbtest::postgresqlDisabled())
        QSKIP(sbtest::kPostgresqlSkipped);
    QString error;
    m_pgServer = sbtest::postgresqlServerUrl(&error);
    QVERIFY2(!m_pgServer.isEmpty(), qPrintable(error));
    qInfo("log database: PostgreSQL");
}

void TestMessageLog::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    // The writer only logs what fails (a retention statement the database refuses, a batch it
    // cannot write): that is a failure here.
    QTest::failOnWarning(QRegularExpression(
            QStringLiteral("retention by .* failed|could not write|cannot write ids")));
    if (!m_pgServer.isEmpty()) {
        QString error;
        QVERIFY2(m_pg.create(m_pgServer, &error), qPrintable(error));
    }
}

void TestMessageLog::cleanup()
{
    m_pg.drop();
}

std::optional<LogDatabase> TestMessageLog::logDatabase() const
{
    QString error;
    // The default SQLite file in the data dir, or this test case's PostgreSQL database.
    const auto db = LogDatabase::parse(m_pg.url(), m_dir->path(), &error);
    if (!db) {
        qWarning("%s", qPrintable(error));
        return std::nullopt;
    }
    const QString driver =
            m_pgServer.isEmpty() ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
    if (db->driver != driver) {
        qWarning("wrong log database: %s", qPrintable(db->describe()));
        return std::nullopt;
    }
    return db;
}

bool TestMessageLog::lockDatabase(WriteLock &lock) const
{
    const auto db = logDatabase();
    if (!db)
        return false;
    QString error;
    if (lock.take(*db, &error))
        return true;
    qWarning("cannot lock the log database: %s", qPrintable(error));
    return false;
}

void TestMessageLog::expectWritesRetried(const QString &ids)
{
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^cannot write ids ") + ids
                                            + QStringLiteral(" to the log")));
    QTest::ignoreMessage(QtInfoMsg,
                         QRegularExpression(QStringLiteral("^the log is written again after")));
}

bool TestMessageLog::appendRoomRecords(MessageLog &log, quint64 from, quint64 to)
{
    for (quint64 id = from; id <= to; ++id) {
        if (!log.append(record(id, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e"))))
            return false;
    }
    return true;
}

std::unique_ptr<MessageLog> TestMessageLog::openLog(qint64 retentionDays, qint64 maxRows)
{
    const auto db = logDatabase();
    if (!db)
        return nullptr;
    auto log = std::make_unique<MessageLog>(*db, retentionDays, maxRows);
    QString error;
    if (!log->open(&error)) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    return log;
}

MessageRecord TestMessageLog::record(quint64 id, EmitTarget target, const QString &to,
                                     const QString &event, qint64 ts)
{
    MessageRecord r;
    r.id = id;
    r.ts = ts ? ts : QDateTime::currentMSecsSinceEpoch();
    r.source = EmitSource::Rest;
    r.target = target;
    r.to = to;
    r.event = event;
    r.data = QByteArrayLiteral(R"({"n":)") + QByteArray::number(id) + '}';
    r.delivered = qint64(id % 7);
    r.remote = QStringLiteral("127.0.0.1:5000");
    return r;
}

bool TestMessageLog::waitCommitted(MessageLog &log, quint64 id)
{
    return QTest::qWaitFor([&] { return log.committedId() >= id; }, 5000);
}

QList<MessageRecord> TestMessageLog::everything(MessageLog &log)
{
    QString error;
    LogQuery q;
    q.sinceId = 0;
    q.limit = MessageLog::kMaxQueryLimit;
    q.maxBytes = 0;
    const auto records = log.query(q, &error);
    if (!records) {
        qWarning("query failed: %s", qPrintable(error));
        return {};
    }
    return *records;
}

QList<quint64> TestMessageLog::idsOf(const QList<MessageRecord> &records)
{
    QList<quint64> ids;
    for (const MessageRecord &r : records)
        ids << r.id;
    return ids;
}

bool TestMessageLog::execSql(const QString &sql, QString *error) const
{
    const auto db = logDatabase();
    if (!db)
        return false;
    const QString name = QStringLiteral("tst-exec");
    bool ok = false;
    {
        QSqlDatabase c = QSqlDatabase::addDatabase(db->driver, name);
        if (db->driver == u"QSQLITE") {
            c.setDatabaseName(db->path);
            c.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        } else {
            db->applyTo(c);
        }
        ok = c.open();
        if (ok) {
            QSqlQuery q(c);
            ok = q.exec(sql);
            if (!ok)
                *error = q.lastError().text();
        } else {
            *error = c.lastError().text();
        }
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

void TestMessageLog::appendCommitsInOrder()
{
    auto log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(0));
    QSignalSpy committed(log.get(), &MessageLog::committed);
    QVERIFY(appendRoomRecords(*log, 1, 500));
    QVERIFY(waitCommitted(*log, 500));
    // Group commit: far fewer commits than records, and the last one reports 500.
    QVERIFY(committed.wait(100) || !committed.isEmpty());
    QVERIFY(committed.size() < 500);
    QCOMPARE(committed.last().at(0).toULongLong(), quint64(500));
    QCOMPARE(log->queueDepth(), 0);

    QString error;
    LogQuery q;
    q.sinceId = 0;
    q.limit = 1000;
    const auto all = log->query(q, &error);
    QVERIFY2(all, qPrintable(error));
    QCOMPARE(all->size(), 500);
    for (qsizetype i = 0; i < all->size(); ++i)
        QCOMPARE(all->at(i).id, quint64(i + 1));
    QCOMPARE(all->at(41).data, QByteArrayLiteral(R"({"n":42})"));
    QCOMPARE(all->at(41).delivered, qint64(42 % 7));
    QCOMPARE(all->at(41).remote, QStringLiteral("127.0.0.1:5000"));
}

void TestMessageLog::queryFilters()
{
    auto log = openLog();
    QVERIFY(log);
    log->append(record(1, EmitTarget::Room, QStringLiteral("a"), QStringLiteral("x")));
    log->append(record(2, EmitTarget::Room, QStringLiteral("b"), QStringLiteral("x")));
    log->append(record(3, EmitTarget::User, QStringLiteral("a"), QStringLiteral("y")));
    log->append(record(4, EmitTarget::All, {}, QStringLiteral("x")));
    log->append(record(5, EmitTarget::Room, QStringLiteral("a"), QStringLiteral("y")));
    QVERIFY(waitCommitted(*log, 5));

    auto ids = [&](LogQuery q) {
        QString error;
        QList<quint64> out;
        const auto records = log->query(q, &error);
        if (!records)
            qWarning("%s", qPrintable(error));
        else
            for (const MessageRecord &r : *records)
                out << r.id;
        return out;
    };
    LogQuery room;
    room.room = QStringLiteral("a");
    QCOMPARE(ids(room), (QList<quint64>{1, 5})); // the user "a" is not the room "a"
    LogQuery user;
    user.user = QStringLiteral("a");
    QCOMPARE(ids(user), (QList<quint64>{3}));
    LogQuery event;
    event.event = QStringLiteral("x");
    QCOMPARE(ids(event), (QList<quint64>{1, 2, 4}));
    LogQuery both = room;
    both.event = QStringLiteral("y");
    QCOMPARE(ids(both), (QList<quint64>{5}));
    QString error;
    const auto all = log->query(LogQuery{}, &error);
    QVERIFY(all);
    QVERIFY(all->at(3).to.isNull()); // emit to all: "to" is null
}

void TestMessageLog::queryPaging()
{
    auto log = openLog();
    QVERIFY(log);
    for (quint64 id = 1; id <= 30; ++id)
        log->append(record(id, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e")));
    QVERIFY(waitCommitted(*log, 30));
    QString error;
    LogQuery newest;
    newest.limit = 5;
    auto r = log->query(newest, &error);
    QVERIFY(r);
    QCOMPARE(r->size(), 5);
    QCOMPARE(r->first().id, quint64(26)); // the newest five, oldest first
    QCOMPARE(r->last().id, quint64(30));
    LogQuery before = newest;
    before.beforeId = 26;
    r = log->query(before, &error);
    QVERIFY(r);
    QCOMPARE(r->first().id, quint64(21));
    QCOMPARE(r->last().id, quint64(25));
    LogQuery since;
    since.sinceId = 10;
    since.limit = 3;
    r = log->query(since, &error);
    QVERIFY(r);
    QCOMPARE(r->size(), 3);
    QCOMPARE(r->first().id, quint64(11));
    QCOMPARE(r->last().id, quint64(13));
    LogQuery huge;
    huge.limit = 1'000'000; // clamped to 1000
    r = log->query(huge, &error);
    QVERIFY(r);
    QCOMPARE(r->size(), 30);
}

void TestMessageLog::retentionByRows()
{
    auto log = openLog(30, 10);
    QVERIFY(log);
    for (quint64 id = 1; id <= 25; ++id)
        log->append(record(id, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e")));
    QVERIFY(waitCommitted(*log, 25));
    log->applyRetentionNow();
    QString error;
    LogQuery q;
    q.limit = 1000;
    const auto r = log->query(q, &error);
    QVERIFY2(r, qPrintable(error));
    QCOMPARE(r->size(), 10);
    QCOMPARE(r->first().id, quint64(16));
    QCOMPARE(r->last().id, quint64(25));
}

void TestMessageLog::retentionByAge()
{
    auto log = openLog(1, 1000000);
    QVERIFY(log);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    log->append(record(1, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("old"),
                       now - 2 * 86'400'000LL));
    log->append(record(2, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("new"), now));
    QVERIFY(waitCommitted(*log, 2));
    log->applyRetentionNow();
    QString error;
    const auto r = log->query(LogQuery{}, &error);
    QVERIFY(r);
    QCOMPARE(r->size(), 1);
    QCOMPARE(r->first().event, QStringLiteral("new"));
}

void TestMessageLog::reopenKeepsIds()
{
    {
        auto log = openLog();
        QVERIFY(log);
        for (quint64 id = 1; id <= 7; ++id)
            log->append(record(id, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e")));
        // close() writes what is still queued.
    }
    auto log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(7));
    QCOMPARE(log->committedId(), quint64(7));
}

void TestMessageLog::parseSettings()
{
    QString error;
    auto sqlite = LogDatabase::parse({}, QStringLiteral("/data"), &error);
    QVERIFY(sqlite);
    QCOMPARE(sqlite->driver, QStringLiteral("QSQLITE"));
    QCOMPARE(sqlite->path, QStringLiteral("/data/messages.db"));
    auto file = LogDatabase::parse(QStringLiteral("/var/lib/x/log.db"), QStringLiteral("/data"),
                                   &error);
    QVERIFY(file);
    QCOMPARE(file->path, QStringLiteral("/var/lib/x/log.db"));
    if (QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL"))) {
        auto pg = LogDatabase::parse(
                QStringLiteral("postgresql://sb:p%40ss@db.example:6543/events"), {}, &error);
        QVERIFY2(pg, qPrintable(error));
        QCOMPARE(pg->driver, QStringLiteral("QPSQL"));
        QCOMPARE(pg->host, QStringLiteral("db.example"));
        QCOMPARE(pg->port, 6543);
        QCOMPARE(pg->user, QStringLiteral("sb"));
        QCOMPARE(pg->password, QStringLiteral("p@ss"));
        QCOMPARE(pg->database, QStringLiteral("events"));
        QVERIFY(!pg->describe().contains(u"p@ss"));
    }
    error.clear();
    QVERIFY(!LogDatabase::parse(QStringLiteral("postgresql://host-only"), {}, &error));
    QVERIFY(error.contains(u"log_database"));
}

void TestMessageLog::recordJsonShape()
{
    MessageRecord r = record(12, EmitTarget::All, {}, QStringLiteral("tick"), 1700000000000);
    r.data = QByteArrayLiteral(R"({"big":12345678901234567890,"f":1.0})");
    QCOMPARE(recordJson(r),
             QByteArrayLiteral(R"({"id":12,"ts":1700000000000,"source":"rest","target":"all",)"
                               R"("to":null,"event":"tick","data":{"big":12345678901234567890,)"
                               R"("f":1.0},"delivered":5,"remote":"127.0.0.1:5000"})"));
}

void TestMessageLog::writeLockHeldPastTwoBusyTimeouts()
{
    // Another connection holds the write lock for 12 s: each write of the writer fails after
    // its 5 s busy (lock) timeout, twice, while emits go on being appended. None is dropped,
    // they are committed in order once the lock is gone, and a restart keeps them.
    QTest::ignoreMessage(
            QtWarningMsg,
            QRegularExpression(QStringLiteral("^cannot write ids 1 to \\d+ to the log")));
    QTest::ignoreMessage(
            QtInfoMsg,
            QRegularExpression(QStringLiteral("^the log is written again after \\d+ "
                                              "failed attempts in \\d+ ms: ids 1 to")));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^cannot read the history of room r")));
    auto log = openLog();
    QVERIFY(log);
    WriteLock lock;
    QVERIFY(lockDatabase(lock));
    QString error;
    QElapsedTimer held;
    held.start();
    quint64 id = 0;
    for (int round = 0; round < 5; ++round) {
        for (int k = 0; k < 5; ++k) {
            ++id;
            QVERIFY(log->append(
                    record(id, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e"))));
        }
        QTest::qWait(round < 3 ? 3000 : 2000);
    }
    QCOMPARE(id, quint64(25));
    // Answered all the same (the journal holds them), but not in the database.
    QCOMPARE(log->durableId(), quint64(25));
    QCOMPARE(log->committedId(), quint64(0));
    QCOMPARE(log->queueDepth(), 25);
    // A query would miss them: it fails rather than answer with a gap, at once; and a room's
    // history is incomplete (recovered: false), not one with holes.
    QElapsedTimer queried;
    queried.start();
    LogQuery all;
    all.sinceId = 0;
    QVERIFY(!log->query(all, &error));
    QVERIFY2(error.contains(u"does not have ids 1 to 25"), qPrintable(error));
    QVERIFY(queried.elapsed() < 1000);
    const MessageLog::RoomHistory history = log->roomHistory(QStringLiteral("r"), 0, 25);
    QVERIFY(!history.complete);
    QVERIFY(history.records.isEmpty());
    QVERIFY2(held.elapsed() > 10'500, "the lock was not held past two busy timeouts");
    QTest::qWait(int(qMax<qint64>(0, 12'000 - held.elapsed())));
    lock.release();

    QVERIFY(QTest::qWaitFor([&] { return log->committedId() >= 25; }, 20'000));
    QCOMPARE(log->queueDepth(), 0);
    QCOMPARE(idsOf(everything(*log)), range(1, 25));
    QVERIFY(log->roomHistory(QStringLiteral("r"), 0, 25).complete);
    log.reset();
    log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(25));
    QCOMPARE(idsOf(everything(*log)), range(1, 25));
}

void TestMessageLog::writerBackendTerminated()
{
    if (m_pgServer.isEmpty())
        QSKIP("PostgreSQL only (tst_message_log_pg)");
    expectWritesRetried(QStringLiteral("11 to \\d+"));
    auto log = openLog();
    QVERIFY(log);
    QVERIFY(appendRoomRecords(*log, 1, 10));
    QVERIFY(waitCommitted(*log, 10));
    QCOMPARE(idsOf(everything(*log)), range(1, 10)); // a reader connection of this thread too
    // Every other connection to this test's database: the writer's and the reader's.
    QString error;
    QVERIFY2(execSql(QStringLiteral("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> "
                                    "pg_backend_pid()"),
                     &error),
             qPrintable(error));
    QVERIFY(appendRoomRecords(*log, 11, 20));
    QVERIFY(QTest::qWaitFor([&] { return log->committedId() >= 20; }, 10'000));
    QCOMPARE(idsOf(everything(*log)), range(1, 20));
    QVERIFY(appendRoomRecords(*log, 21, 30));
    QVERIFY(waitCommitted(*log, 30));
    QCOMPARE(idsOf(everything(*log)), range(1, 30));
}

void TestMessageLog::killedWhileDatabaseLockedLosesNothing()
{
    // A second process (this program, see appendAndWait below) appends records whose data no
    // JSON line could hold while the database is locked, and is killed with SIGKILL once they
    // are durable (in the journal only). The next open writes every one of them, exactly.
    {
        auto log = openLog(); // the schema, before the lock
        QVERIFY(log);
    }
    const auto db = logDatabase();
    QVERIFY(db);
    const bool nul = db->driver == u"QSQLITE";
    constexpr int kRecords = 40;
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(),
                {QStringLiteral("--append-and-wait"), m_dir->path(), m_pg.url(),
                 QString::number(kRecords)});
    QVERIFY(child.waitForStarted());
    QByteArray line;
    QVERIFY(readLineFrom(child, &line, 20'000));
    QCOMPARE(line, QByteArrayLiteral("open"));
    QString error;
    WriteLock lock;
    QVERIFY2(lock.take(*db, &error), qPrintable(error));
    child.write("go\n");
    QVERIFY(readLineFrom(child, &line, 20'000));
    QCOMPARE(line, QByteArrayLiteral("durable ") + QByteArray::number(kRecords));
    child.kill();
    QVERIFY(child.waitForFinished(10'000));
    lock.release();

    auto log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(kRecords)); // the next emit does not reuse an id
    const QList<MessageRecord> records = everything(*log);
    QCOMPARE(idsOf(records), range(1, kRecords));
    for (const MessageRecord &r : records) {
        const MessageRecord expected = awkwardRecord(r.id, nul);
        QCOMPARE(r.data, expected.data);
        QCOMPARE(r.to, expected.to);
        QCOMPARE(r.event, expected.event);
        QCOMPARE(r.ts, expected.ts);
        QCOMPARE(r.source, expected.source);
        QCOMPARE(r.delivered, expected.delivered);
        QCOMPARE(r.remote, expected.remote);
    }
}

void TestMessageLog::journalReplayFillsHoles_data()
{
    QTest::addColumn<bool>("lines");
    QTest::newRow("framed journal") << false;
    QTest::newRow("JSON-line journal of the previous version") << true;
}

void TestMessageLog::journalReplayFillsHoles()
{
    // The previous version dropped a batch after two failed tries, committed the next one,
    // and at the next start wrote only journal records above the highest stored id: ids 2 and
    // 5 stayed missing below 6. The journal still has them, and now they come back.
    QFETCH(bool, lines);
    QList<MessageRecord> written;
    for (quint64 id = 1; id <= 6; ++id)
        written << awkwardRecord(id, false);
    {
        auto log = openLog();
        QVERIFY(log);
        for (const MessageRecord &r : std::as_const(written))
            QVERIFY(log->append(r));
        QVERIFY(waitCommitted(*log, 6));
    }
    QString error;
    QVERIFY2(execSql(QStringLiteral("DELETE FROM messages WHERE id IN (2, 5)"), &error),
             qPrintable(error));
    const auto db = logDatabase();
    QVERIFY(db);
    if (lines) {
        QFile file(db->journal);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        for (const MessageRecord &r : std::as_const(written)) {
            QByteArray json = recordJson(r);
            json.replace('\n', "\\n"); // a line may hold no raw '\n'
            file.write(json + '\n');
        }
        written[1].data.replace('\n', "\\n");
        written[4].data.replace('\n', "\\n");
    } else {
        Journal journal;
        QVERIFY2(journal.open(db->journal, &error), qPrintable(error));
        for (const MessageRecord &r : std::as_const(written))
            QVERIFY(journal.append(recordJson(r), r.id, 0));
        journal.close(false);
    }
    QTest::ignoreMessage(
            QtInfoMsg, QRegularExpression(QStringLiteral("^recovered 2 records from the journal")));
    auto log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(6));
    const QList<MessageRecord> records = everything(*log);
    QCOMPARE(idsOf(records), range(1, 6));
    for (qsizetype i = 0; i < records.size(); ++i) {
        QCOMPARE(records[i].data, written[i].data);
        QCOMPARE(records[i].to, written[i].to);
    }
}

void TestMessageLog::unreadableJournalRecordKeepsItsId()
{
    // A damaged record whose id can still be read: it cannot be written, but its id was given
    // out, so the next emit gets a higher one.
    const auto db = logDatabase();
    QVERIFY(db);
    {
        Journal journal;
        QString error;
        QVERIFY2(journal.open(db->journal, &error), qPrintable(error));
        QVERIFY(journal.append(recordJson(awkwardRecord(1, false)), 1, 0));
        QVERIFY(journal.append(QByteArrayLiteral(R"({"id":2,"ts":)"), 2, 0));
        journal.close(false);
    }
    QTest::ignoreMessage(QtWarningMsg, "1 journal records could not be read: skipped");
    QTest::ignoreMessage(
            QtInfoMsg, QRegularExpression(QStringLiteral("^recovered 1 records from the journal")));
    auto log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(2));
    QCOMPARE(idsOf(everything(*log)), QList<quint64>{1});
}

void TestMessageLog::retryAfterLostCommitIsIdempotent()
{
    // A commit can succeed with its answer lost (the connection dropped right after): the
    // next try then meets ids the table has. Here the rows of ids 2 and 4 are written by
    // another connection while the writer's tries fail; the retry leaves them as they are and
    // writes the others, instead of failing for ever on the duplicates.
    expectWritesRetried(QStringLiteral("1 to [1-5]"));
    auto log = openLog();
    QVERIFY(log);
    WriteLock lock;
    QVERIFY(lockDatabase(lock));
    QVERIFY(appendRoomRecords(*log, 1, 5));
    QString error;
    // Once a try has failed, queries say so at once.
    QVERIFY(QTest::qWaitFor(
            [&] {
                LogQuery q;
                q.sinceId = 0;
                return !log->query(q, &error) && error.contains(u"writes fail");
            },
            20'000));
    QVERIFY2(lock.exec(QStringLiteral("INSERT INTO messages (id, ts, source, target, to_name, "
                                      "event, data, delivered, remote) VALUES "
                                      "(2, 1, 'rest', 'room', 'r', 'first', 'null', 0, ''), "
                                      "(4, 1, 'rest', 'room', 'r', 'first', 'null', 0, '')"),
                       &error),
             qPrintable(error));
    lock.release(true);
    QVERIFY(QTest::qWaitFor([&] { return log->committedId() >= 5; }, 20'000));
    const QList<MessageRecord> records = everything(*log);
    QCOMPARE(idsOf(records), range(1, 5));
    QCOMPARE(records[1].event, QStringLiteral("first"));
    QCOMPARE(records[2].event, QStringLiteral("e"));
}

void TestMessageLog::queueBoundCountsHeldRecords()
{
    // While the database is locked the writer holds the batch it tried; the bound counts it:
    // exactly kMaxQueued records are taken, then append() refuses (a 503 for the emit).
    auto log = openLog();
    QVERIFY(log);
    WriteLock lock;
    QVERIFY(lockDatabase(lock));
    MessageRecord r = record(1, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e"));
    QVERIFY(log->append(r));
    // The writer has taken it and waits for the lock.
    QVERIFY(QTest::qWaitFor([&] { return log->queueDepth() == 1; }, 1000));
    QTest::qWait(50);
    qint64 accepted = 1;
    for (quint64 id = 2; id <= quint64(MessageLog::kMaxQueued) + 10; ++id) {
        r.id = id;
        if (!log->append(r))
            break;
        ++accepted;
    }
    QCOMPARE(accepted, MessageLog::kMaxQueued);
    QCOMPARE(log->queueDepth(), MessageLog::kMaxQueued);
    lock.release();
    QVERIFY(QTest::qWaitFor([&] { return log->committedId() >= quint64(accepted); }, 60'000));
    QCOMPARE(log->queueDepth(), 0);
    r.id = quint64(accepted) + 1;
    QVERIFY(log->append(r));
}

void TestMessageLog::closeWithDatabaseLockedIsBounded()
{
    // Stopping while the database is away: close() gives up after a bounded time, and the
    // journal file stays for the next start, which writes its records.
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^cannot write ids 1 to")));
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^could not write ids 1 to 5 to the log "
                                                           "before stopping")));
    const auto db = logDatabase();
    QVERIFY(db);
    auto log = openLog();
    QVERIFY(log);
    WriteLock lock;
    QVERIFY(lockDatabase(lock));
    QVERIFY(appendRoomRecords(*log, 1, 5));
    QCOMPARE(log->durableId(), quint64(5));
    QElapsedTimer closing;
    closing.start();
    log->close();
    QVERIFY2(closing.elapsed() < 20'000, qPrintable(QString::number(closing.elapsed())));
    QVERIFY(QFileInfo(db->journal).size() > 0);
    lock.release();
    log.reset();
    QTest::ignoreMessage(
            QtInfoMsg, QRegularExpression(QStringLiteral("^recovered 5 records from the journal")));
    log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(5));
    QCOMPARE(idsOf(everything(*log)), range(1, 5));
}

void TestMessageLog::queryKeepsToItsByteBudget()
{
    auto log = openLog();
    QVERIFY(log);
    constexpr int kRecords = 100;
    MessageRecord big = record(1, EmitTarget::Room, QStringLiteral("big"), QStringLiteral("e"));
    big.data = '"' + QByteArray(100'000, 'x') + '"';
    for (quint64 id = 1; id <= kRecords; ++id) {
        big.id = id;
        QVERIFY(log->append(big));
    }
    QVERIFY(waitCommitted(*log, kRecords));
    const qint64 each = MessageLog::recordBytes(big);
    QString error;
    bool more = false;

    // The default budget: the newest records that fit in 8 MiB, and `more`.
    LogQuery newest;
    newest.limit = 1000;
    auto r = log->query(newest, &error, &more);
    QVERIFY2(r, qPrintable(error));
    QCOMPARE(r->size(), qsizetype(LogQuery::kDefaultMaxBytes / each));
    QCOMPARE(r->last().id, quint64(kRecords));
    QVERIFY(more);

    // Paging forwards with since_id through a budget of three records: all of them, once.
    QList<quint64> seen;
    LogQuery page;
    page.sinceId = 0;
    page.limit = 1000;
    page.maxBytes = 3 * each + 10;
    for (int pages = 0; pages < 100; ++pages) {
        r = log->query(page, &error, &more);
        QVERIFY2(r, qPrintable(error));
        QVERIFY(r->size() <= 3);
        seen += idsOf(*r);
        if (!more)
            break;
        QCOMPARE(r->size(), 3);
        page.sinceId = r->last().id;
    }
    QCOMPARE(seen, range(1, kRecords));

    // Backwards with before_id.
    LogQuery back;
    back.limit = 1000;
    back.maxBytes = 2 * each;
    back.beforeId = 51;
    r = log->query(back, &error, &more);
    QVERIFY(r);
    QCOMPARE(idsOf(*r), (QList<quint64>{49, 50}));
    QVERIFY(more);

    // One record alone over the budget still comes back.
    LogQuery tiny;
    tiny.sinceId = 10;
    tiny.limit = 5;
    tiny.maxBytes = 1;
    r = log->query(tiny, &error, &more);
    QVERIFY(r);
    QCOMPARE(idsOf(*r), QList<quint64>{11});
    QVERIFY(more);

    // `limit` alone ends it: not `more`.
    LogQuery limited;
    limited.sinceId = 0;
    limited.limit = 2;
    r = log->query(limited, &error, &more);
    QVERIFY(r);
    QCOMPARE(r->size(), 2);
    QVERIFY(!more);
}

void TestMessageLog::roomHistoryKeepsToItsByteBudget()
{
    auto log = openLog();
    QVERIFY(log);
    MessageRecord big = record(1, EmitTarget::Room, QStringLiteral("big"), QStringLiteral("e"));
    big.data = '"' + QByteArray(100'000, 'x') + '"';
    for (quint64 id = 1; id <= 30; ++id) {
        big.id = id;
        QVERIFY(log->append(big));
    }
    QVERIFY(waitCommitted(*log, 30));
    const qint64 each = MessageLog::recordBytes(big);
    // 30 records do not fit in 10: none of them, and not complete (recovered: false).
    MessageLog::RoomHistory h = log->roomHistory(QStringLiteral("big"), 0, 30, 10 * each);
    QVERIFY(!h.complete);
    QVERIFY(h.records.isEmpty());
    QCOMPARE(h.lastId, quint64(30));
    // The last 10 do.
    h = log->roomHistory(QStringLiteral("big"), 20, 30, 10 * each);
    QVERIFY(h.complete);
    QCOMPARE(idsOf(h.records), range(21, 30));
    // The default budget holds all of them.
    h = log->roomHistory(QStringLiteral("big"), 0, 30);
    QVERIFY(h.complete);
    QCOMPARE(h.records.size(), 30);
}

void TestMessageLog::filesArePrivate()
{
    // Started by hand (no systemd UMask=) with the usual umask 022, over a database file an
    // older version left readable.
    const auto db = logDatabase();
    QVERIFY(db);
    const mode_t previous = ::umask(022);
    const auto restore = qScopeGuard([previous] { ::umask(previous); });
    QStringList files{db->journal};
    if (db->driver == u"QSQLITE") {
        QFile old(db->path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.close();
        QVERIFY(old.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup
                                   | QFile::ReadOther));
        files << db->path << db->path + QStringLiteral("-wal") << db->path + QStringLiteral("-shm");
    }
    auto log = openLog();
    QVERIFY(log);
    QVERIFY(log->append(record(1, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e"))));
    QVERIFY(waitCommitted(*log, 1));
    for (const QString &file : std::as_const(files)) {
        struct stat st = {};
        QVERIFY2(::stat(QFile::encodeName(file).constData(), &st) == 0, qPrintable(file));
        QVERIFY2((st.st_mode & 077) == 0,
                 qPrintable(QStringLiteral("%1: mode %2").arg(file).arg(st.st_mode & 0777, 0, 8)));
    }
}

void TestMessageLog::databaseThatIsNotAFileIsLeftAlone()
{
    // log_database naming a device or a FIFO (a FIFO here: nothing outside this test can
    // suffer) is refused at open, and the thing keeps its mode.
    if (!m_pgServer.isEmpty())
        QSKIP("SQLite only");
    const QString fifo = m_dir->filePath(QStringLiteral("log.fifo"));
    const QByteArray name = QFile::encodeName(fifo);
    QCOMPARE(::mkfifo(name.constData(), 0644), 0);
    QCOMPARE(::chmod(name.constData(), 0644), 0);
    QString error;
    const auto db = LogDatabase::parse(fifo, m_dir->path(), &error);
    QVERIFY2(db, qPrintable(error));
    MessageLog log(*db, 30, 1000);
    QVERIFY(!log.open(&error));
    QVERIFY2(error.contains(u"not a regular file"), qPrintable(error));
    struct stat st = {};
    QCOMPARE(::stat(name.constData(), &st), 0);
    QCOMPARE(st.st_mode & 0777, mode_t(0644));
}

// The second process of killedWhileDatabaseLockedLosesNothing: opens the log (data dir and
// PostgreSQL URL or empty as given), says "open", waits for a line on stdin, appends `count`
// awkward records, says "durable <last id>" once they are all durable, and waits to be killed.
static int appendAndWait(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() != 5)
        return 2;
    QString error;
    const auto db = LogDatabase::parse(args.at(3), args.at(2), &error);
    if (!db)
        return 3;
    MessageLog log(*db, 30, 1'000'000);
    if (!log.open(nullptr))
        return 4;
    std::printf("open\n");
    std::fflush(stdout);
    char line[64];
    if (!std::fgets(line, sizeof line, stdin))
        return 5;
    const quint64 last = log.lastIdAtOpen() + args.at(4).toULongLong();
    for (quint64 id = log.lastIdAtOpen() + 1; id <= last; ++id) {
        if (!log.append(awkwardRecord(id, db->driver == u"QSQLITE")))
            return 6;
    }
    while (log.durableId() < last)
        QThread::msleep(1);
    std::printf("durable %llu\n", static_cast<unsigned long long>(last));
    std::fflush(stdout);
    for (;;)
        QThread::sleep(1);
}

int main(int argc, char *argv[])
{
    if (argc > 1 && qstrcmp(argv[1], "--append-and-wait") == 0)
        return appendAndWait(argc, argv);
    QCoreApplication app(argc, argv);
    TestMessageLog test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_message_log.moc"
