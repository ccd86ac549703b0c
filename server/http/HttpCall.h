#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringList>

class QHttpServerRequest;
class QTcpSocket;

namespace sb {

// One routed request as the handlers see it.
struct HttpCall
{
    const QHttpServerRequest &request;
    QTcpSocket *socket;
    QStringList segments; // decoded path segments: /api/rooms/a%2Fb -> api, rooms, a/b
    QHostAddress peer;
    QString remote;       // address:port
};

} // namespace sb
