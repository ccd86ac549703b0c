#include "PgTestDatabase.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>

#include <atomic>
#include <functional>

namespace sbtest {

namespace {

// Opens a connection of its own to the database of url, runs work(db) and removes the
// connection again. False with *error when the connection cannot be opened or work fails.
bool withConnection(const QString &url, QString *error,
                    const std::function<bool(QSqlDatabase &)> &work)
{
    const QUrl u(url, QUrl::StrictMode);
    if (!u.isValid() || u.host().isEmpty() || u.path().size() < 2) {
        *error = QStringLiteral("not a postgresql://user:password@host:port/db URL: %1")
                         .arg(u.toDisplayString(QUrl::RemovePassword));
        return false;
    }
    static std::atomic<int> counter{0};
    const QString connection = QStringLiteral("sbtest-pg-%1").arg(++counter);
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        db.setHostName(u.host());
        db.setPort(u.port(5432));
        db.setUserName(u.userName(QUrl::FullyDecoded));
        db.setPassword(u.password(QUrl::FullyDecoded));
        db.setDatabaseName(u.path().mid(1));
        if (!db.open()) {
            *error = QStringLiteral("cannot connect to %1: %2")
                             .arg(u.toDisplayString(QUrl::RemovePassword), db.lastError().text());
        } else {
            ok = work(db);
            db.close();
        }
    } // the connection's last handle is gone before it is removed
    QSqlDatabase::removeDatabase(connection);
    return ok;
}

// The URL a file of the CTest fixture holds, or an empty string with *error (starting with
// missing: what there is none of) when it cannot be read or is empty.
QString urlFromFile(const QString &path, const QString &missing, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: cannot read %2 (%3); did the CTest fixture pg_cluster_start "
                                "fail?")
                         .arg(missing, path, file.errorString());
        return {};
    }
    const QString url = QString::fromUtf8(file.readAll()).trimmed();
    if (url.isEmpty())
        *error = QStringLiteral("%1: %2 is empty").arg(missing, path);
    return url;
}

} // namespace

bool postgresqlWanted()
{
    return qEnvironmentVariable("SB_TEST_LOG_BACKEND") == u"postgresql";
}

bool postgresqlDisabled()
{
    return qEnvironmentVariable("SB_TEST_NO_PG") == u"1";
}

QString postgresqlServerUrl(QString *error)
{
    if (const QString url = qEnvironmentVariable("SB_TEST_PG_URL").trimmed(); !url.isEmpty())
        return url;
    const QString path = qEnvironmentVariable("SB_TEST_PG_URL_FILE");
    if (path.isEmpty()) {
        *error = QStringLiteral("no PostgreSQL server: neither SB_TEST_PG_URL nor "
                                "SB_TEST_PG_URL_FILE is set (run this test through ctest, whose "
                                "fixture pg_cluster_start starts one)");
        return {};
    }
    return urlFromFile(path, QStringLiteral("no PostgreSQL server"), error);
}

QString postgresqlAdminUrl(QString *error)
{
    if (const QString url = qEnvironmentVariable("SB_TEST_PG_ADMIN_URL").trimmed(); !url.isEmpty())
        return url;
    if (const QString url = qEnvironmentVariable("SB_TEST_PG_URL").trimmed(); !url.isEmpty())
        return url;
    const QString path = qEnvironmentVariable("SB_TEST_PG_URL_FILE");
    if (path.isEmpty()) {
        *error = QStringLiteral("no PostgreSQL superuser: set SB_TEST_PG_ADMIN_URL, or run this "
                                "test through ctest (fixture pg_cluster_start)");
        return {};
    }
    return urlFromFile(QFileInfo(path).dir().filePath(QStringLiteral("admin_url")),
                       QStringLiteral("no PostgreSQL superuser"), error);
}

QString withDatabase(const QString &url, const QString &database)
{
    QUrl u(url, QUrl::StrictMode);
    u.setPath(u'/' + database);
    return u.toString(QUrl::FullyEncoded);
}

PgTestDatabase::~PgTestDatabase()
{
    drop();
}

bool PgTestDatabase::create(const QString &serverUrl, QString *error)
{
    drop();
    // Unique across the test processes CTest runs in parallel and across runs on one server.
    const QString name = QStringLiteral("sbtest_%1_%2")
                                 .arg(QCoreApplication::applicationPid())
                                 .arg(QRandomGenerator::global()->generate(), 8, 16, QChar(u'0'));
    const bool ok = withConnection(serverUrl, error, [&](QSqlDatabase &db) {
        QSqlQuery q(db);
        if (q.exec(QStringLiteral("CREATE DATABASE %1").arg(name)))
            return true;
        *error = QStringLiteral("CREATE DATABASE %1: %2").arg(name, q.lastError().text());
        return false;
    });
    if (!ok)
        return false;
    QUrl url(serverUrl, QUrl::StrictMode);
    url.setPath(u'/' + name);
    m_serverUrl = serverUrl;
    m_name = name;
    m_url = url.toString(QUrl::FullyEncoded);
    return true;
}

void PgTestDatabase::drop()
{
    if (m_name.isEmpty())
        return;
    QString error;
    const bool ok = withConnection(m_serverUrl, &error, [&](QSqlDatabase &db) {
        QSqlQuery q(db);
        if (q.exec(QStringLiteral("DROP DATABASE IF EXISTS %1 WITH (FORCE)").arg(m_name)))
            return true;
        error = q.lastError().text();
        return false;
    });
    if (!ok)
        qWarning("cannot drop the test database %s: %s", qPrintable(m_name), qPrintable(error));
    m_name.clear();
    m_url.clear();
}

QVariant PgTestDatabase::scalar(const QString &sql, const QVariantList &values,
                                QString *error) const
{
    QVariant result;
    withConnection(m_url, error, [&](QSqlDatabase &db) {
        QSqlQuery q(db);
        if (!q.prepare(sql)) {
            *error = q.lastError().text();
            return false;
        }
        for (const QVariant &v : values)
            q.addBindValue(v);
        if (!q.exec() || !q.next()) {
            *error = q.lastError().isValid() ? q.lastError().text()
                                             : QStringLiteral("no row from: %1").arg(sql);
            return false;
        }
        result = q.value(0);
        return true;
    });
    return result;
}

} // namespace sbtest
