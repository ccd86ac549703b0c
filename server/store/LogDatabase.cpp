#include "store/LogDatabase.h"

#include <QDir>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

namespace sb {

std::optional<LogDatabase> LogDatabase::parse(const QString &setting, const QString &dataDir,
                                              QString *error)
{
    LogDatabase db;
    if (PgUrl::looksLike(setting)) {
        QString why;
        const std::optional<PgUrl> url = PgUrl::parse(setting, &why);
        if (!url) {
            if (error)
                *error = QStringLiteral("log_database: %1").arg(why);
            return std::nullopt;
        }
        static_cast<PgUrl &>(db) = *url;
        db.driver = QStringLiteral("QPSQL");
        db.journal = QDir(dataDir).filePath(QStringLiteral("messages-postgresql.journal"));
    } else {
        db.driver = QStringLiteral("QSQLITE");
        db.path =
                setting.isEmpty() ? QDir(dataDir).filePath(QStringLiteral("messages.db")) : setting;
        db.journal = db.path + QStringLiteral(".journal");
    }
    if (!QSqlDatabase::isDriverAvailable(db.driver)) {
        if (error)
            *error = QStringLiteral(
                             "log_database: the Qt SQL driver %1 is not installed (Debian: %2)")
                             .arg(db.driver,
                                  db.driver == u"QPSQL" ? QStringLiteral("libqt6sql6-psql")
                                                        : QStringLiteral("libqt6sql6-sqlite"));
        return std::nullopt;
    }
    return db;
}

QString LogDatabase::describe() const
{
    if (driver == u"QPSQL")
        return PgUrl::describe();
    return QStringLiteral("sqlite:%1").arg(path);
}

QString logConnectionName(const void *owner, const char *role)
{
    return QStringLiteral("sb-log-%1-%2-%3")
            .arg(quintptr(owner), 0, 16)
            .arg(QString::fromLatin1(role))
            .arg(quintptr(QThread::currentThreadId()), 0, 16);
}

void configureLogConnection(QSqlDatabase &connection, const LogDatabase &db)
{
    QSqlQuery q(connection);
    if (db.driver == u"QSQLITE") {
        // WAL: readers never block the writer; NORMAL: a commit is in the file (the OS
        // cache) when it returns, so a killed process loses nothing. Power loss may lose
        // the last commits (docs/API.md, "Message log").
        q.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
        q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        // Checkpoints (copying the WAL back into the database, with an fsync) every 16 MiB of
        // WAL rather than every 4 MiB: a quarter of the fsyncs on the commit path.
        q.exec(QStringLiteral("PRAGMA wal_autocheckpoint=4000"));
    } else {
        // Warnings and errors only: libpq prints notices on stderr, and the schema's CREATE ...
        // IF NOT EXISTS answers each start on an existing log with three of them.
        q.exec(QStringLiteral("SET client_min_messages TO warning"));
        // A table locked by someone else fails a write after 5 s, as SQLite's busy timeout
        // does, rather than hold the writer (and close()) for as long as the lock is held.
        q.exec(QStringLiteral("SET lock_timeout TO '5s'"));
    }
}

std::optional<QSqlDatabase> openLogConnection(const LogDatabase &db, const QString &name,
                                              QString *error)
{
    if (QSqlDatabase::contains(name)) {
        QSqlDatabase existing = QSqlDatabase::database(name, false);
        if (existing.isOpen())
            return existing;
        if (existing.open()) {
            configureLogConnection(existing, db);
            return existing;
        }
        if (error)
            *error = existing.lastError().text();
        return std::nullopt;
    }
    QSqlDatabase c = QSqlDatabase::addDatabase(db.driver, name);
    if (db.driver == u"QSQLITE") {
        c.setDatabaseName(db.path);
        // Writers and readers on other connections wait instead of failing at once.
        c.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    } else {
        // A database that cannot be reached fails a try within 5 s, and one that vanished
        // without closing the connection (a dead network) is noticed by TCP keepalives, so
        // that the writer reconnects rather than hang (docs/API.md, "Message log records").
        db.applyTo(c,
                   QStringLiteral("connect_timeout=5;keepalives=1;keepalives_idle=30;"
                                  "keepalives_interval=10;keepalives_count=3;"
                                  "application_name=switchboard-log"));
    }
    if (!c.open()) {
        if (error)
            *error = c.lastError().text();
        return std::nullopt;
    }
    configureLogConnection(c, db);
    return c;
}

} // namespace sb
