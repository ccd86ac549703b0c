// MessageLog on a real SQLite file: group commit, what is committed, the query filters and
// order, retention by rows, ids after reopening, the database setting, and the record JSON.
// As tst_message_log_pg (SB_TEST_LOG_BACKEND=postgresql) the same cases run on a real
// PostgreSQL server, each in a fresh database (tests/common/PgTestDatabase.h).

#include "store/MessageLog.h"

#include "PgTestDatabase.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QTest>

using namespace sb;

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

private:
    std::unique_ptr<MessageLog> openLog(qint64 retentionDays = 30, qint64 maxRows = 1000000);
    static MessageRecord record(quint64 id, EmitTarget target, const QString &to,
                                const QString &event, qint64 ts = 0);
    static bool waitCommitted(MessageLog &log, quint64 id);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_pgServer;          // the PostgreSQL variant: the test server's URL
    sbtest::PgTestDatabase m_pg; // ...and this test case's own database there
};

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
    QTest::failOnWarning(
            QRegularExpression(QStringLiteral("retention by .* failed|could not write")));
    if (!m_pgServer.isEmpty()) {
        QString error;
        QVERIFY2(m_pg.create(m_pgServer, &error), qPrintable(error));
    }
}

void TestMessageLog::cleanup()
{
    m_pg.drop();
}

std::unique_ptr<MessageLog> TestMessageLog::openLog(qint64 retentionDays, qint64 maxRows)
{
    QString error;
    // The default SQLite file in the data dir, or this test case's PostgreSQL database.
    const auto db = LogDatabase::parse(m_pg.url(), m_dir->path(), &error);
    if (!db) {
        qWarning("%s", qPrintable(error));
        return nullptr;
    }
    const QString driver =
            m_pgServer.isEmpty() ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
    if (db->driver != driver) {
        qWarning("wrong log database: %s", qPrintable(db->describe()));
        return nullptr;
    }
    auto log = std::make_unique<MessageLog>(*db, retentionDays, maxRows);
    error = log->open();
    if (!error.isEmpty()) {
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

void TestMessageLog::appendCommitsInOrder()
{
    auto log = openLog();
    QVERIFY(log);
    QCOMPARE(log->lastIdAtOpen(), quint64(0));
    QSignalSpy committed(log.get(), &MessageLog::committed);
    for (quint64 id = 1; id <= 500; ++id)
        QVERIFY(log->append(
                record(id, EmitTarget::Room, QStringLiteral("r"), QStringLiteral("e"))));
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

QTEST_GUILESS_MAIN(TestMessageLog)
#include "tst_message_log.moc"
