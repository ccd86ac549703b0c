#include "http/StaticFiles.h"

#include "base/Logging.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>
#include <QHttpServerRequest>

#include <algorithm>

// The resources live in an object library (resources/web); referencing their initializers
// links them into every program that has this class. Outside any namespace, as Qt asks.
static void initWebResources()
{
    Q_INIT_RESOURCE(switchboard_web);
    Q_INIT_RESOURCE(switchboard_web_client);
}

namespace sb {

namespace {

constexpr QLatin1StringView kRoot{":/web"};

// If-None-Match: "a", W/"b" or *; a weak tag matches its strong form (RFC 9110 13.1.2).
bool etagMatches(const QByteArray &ifNoneMatch, const QByteArray &etag)
{
    for (QByteArray candidate : ifNoneMatch.split(',')) {
        candidate = candidate.trimmed();
        if (candidate == "*")
            return true;
        if (candidate.startsWith("W/"))
            candidate = candidate.mid(2);
        if (candidate == etag)
            return true;
    }
    return false;
}

} // namespace

StaticFiles::StaticFiles()
{
    initWebResources();
    QDirIterator it(kRoot, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString resourcePath = it.next();
        QFile file(resourcePath);
        if (!file.open(QIODevice::ReadOnly)) {
            qCWarning(lcHttp).noquote() << "cannot read resource" << resourcePath;
            continue;
        }
        const QByteArray body = file.readAll();
        const QString relative = resourcePath.mid(kRoot.size()); // "/examples/apex.html"
        add(relative, resourcePath, body);
        // A folder's index.html is also its URL: / and /examples/.
        if (relative.endsWith(u"/index.html"))
            add(relative.chopped(QLatin1StringView("index.html").size()), resourcePath, body);
    }
    if (!m_files.contains(QStringLiteral("/switchboard.js")))
        qCWarning(lcHttp) << "the web resources are missing: no landing page, no client script";
}

void StaticFiles::add(const QString &urlPath, const QString &resourcePath, const QByteArray &body)
{
    File file;
    file.body = body;
    file.contentType = contentTypeFor(resourcePath);
    file.etag =
            '"' + QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex().left(32) + '"';
    file.headers.append(
            {QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff")});
    const bool script = urlPath.startsWith(u"/switchboard.");
    if (script) {
        // Pages on other hosts (an APEX server) load the client from here; a module import
        // and a fetch of the types across origins need CORS.
        file.headers.append(
                {QByteArrayLiteral("Access-Control-Allow-Origin"), QByteArrayLiteral("*")});
    }
    if (urlPath == u"/switchboard.mjs") {
        // Deno and CDNs that understand it find the types of the module here.
        file.headers.append(
                {QByteArrayLiteral("X-TypeScript-Types"), QByteArrayLiteral("/switchboard.d.ts")});
    }
    if (urlPath == u"/" || urlPath == u"/index.html") {
        // The landing page holds an API key the user typed: nothing but its own files may
        // run in it, and it talks to this server only.
        file.headers.append({QByteArrayLiteral("Content-Security-Policy"),
                             QByteArrayLiteral("default-src 'self'; connect-src 'self'; "
                                               "img-src 'self' data:; object-src 'none'; "
                                               "base-uri 'none'; frame-ancestors 'none'")});
        file.headers.append(
                {QByteArrayLiteral("Referrer-Policy"), QByteArrayLiteral("no-referrer")});
    }
    m_files.insert(urlPath, std::move(file));
}

QByteArray StaticFiles::contentTypeFor(const QString &fileName)
{
    static const std::pair<const char16_t *, const char *> types[] = {
            {u".html", "text/html; charset=utf-8"},
            {u".mjs", "text/javascript; charset=utf-8"},
            {u".js", "text/javascript; charset=utf-8"},
            {u".d.ts", "application/typescript; charset=utf-8"},
            {u".css", "text/css; charset=utf-8"},
            {u".svg", "image/svg+xml"},
            {u".json", "application/json"},
            {u".md", "text/markdown; charset=utf-8"},
            {u".txt", "text/plain; charset=utf-8"},
            {u".png", "image/png"},
            {u".ico", "image/x-icon"},
    };
    for (const auto &[suffix, type] : types) {
        if (fileName.endsWith(QStringView(suffix), Qt::CaseInsensitive))
            return QByteArray(type);
    }
    return QByteArrayLiteral("application/octet-stream");
}

QStringList StaticFiles::urlPaths() const
{
    QStringList paths = m_files.keys();
    std::sort(paths.begin(), paths.end());
    return paths;
}

HttpReply StaticFiles::get(const QHttpServerRequest &request, const QString &urlPath) const
{
    const auto it = m_files.constFind(urlPath);
    if (it == m_files.cend())
        return HttpReply::error(404, u"not_found",
                                QStringLiteral("no file at %1").arg(urlPath.left(200)));
    HttpReply reply;
    reply.contentType = it->contentType;
    reply.cacheControl = QByteArrayLiteral("no-cache");
    reply.headers = it->headers;
    reply.headers.append({QByteArrayLiteral("ETag"), it->etag});
    const QByteArray ifNoneMatch = request.value(QByteArrayLiteral("if-none-match"));
    if (!ifNoneMatch.isEmpty() && etagMatches(ifNoneMatch, it->etag)) {
        reply.status = 304;
        return reply;
    }
    reply.body = it->body;
    return reply;
}

} // namespace sb
