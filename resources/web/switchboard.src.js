// Switchboard browser client: the one source of /switchboard.js (a classic script that
// defines window.Switchboard) and /switchboard.mjs (an ES module, export default
// Switchboard). The build wraps this file (resources/web/wrap-client.cmake); edit it here.
// No dependencies. The interface is docs/API.md, "Pages and the browser client"; the
// wire frames are docs/API.md, "WebSocket protocol"; /switchboard.d.ts declares the types.

var SWITCHBOARD_VERSION = '@SWITCHBOARD_VERSION@';

// Close codes after which the client never reconnects: 4000 (closed by an administrator,
// DELETE /api/connections/{id}) and 1008 (policy).
var TERMINAL_CLOSE_CODES = [4000, 1008];

var DEFAULTS = {
  reconnect: true,
  minDelay: 500,
  maxDelay: 30000,
  // An application ping after this long without any frame from the server; no answer to it
  // within as long again and the connection counts as lost (a cut no close frame reports).
  pingInterval: 25000,
};

function makeError(code, message, frame) {
  var error = new Error(message || code);
  error.name = 'SwitchboardError';
  error.code = code;
  if (frame !== undefined) error.frame = frame;
  return error;
}

// Reports an exception thrown by a page's handler without breaking the client: it reaches
// the console (and window.onerror) from a task of its own.
function reportLater(error) {
  setTimeout(function () {
    throw error;
  }, 0);
}

// The room a token names (its `room` claim), or null when it cannot be read. The server
// checks the token; this only lets the client track the room before the `joined` answer.
function roomOfToken(token) {
  try {
    var part = String(token).split('.')[1];
    if (!part) return null;
    var b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims.room === 'string' ? claims.room : null;
  } catch (e) {
    return null;
  }
}

// `url` as given (ws:, wss:; http: and https: are mapped to them; a path is taken on the
// page's host), else /ws on the page's host, wss: on https pages.
function resolveUrl(url) {
  var loc = globalThis.location;
  var secure = !!loc && loc.protocol === 'https:';
  if (url === undefined || url === null || url === '') url = '/ws';
  url = String(url);
  if (/^https?:/i.test(url)) return url.replace(/^http/i, 'ws');
  if (/^wss?:/i.test(url)) return url;
  if (!loc || !/^https?:$/.test(loc.protocol)) {
    throw makeError(
      'bad_request',
      'Switchboard.connect: this page has no http(s) host to connect to; pass {url: "ws://host:port/ws"}'
    );
  }
  if (url.charAt(0) !== '/') url = '/' + url;
  return (secure ? 'wss://' : 'ws://') + loc.host + url;
}

function positiveNumber(value, fallback) {
  var n = Number(value);
  return value !== undefined && value !== null && isFinite(n) && n >= 0 ? n : fallback;
}

function Client(options) {
  options = options || {};
  this._url = resolveUrl(options.url);
  this._reconnect = options.reconnect !== false;
  this._minDelay = Math.max(1, positiveNumber(options.minDelay, DEFAULTS.minDelay));
  this._maxDelay = Math.max(this._minDelay, positiveNumber(options.maxDelay, DEFAULTS.maxDelay));
  this._pingInterval = positiveNumber(options.pingInterval, DEFAULTS.pingInterval);

  this._state = 'connecting';
  this._everOpen = false;
  this._ws = null;
  this._attempt = 0;
  this._retryTimer = null;
  this._pingTimer = null;
  this._pingSentAt = 0;
  this._lastReceived = 0;

  this._rooms = new Map(); // room -> the token it was joined with (rejoined after a reconnect)
  this._lastIds = new Map(); // room -> the last event id seen in it (else its joined last_id)
  this._leaving = new Set(); // rooms left by leave(): their events are no longer delivered
  this._nextRef = 1;
  this._requests = new Map(); // ref -> request awaiting its answer (sent or queued)
  this._queue = []; // requests not yet sent, in call order
  this._gate = new Set(); // refs of the joins sent on open: 'open' once all are answered

  this._handlers = new Map(); // event name -> [fn(data, frame)]
  this._anyHandlers = [];
  this._stateHandlers = [];
  this._resyncHandlers = [];
  this._errorHandlers = [];

  var self = this;
  this._onOnline = function () {
    // The browser is back online: retry now instead of waiting out the backoff.
    if (self._retryTimer !== null) {
      clearTimeout(self._retryTimer);
      self._retryTimer = null;
      self._openSocket();
    }
  };
  if (typeof globalThis.addEventListener === 'function') {
    globalThis.addEventListener('online', this._onOnline);
  }

  var tokens = [];
  if (options.token) tokens.push(options.token);
  if (Array.isArray(options.tokens)) tokens = tokens.concat(options.tokens);
  else if (options.tokens) tokens.push(options.tokens);
  tokens.forEach(function (token) {
    // Nobody awaits these joins: a refusal is reported through onError.
    self.join(token).catch(function (error) {
      self._emitError(error);
    });
  });

  this._openSocket();
}

Object.defineProperty(Client.prototype, 'state', {
  get: function () {
    return this._state;
  },
  enumerable: true,
});

Object.defineProperty(Client.prototype, 'url', {
  get: function () {
    return this._url;
  },
  enumerable: true,
});

// ---- public calls ----------------------------------------------------------------------

Client.prototype.join = function (token, options) {
  if (typeof token !== 'string' || token === '') {
    return Promise.reject(makeError('bad_request', 'join: token must be a non-empty string'));
  }
  var since = options && options.since !== undefined && options.since !== null ? options.since : undefined;
  var frame = { type: 'join', token: token };
  if (since !== undefined) frame.since = since;
  var room = roomOfToken(token);
  var self = this;
  var resent = false;
  return this._request(frame, {
    kind: 'join',
    room: room,
    beforeSend: function (request) {
      resent = request.sends > 0;
      if (room === null) return;
      self._leaving.delete(room);
      if (resent) {
        // Asked again on a new connection: like a rejoin, from what this one already saw.
        if (self._lastIds.has(room)) frame.since = self._lastIds.get(room);
      } else if (since !== undefined) {
        var n = Number(since);
        if (isFinite(n)) self._lastIds.set(room, n);
      } else if (!self._rooms.has(room)) {
        self._lastIds.delete(room); // a fresh join: nothing seen in it yet
      }
    },
    onAnswer: function (answer) {
      self._joined(answer, token, resent);
    },
  });
};

Client.prototype.leave = function (room) {
  room = String(room);
  this._rooms.delete(room);
  this._leaving.add(room);
  var self = this;
  return this._request(
    { type: 'leave', room: room },
    {
      kind: 'leave',
      onAnswer: function () {
        if (self._leaving.has(room)) {
          self._leaving.delete(room);
          if (!self._rooms.has(room)) self._lastIds.delete(room);
        }
      },
    }
  );
};

Client.prototype.presence = function (room) {
  return this._request({ type: 'presence', room: String(room) }, { kind: 'presence' }).then(
    function (answer) {
      return answer.members;
    }
  );
};

Client.prototype.emit = function (room, event, data) {
  var frame = { type: 'emit', room: String(room), event: String(event) };
  if (data !== undefined) frame.data = data;
  var promise = this._request(frame, { kind: 'emit' });
  // Fire and forget is fine: a refusal not awaited is not an unhandled rejection.
  promise.catch(function () {});
  return promise;
};

Client.prototype.on = function (event, fn) {
  if (typeof fn !== 'function') throw new TypeError('on: fn must be a function');
  event = String(event);
  var list = this._handlers.get(event);
  if (!list) this._handlers.set(event, (list = []));
  list.push(fn);
  var self = this;
  return function () {
    self.off(event, fn);
  };
};

Client.prototype.off = function (event, fn) {
  event = String(event);
  var list = this._handlers.get(event);
  if (!list) return this;
  if (fn === undefined) {
    this._handlers.delete(event);
    return this;
  }
  var i = list.indexOf(fn);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) this._handlers.delete(event);
  return this;
};

function addHandler(list, fn, name) {
  if (typeof fn !== 'function') throw new TypeError(name + ': fn must be a function');
  list.push(fn);
  return function () {
    var i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
}

Client.prototype.onAny = function (fn) {
  return addHandler(this._anyHandlers, fn, 'onAny');
};

Client.prototype.offAny = function (fn) {
  var i = this._anyHandlers.indexOf(fn);
  if (i >= 0) this._anyHandlers.splice(i, 1);
  return this;
};

Client.prototype.onState = function (fn) {
  return addHandler(this._stateHandlers, fn, 'onState');
};

Client.prototype.onResync = function (fn) {
  return addHandler(this._resyncHandlers, fn, 'onResync');
};

Client.prototype.onError = function (fn) {
  return addHandler(this._errorHandlers, fn, 'onError');
};

// The rooms joined now (rejoined after a reconnect).
Client.prototype.rooms = function () {
  return Array.from(this._rooms.keys());
};

Client.prototype.close = function () {
  if (this._state === 'closed') return;
  this._shutdown(1000, 'closed by the page', null);
};

// ---- requests --------------------------------------------------------------------------

Client.prototype._request = function (frame, spec) {
  if (this._state === 'closed') {
    return Promise.reject(makeError('closed', 'the client is closed'));
  }
  var self = this;
  return new Promise(function (resolve, reject) {
    var ref = self._nextRef++;
    frame.ref = ref;
    var request = {
      ref: ref,
      frame: frame,
      kind: spec.kind,
      room: spec.room === undefined ? null : spec.room,
      beforeSend: spec.beforeSend || null,
      onAnswer: spec.onAnswer || null,
      sent: false,
      sends: 0,
      resolve: resolve,
      reject: reject,
    };
    self._requests.set(ref, request);
    if (self._socketOpen()) self._sendRequest(request);
    else self._queue.push(request);
  });
};

Client.prototype._sendRequest = function (request) {
  if (request.beforeSend) request.beforeSend(request);
  request.sent = true;
  request.sends++;
  this._send(request.frame);
};

Client.prototype._socketOpen = function () {
  return !!this._ws && this._ws.readyState === 1;
};

Client.prototype._send = function (frame) {
  this._ws.send(JSON.stringify(frame));
};

// ---- the connection --------------------------------------------------------------------

Client.prototype._openSocket = function () {
  this._retryTimer = null;
  var ws;
  try {
    ws = new WebSocket(this._url);
  } catch (error) {
    // Only a malformed URL throws here, and it will not get better.
    this._shutdown(1006, String(error && error.message), null);
    reportLater(error);
    return;
  }
  this._ws = ws;
  var self = this;
  ws.onopen = function () {
    if (self._ws === ws) self._opened();
  };
  ws.onmessage = function (message) {
    if (self._ws === ws) self._received(message.data);
  };
  ws.onclose = function (event) {
    if (self._ws === ws) self._lost(event.code, event.reason);
  };
  ws.onerror = function () {
    // A close event follows with the code; nothing to do here.
  };
};

Client.prototype._opened = function () {
  this._lastReceived = Date.now();
  this._startPing();
  this._gate = new Set();
  var self = this;
  // Every room first, from the last id seen in it: the server replays what was missed.
  this._rooms.forEach(function (token, room) {
    var frame = { type: 'join', token: token };
    if (self._lastIds.has(room)) frame.since = self._lastIds.get(room);
    var ref = self._nextRef++;
    frame.ref = ref;
    var request = {
      ref: ref,
      frame: frame,
      kind: 'rejoin',
      room: room,
      beforeSend: null,
      onAnswer: function (answer) {
        self._joined(answer, token, true);
      },
      sent: false,
      sends: 0,
      resolve: function () {},
      reject: function (error) {
        // The room cannot be rejoined (an expired or revoked token): it is gone.
        if (self._rooms.get(room) === token) self._rooms.delete(room);
        error.room = room;
        self._emitError(error);
      },
    };
    self._requests.set(ref, request);
    self._gate.add(ref);
    self._sendRequest(request);
  });
  // Then what was asked while the connection was down, in call order.
  var queue = this._queue;
  this._queue = [];
  queue.forEach(function (request) {
    if (!self._requests.has(request.ref)) return; // settled meanwhile
    if (request.kind === 'join') self._gate.add(request.ref);
    self._sendRequest(request);
  });
  if (this._gate.size === 0) this._setOpen();
};

Client.prototype._setOpen = function () {
  this._attempt = 0;
  this._everOpen = true;
  this._setState('open');
};

Client.prototype._lost = function (code, reason) {
  this._stopPing();
  var ws = this._ws;
  this._ws = null;
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }
  if (this._state === 'closed') return;
  if (!this._reconnect || TERMINAL_CLOSE_CODES.indexOf(code) >= 0) {
    this._shutdown(code, reason, null);
    return;
  }
  // Requests that went out on the lost connection: joins, leaves and presence are asked
  // again on the next one (before anything asked later); an emit is not (it may have been
  // delivered already), so it fails. Rejoins are made anew from the room list.
  var again = [];
  var self = this;
  this._requests.forEach(function (request, ref) {
    if (!request.sent) return;
    if (request.kind === 'rejoin') {
      self._requests.delete(ref);
    } else if (request.kind === 'emit') {
      self._requests.delete(ref);
      request.reject(makeError('disconnected', 'the connection was lost before the server answered the emit'));
    } else {
      request.sent = false;
      again.push(request);
    }
  });
  this._queue = again.concat(this._queue);
  this._gate = new Set();
  this._setState(this._everOpen ? 'reconnecting' : 'connecting', { code: code, reason: reason });
  this._scheduleRetry();
};

Client.prototype._scheduleRetry = function () {
  // Exponential backoff with jitter: minDelay, 2x, 4x ... up to maxDelay, each stretched by
  // up to half again at random (at the cap, shortened by up to a quarter instead), so a
  // room full of pages does not come back in one burst.
  var base = Math.min(this._maxDelay, this._minDelay * Math.pow(2, Math.min(this._attempt, 30)));
  var delay =
    base >= this._maxDelay
      ? this._maxDelay * (0.75 + 0.25 * Math.random())
      : Math.min(this._maxDelay, base * (1 + 0.5 * Math.random()));
  delay = Math.max(this._minDelay, delay);
  this._attempt++;
  var self = this;
  this._retryTimer = setTimeout(function () {
    self._openSocket();
  }, delay);
};

Client.prototype._shutdown = function (code, reason, error) {
  this._stopPing();
  if (this._retryTimer !== null) {
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }
  if (typeof globalThis.removeEventListener === 'function') {
    globalThis.removeEventListener('online', this._onOnline);
  }
  var ws = this._ws;
  this._ws = null;
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState === 1) ws.close(1000, 'bye');
    else if (ws.readyState === 0) {
      // Closing a socket that is still connecting makes the browser log a warning: let it
      // open, then close it.
      ws.onopen = function () {
        ws.close(1000, 'bye');
      };
    }
  }
  var failure =
    error ||
    makeError(
      'closed',
      code === 1000 ? 'the client was closed' : 'the connection was closed (code ' + code + ')'
    );
  var requests = Array.from(this._requests.values());
  this._requests.clear();
  this._queue = [];
  this._gate = new Set();
  requests.forEach(function (request) {
    request.reject(failure);
  });
  this._setState('closed', { code: code, reason: reason || '' });
};

Client.prototype._startPing = function () {
  this._stopPing();
  if (!this._pingInterval) return;
  var self = this;
  var step = Math.max(1000, Math.floor(this._pingInterval / 2));
  this._pingSentAt = 0;
  this._pingTimer = setInterval(function () {
    if (!self._socketOpen()) return;
    var now = Date.now();
    if (self._pingSentAt > self._lastReceived && now - self._pingSentAt >= self._pingInterval) {
      // No answer to the ping: the connection is cut without a close frame. Drop it and
      // reconnect. (Checked against the ping itself, so timers that a background tab
      // slows down cannot make a quiet connection look dead.)
      var ws = self._ws;
      self._lost(1006, 'no answer to ping');
      try {
        ws.close(1000, 'no answer to ping');
      } catch (e) {
        // already closing
      }
    } else if (now - self._lastReceived >= self._pingInterval && self._pingSentAt <= self._lastReceived) {
      self._pingSentAt = now;
      self._send({ type: 'ping' });
    }
  }, step);
};

Client.prototype._stopPing = function () {
  if (this._pingTimer !== null) {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
  }
};

// ---- frames from the server ------------------------------------------------------------

Client.prototype._received = function (text) {
  this._lastReceived = Date.now();
  var frame;
  try {
    frame = JSON.parse(text);
  } catch (e) {
    return;
  }
  if (!frame || typeof frame !== 'object') return;
  if (frame.type === 'event') {
    this._event(frame);
    return;
  }
  var request = frame.ref !== undefined ? this._requests.get(frame.ref) : undefined;
  if (request) {
    this._requests.delete(frame.ref);
    if (frame.type === 'error') {
      request.reject(makeError(frame.code, frame.message, frame));
    } else {
      if (request.onAnswer) request.onAnswer(frame);
      request.resolve(frame);
    }
    if (this._gate.delete(frame.ref) && this._gate.size === 0 && this._ws && this._state !== 'open') {
      this._setOpen();
    }
    return;
  }
  if (frame.type === 'left' && typeof frame.room === 'string') {
    // Taken out of the room by the server (unregister): do not rejoin it.
    this._rooms.delete(frame.room);
    this._lastIds.delete(frame.room);
    this._emitError(
      makeError(frame.reason || 'left', 'left room ' + frame.room + (frame.reason ? ' (' + frame.reason + ')' : ''), frame)
    );
  } else if (frame.type === 'error') {
    this._emitError(makeError(frame.code, frame.message, frame));
  }
};

Client.prototype._joined = function (frame, token, rejoin) {
  var room = frame.room;
  if (typeof room !== 'string') return;
  this._leaving.delete(room);
  this._rooms.set(room, token);
  var lastId = Number(frame.last_id) || 0;
  if (frame.recovered === false) {
    // Some events are no longer held (or the server's ids started over): what follows
    // starts after last_id.
    this._lastIds.set(room, lastId);
    if (rejoin) this._call(this._resyncHandlers, [room]);
  } else {
    var seen = this._lastIds.has(room) ? this._lastIds.get(room) : 0;
    this._lastIds.set(room, Math.max(seen, lastId));
  }
};

Client.prototype._event = function (frame) {
  var room = frame.room;
  if (typeof room === 'string') {
    if (this._leaving.has(room)) return;
    var id = Number(frame.id);
    if (this._lastIds.has(room) && id <= this._lastIds.get(room)) return; // seen already
    this._lastIds.set(room, id);
  }
  var data = frame.data === undefined ? null : frame.data;
  var list = this._handlers.get(frame.event);
  if (list) this._call(list.slice(), [data, frame]);
  this._call(this._anyHandlers.slice(), [frame.event, data, frame]);
  raiseInApex(frame.event, data);
};

Client.prototype._call = function (list, args) {
  for (var i = 0; i < list.length; i++) {
    try {
      list[i].apply(this, args);
    } catch (error) {
      reportLater(error);
    }
  }
};

Client.prototype._setState = function (state, detail) {
  if (this._state === state) return;
  this._state = state;
  this._call(this._stateHandlers.slice(), [state, detail || {}]);
};

Client.prototype._emitError = function (error) {
  if (this._errorHandlers.length) this._call(this._errorHandlers.slice(), [error]);
};

// Oracle APEX: every event is also raised as apex.event.trigger(document, event, data), so
// a Dynamic Action on a Custom event of that name fires (this.data is the data);
// websocket::refresh with {"region": ID} also refreshes that region.
function raiseInApex(event, data) {
  var apex = globalThis.apex;
  if (!apex) return;
  try {
    if (apex.event && typeof apex.event.trigger === 'function') {
      apex.event.trigger(globalThis.document, event, data);
    }
  } catch (error) {
    reportLater(error);
  }
  if (event !== 'websocket::refresh' || !data || typeof data !== 'object') return;
  var id = data.region;
  if ((typeof id !== 'string' && typeof id !== 'number') || id === '') return;
  try {
    var region = typeof apex.region === 'function' ? apex.region(String(id)) : null;
    if (region && typeof region.refresh === 'function') region.refresh();
    else if (globalThis.console) console.warn('Switchboard: websocket::refresh: no region with static id ' + id);
  } catch (error) {
    reportLater(error);
  }
}

var Switchboard = {
  version: SWITCHBOARD_VERSION,
  // Opens a connection; see docs/API.md, "Pages and the browser client".
  connect: function (options) {
    return new Client(options);
  },
};
