#pragma once

// The fixture most integration tests share: one daemon (m_server) with its keyed API client
// (m_api), optionally a member joined to a room of it (m_member), and a dedicated daemon for
// the cases that need other flags (m_extra, dropped after every case). A test class derives
// from DaemonTest and calls these from its initTestCase/init, cleanup and cleanupTestCase.

#include "ApiHelpers.h"
#include "HttpClient.h"
#include "ServerProcess.h"
#include "WsClient.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

namespace sbit {

class DaemonTest : public QObject
{
    Q_OBJECT

protected:
    // Starts m_server with args and opens m_api. False with *why on failure.
    bool startDaemon(const QStringList &args = {}, QString *why = nullptr);
    // Joins m_member to room as (user, session); nothingDelivered() and endCase() use it.
    bool joinMember(const QString &room, const QString &user, const QString &session,
                    QString *why = nullptr);
    // Drops the member, the API client and the daemons (kill: no wait).
    void stopDaemon();
    // After a case: prints the daemons' output tails when it failed, drops m_extra and
    // empties the member's queue (whatever a failed case delivered must not leak into the next
    // one).
    void endCase();
    // GET /api/health without a key answers 200 {"status":"ok"}; false with *why otherwise.
    bool daemonHealthy(QString *why) const;

    // Starts m_extra with args and joins a member (user "U", session "S") to room on it; the
    // keyed client of m_extra in *api. False with *why on failure.
    bool startExtraWithMember(const QStringList &args, const QString &room,
                              std::unique_ptr<HttpClient> *api, std::unique_ptr<WsClient> *member,
                              QString *why);
    // Opens /ws on m_server and joins room with a fresh token; null (with a warning) on failure.
    std::unique_ptr<WsClient> joined(const QString &room, const QString &user,
                                     const QString &session, bool publish = false);
    // A sentinel emitted to the member's room is the next event it sees: nothing else was
    // delivered to it.
    bool nothingDelivered();
    // Raw request bytes for m_server (rawHead/rawRequest of ApiHelpers.h).
    QByteArray head(const QByteArray &method, const QByteArray &path,
                    const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {}) const;
    QByteArray request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                       const QByteArray &version = "HTTP/1.1", const QByteArray &extra = {}) const;

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<HttpClient> m_api;
    std::unique_ptr<WsClient> m_member;
    QString m_memberRoom;
    std::unique_ptr<ServerProcess> m_extra; // a dedicated daemon for cases that need other flags
};

} // namespace sbit
