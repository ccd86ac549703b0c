// Test harness of the browser tests: a real switchboardd (own data dir, API key, JWT secret,
// a free port of 127.0.0.1), REST helpers, a TCP proxy that can cut connections, and
// headless Chromium driven by playwright-core.
//
// Environment:
//   SWITCHBOARDD        path of the daemon (CTest passes the built one)
//   SB_E2E_NPM_DIR      where setup.mjs installed playwright-core and ws (CTest: the build tree;
//                       default: node_modules beside the tests)
//   SB_CHROMIUM         the browser (default /usr/bin/chromium)
//   SB_TEST_NO_BROWSER  1: every browser test is skipped (exit 77, CTest's SKIP_RETURN_CODE)
//   SB_E2E_SLOW         a factor for the time limits (the ASan build sets 3)
//   SB_E2E_ARTIFACTS    a folder for screenshots (optional)
import { before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';

export const SKIP_CODE = 77;
if (process.env.SB_TEST_NO_BROWSER === '1') {
  console.log('SB_TEST_NO_BROWSER=1: browser tests skipped');
  process.exit(SKIP_CODE);
}

export const SLOW = Math.max(1, Number(process.env.SB_E2E_SLOW || 1));
export const CHROMIUM = process.env.SB_CHROMIUM || '/usr/bin/chromium';
export const API_KEY = 'e2e-api-key-0123456789';
export const JWT_SECRET = 'e2e-jwt-secret-0123456789abcdef';
export const ARTIFACTS = process.env.SB_E2E_ARTIFACTS || '';

// Time limits for one test, scaled for slow builds.
export const TEST_TIMEOUT = 90_000 * SLOW;
export const WAIT = 15_000 * SLOW;

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls fn until it returns a truthy value; rejects after `timeout` ms with `what`.
export async function waitFor(fn, what, timeout = WAIT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(50);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function daemonPath() {
  const candidates = [
    process.env.SWITCHBOARDD,
    path.resolve('build/dev/app/daemon/switchboardd'),
    path.resolve('build/release/app/daemon/switchboardd'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('switchboardd not found: set SWITCHBOARDD to the built daemon');
  return found;
}

// One switchboardd process; restart() keeps the port (and the data dir unless fresh).
export class Server {
  constructor({ args = [], port = 0 } = {}) {
    this.extraArgs = args;
    this.port = port;
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'sb-e2e-'));
    this.dataDirs = [this.dataDir];
    this.proc = null;
    this.output = '';
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const args = [
      '--listen', `127.0.0.1:${this.port}`,
      '--data-dir', this.dataDir,
      '--api-key', API_KEY,
      '--jwt-secret', JWT_SECRET,
      '--log-level', 'info',
      ...this.extraArgs,
    ];
    // The port of a killed server can be busy for a moment: retry the start.
    for (let attempt = 0; ; attempt++) {
      try {
        await this._spawn(args);
        return this;
      } catch (error) {
        if (attempt >= 20 || !/cannot listen/.test(String(error.message))) throw error;
        await sleep(250);
      }
    }
  }

  _spawn(args) {
    return new Promise((resolve, reject) => {
      const proc = spawn(daemonPath(), args, {
        env: { ...process.env, QT_NO_GLIB: '1', QT_QPA_PLATFORM: 'offscreen' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.proc = proc;
      let settled = false;
      let text = '';
      const onData = (chunk) => {
        text += chunk;
        this.output += chunk;
        if (!settled && /listening on/.test(text)) {
          settled = true;
          resolve();
        }
      };
      proc.stdout.setEncoding('utf8').on('data', onData);
      proc.stderr.setEncoding('utf8').on('data', onData);
      proc.on('exit', (code, signal) => {
        if (!settled) {
          settled = true;
          reject(new Error(`switchboardd exited (${code ?? signal}) before listening:\n${text}`));
        }
      });
      setTimeout(() => {
        if (!settled) {
          settled = true;
          proc.kill('SIGKILL');
          reject(new Error(`switchboardd did not listen within ${20 * SLOW} s:\n${text}`));
        }
      }, 20_000 * SLOW);
    });
  }

  // SIGTERM (the server closes every WebSocket with 1001) or SIGKILL (connections just drop).
  async stop(signal = 'SIGTERM') {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000 * SLOW);
    await exited;
    clearTimeout(timer);
    this.proc = null;
  }

  async kill() {
    await this.stop('SIGKILL');
  }

  // The same port; a fresh data dir when asked (ids start over: recovery impossible).
  async restart({ fresh = false, signal = 'SIGKILL' } = {}) {
    await this.stop(signal);
    if (fresh) {
      this.dataDir = mkdtempSync(path.join(tmpdir(), 'sb-e2e-'));
      this.dataDirs.push(this.dataDir);
    }
    await this.start();
  }

  async dispose() {
    await this.stop('SIGTERM');
    for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true });
  }

  // REST call with the API key (unless key: null); resolves {status, headers, body, text}.
  async call(method, urlPath, body, { key = API_KEY, headers = {}, raw = false } = {}) {
    const h = { ...headers };
    if (key) h['X-API-Key'] = key;
    let payload;
    if (body !== undefined) {
      if (raw) {
        payload = body;
      } else {
        payload = JSON.stringify(body);
        h['Content-Type'] = 'application/json';
      }
    }
    const res = await fetch(this.base + urlPath, { method, headers: h, body: payload });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json, text };
  }

  async ok(method, urlPath, body, options) {
    const r = await this.call(method, urlPath, body, options);
    if (r.status !== 200) throw new Error(`${method} ${urlPath}: ${r.status} ${r.text}`);
    return r.body;
  }

  async register(room, user, session, extra = {}) {
    const r = await this.ok('POST', '/api/register', { room, user, session, ...extra });
    return r.token;
  }

  emitRoom(room, event, data) {
    return this.ok('POST', '/api/emit/room', { room, event, data });
  }

  async connections(query = '') {
    return this.ok('GET', '/api/connections' + query);
  }
}

// A TCP proxy in front of the server: cut() drops every connection at once (the browser
// sees the connection fail, no close frame, like a network cut); stall() keeps them open but
// forwards nothing more (a dead route the browser cannot see); block() refuses new ones
// (accepted and dropped at once) until unblock(). inject(bytes) writes raw bytes to the
// browser side of every connection (a forged server frame).
export class Proxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.blocked = false;
    this.accepts = []; // Date.now() of every connection attempt
    this.server = net.createServer((client) => this._accept(client));
  }

  async start() {
    this.port = await freePort();
    await new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  _accept(client) {
    this.accepts.push(Date.now());
    client.on('error', () => {});
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut() {
    for (const { client, upstream } of [...this.pairs]) {
      client.resetAndDestroy ? client.resetAndDestroy() : client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  // Stops forwarding on every connection without closing it: both sides keep an open
  // socket whose data goes nowhere (a dead route, no FIN, no RST).
  stall() {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.on('data', () => {});
      upstream.on('data', () => {});
    }
  }

  block() {
    this.blocked = true;
  }

  unblock() {
    this.blocked = false;
  }

  // Sends a WebSocket close frame with this code to the browser, then drops the connection.
  closeWith(code) {
    const frame = Buffer.from([0x88, 0x02, (code >> 8) & 0xff, code & 0xff]);
    for (const { client, upstream } of [...this.pairs]) {
      upstream.unpipe(client);
      upstream.destroy();
      client.end(frame);
    }
    this.pairs.clear();
  }

  async stop() {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// A package that setup.mjs installed (package-lock.json): from SB_E2E_NPM_DIR when set (the
// build tree), else from node_modules beside the tests.
export async function loadPackage(name) {
  const dir = process.env.SB_E2E_NPM_DIR;
  return dir
    ? createRequire(path.join(path.resolve(dir), 'package.json'))(name)
    : await import(name);
}

let playwright;
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's chromium (scripts/test.sh does), ` +
        'or set SB_TEST_NO_BROWSER=1 to skip the browser tests'
    );
  }
  if (!playwright) playwright = await loadPackage('playwright-core');
  return playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    headless: true,
  });
}

// A page that collects its console errors and uncaught exceptions.
export async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (error) => page.errors.push(`page error: ${error.message}`));
  return page;
}

// Opens the playground example (a page of the server's own, so the browser's Local Network
// Access rules treat it as a real one) with the client loaded as a classic script
// (/switchboard.js) or as an ES module (/switchboard.mjs, assigned to window.Switchboard).
export async function openClientPage(browser, base, { kind = 'script' } = {}) {
  const page = await newPage(browser);
  await page.goto(`${base}/examples/playground.html${kind === 'module' ? '?as=module' : ''}`);
  await page.waitForFunction(() => window.sbReady === true);
  // A recorder for the tests: window.rec(client) keeps states, events, resyncs and errors.
  await page.evaluate(() => {
    window.rec = (client) => {
      const r = { states: [], codes: [], events: [], resyncs: [], errors: [] };
      client.onState((s, detail) => {
        r.states.push(s);
        if (detail && detail.code) r.codes.push(detail.code);
      });
      client.onAny((event, data, frame) => r.events.push({ event, data, id: frame.id, room: frame.room }));
      client.onResync((room) => r.resyncs.push(room));
      if (client.onError) client.onError((e) => r.errors.push(e.code));
      return r;
    };
  });
  return page;
}

export async function screenshot(page, name) {
  if (!ARTIFACTS) return null;
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// The file-wide setup of a browser test file: before its tests a Server and a browser start
// and are handed to use(server, browser); after them both are closed.
export function withServerAndBrowser(use) {
  let server;
  let browser;
  before(async () => {
    server = await new Server().start();
    browser = await launchBrowser();
    use(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });
}
