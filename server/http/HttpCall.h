#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

class QHttpServerRequest;
class QObject;
class QTcpSocket;

namespace sb {

class DecodedBody;

// Qt joins repeated header fields with ", ". A field a caller sent twice with the same value
// (some database clients duplicate headers) is read as that one value.
inline QByteArray singleHeaderValue(const QByteArray &value)
{
    if (!value.contains(','))
        return value;
    const QList<QByteArray> parts = value.split(',');
    const QByteArray first = parts.first().trimmed();
    for (const QByteArray &part : parts) {
        if (part.trimmed() != first)
            return value;
    }
    return first;
}

// One routed request as the handlers see it.
struct HttpCall
{
    const QHttpServerRequest &request;
    QTcpSocket *socket;
    QStringList segments; // decoded path segments: /api/rooms/a%2Fb -> api, rooms, a/b
    QHostAddress peer;
    QString remote; // address:port
    // The object answers come back to (the HTTP server, on the HTTP thread): the context of
    // an answer that comes later (HttpReply::later, EmitService::emitAsync).
    QObject *server = nullptr;
    // The decoded body, for the routes that take one (HttpServer::addRoutes); else null.
    const DecodedBody *body = nullptr;
};

} // namespace sb
