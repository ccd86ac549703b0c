#pragma once

#include "store/PgUrl.h"

#include <QSqlDatabase>
#include <QString>

#include <optional>

namespace sb {

// Where the log lives: an SQLite file (WAL) or a PostgreSQL database (the PgUrl part), same
// schema and code.
struct LogDatabase : PgUrl
{
    QString driver;  // "QSQLITE" or "QPSQL"
    QString path;    // SQLite file
    QString journal; // the append-only journal file beside it (in the data dir for PostgreSQL)

    // log_database as configured: empty = <dataDir>/messages.db, a postgresql:// URL, or a
    // file path. Returns nullopt with *error naming the problem.
    static std::optional<LogDatabase> parse(const QString &setting, const QString &dataDir,
                                            QString *error);
    QString describe() const; // for the log: never the password
};

// Connections to the log database. Each thread has its own, named after the log (`owner`), the
// part that uses it (`role`: "setup", "writer", "reader") and the thread.
QString logConnectionName(const void *owner, const char *role);
// Settings of a fresh (or reopened) connection to the log database.
void configureLogConnection(QSqlDatabase &connection, const LogDatabase &db);
// Opens (or returns the already open) connection `name` of this thread to the log database;
// nullopt with *error (may be null) when it cannot be opened.
std::optional<QSqlDatabase> openLogConnection(const LogDatabase &db, const QString &name,
                                              QString *error);

} // namespace sb
