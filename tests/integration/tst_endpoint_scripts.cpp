// Script handlers from outside the process (docs/API.md, "Endpoints", Handlers: a script is a
// CommonJS module on QJSEngine with onOpen/onMessage/onError/onClose, the platform's
// net/v4/websockets module and `switchboard`; nothing else may be required; a call past
// handler_timeout_ms is interrupted; an edited script handles the next event).

#include "ApiHelpers.h"
#include "DaemonTest.h"
#include "EndpointHelpers.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QTest>

using namespace sbit;
using namespace Qt::StringLiterals;

namespace {

const QByteArray kEcho = R"(const ws = require("net/v4/websockets");
function answer() { ws.getSession().send(ws.getMethod() + ":" + ws.getMessage()); }
exports.onOpen = answer;
exports.onMessage = answer;
exports.onError = function () { ws.getSession().send("onerror:" + ws.getError()); };
exports.onClose = function () { console.log("echo-closed " + ws.getSession().id); };
)";

// require("fs") is on line 4.
const QByteArray kFs = R"(const ws = require("net/v4/websockets");
exports.onMessage = function (m) {
    if (m === "fs")
        require("fs");
    ws.getSession().send("ok:" + m);
};
)";

const QByteArray kLoop = R"(const ws = require("net/v4/websockets");
exports.onMessage = function (m) {
    if (m === "loop")
        for (;;) { }
    ws.getSession().send("ok:" + m);
};
)";

const QByteArray kEditV1 = R"(exports.onMessage = function (m) {
    require("net/v4/websockets").getSession().send("v1:" + m);
};
)";

const QByteArray kEditV2 = R"(// the second version
exports.onMessage = function (m) {
    require("net/v4/websockets").getSession().send("v2:" + m);
};
)";

const QByteArray kEmit = R"(const sb = require("switchboard");
exports.onMessage = function (room) {
    sb.emitToRoom(room, "from-script", {"n": 1});
};
)";

// Does not parse: the error is on line 2.
const QByteArray kSyntax = "exports.onOpen = function () { };\n"
                           "exports.onMessage = function () { return ); };\n"
                           "exports.onClose = function () { };\n";

} // namespace

class TestEndpointScripts : public DaemonTest
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase() { stopDaemon(); }
    void cleanup() { endCase(); }
    void moduleGetsEveryEventInOrder();
    void requireOfAnythingElseThrows();
    void endlessLoopIsInterrupted();
    void editedScriptAnswersTheNextMessage();
    void switchboardEmitsReachRooms();
    void scriptThatDoesNotParseIsReported();

private:
    std::unique_ptr<WsClient> session(const QString &name, QString *id = nullptr);
    QString m_dir;
};

void TestEndpointScripts::initTestCase()
{
    m_server = std::make_unique<ServerProcess>();
    m_dir = endpointsDir(*m_server);
    const QList<QPair<QString, QByteArray>> scripts{{u"echo"_s, kEcho}, {u"fs"_s, kFs},
                                                    {u"loop"_s, kLoop}, {u"edit"_s, kEditV1},
                                                    {u"emit"_s, kEmit}, {u"syntax"_s, kSyntax}};
    for (const auto &[name, code] : scripts) {
        QVERIFY(writeFile(m_dir, u"h/"_s % name % u".js"_s, code));
        QVERIFY(writeDescriptor(m_dir, name % u".websocket"_s, descriptor(name, u"h/"_s % name)));
    }
    QVERIFY2(m_server->start({u"--handler-timeout-ms"_s, u"300"_s}),
             qPrintable(m_server->lastError()));
    m_api = m_server->client();
    std::unique_ptr<WsClient> probe = session(u"echo"_s);
    QVERIFY(probe);
    WsFrame first;
    QVERIFY2(probe->waitForAny(&first, 3000), qPrintable(compact(entryOf(*m_api, u"echo"_s))));
    QVERIFY2(first.text.startsWith(u"onopen:"_s), qPrintable(first.text));
}

std::unique_ptr<WsClient> TestEndpointScripts::session(const QString &name, QString *id)
{
    QString why;
    std::unique_ptr<WsClient> s = openSession(*m_server, u"/websockets/"_s % name, &why);
    if (!s)
        qWarning().noquote() << why;
    else if (id)
        *id = sessionIdOf(*m_api, *s);
    return s;
}

void TestEndpointScripts::moduleGetsEveryEventInOrder()
{
    QString id;
    std::unique_ptr<WsClient> s = session(u"echo"_s, &id);
    QVERIFY(s);
    for (const QString &m : {u"one"_s, u"two"_s, u"three"_s})
        s->sendText(m);
    const QStringList got = nextTexts(*s, 4);
    QCOMPARE(got.size(), 4);
    QVERIFY2(got[0].startsWith(u"onopen:"_s), qPrintable(got[0]));
    QCOMPARE(got.mid(1),
             (QStringList{u"onmessage:one"_s, u"onmessage:two"_s, u"onmessage:three"_s}));
    s->close();
    QVERIFY(waitUntil([&] { return m_server->output().contains(u"echo-closed "_s % id); }, 3000));
}

void TestEndpointScripts::requireOfAnythingElseThrows()
{
    std::unique_ptr<WsClient> s = session(u"fs"_s);
    QVERIFY(s);
    s->sendText(u"fs"_s);
    s->sendText(u"after"_s);
    QCOMPARE(nextTexts(*s, 1), QStringList{u"ok:after"_s});
    QVERIFY(s->isConnected());
    const QRegularExpression fileAndLine(u"fs\\.js\\D{0,12}4\\b"_s);
    QVERIFY2(
            fileAndLine.match(m_server->output()).hasMatch(),
            qPrintable(u"no error with fs.js and line 4 in:\n"_s % m_server->output().right(2000)));
}

void TestEndpointScripts::endlessLoopIsInterrupted()
{
    std::unique_ptr<WsClient> s = session(u"loop"_s);
    QVERIFY(s);
    s->sendText(u"loop"_s);
    s->sendText(u"next"_s);
    QCOMPARE(nextTexts(*s, 1, 3000), QStringList{u"ok:next"_s});
    QVERIFY(s->isConnected());
    QVERIFY(!entryOf(*m_api, u"loop"_s).value(u"last_error"_s).toString().isEmpty());
}

void TestEndpointScripts::editedScriptAnswersTheNextMessage()
{
    std::unique_ptr<WsClient> s = session(u"edit"_s);
    QVERIFY(s);
    s->sendText(u"a"_s);
    QCOMPARE(nextTexts(*s, 1), QStringList{u"v1:a"_s});
    QVERIFY(writeFile(m_dir, u"h/edit.js"_s, kEditV2));
    s->sendText(u"b"_s);
    QCOMPARE(nextTexts(*s, 1), QStringList{u"v2:b"_s});
}

void TestEndpointScripts::switchboardEmitsReachRooms()
{
    const QString room = uniqueName(u"scriptroom"_s);
    QString why;
    QVERIFY2(joinMember(room, u"su"_s, u"ss"_s, &why), qPrintable(why));
    std::unique_ptr<WsClient> s = session(u"emit"_s);
    QVERIFY(s);
    s->sendText(room);
    const QJsonObject event = m_member->waitForFrame(u"event"_s);
    QCOMPARE(event.value(u"event"_s).toString(), u"from-script"_s);
    QCOMPARE(event.value(u"data"_s).toObject().value(u"n"_s).toInt(), 1);
    const QJsonArray records = logRecordsOf(*m_api, u"from-script"_s);
    QCOMPARE(records.size(), 1);
    QCOMPARE(records[0].toObject().value(u"source"_s).toString(), u"handler"_s);
}

void TestEndpointScripts::scriptThatDoesNotParseIsReported()
{
    std::unique_ptr<WsClient> s = session(u"syntax"_s);
    QVERIFY(s);
    s->sendText(u"x"_s);
    const QRegularExpression fileAndLine(u"syntax\\.js\\D{0,12}2\\b"_s);
    QVERIFY2(waitUntil(
                     [&] {
                         return fileAndLine
                                 .match(entryOf(*m_api, u"syntax"_s)
                                                .value(u"last_error"_s)
                                                .toString())
                                 .hasMatch();
                     },
                     3000),
             qPrintable(compact(entryOf(*m_api, u"syntax"_s))));
}

QTEST_GUILESS_MAIN(TestEndpointScripts)
#include "tst_endpoint_scripts.moc"
