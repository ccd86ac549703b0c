// The handler of chat.websocket (docs/endpoints.md, "A chat endpoint"). Every session of the
// endpoint "chat" is a member; each text it sends goes to every session, as JSON:
//   {"type": "join" | "leave", "user": U, "members": [U...]}
//   {"type": "message", "user": U, "text": T}
// and each message is also emitted to the room "chat:lobby" as the event ChatMessage, for
// pages that listen with switchboard.js rather than connect here.
var websockets = require("net/v4/websockets");
var switchboard = require("switchboard");

var ENDPOINT = "chat";
var ROOM = "chat:lobby";
var MAX_TEXT = 2000;

// Session id -> user name. The module is evaluated once per endpoint, so this stays between
// calls (until this file changes).
var members = {};

function memberNames() {
  return Object.keys(members).map(function (id) { return members[id]; });
}

// To every session of the endpoint but `except` (a session id, or null).
function broadcast(frame, except) {
  var text = JSON.stringify(frame);
  switchboard.sessions(ENDPOINT).forEach(function (s) {
    if (s.id !== except) {
      switchboard.send(s.id, text);
    }
  });
}

exports.onOpen = function () {
  var session = websockets.getSession();
  // auth "token": the user is the token's sub.
  members[session.id] = session.user || session.id;
  broadcast({ type: "join", user: members[session.id], members: memberNames() }, null);
};

exports.onMessage = function (message) {
  var session = websockets.getSession();
  var user = members[session.id] || session.user || session.id;
  var text = String(message).trim();
  if (text === "") {
    return;
  }
  if (text.length > MAX_TEXT) {
    session.send(JSON.stringify({ type: "error", text: "at most " + MAX_TEXT + " characters" }));
    return;
  }
  broadcast({ type: "message", user: user, text: text }, null);
  switchboard.emitToRoom(ROOM, "ChatMessage", { user: user, text: text });
};

exports.onError = function (error) {
  console.warn("chat: " + error);
};

exports.onClose = function () {
  var session = websockets.getSession();
  var user = members[session.id];
  delete members[session.id];
  if (user !== undefined) {
    broadcast({ type: "leave", user: user, members: memberNames() }, session.id);
  }
};
