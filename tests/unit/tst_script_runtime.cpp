// Unit tests of the script handlers' runtime (server/endpoints/ScriptRuntime): a real
// QJSEngine on real files in a temporary folder (docs/API.md, "Handlers").

#include "clients/OutboundClients.h"
#include "endpoints/HandlerServices.h"
#include "endpoints/ScriptModules.h"
#include "endpoints/ScriptRuntime.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMutex>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using sb::ConnId;
using sb::EmitTarget;
using sb::HandlerEvent;

namespace {

// What a HandlerServices was asked to do.
class RecordingServices : public sb::HandlerServices
{
public:
    struct Emit
    {
        EmitTarget target;
        QString to;
        QString event;
        QByteArray data;
    };

    std::optional<quint64> emit(EmitTarget target, const QString &to, const QString &event,
                                const QByteArray &data, QString *error) override
    {
        QMutexLocker lock(&mutex);
        if (event == u"refused"_s) {
            *error = u"the queues are full"_s;
            return std::nullopt;
        }
        emits.append({target, to, event, data});
        return ++lastId;
    }
    bool sendToSession(ConnId session, const QString &text) override
    {
        QMutexLocker lock(&mutex);
        sends.append({session, text});
        return session == knownSession;
    }
    bool closeSession(ConnId session, quint16 code) override
    {
        QMutexLocker lock(&mutex);
        closes.append({session, code});
        return session == knownSession;
    }
    QList<QPair<ConnId, QString>> sessions(const QString &endpoint) const override
    {
        QMutexLocker lock(&mutex);
        askedSessions.append(endpoint);
        return sessionList;
    }
    sb::OutboundClients *clients() const override { return registry; }

    mutable QMutex mutex;
    QList<Emit> emits;
    QList<QPair<ConnId, QString>> sends;
    QList<QPair<ConnId, quint16>> closes;
    QList<QPair<ConnId, QString>> sessionList;
    mutable QStringList askedSessions;
    quint64 lastId = 41;
    ConnId knownSession = 0;
    sb::OutboundClients *registry = nullptr;
};

// The lines logged in switchboard.handler, as "level text".
QStringList g_logged;
QMutex g_logMutex;
QtMessageHandler g_previous = nullptr;

void recordLog(QtMsgType type, const QMessageLogContext &context, const QString &text)
{
    if (context.category && QByteArray(context.category) == "switchboard.handler") {
        static const char *names[] = {"debug", "warning", "critical", "fatal", "info"};
        QMutexLocker lock(&g_logMutex);
        g_logged.append(QString::fromLatin1(names[type]) + u' ' + text);
    }
    if (g_previous)
        g_previous(type, context, text);
}

QStringList takeLogged()
{
    QMutexLocker lock(&g_logMutex);
    return std::exchange(g_logged, {});
}

HandlerEvent makeEvent(HandlerEvent::Method method, ConnId session, const QString &text = {})
{
    HandlerEvent e;
    e.method = method;
    e.endpoint = u"chat"_s;
    e.session = session;
    e.handler = u"h"_s;
    if (method == HandlerEvent::Method::Message)
        e.message = text;
    if (method == HandlerEvent::Method::Error)
        e.error = text;
    return e;
}

} // namespace

class TestScriptRuntime : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void eventsInOrder();
    void errorEvent();
    void unknownModuleRefused();
    void endlessLoopInterrupted();
    void topLevelLoopInterrupted();
    void relativeRequire();
    void requireEscapingRootRefused();
    void moduleStateAndCycles();
    void filesChangedAndReload();
    void switchboardModule();
    void seedHandlerRuns();
    void seedClientImports();
    void esModuleHandler();
    void esImportsOutsideRootRefused();
    void sandboxGlobals();
    void importScanner_data();
    void importScanner();

private:
    void write(const QString &name, const QString &text);
    std::unique_ptr<sb::ScriptRuntime> runtime(const QString &handler, qint64 timeoutMs = 2000,
                                               const QString &endpoint = u"chat"_s);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_root;
    RecordingServices m_services;
    sb::ScriptWatchdog m_watchdog;
};

void TestScriptRuntime::initTestCase()
{
    g_previous = qInstallMessageHandler(recordLog);
}

void TestScriptRuntime::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_root = m_dir->filePath(u"root"_s);
    QVERIFY(QDir().mkpath(m_root));
    QMutexLocker lock(&m_services.mutex);
    m_services.emits.clear();
    m_services.sends.clear();
    m_services.closes.clear();
    m_services.askedSessions.clear();
    m_services.knownSession = 0;
    m_services.registry = nullptr;
    takeLogged();
}

void TestScriptRuntime::write(const QString &name, const QString &text)
{
    const QString path = name.startsWith(u'/') ? name : m_root + u'/' + name;
    QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QVERIFY(file.write(text.toUtf8()) >= 0);
}

std::unique_ptr<sb::ScriptRuntime>
TestScriptRuntime::runtime(const QString &handler, qint64 timeoutMs, const QString &endpoint)
{
    sb::ScriptSettings settings;
    settings.root = m_root;
    settings.handler = handler;
    settings.owner = endpoint.isEmpty() ? u"client handler "_s + handler : endpoint;
    settings.endpoint = endpoint;
    settings.timeoutMs = timeoutMs;
    settings.services = &m_services;
    settings.watchdog = &m_watchdog;
    return std::make_unique<sb::ScriptRuntime>(settings);
}

void TestScriptRuntime::eventsInOrder()
{
    write(u"h.js"_s, uR"(var ws = require("net/v4/websockets");
var atLoad = [ws.getMethod(), ws.isOnOpen(), ws.getMessage(), ws.getError(), ws.getSession()];
var seen = 0;
function note(arg) {
    var s = ws.getSession();
    seen++;
    s.send([seen, ws.getMethod(), ws.isOnOpen(), ws.isOnMessage(), ws.isOnError(),
            ws.isOnClose(), ws.getMessage(), arg, s.id, s.endpoint, s.user].join("|"));
}
exports.onOpen = function () { note(JSON.stringify(atLoad)); };
exports.onMessage = function (message) { note(message); };
exports.onClose = function () { note(arguments.length); };
)"_s);
    const ConnId session = 5;
    m_services.knownSession = session;
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    using M = HandlerEvent::Method;
    const QList<HandlerEvent> events = {
            makeEvent(M::Open, session), makeEvent(M::Message, session, u"a"_s),
            makeEvent(M::Message, session, u"b c"_s),
            makeEvent(M::Message, session, u"{\"x\":1}"_s), makeEvent(M::Close, session)};
    for (const HandlerEvent &e : events)
        QVERIFY2(rt->handle(e, &error), qPrintable(error));
    const QString id = sb::connectionIdText(session);
    const QStringList expected = {
            u"1|onopen|true|false|false|false||[null,false,null,null,null]|%1|chat|"_s.arg(id),
            u"2|onmessage|false|true|false|false|a|a|%1|chat|"_s.arg(id),
            u"3|onmessage|false|true|false|false|b c|b c|%1|chat|"_s.arg(id),
            u"4|onmessage|false|true|false|false|{\"x\":1}|{\"x\":1}|%1|chat|"_s.arg(id),
            u"5|onclose|false|false|false|true||0|%1|chat|"_s.arg(id)};
    QStringList texts;
    for (const auto &send : std::as_const(m_services.sends)) {
        QCOMPARE(send.first, session);
        texts.append(send.second);
    }
    QCOMPARE(texts, expected);
}

void TestScriptRuntime::errorEvent()
{
    write(u"h.js"_s, uR"(var ws = require("net/websockets");
exports.onError = function (error) {
    ws.getSession().send(["E", error, ws.getError(), ws.getMethod(), ws.isOnError()].join("|"));
    ws.getSession().close(4001);
};
)"_s);
    m_services.knownSession = 9;
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Error, 9, u"binary frame"_s), &error),
             qPrintable(error));
    QCOMPARE(m_services.sends.size(), 1);
    QCOMPARE(m_services.sends.at(0).second, u"E|binary frame|binary frame|onerror|true"_s);
    QCOMPARE(m_services.closes, (QList<QPair<ConnId, quint16>>{{9, 4001}}));
    // onOpen is not exported: nothing happens.
    QVERIFY(rt->handle(makeEvent(HandlerEvent::Method::Open, 9), &error));
    QCOMPARE(m_services.sends.size(), 1);

    // A client's handler has no session.
    write(u"client.js"_s,
          u"var ws = require('net/websockets');\nexports.onError = function (e)"
          u" { require('switchboard').send('c9', e + ':' + ws.getSession()); };\n"_s);
    auto client = runtime(u"client"_s, 2000, QString());
    QVERIFY2(client->load(&error), qPrintable(error));
    HandlerEvent e;
    e.method = HandlerEvent::Method::Error;
    e.client = u"w1"_s;
    e.error = u"refused"_s;
    QVERIFY2(client->handle(e, &error), qPrintable(error));
    QCOMPARE(m_services.sends.size(), 2);
    QCOMPARE(m_services.sends.at(1).second, u"refused:null"_s);
}

void TestScriptRuntime::unknownModuleRefused()
{
    write(u"top.js"_s, u"// a handler\n\nvar fs = require(\"fs\");\n"_s);
    QString error;
    QVERIFY(!runtime(u"top"_s)->load(&error));
    QVERIFY2(error.startsWith(u"top.js:3: "_s), qPrintable(error));
    QVERIFY2(error.contains(u"module 'fs' is not available"_s), qPrintable(error));

    write(u"sub/h.js"_s, uR"(exports.onMessage = function (m) {
    var x = 1;
    require("child_process");
};
)"_s);
    auto rt = runtime(u"sub/h"_s);
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY(!rt->handle(makeEvent(HandlerEvent::Method::Message, 1, u"x"_s), &error));
    QCOMPARE(error, u"sub/h.js:3: Error: module 'child_process' is not available"_s);
    const QStringList logged = takeLogged();
    QVERIFY2(logged.size() == 1 && logged.at(0).startsWith(u"warning chat onmessage"_s)
                     && logged.at(0).contains(error),
             qPrintable(logged.join(u'\n')));
}

void TestScriptRuntime::endlessLoopInterrupted()
{
    write(u"h.js"_s, uR"(var ws = require("net/websockets");
exports.onMessage = function (m) {
    if (m === "loop") { try { while (true) {} } catch (e) { ws.getSession().send("caught"); } }
    ws.getSession().send("ok " + m);
};
)"_s);
    auto rt = runtime(u"h"_s, 200);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(!rt->handle(makeEvent(HandlerEvent::Method::Message, 3, u"loop"_s), &error));
    QVERIFY2(timer.elapsed() >= 190 && timer.elapsed() < 5000,
             qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(error, u"handler call interrupted after 200 ms"_s);
    QVERIFY(m_services.sends.isEmpty());
    const QStringList logged = takeLogged();
    QVERIFY2(logged.size() == 1 && logged.at(0).startsWith(u"critical chat onmessage"_s),
             qPrintable(logged.join(u'\n')));
    // The next event runs as usual, twice.
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 3, u"next"_s), &error),
             qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 3, u"again"_s), &error),
             qPrintable(error));
    QCOMPARE(m_services.sends.size(), 2);
    QCOMPARE(m_services.sends.at(0).second, u"ok next"_s);
    QCOMPARE(m_services.sends.at(1).second, u"ok again"_s);
}

void TestScriptRuntime::topLevelLoopInterrupted()
{
    write(u"h.js"_s, u"var i = 0;\nfor (;;) { i++; }\n"_s);
    auto rt = runtime(u"h"_s, 200);
    QString error;
    QElapsedTimer timer;
    timer.start();
    QVERIFY(!rt->load(&error));
    QVERIFY(timer.elapsed() < 5000);
    QCOMPARE(error, u"handler call interrupted after 200 ms"_s);
    // Fixed, it loads in the same runtime.
    write(u"h.js"_s,
          u"exports.onOpen = function () { require('switchboard').send('c7', 'hi'); };\n"_s);
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Open, 7), &error), qPrintable(error));
    QCOMPARE(m_services.sends, (QList<QPair<ConnId, QString>>{{7, u"hi"_s}}));
}

void TestScriptRuntime::relativeRequire()
{
    write(u"app/h.js"_s, uR"(var util = require("./lib/util");
var common = require("../shared/common.js");
exports.onMessage = function (m) {
    require("switchboard").send("c1", util.twice(m) + common.name + __filename + "|" + __dirname);
};
)"_s);
    write(u"app/lib/util.js"_s, u"exports.twice = function (s) { return s + s; };\n"_s);
    write(u"shared/common.js"_s, u"module.exports = { name: '!' };\n"_s);
    auto rt = runtime(u"app/h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 1, u"ab"_s), &error),
             qPrintable(error));
    QCOMPARE(m_services.sends.size(), 1);
    QCOMPARE(m_services.sends.at(0).second, u"abab!app/h.js|app"_s);
}

void TestScriptRuntime::requireEscapingRootRefused()
{
    write(m_dir->filePath(u"outside.js"_s), u"console.log('outside ran');\n"_s);
    QVERIFY(QFile::link(m_dir->filePath(u"outside.js"_s), m_root + u"/link.js"_s));
    write(u"h.js"_s, uR"(exports.onMessage = function (m) {
    require(m);
};
)"_s);
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    const QStringList names = {u"../outside"_s, u"./../outside.js"_s, u"./link"_s, u"/etc/passwd"_s,
                               u"../root/../outside"_s};
    for (const QString &name : names) {
        QVERIFY(!rt->handle(makeEvent(HandlerEvent::Method::Message, 1, name), &error));
        QVERIFY2(error.startsWith(u"h.js:2: Error: module '"_s + name + u"'"_s), qPrintable(error));
        QVERIFY2(error.contains(u"outside the handlers' folder"_s)
                         || error.contains(u"is not available"_s),
                 qPrintable(error));
    }
    QVERIFY(!takeLogged().join(u'\n').contains(u"outside ran"_s));
}

void TestScriptRuntime::moduleStateAndCycles()
{
    write(u"h.js"_s, uR"(var a = require("./a");
var count = 0;
exports.onMessage = function (m) {
    count++;
    require("switchboard").send("c1", count + ":" + a.seen + ":" + a.b.partial);
};
)"_s);
    write(u"a.js"_s,
          u"exports.early = 'yes';\nexports.b = require('./b');\nexports.seen = 'a';\n"_s);
    write(u"b.js"_s, u"var a = require('./a');\nexports.partial = a.early + '/' + a.seen;\n"_s);
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    for (int i = 0; i < 3; ++i)
        QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 1, u"x"_s), &error),
                 qPrintable(error));
    QStringList texts;
    for (const auto &send : std::as_const(m_services.sends))
        texts.append(send.second);
    QCOMPARE(texts,
             (QStringList{u"1:a:yes/undefined"_s, u"2:a:yes/undefined"_s, u"3:a:yes/undefined"_s}));
}

void TestScriptRuntime::filesChangedAndReload()
{
    write(u"h.js"_s,
          u"var dep = require('./dep');\nexports.onOpen = function () {"
          u" require('switchboard').send('c1', dep.v); };\n"_s);
    write(u"dep.js"_s, u"exports.v = 'one';\n"_s);
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY(!rt->filesChanged());
    QVERIFY(rt->handle(makeEvent(HandlerEvent::Method::Open, 1), &error));
    write(u"dep.js"_s, u"exports.v = 'two, longer';\n"_s);
    QVERIFY(rt->filesChanged());
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY(!rt->filesChanged());
    QVERIFY(rt->handle(makeEvent(HandlerEvent::Method::Open, 1), &error));
    QCOMPARE(m_services.sends.size(), 2);
    QCOMPARE(m_services.sends.at(0).second, u"one"_s);
    QCOMPARE(m_services.sends.at(1).second, u"two, longer"_s);
    QVERIFY(QFile::remove(m_root + u"/dep.js"_s));
    QVERIFY(rt->filesChanged());
    QVERIFY(!rt->load(&error));
    QVERIFY2(error.contains(u"module './dep' not found"_s), qPrintable(error));
}

void TestScriptRuntime::switchboardModule()
{
    write(u"h.js"_s, uR"(var sb = require("switchboard");
exports.onMessage = function (m) {
    var out = [];
    out.push(typeof sb.emitToRoom("lobby", "said", { text: m, n: [1, true, null] }));
    out.push(sb.emitToRoom("lobby", "nothing", undefined));
    out.push(sb.emitToUser("ann", "dm", "hi"));
    out.push(sb.emitToAll("all", 3));
    out.push(JSON.stringify(sb.sessions()));
    out.push(sb.send("c8", "x"), sb.send("nonsense", "y"));
    try { sb.emitToAll("refused", 1); } catch (e) { out.push(e instanceof Error, e.message); }
    sb.send("c8", out.join(","));
};
)"_s);
    m_services.sessionList = {{8, u"ann"_s}, {9, QString()}};
    m_services.knownSession = 8;
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 8, u"hey"_s), &error),
             qPrintable(error));
    QCOMPARE(m_services.emits.size(), 4);
    QCOMPARE(m_services.emits.at(0).target, EmitTarget::Room);
    QCOMPARE(m_services.emits.at(0).to, u"lobby"_s);
    QCOMPARE(m_services.emits.at(0).event, u"said"_s);
    QCOMPARE(m_services.emits.at(0).data, QByteArray(R"({"text":"hey","n":[1,true,null]})"));
    QCOMPARE(m_services.emits.at(1).data, QByteArray("null"));
    QCOMPARE(m_services.emits.at(2).target, EmitTarget::User);
    QCOMPARE(m_services.emits.at(2).data, QByteArray("\"hi\""));
    QCOMPARE(m_services.emits.at(3).target, EmitTarget::All);
    QCOMPARE(m_services.emits.at(3).data, QByteArray("3"));
    QCOMPARE(m_services.askedSessions, QStringList{u"chat"_s});
    // "nonsense" is no session id: not even asked.
    QCOMPARE(m_services.sends.size(), 2);
    QCOMPARE(m_services.sends.at(0).second, u"x"_s);
    // The ids the services answered (42..45) come back as Numbers; a refused emit throws.
    QCOMPARE(m_services.sends.at(1).second,
             u"number,43,44,45,[{\"id\":\"c8\",\"user\":\"ann\"},{\"id\":\"c9\",\"user\":null}],"
             u"true,false,true,the queues are full"_s);
}

void TestScriptRuntime::seedHandlerRuns()
{
    // docs/API.md, "Handlers": the platform's handler example, as written.
    write(u"my-project/ws-handler.js"_s, uR"(exports.onOpen = function()  {
  console.log("Connection openned.");
}

exports.onMessage = function(message) {
  console.log("Message received: " + message);
}

exports.onError = function(error) {
  console.error("Error: " + error);
}

exports.onClose = function() {
  console.warn("Connection closed.");
}
)"_s);
    auto rt = runtime(u"my-project/ws-handler"_s, 2000, u"my-endpoint"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    using M = HandlerEvent::Method;
    for (const HandlerEvent &e : {makeEvent(M::Open, 2), makeEvent(M::Message, 2, u"hello"_s),
                                  makeEvent(M::Error, 2, u"lost"_s), makeEvent(M::Close, 2)})
        QVERIFY2(rt->handle(e, &error), qPrintable(error));
    QCOMPARE(takeLogged(),
             (QStringList{u"info my-endpoint: Connection openned."_s,
                          u"info my-endpoint: Message received: hello"_s,
                          u"critical my-endpoint: Error: lost"_s,
                          u"warning my-endpoint: Connection closed."_s}));
}

void TestScriptRuntime::seedClientImports()
{
    sb::OutboundClients registry{sb::OutboundClients::Options{}};
    m_services.registry = &registry;
    // docs/API.md, "Handlers": the platform's client example (ES module), as written.
    write(u"my-project/client.js"_s, uR"(import { websockets } from "sdk/net"

const uri = "ws://echo.websocket.org:80/";
const handler = "my-project/ws-handler"

function initialize() {
    console.log("Connect to: " + uri);
    let websocket = websockets.createWebsocket(uri, handler);
    websocket.send("hello");
}

initialize();

websockets.getClientByHandler(handler).close();
)"_s);
    write(u"my-project/ws-handler.js"_s, u"exports.onOpen = function () {};\n"_s);
    QString error;
    QVERIFY(!runtime(u"my-project/client"_s, 2000, QString())->load(&error));
    // The import resolved and the code ran up to the registry, a placeholder that refuses.
    QVERIFY2(error.startsWith(u"my-project/client.js:8: "_s), qPrintable(error));
    QVERIFY2(error.endsWith(u"Error: outbound clients are not available yet"_s), qPrintable(error));
    QCOMPARE(takeLogged(),
             QStringList{u"info client handler my-project/client: Connect to: "
                         u"ws://echo.websocket.org:80/"_s});

    // The CommonJS version, and the registry's queries.
    write(u"cjs.js"_s, uR"(var websockets = require("net/v4/websockets");
var sdk = require("sdk/net");
exports.onOpen = function () {
    var s = websockets.getSession();
    s.send([sdk.websockets === websockets, JSON.stringify(websockets.getClients()),
            websockets.getClient("w1"), websockets.getClientByHandler("x")].join("|"));
    websockets.createWebsocket("ws://localhost:1/", "cjs");
};
)"_s);
    auto rt = runtime(u"cjs"_s);
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY(!rt->handle(makeEvent(HandlerEvent::Method::Open, 4), &error));
    QCOMPARE(error, u"cjs.js:7: Error: outbound clients are not available yet"_s);
    QCOMPARE(m_services.sends.size(), 1);
    QCOMPARE(m_services.sends.at(0).second, u"true|[]||"_s);
}

void TestScriptRuntime::esModuleHandler()
{
    write(u"es/h.js"_s, uR"(import { websockets } from "sdk/net";
import ws from "net/websockets";
import sb from "switchboard";
import { twice } from "./lib/util.js";

let count = 0;
export function onMessage(message) {
    count++;
    websockets.getSession().send(twice(message) + count + ws.getMethod());
}
export function onClose() { throw new TypeError("bad close"); }
)"_s);
    write(u"es/lib/util.js"_s, u"export function twice(s) { return s + s; }\n"_s);
    auto rt = runtime(u"es/h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 6, u"ab"_s), &error),
             qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Message, 6, u"c"_s), &error),
             qPrintable(error));
    QVERIFY(rt->handle(makeEvent(HandlerEvent::Method::Open, 6), &error)); // not exported
    QVERIFY(!rt->handle(makeEvent(HandlerEvent::Method::Close, 6), &error));
    QCOMPARE(error, u"es/h.js:11: TypeError: bad close"_s);
    QStringList texts;
    for (const auto &send : std::as_const(m_services.sends))
        texts.append(send.second);
    QCOMPARE(texts, (QStringList{u"abab1onmessage"_s, u"cc2onmessage"_s}));
    QVERIFY(!rt->filesChanged());
    write(u"es/lib/util.js"_s, u"export function twice(s) { return s + s + s; }\n"_s);
    QVERIFY(rt->filesChanged());
}

void TestScriptRuntime::esImportsOutsideRootRefused()
{
    write(m_dir->filePath(u"outside.js"_s),
          u"console.log('outside ran');\nexport const s = 1;\n"_s);
    const QStringList imports = {u"import x from \"/etc/passwd\";"_s,
                                 u"import { s } from \"../outside.js\";"_s,
                                 u"import { s } from '../root/../outside.js';"_s,
                                 u"export * from \"../outside.js\";"_s,
                                 u"import \"../outside.js\";"_s,
                                 u"import {\n  s /* a comment */ }\nfrom '../outside.js'"_s,
                                 u"import { s } from \"file:///etc/passwd\";"_s,
                                 u"import { s } from \"fs\";"_s,
                                 u"import { s } from \"./lib.js\";"_s};
    write(u"lib.js"_s, u"export { s } from \"../outside.js\";\n"_s);
    for (const QString &line : imports) {
        write(u"h.js"_s, u"// handler\n"_s + line + u"\nexport function onOpen() {}\n"_s);
        QString error;
        QVERIFY2(!runtime(u"h"_s)->load(&error), qPrintable(line));
        // The specifier's line: 2, or 4 for the clause over three lines; lib.js's own line 1.
        static const QRegularExpression where(uR"(^(h\.js:[24]|lib\.js:1): Error: import ')"_s);
        QVERIFY2(where.match(error).hasMatch(), qPrintable(error));
        QVERIFY2(error.contains(u"' refused: "_s), qPrintable(error));
    }
    QVERIFY(!takeLogged().join(u'\n').contains(u"outside ran"_s));
}

void TestScriptRuntime::sandboxGlobals()
{
    write(u"h.js"_s, uR"(var names = ["print", "gc", "Qt", "XMLHttpRequest", "qsTr", "require",
             "exports", "module", "fetch", "process", "N", "Promise", "setTimeout"];
exports.onOpen = function () {
    var out = [];
    for (var i = 0; i < names.length; ++i)
        out.push(names[i] + "=" + eval("typeof " + names[i]));
    require("switchboard").send("c1", out.join(","));
};
)"_s);
    write(u"g.js"_s,
          u"exports.onOpen = function () { require('switchboard').send('c1',"
          u" [typeof require, typeof module].join()); };\n"_s);
    auto rt = runtime(u"h"_s);
    QString error;
    QVERIFY2(rt->load(&error), qPrintable(error));
    QVERIFY2(rt->handle(makeEvent(HandlerEvent::Method::Open, 1), &error), qPrintable(error));
    QCOMPARE(m_services.sends.size(), 1);
    // Inside a module, require/exports/module are the module's own (the wrapper's).
    QCOMPARE(m_services.sends.at(0).second,
             u"print=undefined,gc=undefined,Qt=undefined,XMLHttpRequest=undefined,"
             u"qsTr=undefined,require=function,exports=object,module=object,fetch=undefined,"
             u"process=undefined,N=undefined,Promise=undefined,setTimeout=undefined"_s);
}

void TestScriptRuntime::importScanner_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("default") << u"import a from \"x\";"_s << QStringList{u"x"_s};
    QTest::newRow("named") << u"import {a as b, c,} from 'y'"_s << QStringList{u"y"_s};
    QTest::newRow("bare") << u"import \"z\""_s << QStringList{u"z"_s};
    QTest::newRow("star") << u"export * from \"w\""_s << QStringList{u"w"_s};
    QTest::newRow("star as") << u"export * as n from \"w\""_s << QStringList{u"w"_s};
    QTest::newRow("re-export") << u"export { a, b as c } from \"v\""_s << QStringList{u"v"_s};
    QTest::newRow("from as a name") << u"import { from } from \"u\""_s << QStringList{u"u"_s};
    QTest::newRow("default and namespace") << u"import d, * as n from 's'"_s << QStringList{u"s"_s};
    QTest::newRow("comments between")
            << u"import /* c */ a /* d */ from // e\n \"t\""_s << QStringList{u"t"_s};
    QTest::newRow("escaped keyword") << u"\\u0069mport a from \"e\""_s << QStringList{u"e"_s};
    // A regular expression a tokenizer could take for a string does not hide an import.
    QTest::newRow("regex with a quote")
            << u"x = a /\"/; import b from \"../x.js\"; //\""_s << QStringList{u"../x.js"_s};
    QTest::newRow("in a string too") << u"var s = \"import a from 'q'\";"_s << QStringList{u"q"_s};
    QTest::newRow("export function") << u"export default function from() {}"_s << QStringList{};
    QTest::newRow("export const") << u"export const from = \"x\";"_s << QStringList{};
    QTest::newRow("prose") << u"// import the thing. export it, from here.\n"_s << QStringList{};
    QTest::newRow("two") << u"import a from './a.js';\nexport {b} from './b.js';"_s
                         << QStringList{u"./a.js"_s, u"./b.js"_s};
}

void TestScriptRuntime::importScanner()
{
    QFETCH(QString, source);
    QFETCH(QStringList, expected);
    QList<sb::script::Specifier> specifiers;
    QString error;
    QVERIFY2(sb::script::importSpecifiers(source, &specifiers, &error), qPrintable(error));
    QStringList names;
    for (const auto &spec : std::as_const(specifiers))
        names.append(spec.name);
    QCOMPARE(names, expected);
}

QTEST_GUILESS_MAIN(TestScriptRuntime)
#include "tst_script_runtime.moc"
