#pragma once

// The endpoint tests with HTTP handlers (tst_endpoints.cpp, tst_endpoints_sessions.cpp); see
// tst_endpoints.cpp.

#include "DaemonTest.h"
#include "HandlerServer.h"

#include <QHash>
#include <QJsonObject>

using namespace sbit;

inline const QByteArray kHandlerKey = "handler-key-7f3a";

class TestEndpoints : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup() { endCase(); }
    void handlerGetsTheContractsEvents_data();
    void handlerGetsTheContractsEvents();
    void noKeyHeaderWithoutHandlerKey();
    void answerIsAppliedInOrder();
    void failingHandlerIsRetriedThenDropped();
    void tokenAuthAndUnknownNames();
    void sessionsAreConnections();
    void binaryIsAnErrorEventAndTheSessionStays();
    void oversizedMessageIsClosedWith1009();

private:
    HandlerReply respond(const HandlerRequest &r);
    HandlerReply respondFlaky(const HandlerRequest &r);
    // The requests of path for one session, bodies parsed.
    QList<QJsonObject> eventsOf(const QByteArray &path, const QString &session) const;
    bool waitForEvents(const QByteArray &path, const QString &session, int n) const;
    HandlerServer m_handler;
    QHash<QString, int> m_attempts; // /flaky: calls per message
    QString m_room;
};
