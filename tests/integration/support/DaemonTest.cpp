#include "DaemonTest.h"

#include <QDebug>
#include <QTest>

using namespace Qt::StringLiterals;

namespace sbit {

bool DaemonTest::startDaemon(const QStringList &args, QString *why)
{
    m_server = std::make_unique<ServerProcess>();
    if (!m_server->start(args)) {
        if (why)
            *why = m_server->lastError();
        return false;
    }
    m_api = m_server->client();
    return true;
}

bool DaemonTest::joinMember(const QString &room, const QString &user, const QString &session,
                            QString *why)
{
    m_memberRoom = room;
    m_member = openJoined(*m_server, *m_api, room, user, session, false, why);
    return m_member != nullptr;
}

void DaemonTest::stopDaemon()
{
    m_member.reset();
    m_api.reset();
    if (m_server)
        m_server->kill();
    m_server.reset();
    m_extra.reset();
}

void DaemonTest::endCase()
{
    if (QTest::currentTestFailed()) {
        if (m_server)
            qWarning().noquote() << "daemon output (tail):\n" << m_server->output().right(3000);
        if (m_extra)
            qWarning().noquote() << "dedicated daemon output (tail):\n"
                                 << m_extra->output().right(3000);
    }
    m_extra.reset();
    if (m_member)
        flushMember(*m_api, *m_member, m_memberRoom);
}

bool DaemonTest::daemonHealthy(QString *why) const
{
    const HttpResponse health = m_server->client(false)->get("/api/health");
    if (health.status == 200 && health.object().value(u"status"_s).toString() == u"ok")
        return true;
    *why = u"health after the case: "_s % health.describe();
    return false;
}

bool DaemonTest::startExtraWithMember(const QStringList &args, const QString &room,
                                      std::unique_ptr<HttpClient> *api,
                                      std::unique_ptr<WsClient> *member, QString *why)
{
    m_extra = std::make_unique<ServerProcess>();
    if (!m_extra->start(args)) {
        *why = m_extra->lastError();
        return false;
    }
    *api = m_extra->client();
    *member = openJoined(*m_extra, **api, room, u"U"_s, u"S"_s, false, why);
    return *member != nullptr;
}

std::unique_ptr<WsClient> DaemonTest::joined(const QString &room, const QString &user,
                                             const QString &session, bool publish)
{
    QString why;
    auto c = openJoined(*m_server, *m_api, room, user, session, publish, &why);
    if (!c)
        qWarning().noquote() << "openJoined failed:" << why;
    return c;
}

bool DaemonTest::nothingDelivered()
{
    return nextEventIsSentinel(*m_api, *m_member, m_memberRoom);
}

QByteArray DaemonTest::head(const QByteArray &method, const QByteArray &path,
                            const QByteArray &version, const QByteArray &extra) const
{
    return rawHead(*m_server, method, path, version, extra);
}

QByteArray DaemonTest::request(const QByteArray &method, const QByteArray &path,
                               const QByteArray &body, const QByteArray &version,
                               const QByteArray &extra) const
{
    return rawRequest(*m_server, method, path, body, version, extra);
}

} // namespace sbit
