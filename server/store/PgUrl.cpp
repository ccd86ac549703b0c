#include "store/PgUrl.h"

#include <QSqlDatabase>
#include <QUrl>
#include <QUrlQuery>

namespace sb {

namespace {

// libpq parameter names are lower-case words with underscores; values go into the conninfo
// string unquoted (QPSQL joins the options with spaces), so they may hold no space, quote or
// backslash.
bool isOptionName(const QString &name)
{
    if (name.isEmpty() || name.size() > 64)
        return false;
    for (const QChar c : name) {
        if (!((c >= u'a' && c <= u'z') || c == u'_'))
            return false;
    }
    return true;
}

bool isOptionValue(const QString &value)
{
    if (value.isEmpty() || value.size() > 1024)
        return false;
    for (const QChar c : value) {
        if (c.isSpace() || c == u'\'' || c == u'"' || c == u'\\' || c == u';' || c.unicode() < 32)
            return false;
    }
    return true;
}

} // namespace

bool PgUrl::looksLike(const QString &text)
{
    return text.startsWith(u"postgresql://") || text.startsWith(u"postgres://");
}

std::optional<PgUrl> PgUrl::parse(const QString &text, QString *error)
{
    const QString expected =
            QStringLiteral("expected postgresql://user:password@host:port/database");
    if (!looksLike(text)) {
        *error = expected;
        return std::nullopt;
    }
    const QUrl url(text, QUrl::StrictMode);
    const QString name = url.path().mid(1);
    if (!url.isValid() || url.host().isEmpty() || name.isEmpty() || name.contains(u'/')) {
        *error = expected;
        return std::nullopt;
    }
    PgUrl pg;
    pg.host = url.host();
    pg.port = url.port(5432);
    pg.user = url.userName(QUrl::FullyDecoded);
    pg.password = url.password(QUrl::FullyDecoded);
    pg.database = QUrl::fromPercentEncoding(name.toUtf8());
    QStringList options;
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (!isOptionName(key) || !isOptionValue(value)) {
            *error = QStringLiteral("'%1=%2' is not a connection parameter such as "
                                    "sslmode=require")
                             .arg(key.left(64), key == u"password" ? u"..."_qs : value.left(64));
            return std::nullopt;
        }
        if (key == u"password" || key == u"user" || key == u"host" || key == u"port"
            || key == u"dbname") {
            *error = QStringLiteral("'%1' belongs in the URL itself, not in its query").arg(key);
            return std::nullopt;
        }
        options << key + u'=' + value;
    }
    pg.options = options.join(u';');
    return pg;
}

void PgUrl::applyTo(QSqlDatabase &db, const QString &extraOptions) const
{
    db.setHostName(host);
    db.setPort(port);
    db.setUserName(user);
    db.setPassword(password);
    db.setDatabaseName(database);
    QString all = options;
    if (!extraOptions.isEmpty())
        all += (all.isEmpty() ? QString() : QStringLiteral(";")) + extraOptions;
    db.setConnectOptions(all);
}

QString PgUrl::describe() const
{
    QUrl url;
    url.setScheme(QStringLiteral("postgresql"));
    url.setUserName(user);
    url.setHost(host);
    url.setPort(port);
    url.setPath(u'/' + database);
    return url.toString(QUrl::RemovePassword);
}

} // namespace sb
