#pragma once

// The PostgreSQL side of the tests that run against SQLite and against a real PostgreSQL 15.
// Such a test executable is registered twice in CTest (tests/CMakeLists.txt): as tst_x, and as
// tst_x_pg with SB_TEST_LOG_BACKEND=postgresql. The CTest fixture pg_cluster_start starts a
// throw-away server (scripts/pg-test-cluster.sh) and the _pg tests read its URL from the file
// named by SB_TEST_PG_URL_FILE; SB_TEST_PG_URL names another server instead (its role must be
// allowed to create databases). Locally SB_TEST_NO_PG=1 skips the PostgreSQL variants; without
// it a server that cannot be reached fails them.
//
// Every test case works in a database of its own (PgTestDatabase), created empty and dropped
// afterwards, so runs never see each other's rows.

#include <QString>
#include <QVariant>
#include <QVariantList>

namespace sbtest {

// True in the PostgreSQL variant of a test (SB_TEST_LOG_BACKEND=postgresql).
bool postgresqlWanted();

// True when the developer asked to skip the PostgreSQL variants (SB_TEST_NO_PG=1).
bool postgresqlDisabled();
// The QSKIP text for that case; CTest's SKIP_REGULAR_EXPRESSION for the _pg tests matches it.
inline constexpr char kPostgresqlSkipped[] =
        "SB_TEST_NO_PG=1: PostgreSQL variant skipped (run without it to test PostgreSQL)";

// The server's postgresql:// URL (SB_TEST_PG_URL, else the fixture's url file), or an empty
// string with *error saying why there is none.
QString postgresqlServerUrl(QString *error);

// A superuser's postgresql:// URL on the same server, for what only a superuser may do (the
// plpython3u functions of sql/postgresql/install.sql): SB_TEST_PG_ADMIN_URL, else admin_url
// beside the fixture's url file (scripts/pg-test-cluster.sh writes it), else SB_TEST_PG_URL
// itself (whose role must then be a superuser). Empty with *error when there is none.
QString postgresqlAdminUrl(QString *error);

// url (a postgresql:// URL) with the database name replaced.
QString withDatabase(const QString &url, const QString &database);

// A fresh, empty database on the test server, dropped again by drop() or the destructor
// (with FORCE: connections a killed program left behind do not keep it alive).
class PgTestDatabase
{
public:
    PgTestDatabase() = default;
    ~PgTestDatabase();
    PgTestDatabase(const PgTestDatabase &) = delete;
    PgTestDatabase &operator=(const PgTestDatabase &) = delete;

    // Creates a database with a unique name on the server of serverUrl, owned by its user.
    // False with *error on failure.
    bool create(const QString &serverUrl, QString *error);
    void drop();

    QString name() const { return m_name; }
    // The server URL with the new database's name in place of the original one.
    QString url() const { return m_url; }

    // Runs sql (positional ? placeholders bound to values) in the new database and returns
    // the first column of the first row, or an invalid QVariant with *error set. For checks
    // from outside the program under test.
    QVariant scalar(const QString &sql, const QVariantList &values, QString *error) const;

private:
    QString m_serverUrl;
    QString m_name;
    QString m_url;
};

} // namespace sbtest
