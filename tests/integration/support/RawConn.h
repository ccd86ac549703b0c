#pragma once

// One raw HTTP connection for the tests of database caller shapes: write exact bytes, read
// the responses as they come (tst_http_edge, tst_websocket).

#include "HttpClient.h"
#include "TestSupport.h"

#include <QTcpSocket>

namespace sbit {

// One raw connection: write exact bytes, read the responses as they come.
class RawConn
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QStringLiteral("127.0.0.1"), port);
        return waitUntil([&] { return m_socket.state() == QAbstractSocket::ConnectedState; }, 5000);
    }
    void write(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    void pump()
    {
        const QByteArray in = m_socket.readAll();
        m_received += in;
        m_parser.feed(in);
    }
    bool closed() const { return m_socket.state() == QAbstractSocket::UnconnectedState; }
    // Next response; interim 1xx answers are skipped unless wanted.
    bool read(HttpResponse *out, int timeoutMs, bool keepInterim = false)
    {
        return waitUntil(
                [&] {
                    pump();
                    HttpResponse r;
                    while (m_parser.take(&r, closed())) {
                        if (keepInterim || r.status >= 200) {
                            *out = r;
                            return true;
                        }
                    }
                    return false;
                },
                timeoutMs);
    }
    bool waitClosed(int timeoutMs)
    {
        return waitUntil(
                [&] {
                    pump();
                    return closed();
                },
                timeoutMs);
    }
    QByteArray received() const { return m_received; }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    HttpResponseParser m_parser;
    QByteArray m_received;
};

} // namespace sbit
