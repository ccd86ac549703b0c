#include "store/LogSchema.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sb {

namespace {

const char *const kSchema[] = {
        "CREATE TABLE IF NOT EXISTS messages ("
        " id BIGINT PRIMARY KEY,"
        " ts BIGINT NOT NULL,"
        " source TEXT NOT NULL,"
        " target TEXT NOT NULL,"
        " to_name TEXT,"
        " event TEXT NOT NULL,"
        " data TEXT NOT NULL,"
        " delivered BIGINT NOT NULL,"
        " remote TEXT,"
        " node TEXT)",
        // GET /api/log?room= / ?user= (target and name) and ?event=. Retention by age needs
        // none: ts grows with id, so the oldest rows are the first ids.
        "CREATE INDEX IF NOT EXISTS messages_target_to ON messages (target, to_name, id)",
        "CREATE INDEX IF NOT EXISTS messages_event ON messages (event, id)",
};

bool fail(QString *error, const QString &text)
{
    if (error)
        *error = text;
    return false;
}

// The -wal and -shm files of an earlier run, when there are any (not through a link), made
// private.
bool makeSidecarsPrivate(const QString &path, const QByteArray &name, QString *error)
{
    for (const char *suffix : {"-wal", "-shm"}) {
        const QByteArray beside = name + suffix;
        const int fd = ::open(beside.constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            return fail(error,
                        QStringLiteral("cannot open %1%2: %3")
                                .arg(path, QLatin1String(suffix),
                                     QString::fromLocal8Bit(std::strerror(errno))));
        }
        struct stat st = {};
        const bool fine = ::fstat(fd, &st) == 0
                && (!S_ISREG(st.st_mode) || (st.st_mode & 0777) == 0600 || ::fchmod(fd, 0600) == 0);
        const int failure = errno;
        ::close(fd);
        if (!fine)
            return fail(error,
                        QStringLiteral("cannot chmod 0600 %1%2: %3")
                                .arg(path, QLatin1String(suffix),
                                     QString::fromLocal8Bit(std::strerror(failure))));
    }
    return true;
}

// The log's SQLite file and the -wal and -shm files SQLite keeps beside it are readable by
// their owner only, whatever the umask: the file is created here with mode 0600 before SQLite
// opens it, and SQLite gives the -wal and -shm files it creates the mode of the database file.
// Files an older version left readable are made private (docs/API.md, "Message log records").
// Only regular files are touched: a database path naming a device (/dev/null) or a FIFO is an
// error, and is neither opened nor changed.
bool makePrivate(const QString &path, QString *error)
{
    const auto failed = [&path, error](const char *what, int why) {
        return fail(error,
                    QStringLiteral("cannot %1 %2: %3")
                            .arg(QLatin1String(what), path,
                                 QString::fromLocal8Bit(std::strerror(why))));
    };
    const QByteArray name = QFile::encodeName(path);
    struct stat st = {};
    if (::stat(name.constData(), &st) == 0 && !S_ISREG(st.st_mode))
        return fail(error, QStringLiteral("%1 is not a regular file").arg(path));
    const int fd = ::open(name.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return failed("open", errno);
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const bool ok = regular && ((st.st_mode & 0777) == 0600 || ::fchmod(fd, 0600) == 0);
    const int why = errno;
    ::close(fd);
    if (!regular)
        return fail(error, QStringLiteral("%1 is not a regular file").arg(path));
    if (!ok)
        return failed("chmod 0600", why);
    return makeSidecarsPrivate(path, name, error);
}

} // namespace

bool prepareLogFile(const LogDatabase &db, QString *error)
{
    if (db.driver != u"QSQLITE")
        return true;
    const QFileInfo file(db.path);
    if (!QDir().mkpath(file.absolutePath()))
        return fail(error,
                    QStringLiteral("log_database: cannot create %1").arg(file.absolutePath()));
    if (QString why; !makePrivate(db.path, &why))
        return fail(error, QStringLiteral("log_database: %1").arg(why));
    return true;
}

namespace {

// A log made before clusters existed gets the column `node` (docs/API.md, "Message log
// records"); NULL in its old rows, as in every row of a single node.
bool addNodeColumn(QSqlQuery &q, const LogDatabase &db, QString *why)
{
    if (db.driver != u"QSQLITE") {
        if (q.exec(QStringLiteral("ALTER TABLE messages ADD COLUMN IF NOT EXISTS node TEXT")))
            return true;
        *why = q.lastError().text();
        return false;
    }
    if (!q.exec(QStringLiteral("PRAGMA table_info(messages)"))) {
        *why = q.lastError().text();
        return false;
    }
    while (q.next()) {
        if (q.value(1).toString() == u"node")
            return true;
    }
    if (q.exec(QStringLiteral("ALTER TABLE messages ADD COLUMN node TEXT")))
        return true;
    *why = q.lastError().text();
    return false;
}

} // namespace

bool createLogSchema(const LogDatabase &db, const void *owner, QString *error)
{
    QString why;
    const QString name = logConnectionName(owner, "setup");
    // Nodes of a cluster sharing one PostgreSQL log may create it at the same moment, and
    // PostgreSQL's CREATE ... IF NOT EXISTS can then fail in one of them: it tries again.
    for (int attempt = 0; attempt < 3; ++attempt) {
        why.clear();
        if (std::optional<QSqlDatabase> c = openLogConnection(db, name, &why)) {
            QSqlQuery q(*c);
            for (const char *statement : kSchema) {
                if (!q.exec(QString::fromLatin1(statement))) {
                    why = q.lastError().text();
                    break;
                }
            }
            if (why.isEmpty())
                addNodeColumn(q, db, &why);
        }
        QSqlDatabase::removeDatabase(name);
        if (why.isEmpty())
            return true;
    }
    return fail(error, why);
}

std::optional<LogBounds> readLogBounds(const LogDatabase &db, const void *owner, QString *error)
{
    QString why;
    LogBounds bounds;
    const QString name = logConnectionName(owner, "setup");
    if (std::optional<QSqlDatabase> c = openLogConnection(db, name, &why)) {
        QSqlQuery q(*c);
        if (q.exec(QStringLiteral("SELECT MAX(id), MIN(id) FROM messages")) && q.next()) {
            bounds.lastId = q.value(0).toULongLong();
            if (!q.value(1).isNull())
                bounds.prunedUpTo = q.value(1).toULongLong() - 1;
        } else {
            why = q.lastError().text();
        }
    }
    QSqlDatabase::removeDatabase(name);
    if (!why.isEmpty()) {
        fail(error, why);
        return std::nullopt;
    }
    return bounds;
}

} // namespace sb
