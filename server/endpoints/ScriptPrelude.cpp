// The script handlers' prelude (docs/API.md, "Handlers"; docs/ARCHITECTURE.md, "Script
// handlers"). The bridge N stays in these closures: handler code never gets hold of it.
#include "endpoints/ScriptPrelude.h"

namespace sb::script {

namespace {

const char kPrelude[] = R"JS((function (N) {
"use strict";
var hasOwn = Object.prototype.hasOwnProperty;
var stringify = JSON.stringify;
var ErrorType = Error;

function text(v) { return v === undefined || v === null ? "" : String(v); }
function json(v) { var t = stringify(v); return t === undefined ? "null" : t; }

function withClientMethods(info) {
    if (info === null || info === undefined) return null;
    var id = info.id;
    info.send = function (message) { N.clientSend(id, text(message)); };
    info.close = function () { return N.clientClose(id); };
    return info;
}

var websockets = {
    getMessage: function () { return N.message(); },
    getError: function () { return N.error(); },
    getMethod: function () { return N.method(); },
    isOnOpen: function () { return N.method() === "onopen"; },
    isOnMessage: function () { return N.method() === "onmessage"; },
    isOnError: function () { return N.method() === "onerror"; },
    isOnClose: function () { return N.method() === "onclose"; },
    createWebsocket: function (uri, handler) {
        return withClientMethods(N.clientCreate(text(uri), text(handler)));
    },
    getClients: function () { return N.clientList(); },
    getClient: function (id) { return withClientMethods(N.clientGet(text(id))); },
    getClientByHandler: function (handler) {
        return withClientMethods(N.clientByHandler(text(handler)));
    },
    getSession: function () {
        var session = N.session();
        if (session === null) return null;
        var id = session.id;
        session.send = function (message) { return N.sessionSend(id, text(message)); };
        session.close = function (code) {
            return N.sessionClose(id, code === undefined ? 1000 : Number(code));
        };
        return session;
    }
};

var switchboard = {
    emitToRoom: function (room, event, data) {
        return N.emitTo(0, text(room), text(event), json(data));
    },
    emitToUser: function (user, event, data) {
        return N.emitTo(1, text(user), text(event), json(data));
    },
    emitToAll: function (event, data) { return N.emitTo(2, "", text(event), json(data)); },
    send: function (sessionId, message) { return N.sessionSend(text(sessionId), text(message)); },
    sessions: function (endpoint) { return N.sessionList(text(endpoint)); }
};

var modules = Object.create(null);
modules["net/v4/websockets"] = websockets;
modules["net/websockets"] = websockets;
modules["sdk/net"] = { websockets: websockets };
modules["switchboard"] = switchboard;

function show(v) {
    if (typeof v === "string") return v;
    if (typeof v === "object" && v !== null && !(v instanceof ErrorType)) {
        try { var t = stringify(v); if (t !== undefined) return t; } catch (e) { }
    }
    try { return String(v); } catch (e) { return "(a value that cannot be shown)"; }
}
function line(args) {
    var parts = [];
    for (var i = 0; i < args.length; ++i) parts.push(show(args[i]));
    return parts.join(" ");
}
var console = {
    debug: function () { N.log(0, line(arguments)); },
    log: function () { N.log(1, line(arguments)); },
    info: function () { N.log(1, line(arguments)); },
    warn: function () { N.log(2, line(arguments)); },
    error: function () { N.log(3, line(arguments)); }
};

var cache = Object.create(null); // one entry per file under endpoints_dir
function load(file) {
    var cached = cache[file];
    if (cached !== undefined) return cached.exports;
    var code = N.compile(file);
    if (code.ns !== undefined) {
        cache[file] = { exports: code.ns };
        return code.ns;
    }
    var module = { exports: {}, id: code.filename, filename: code.filename, loaded: false };
    cache[file] = module;
    var done = false;
    try {
        code.fn.call(module.exports, module.exports, makeRequire(file), module, code.filename,
                     code.dirname);
        done = true;
    } finally {
        if (!done) delete cache[file];
    }
    module.loaded = true;
    return module.exports;
}
function makeRequire(from) {
    return function require(name) {
        var key = text(name);
        if (hasOwn.call(modules, key)) return modules[key];
        return load(N.resolve(from, key));
    };
}

function describe(e) {
    var shown, stack = "", fileName = "", lineNumber = 0;
    try { shown = String(e); } catch (x) { shown = "(an exception that cannot be shown)"; }
    try {
        if (e !== null && (typeof e === "object" || typeof e === "function")) {
            stack = text(e.stack);
            fileName = text(e.fileName);
            lineNumber = Number(e.lineNumber) || 0;
        }
    } catch (x) { }
    return { ok: false, text: shown, stack: stack, fileName: fileName, lineNumber: lineNumber };
}
// Calls target[name](...args) when it is a function; every step, the lookup and the
// description of an exception included, runs here, under the watchdog.
function invoke(target, name, args) {
    try {
        var fn = target === null || target === undefined ? undefined : target[name];
        if (typeof fn !== "function") return { ok: true, missing: true };
        return { ok: true, value: fn.apply(target, args) };
    } catch (e) {
        return describe(e);
    }
}

return { load: load, invoke: invoke, console: console, modules: modules };
}))JS";

} // namespace

const QString &preludeSource()
{
    static const QString source = QString::fromUtf8(kPrelude);
    return source;
}

} // namespace sb::script
