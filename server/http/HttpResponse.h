#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QStringView>

namespace sb {

// One HTTP answer. Handlers return it; HttpServer writes it in one piece (status line,
// headers, Content-Length body), adding Connection: close when the connection ends after it.
struct HttpReply
{
    int status = 200;
    QByteArray body;
    QByteArray contentType = QByteArrayLiteral("application/json");
    QList<QPair<QByteArray, QByteArray>> headers;

    static HttpReply json(QByteArray body, int status = 200);
    // {"error": {"code": ..., "message": ...}}
    static HttpReply error(int status, QStringView code, QStringView message);

    QByteArray serialize(bool closeConnection, bool headOnly = false) const;
};

QByteArray reasonPhrase(int status);

} // namespace sb
