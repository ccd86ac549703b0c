// Endpoints with handlers and outbound clients (issue 17, docs/endpoints.md) end to end, with
// the runnable files of docs/examples/endpoints as they are:
//  - the platform's server example: my-endpoint.websocket and my-project/ws-handler.js, the
//    seed's browser snippet in headless Chromium, the handler's console lines in the log;
//  - the platform's client example (both forms of the seeds: require("net/v4/websockets")
//    and import { websockets } from "sdk/net"), with only its uri changed to an echo server
//    of this test (npm's ws) that stands in for ws://echo.websocket.org, run as an
//    endpoint's handler module: the echo server gets "hello", the client ends, the handler
//    it names gets its events;
//  - the chat endpoint: chat.websocket, chat/handler.js and chat.html (opened as a file, as
//    the docs say) in two browsers with their own tokens, and a /ws page in the room the
//    handler emits to.
// Each part starts its own switchboardd with its own --endpoints-dir.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Server, launchBrowser, loadPackage, newPage, openClientPage, waitFor, screenshot, TEST_TIMEOUT,
  WAIT,
} from './lib/harness.mjs';

const T = { timeout: TEST_TIMEOUT };
const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLES = path.resolve(here, '../../docs/examples/endpoints');
const DOCS = path.resolve(here, '../../docs/endpoints.md');

// The seeds' client example, word for word (seed 004: the platform's v4 page; seed 003: the
// newer SDK page). docs/endpoints.md shows both; the test checks that it still does.
const ECHO_ORG = 'ws://echo.websocket.org:80/';
const CLIENT_EXAMPLES = {
  require: `var websockets = require("net/v4/websockets");
var uri = "ws://echo.websocket.org:80/";
var handler = "my-project/ws-handler"

function initialize() {
    console.log("Connect to: " + uri);
    var websocket = websockets.createWebsocket(uri, handler);
    websocket.send("hello");
}

initialize();

websockets.getClientByHandler(handler).close();
`,
  import: `import { websockets } from "sdk/net"

const uri = "ws://echo.websocket.org:80/";
const handler = "my-project/ws-handler"

function initialize() {
    console.log("Connect to: " + uri);
    let websocket = websockets.createWebsocket(uri, handler);
    websocket.send("hello");
}

initialize();

websockets.getClientByHandler(handler).close();
`,
};

const tempDirs = [];
function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// An endpoints folder holding these files of docs/examples/endpoints (same relative paths).
function endpointsDir(...files) {
  const dir = tempDir('sb-e2e-endpoints-');
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(EXAMPLES, file), path.join(dir, file));
  }
  return dir;
}

async function startServer(dir) {
  return new Server({ args: ['--endpoints-dir', dir] }).start();
}

// A handler that cannot load makes every wait below pointless: fail at once with its line.
function loadFailure(server, from) {
  const m = /^.*cannot load handler.*$/m.exec(server.output.slice(from));
  return m ? m[0] : null;
}

// Waits until the daemon's log (stdout and stderr) holds `text` after offset `from`;
// resolves the offset where it is. Fails at once when a handler could not load.
async function waitForLog(server, text, from = 0, timeout = WAIT) {
  const end = Date.now() + timeout;
  for (;;) {
    const at = server.output.indexOf(text, from);
    if (at >= 0) return at;
    const failure = loadFailure(server, from);
    if (failure || Date.now() > end) {
      throw new Error(
        (failure ? `a handler did not load: ${failure}` : `timed out waiting for "${text}" in the daemon's log`) +
          `\n--- daemon log (last 3000 characters) ---\n${server.output.slice(-3000)}`
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Log lines holding `text`, after `from`.
function logLines(server, text, from = 0) {
  return server.output.slice(from).split('\n').filter((line) => line.includes(text));
}

describe("the platform's server example", () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer(endpointsDir('my-endpoint.websocket', 'my-project/ws-handler.js'));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("runs the handler for the seed's browser snippet", T, async () => {
    const listed = await server.ok('GET', '/api/endpoints');
    const entry = listed.find((e) => e.endpoint === 'my-endpoint');
    assert.ok(entry, `my-endpoint is not listed: ${JSON.stringify(listed)}`);
    assert.equal(entry.error, undefined, `my-endpoint has an error: ${entry.error}`);
    assert.equal(entry.handler, 'my-project/ws-handler');
    assert.equal(entry.auth, 'none');

    const mark = server.output.length;
    const page = await newPage(browser);
    await page.goto(`${server.base}/examples/`); // a page of the server's own origin
    // The seed's snippet, on the daemon's port; send once the socket is open.
    await page.evaluate((port) => {
      window.closed = null;
      let ws = new WebSocket(`ws://127.0.0.1:${port}/websockets/v4/service/my-endpoint`);
      ws.onopen = () => ws.send('hello');
      ws.onclose = (e) => { window.closed = e.code; };
      window.ws = ws;
    }, server.port);

    const opened = await waitForLog(server, 'Connection openned.', mark);
    const received = await waitForLog(server, 'Message received: hello', mark);
    assert.ok(opened < received, 'onOpen ran after onMessage');

    // The session is a connection of the endpoint.
    const sessions = (await server.connections()).filter((c) => c.endpoint === 'my-endpoint');
    assert.equal(sessions.length, 1, JSON.stringify(sessions));
    assert.deepEqual(sessions[0].rooms, []);

    await page.evaluate(() => window.ws.close());
    const closed = await waitForLog(server, 'Connection closed.', mark);
    assert.ok(received < closed, 'onClose ran before onMessage');
    await page.waitForFunction(() => window.closed !== null); // the close handshake ended
    // The handler wrote each line once: one session, one message.
    assert.equal(logLines(server, 'Connection openned.', mark).length, 1);
    assert.equal(logLines(server, 'Message received: hello', mark).length, 1);
    assert.equal(logLines(server, 'Connection closed.', mark).length, 1);
    await waitFor(async () => (await server.connections()).every((c) => c.endpoint !== 'my-endpoint'),
      'the session gone from /api/connections');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

// npm's ws as a stand-in for ws://echo.websocket.org: echoes every text, records it all.
async function startEchoServer() {
  const pkg = await loadPackage('ws');
  const { WebSocketServer } = pkg.default ?? pkg;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const echo = {
    wss,
    uri: `ws://127.0.0.1:${wss.address().port}/`,
    connections: [], // {path, received: [text], closed: code|null}
  };
  wss.on('connection', (socket, request) => {
    const c = { path: request.url, received: [], closed: null };
    echo.connections.push(c);
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? data : data.toString('utf8');
      if (!isBinary) c.received.push(text);
      socket.send(text, { binary: isBinary });
    });
    socket.on('close', (code) => { c.closed = code; });
    socket.on('error', () => {});
  });
  echo.stop = () =>
    new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
  return echo;
}

describe("the platform's client example", () => {
  let echo;
  before(async () => {
    echo = await startEchoServer();
    const docs = readFileSync(DOCS, 'utf8');
    for (const [form, source] of Object.entries(CLIENT_EXAMPLES)) {
      assert.ok(docs.includes(source), `docs/endpoints.md no longer shows the seed's client example (${form} form)`);
    }
  });
  after(async () => {
    await echo?.stop();
  });

  // docs/endpoints.md: a module's top-level code runs when it is loaded, that is when its
  // endpoint comes into service (at start, or when the descriptor appears). The require form
  // is there at start; the import form is added to a running server.
  const cases = [
    { form: 'require', when: 'at start' },
    { form: 'import', when: 'when its descriptor appears' },
  ];
  for (const { form, when } of cases) {
    it(`runs the seed's client example (${form} form) in a handler module, ${when}`, T, async (t) => {
      // The handler the client names, from the examples; the client script beside it as the
      // handler of an endpoint of its own, with only its uri changed.
      const dir = endpointsDir('my-project/ws-handler.js');
      const source = CLIENT_EXAMPLES[form];
      assert.equal(source.split(ECHO_ORG).length, 2);
      const addClientExample = () => {
        writeFileSync(path.join(dir, 'my-project/client.js'), source.replace(ECHO_ORG, echo.uri));
        // The descriptor last, whole (renamed into place): its script is there when it is read.
        writeFileSync(path.join(dir, 'client-example.tmp'), JSON.stringify({
          endpoint: 'client-example',
          handler: 'my-project/client',
          description: "The platform's client example",
        }, null, 2));
        renameSync(path.join(dir, 'client-example.tmp'), path.join(dir, 'client-example.websocket'));
      };
      const before = echo.connections.length;
      if (form === 'require') addClientExample();
      const server = await startServer(dir);
      try {
        if (form !== 'require') {
          assert.deepEqual(await server.ok('GET', '/api/clients'), []);
          await new Promise((resolve) => setTimeout(resolve, 300));
          assert.equal(echo.connections.length, before);
          addClientExample();
        }
        await waitForLog(server, `Connect to: ${echo.uri}`);

        // The echo server got one connection, and "hello" on it.
        const c = await waitFor(() => echo.connections.slice(before).find((x) => x.received.length > 0),
          'the echo server to receive a message').catch((error) => {
          throw new Error(`${error.message}\n--- daemon log ---\n${server.output.slice(-3000)}`);
        });
        assert.deepEqual(c.received, ['hello']);
        // The handler named by the client got its events.
        const opened = await waitForLog(server, 'Connection openned.');
        const closed = await waitForLog(server, 'Connection closed.');
        assert.ok(opened < closed);
        // close() at the end of the script ended the client for good: the echo server saw
        // it close, and /api/clients shows it gone (or closed).
        await waitFor(() => c.closed !== null, 'the client to close its connection');
        const clients = await waitFor(async () => {
          const list = await server.ok('GET', '/api/clients');
          return list.every((x) => x.handler !== 'my-project/ws-handler' || x.state === 'closed') && list;
        }, 'the client gone from GET /api/clients');
        t.diagnostic(`GET /api/clients after close(): ${JSON.stringify(clients)}`);
        // It stays closed: no reconnect to the echo server.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(echo.connections.length, before + 1, 'the client connected again after close()');
        assert.equal(logLines(server, 'Connection openned.').length, 1);
        // The echo of "hello" may or may not come back before close() (the platform's
        // example closes at once): reported, not required.
        t.diagnostic(`echo seen by the handler: ${logLines(server, 'Message received: hello').length > 0}`);
      } finally {
        await server.dispose();
      }
    });
  }
});

describe('the chat endpoint', () => {
  let server;
  let browser;
  let site; // chat.html as a file, as the docs open it
  before(async () => {
    server = await startServer(endpointsDir('chat.websocket', 'chat/handler.js'));
    browser = await launchBrowser();
    // The page's one setting, SERVER ("the switchboardd to connect to"), set to this daemon.
    const html = readFileSync(path.join(EXAMPLES, 'chat.html'), 'utf8');
    const setting = "const SERVER = 'ws://localhost:8080';";
    assert.equal(html.split(setting).length, 2, `chat.html has no single line ${setting}`);
    site = tempDir('sb-e2e-chat-');
    writeFileSync(path.join(site, 'chat.html'),
      html.replace(setting, `const SERVER = 'ws://127.0.0.1:${server.port}';`));
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  async function openChat(token) {
    const page = await newPage(browser); // a context of its own
    const url = pathToFileURL(path.join(site, 'chat.html'));
    url.searchParams.set('token', token);
    await page.goto(url.href);
    return page;
  }
  const lines = (page) => page.$$eval('#log p', (ps) => ps.map((p) => p.textContent));
  // Waits for a line of the page's log; fails at once when the handler could not load.
  async function waitLine(page, text) {
    const end = Date.now() + WAIT;
    for (;;) {
      const shown = await lines(page);
      if (shown.includes(text)) return;
      const failure = loadFailure(server, 0);
      if (failure || Date.now() > end) {
        throw new Error(
          (failure ? `a handler did not load: ${failure}` : `timed out waiting for "${text}" on the page`) +
            `\npage: ${JSON.stringify(shown)}\n--- daemon log (last 3000 characters) ---\n` +
            server.output.slice(-3000)
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const members = (page) => page.textContent('#members');
  async function say(page, text) {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  it('refuses a session without a token (auth: token)', T, async () => {
    const pkg = await loadPackage('ws');
    const WebSocket = pkg.default ?? pkg;
    const status = await new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/websockets/v4/service/chat`);
      ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
      ws.on('open', () => { ws.terminate(); reject(new Error('the upgrade was accepted')); });
      ws.on('error', () => {});
    });
    assert.equal(status, 401);
  });

  it('two browsers chat, see who comes and goes; a /ws page in chat:lobby gets the messages', T, async () => {
    const room = 'chat:lobby';
    // A /ws member of the room the handler emits to, with the browser client.
    const watcherToken = await server.register(room, 'WATCHER', 'w1');
    const watcher = await openClientPage(browser, server.base);
    await watcher.evaluate(async (token) => {
      window.chat = [];
      window.c = Switchboard.connect({});
      window.c.on('ChatMessage', (data, frame) => window.chat.push({ data, room: frame.room }));
      await window.c.join(token);
    }, watcherToken);

    // A token per user, as the application (or the database) would get it.
    const scottToken = await server.register(room, 'SCOTT', '4711');
    const adamsToken = await server.register(room, 'ADAMS', '4712');

    const scott = await openChat(scottToken);
    await waitLine(scott, 'SCOTT joined');
    assert.equal(await members(scott), 'Here: SCOTT');

    const adams = await openChat(adamsToken);
    await waitLine(adams, 'ADAMS joined');
    await waitLine(scott, 'ADAMS joined');
    assert.equal(await members(adams), 'Here: SCOTT, ADAMS');
    assert.equal(await members(scott), 'Here: SCOTT, ADAMS');

    // The sessions are connections of the endpoint, with the tokens' users.
    const sessions = (await server.connections()).filter((c) => c.endpoint === 'chat');
    assert.deepEqual(sessions.map((c) => c.user).sort(), ['ADAMS', 'SCOTT']);

    await say(scott, 'Hello from Scott');
    await waitLine(adams, 'SCOTT: Hello from Scott');
    await waitLine(scott, 'SCOTT: Hello from Scott');
    await say(adams, 'Hi Scott <b>not bold</b>');
    await waitLine(scott, 'ADAMS: Hi Scott <b>not bold</b>');
    await waitLine(adams, 'ADAMS: Hi Scott <b>not bold</b>');
    assert.equal(await scott.$$eval('#log b', (b) => b.length), 0); // text, never HTML

    // The room got each message as ChatMessage (source handler in the message log).
    await watcher.waitForFunction(() => window.chat.length === 2);
    assert.deepEqual(await watcher.evaluate(() => window.chat), [
      { data: { user: 'SCOTT', text: 'Hello from Scott' }, room },
      { data: { user: 'ADAMS', text: 'Hi Scott <b>not bold</b>' }, room },
    ]);
    const log = await server.ok('GET', `/api/log?room=${encodeURIComponent(room)}&event=ChatMessage`);
    const records = log.records;
    assert.deepEqual(records.map((r) => [r.source, r.target, r.to, r.data.user]), [
      ['handler', 'room', room, 'SCOTT'],
      ['handler', 'room', room, 'ADAMS'],
    ]);

    // ADAMS leaves (closes the page): SCOTT sees it and the members.
    await adams.context().close();
    await waitLine(scott, 'ADAMS left');
    assert.equal(await members(scott), 'Here: SCOTT');
    await screenshot(scott, 'endpoints-chat.png');
    assert.deepEqual(await lines(scott), [
      'connected',
      'SCOTT joined',
      'ADAMS joined',
      'SCOTT: Hello from Scott',
      'ADAMS: Hi Scott <b>not bold</b>',
      'ADAMS left',
    ]);
    assert.deepEqual(scott.errors, []);
    assert.deepEqual(watcher.errors, []);
    await scott.context().close();
    await watcher.context().close();
    await waitFor(async () => (await server.connections()).every((c) => c.endpoint !== 'chat'),
      'the chat sessions gone from /api/connections');
  });
});
