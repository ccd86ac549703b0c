// The landing page: server status, snippets with this server's address, and the live demo,
// which uses /switchboard.js (window.Switchboard) like any page would. The API key, when
// the user types one, stays in this page's memory and goes only to this server's /api.
(function () {
  'use strict';

  var $ = function (id) {
    return document.getElementById(id);
  };
  var MAX_ROWS = 200;
  var client = null;
  var joinedRoom = null;
  var presenceTimer = null;

  // ---- snippets and status -------------------------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll('.origin'), function (el) {
    el.textContent = location.origin;
  });
  Array.prototype.forEach.call(document.querySelectorAll('.ws-origin'), function (el) {
    el.textContent = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
  });

  function formatUptime(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm';
    return s + 's';
  }

  function checkHealth() {
    fetch('/api/health', { cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (health) {
        $('status').className = 'status status-ok';
        $('status-text').textContent =
          'Running · v' + health.version + ' · up ' + formatUptime(health.uptime_s);
        $('version').textContent = health.version;
      })
      .catch(function () {
        $('status').className = 'status status-down';
        $('status-text').textContent = 'Server unreachable';
      });
  }
  checkHealth();
  setInterval(checkHealth, 15000);

  // ---- token ---------------------------------------------------------------------------

  $('session').value = 'web-' + Math.random().toString(36).slice(2, 8);

  function selectTab(which) {
    var key = which === 'key';
    $('tab-paste').classList.toggle('active', !key);
    $('tab-key').classList.toggle('active', key);
    $('tab-paste').setAttribute('aria-selected', String(!key));
    $('tab-key').setAttribute('aria-selected', String(key));
    $('pane-paste').classList.toggle('hidden', key);
    $('pane-key').classList.toggle('hidden', !key);
  }
  $('tab-paste').addEventListener('click', function () {
    selectTab('paste');
  });
  $('tab-key').addEventListener('click', function () {
    selectTab('key');
  });

  function decodeClaims(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      while (part.length % 4) part += '=';
      var binary = atob(part);
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return null;
    }
  }

  function token() {
    return $('token').value.trim();
  }

  function showClaims() {
    var claims = decodeClaims(token());
    var dl = $('claims');
    dl.textContent = '';
    if (!claims) {
      dl.classList.add('hidden');
      return;
    }
    var rows = [
      ['room', claims.room],
      ['user', claims.sub],
      ['session', claims.sid],
      ['publish', claims.pub ? 'yes' : 'no'],
      ['expires', claims.exp ? new Date(claims.exp * 1000).toLocaleString() : '—'],
    ];
    rows.forEach(function (row) {
      var dt = document.createElement('dt');
      dt.textContent = row[0];
      var dd = document.createElement('dd');
      dd.textContent = row[1] === undefined ? '—' : String(row[1]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    dl.classList.remove('hidden');
    $('via').value = claims.pub || !$('api-key').value ? 'ws' : 'rest';
  }
  $('token').addEventListener('input', showClaims);

  function apiKey() {
    return $('api-key').value.trim();
  }

  // A REST call with the key the user typed; rejects with the server's error message.
  function api(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': apiKey() },
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.text().then(function (text) {
        var answer = null;
        try {
          answer = JSON.parse(text);
        } catch (e) {
          // not JSON
        }
        if (!res.ok) {
          var message = answer && answer.error ? answer.error.message : text || 'HTTP ' + res.status;
          var error = new Error(message);
          error.code = answer && answer.error ? answer.error.code : 'http_' + res.status;
          throw error;
        }
        return answer;
      });
    });
  }

  function showError(error) {
    var box = $('demo-error');
    if (!error) {
      box.classList.add('hidden');
      box.textContent = '';
      return;
    }
    box.textContent = (error.code ? error.code + ': ' : '') + (error.message || String(error));
    box.classList.remove('hidden');
  }

  $('pane-key').addEventListener('submit', function (e) {
    e.preventDefault();
    showError(null);
    if (!apiKey()) {
      showError({ code: 'unauthorized', message: 'enter the API key first' });
      return;
    }
    var button = $('register');
    button.disabled = true;
    api('/api/register', {
      room: $('room').value.trim(),
      user: $('user').value.trim(),
      session: $('session').value.trim(),
      publish: $('publish').checked,
    })
      .then(function (answer) {
        $('token').value = answer.token;
        showClaims();
        logSystem('Token issued for room ' + $('room').value.trim() + '.');
      })
      .catch(showError)
      .then(function () {
        button.disabled = false;
      });
  });

  // ---- the client ----------------------------------------------------------------------

  function setStateLabel(state) {
    var el = $('state');
    el.className = 'state state-' + state;
    el.textContent = state;
  }

  function ensureClient() {
    if (client) return client;
    client = Switchboard.connect({});
    setStateLabel(client.state);
    client.onState(function (state, detail) {
      setStateLabel(state);
      logSystem(
        'Connection ' + state + (detail && detail.code ? ' (close code ' + detail.code + ')' : '') + '.'
      );
      if (state === 'open') refreshPresence();
      if (state === 'closed') {
        client = null;
        joinedRoom = null;
        updateButtons();
      }
    });
    client.onAny(function (event, data, frame) {
      logEvent(frame);
    });
    client.onResync(function (room) {
      logSystem('Some events of ' + room + ' could not be replayed: reload its data.');
    });
    client.onError(function (error) {
      logSystem('Error ' + error.code + ': ' + error.message);
    });
    return client;
  }

  function updateButtons() {
    $('leave').disabled = !joinedRoom;
    $('send').disabled = !joinedRoom;
    $('disconnect').disabled = !client;
  }

  $('join').addEventListener('click', function () {
    showError(null);
    if (!token()) {
      showError({ code: 'bad_request', message: 'paste a token, or request one with the API key' });
      return;
    }
    var c = ensureClient();
    updateButtons();
    $('join').disabled = true;
    c.join(token())
      .then(function (joined) {
        joinedRoom = joined.room;
        logSystem('Joined ' + joined.room + ' (latest id ' + joined.last_id + ').');
        refreshPresence();
      })
      .catch(showError)
      .then(function () {
        $('join').disabled = false;
        updateButtons();
      });
  });

  $('leave').addEventListener('click', function () {
    if (!client || !joinedRoom) return;
    var room = joinedRoom;
    client
      .leave(room)
      .then(function () {
        if (joinedRoom === room) joinedRoom = null;
        logSystem('Left ' + room + '.');
        $('members').textContent = '';
        updateButtons();
      })
      .catch(showError);
  });

  $('disconnect').addEventListener('click', function () {
    if (client) client.close();
    $('members').textContent = '';
  });

  function refreshPresence() {
    clearTimeout(presenceTimer);
    if (!client || !joinedRoom || client.state !== 'open') return;
    var room = joinedRoom;
    client
      .presence(room)
      .then(function (members) {
        var names = members.map(function (m) {
          return m.user + ' (' + m.session + ')';
        });
        $('members').textContent =
          members.length + ' in ' + room + ': ' + names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
      })
      .catch(function () {
        $('members').textContent = '';
      });
    presenceTimer = setTimeout(refreshPresence, 15000);
  }

  $('send-form').addEventListener('submit', function (e) {
    e.preventDefault();
    showError(null);
    $('send-result').textContent = '';
    if (!client || !joinedRoom) return;
    var data;
    var text = $('data').value.trim();
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch (err) {
      showError({ code: 'invalid_json', message: 'data is not valid JSON: ' + err.message });
      return;
    }
    var event = $('event').value.trim();
    if ($('via').value === 'rest') {
      if (!apiKey()) {
        showError({ code: 'unauthorized', message: 'sending with the API key needs the key (tab "Request one with the API key")' });
        return;
      }
      api('/api/emit/room', { room: joinedRoom, event: event, data: data })
        .then(function (answer) {
          $('send-result').textContent = 'Event #' + answer.id + ' delivered to ' + answer.delivered + ' connection(s).';
        })
        .catch(showError);
    } else {
      client
        .emit(joinedRoom, event, data)
        .then(function (answer) {
          $('send-result').textContent =
            'Event #' + answer.id + ' delivered to ' + answer.delivered + ' other connection(s); the sender does not get its own emit.';
        })
        .catch(showError);
    }
  });

  // ---- the list ------------------------------------------------------------------------

  function timeOf(ms) {
    var d = ms ? new Date(ms) : new Date();
    return d.toLocaleTimeString();
  }

  function prepend(li) {
    var list = $('events');
    var empty = list.querySelector('.empty');
    if (empty) empty.remove();
    li.classList.add('new');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ROWS) list.removeChild(list.lastChild);
  }

  function span(cls, text) {
    var s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function logEvent(frame) {
    var li = document.createElement('li');
    li.className = 'event';
    var meta = document.createElement('div');
    meta.className = 'meta';
    meta.appendChild(span('name', frame.event));
    meta.appendChild(span('id', '#' + frame.id));
    if (frame.room !== undefined) meta.appendChild(span('room', frame.room));
    meta.appendChild(span('time', timeOf(frame.ts)));
    li.appendChild(meta);
    var pre = document.createElement('pre');
    pre.textContent = JSON.stringify(frame.data, null, 2);
    li.appendChild(pre);
    prepend(li);
  }

  function logSystem(text) {
    var li = document.createElement('li');
    li.className = 'sys';
    li.appendChild(span('time', timeOf()));
    li.appendChild(document.createTextNode(text));
    prepend(li);
  }

  $('clear').addEventListener('click', function () {
    var list = $('events');
    list.textContent = '';
    var li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Cleared. New events appear here.';
    list.appendChild(li);
  });

  updateButtons();
})();
