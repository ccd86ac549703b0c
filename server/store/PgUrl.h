#pragma once

#include <QString>

#include <optional>

class QSqlDatabase;

namespace sb {

// A postgresql://user:password@host:port/database URL as Qt's QPSQL driver takes it. Shared by
// the message log (log_database) and the LISTEN/NOTIFY listener (pg_listen). Query items are
// libpq connection parameters (?sslmode=require&connect_timeout=5), passed on as connect options.
struct PgUrl
{
    QString host;
    int port = 5432;
    QString user;
    QString password;
    QString database;
    QString options; // "key=value;key=value" for QSqlDatabase::setConnectOptions()

    // True when text starts with postgresql:// or postgres://.
    static bool looksLike(const QString &text);
    // nullopt with *error ("expected postgresql://user:password@host:port/database ...");
    // the error never contains the password.
    static std::optional<PgUrl> parse(const QString &text, QString *error);

    // Sets host, port, user, password, database name and connect options; `extraOptions`
    // ("key=value;...") are appended to those of the URL.
    void applyTo(QSqlDatabase &db, const QString &extraOptions = {}) const;
    // postgresql://user@host:port/database, never the password (for logs and messages).
    QString describe() const;
};

} // namespace sb
