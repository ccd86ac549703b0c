#pragma once

#include "http/HttpResponse.h"

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

class QHttpServerRequest;

namespace sb {

// The files compiled into the :/web resources (resources/web): the landing page, the browser
// client (/switchboard.js, /switchboard.mjs, /switchboard.d.ts) and the examples. Read once
// at start, answered from memory. Every answer carries a strong ETag and
// Cache-Control: no-cache, so browsers keep a copy and revalidate it with If-None-Match
// (304, no body): a server upgrade is never hidden behind a stale client script.
class StaticFiles
{
public:
    StaticFiles();

    // The file served at this URL path ("/", "/switchboard.js", "/examples/apex.html"), or
    // a 404 in the REST error shape.
    HttpReply get(const QHttpServerRequest &request, const QString &urlPath) const;
    bool contains(const QString &urlPath) const { return m_files.contains(urlPath); }
    // Every URL path served, sorted.
    QStringList urlPaths() const;

    // The Content-Type for a file name, by its suffix.
    static QByteArray contentTypeFor(const QString &fileName);

private:
    struct File
    {
        QByteArray body;
        QByteArray contentType;
        QByteArray etag; // quoted
        QList<QPair<QByteArray, QByteArray>> headers;
    };
    void add(const QString &urlPath, const QString &resourcePath, const QByteArray &body);

    QHash<QString, File> m_files;
};

} // namespace sb
