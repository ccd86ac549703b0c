// The browser client in headless Chromium: the served scripts, join and events, on/off/onAny,
// join refusals, leave, presence, client emits, the ES module, tokens on connect, close.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  withServerAndBrowser, openClientPage, newPage, waitFor, sleep, TEST_TIMEOUT,
} from './lib/harness.mjs';

const T = { timeout: TEST_TIMEOUT };
let server;
let browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

// A client on a fresh page, joined with a token for (room, user, session).
async function joinedPage(room, user, session = 's-' + user, options = {}) {
  const token = await server.register(room, user, session, options.register);
  const page = await openClientPage(browser, server.base, { kind: options.kind });
  const joined = await page.evaluate(async (token) => {
    window.c = Switchboard.connect({});
    window.r = rec(window.c);
    return window.c.join(token);
  }, token);
  return { page, token, joined };
}

const events = (page) => page.evaluate(() => window.r.events);

describe('served scripts', () => {
  it('serves the client, its types and the pages with no key and the right types', T, async () => {
    const expected = {
      '/switchboard.js': /^text\/javascript; charset=utf-8$/,
      '/switchboard.mjs': /^text\/javascript; charset=utf-8$/,
      '/switchboard.d.ts': /^application\/typescript/,
      '/': /^text\/html; charset=utf-8$/,
      '/examples/': /^text\/html/,
      '/examples': /^text\/html/,
      '/examples/apex.html': /^text\/html/,
      '/examples/database-chat.html': /^text\/html/,
      '/examples/rtm-listener.html': /^text\/html/,
      '/examples/module.html': /^text\/html/,
      '/examples/playground.html': /^text\/html/,
      '/assets/landing.css': /^text\/css/,
      '/assets/landing.js': /^text\/javascript/,
      '/assets/favicon.svg': /^image\/svg\+xml$/,
    };
    for (const [path, type] of Object.entries(expected)) {
      const r = await server.call('GET', path, undefined, { key: null });
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type'), type, path);
      assert.ok(r.headers.get('etag'), `${path} has an ETag`);
      assert.equal(r.headers.get('cache-control'), 'no-cache', path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    }
    const js = await server.call('GET', '/switchboard.js', undefined, { key: null });
    assert.match(js.text, /window\.Switchboard|globalThis\.Switchboard = Switchboard/);
    assert.doesNotMatch(js.text, /^export /m, 'the classic script has no export');
    assert.equal(js.headers.get('access-control-allow-origin'), '*');
    const mjs = await server.call('GET', '/switchboard.mjs', undefined, { key: null });
    assert.match(mjs.text, /^export default Switchboard;$/m);
    assert.doesNotMatch(mjs.text, /globalThis\.Switchboard =/);
    // One source: the two differ only in their wrapping.
    const core = (text, end) => {
      const from = text.indexOf('// Switchboard browser client: the one source');
      const to = text.indexOf(end);
      assert.ok(from > 0 && to > from, 'the wrapped source is in there');
      return text.slice(from, to);
    };
    assert.equal(core(js.text, '\nglobalThis.Switchboard = Switchboard;'),
                 core(mjs.text, '\nexport { Switchboard };'));
    assert.doesNotMatch(js.text, /@SWITCHBOARD_VERSION@/);
    const dts = await server.call('GET', '/switchboard.d.ts', undefined, { key: null });
    assert.match(dts.text, /export default Switchboard/);
    assert.match(dts.text, /onResync\(fn: \(room: string\) => void\)/);
  });

  it('answers a matching If-None-Match with 304 and no body, HEAD with headers only', T, async () => {
    const first = await server.call('GET', '/switchboard.js', undefined, { key: null });
    const etag = first.headers.get('etag');
    const again = await server.call('GET', '/switchboard.js', undefined, {
      key: null, headers: { 'If-None-Match': etag },
    });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    const other = await server.call('GET', '/switchboard.js', undefined, {
      key: null, headers: { 'If-None-Match': '"something-else"' },
    });
    assert.equal(other.status, 200);
    const head = await fetch(server.base + '/switchboard.mjs', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(
      (await server.call('GET', '/switchboard.mjs', undefined, { key: null })).text)));
    assert.equal(await head.text(), '');
  });

  it('answers unknown files with 404 and a POST to / still needs the key', T, async () => {
    assert.equal((await server.call('GET', '/examples/nothing.html', undefined, { key: null })).status, 404);
    assert.equal((await server.call('GET', '/examples/..%2Findex.html', undefined, { key: null })).status, 404);
    assert.equal((await server.call('GET', '/switchboard.ts', undefined, { key: null })).status, 404);
    const post = await server.call('POST', '/', { message: 'x' }, { key: null });
    assert.equal(post.status, 401);
    const posted = await server.call('POST', '/', { message: 'x' });
    assert.equal(posted.status, 200);
    assert.match(posted.text, /Send to \d+ clients/);
  });

  it('defines window.Switchboard from the classic script, with no console errors', T, async () => {
    const page = await openClientPage(browser, server.base);
    const shape = await page.evaluate(() => ({
      type: typeof window.Switchboard,
      connect: typeof Switchboard.connect,
      version: Switchboard.version,
    }));
    assert.deepEqual(shape, { type: 'object', connect: 'function', version: shape.version });
    assert.match(shape.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

describe('join and events', () => {
  it('joins with a registered token and shows an event emitted over REST', T, async () => {
    const { page, joined } = await joinedPage('e2e:room:1', 'SCOTT');
    assert.equal(joined.type, 'joined');
    assert.equal(joined.room, 'e2e:room:1');
    assert.equal(joined.recovered, true);
    assert.equal(typeof joined.last_id, 'number');
    await waitFor(() => page.evaluate(() => window.c.state === 'open'), 'state open');

    // on(event, fn): fn(data, frame).
    await page.evaluate(() => {
      window.got = [];
      window.c.on('RefreshEmployees', function (data, frame) {
        window.got.push({ data, frame, args: arguments.length });
      });
    });
    const sent = await server.emitRoom('e2e:room:1', 'RefreshEmployees', { id: 1234 });
    assert.equal(sent.delivered, 1);
    const got = await waitFor(() => page.evaluate(() => window.got.length && window.got), 'the event');
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].data.id, 1234);
    assert.equal(got[0].args, 2);
    assert.equal(got[0].frame.type, 'event');
    assert.equal(got[0].frame.id, sent.id);
    assert.equal(got[0].frame.event, 'RefreshEmployees');
    assert.equal(got[0].frame.room, 'e2e:room:1');
    assert.equal(typeof got[0].frame.ts, 'number');
    // An event with no data: null.
    await server.emitRoom('e2e:room:1', 'RefreshEmployees');
    await waitFor(() => page.evaluate(() => window.got.length === 2), 'the second event');
    assert.equal(await page.evaluate(() => window.got[1].data), null);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('calls onAny with (event, data, frame) and stops calling a handler after off', T, async () => {
    const { page } = await joinedPage('e2e:room:any', 'ANY');
    await page.evaluate(() => {
      window.calls = { a: 0, b: 0, any: [] };
      window.fa = () => window.calls.a++;
      window.fb = () => window.calls.b++;
      window.c.on('ping', window.fa);
      window.c.on('ping', window.fb);
      window.c.onAny((event, data, frame) => window.calls.any.push([event, data, frame.id, frame.event]));
    });
    const first = await server.emitRoom('e2e:room:any', 'ping', { n: 1 });
    await waitFor(() => page.evaluate(() => window.calls.any.length === 1), 'the first event');
    await page.evaluate(() => window.c.off('ping', window.fa));
    const second = await server.emitRoom('e2e:room:any', 'ping', { n: 2 });
    await server.emitRoom('e2e:room:any', 'other', 'text');
    await waitFor(() => page.evaluate(() => window.calls.any.length === 3), 'three events');
    const calls = await page.evaluate(() => window.calls);
    assert.equal(calls.a, 1, 'fa was removed by off');
    assert.equal(calls.b, 2, 'fb stays');
    assert.deepEqual(calls.any, [
      ['ping', { n: 1 }, first.id, 'ping'],
      ['ping', { n: 2 }, second.id, 'ping'],
      ['other', 'text', second.id + 1, 'other'],
    ]);
    // A handler that throws does not stop the others nor the client.
    await page.evaluate(() => {
      window.after = 0;
      window.c.on('boom', () => { throw new Error('handler failure'); });
      window.c.on('boom', () => window.after++);
    });
    await server.emitRoom('e2e:room:any', 'boom', {});
    await waitFor(() => page.evaluate(() => window.after === 1), 'the handler after the throwing one');
    await page.context().close();
  });

  it('rejects a failed join with an Error whose code is the server\'s', T, async () => {
    const page = await openClientPage(browser, server.base);
    const expired = await server.register('e2e:room:x', 'X', 'sx', { ttl: 1 });
    await sleep(2200);
    const results = await page.evaluate(async ([expired]) => {
      window.c = Switchboard.connect({});
      const attempt = async (token) => {
        try {
          await window.c.join(token);
          return 'joined';
        } catch (e) {
          return { isError: e instanceof Error, code: e.code, message: e.message };
        }
      };
      const forged = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' +
        btoa(JSON.stringify({ sub: 'X', room: 'r', sid: 's', iat: 1, exp: 4102444800 })).replace(/=+$/, '') +
        '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      return {
        garbage: await attempt('not-a-token'),
        forged: await attempt(forged),
        expired: await attempt(expired),
        state: window.c.state,
      };
    }, [expired]);
    for (const name of ['garbage', 'forged']) {
      assert.equal(results[name].isError, true, name);
      assert.equal(results[name].code, 'invalid_token', name);
      assert.ok(results[name].message.length > 0);
    }
    assert.equal(results.expired.code, 'expired_token');
    assert.equal(results.state, 'open', 'a refused join leaves the connection open');
    // Another user's token on the same connection: forbidden.
    const mine = await server.register('e2e:room:x', 'ONE', 's1');
    const theirs = await server.register('e2e:room:y', 'TWO', 's2');
    const forbidden = await page.evaluate(async ([mine, theirs]) => {
      await window.c.join(mine);
      try {
        await window.c.join(theirs);
        return 'joined';
      } catch (e) {
        return e.code;
      }
    }, [mine, theirs]);
    assert.equal(forbidden, 'forbidden');
    await page.context().close();
  });

  it('leaves a room: the left frame, no more of its events', T, async () => {
    const { page } = await joinedPage('e2e:room:leave', 'LEAVER');
    await server.emitRoom('e2e:room:leave', 'before', 1);
    await waitFor(async () => (await events(page)).length === 1, 'the event before leaving');
    const left = await page.evaluate(() => window.c.leave('e2e:room:leave'));
    assert.deepEqual({ type: left.type, room: left.room }, { type: 'left', room: 'e2e:room:leave' });
    const after = await server.emitRoom('e2e:room:leave', 'after', 2);
    assert.equal(after.delivered, 0);
    await sleep(300);
    assert.deepEqual((await events(page)).map((e) => e.event), ['before']);
    await page.context().close();
  });

  it('lists the members of a room with presence', T, async () => {
    const a = await joinedPage('e2e:room:presence', 'ALICE', 'sa');
    const b = await joinedPage('e2e:room:presence', 'BOB', 'sb');
    const members = await a.page.evaluate(() => window.c.presence('e2e:room:presence'));
    const sorted = [...members].sort((x, y) => x.user.localeCompare(y.user));
    assert.deepEqual(sorted, [
      { user: 'ALICE', session: 'sa' },
      { user: 'BOB', session: 'sb' },
    ]);
    // A room not joined is forbidden.
    const code = await a.page.evaluate(() => window.c.presence('e2e:room:elsewhere').catch((e) => e.code));
    assert.equal(code, 'forbidden');
    await a.page.context().close();
    await b.page.context().close();
  });

  it('sends a client emit with a pub token to the other pages of the room', T, async () => {
    const sender = await joinedPage('e2e:room:chat', 'PUB', 'sp', { register: { publish: true } });
    const receiver = await joinedPage('e2e:room:chat', 'SUB', 'ss');
    const answer = await sender.page.evaluate(() => window.c.emit('e2e:room:chat', 'chat', { text: 'hello' }));
    assert.equal(answer.type, 'emitted');
    assert.equal(answer.delivered, 1);
    const got = await waitFor(async () => (await events(receiver.page)).length === 1 && events(receiver.page), 'the client emit');
    assert.deepEqual(got[0], { event: 'chat', data: { text: 'hello' }, id: answer.id, room: 'e2e:room:chat' });
    await sleep(200);
    assert.deepEqual(await events(sender.page), [], 'the sender does not receive its own emit');
    // In the log as source ws.
    const log = await server.ok('GET', `/api/log?room=e2e:room:chat`);
    assert.equal(log.records.at(-1).source, 'ws');
    // Without pub: refused with forbidden, and nothing reaches the others.
    const refused = await receiver.page.evaluate(() =>
      window.c.emit('e2e:room:chat', 'chat', { text: 'no' }).then(() => 'sent', (e) => e.code));
    assert.equal(refused, 'forbidden');
    await sleep(200);
    assert.equal((await events(sender.page)).length, 0);
    // A fire-and-forget emit that fails raises no unhandled rejection.
    await receiver.page.evaluate(() => { window.c.emit('e2e:room:chat', 'chat', 1); });
    await sleep(300);
    assert.deepEqual(receiver.page.errors, []);
    await sender.page.context().close();
    await receiver.page.context().close();
  });

  it('joins every token given to connect and reports states', T, async () => {
    const t1 = await server.register('e2e:room:t1', 'MULTI', 'sm');
    const t2 = await server.register('e2e:room:t2', 'MULTI', 'sm');
    const t3 = await server.register('e2e:room:t3', 'MULTI', 'sm');
    const page = await openClientPage(browser, server.base);
    const first = await page.evaluate(([t1, t2, t3]) => {
      window.c = Switchboard.connect({ token: t1, tokens: [t2, t3] });
      window.r = rec(window.c);
      return window.c.state;
    }, [t1, t2, t3]);
    assert.equal(first, 'connecting');
    await waitFor(() => page.evaluate(() => window.c.state === 'open'), 'open');
    // 'open' comes once every token is joined: emits right after it arrive.
    await server.emitRoom('e2e:room:t1', 'one', 1);
    await server.emitRoom('e2e:room:t3', 'three', 3);
    await server.emitRoom('e2e:room:t2', 'two', 2);
    await waitFor(async () => (await events(page)).length === 3, 'three events');
    assert.deepEqual((await events(page)).map((e) => e.room), ['e2e:room:t1', 'e2e:room:t3', 'e2e:room:t2']);
    assert.deepEqual(await page.evaluate(() => window.r.states), ['open']);
    assert.deepEqual((await page.evaluate(() => window.c.rooms())).sort(), ['e2e:room:t1', 'e2e:room:t2', 'e2e:room:t3']);
    // close(): closed for good, pending calls rejected, no more events, no reconnect.
    const closed = await page.evaluate(async () => {
      window.c.close();
      const join = await window.c.join('x').catch((e) => e.code);
      return { state: window.c.state, join };
    });
    assert.deepEqual(closed, { state: 'closed', join: 'closed' });
    await waitFor(async () => (await server.connections('?user=MULTI')).length === 0, 'the connection to close');
    const sent = await server.emitRoom('e2e:room:t1', 'one', 'after close');
    assert.equal(sent.delivered, 0);
    await sleep(1500);
    assert.equal((await server.connections('?user=MULTI')).length, 0, 'no reconnect after close()');
    assert.deepEqual(await page.evaluate(() => window.r.states), ['open', 'closed']);
    await page.context().close();
  });

  it('connects to a given url, also a http: one', T, async () => {
    const token = await server.register('e2e:room:url', 'URL', 'su');
    const page = await openClientPage(browser, server.base);
    const joined = await page.evaluate(async ([token, port]) => {
      const a = Switchboard.connect({ url: `ws://127.0.0.1:${port}/ws` });
      const b = Switchboard.connect({ url: `http://127.0.0.1:${port}/ws` });
      const ja = await a.join(token);
      const jb = await b.join(token);
      const urls = [a.url, b.url, Switchboard.connect({ reconnect: false }).url];
      return { rooms: [ja.room, jb.room], urls };
    }, [token, server.port]);
    assert.deepEqual(joined.rooms, ['e2e:room:url', 'e2e:room:url']);
    assert.deepEqual(joined.urls, [
      `ws://127.0.0.1:${server.port}/ws`,
      `ws://127.0.0.1:${server.port}/ws`,
      `ws://127.0.0.1:${server.port}/ws`,
    ]);
    await page.context().close();
  });
});

describe('ES module', () => {
  it('imports /switchboard.mjs and uses it like the script', T, async () => {
    const { page, joined } = await joinedPage('e2e:room:mjs', 'MOD', 'smod', { kind: 'module' });
    assert.equal(joined.room, 'e2e:room:mjs');
    assert.equal(await page.evaluate(() => typeof window.Switchboard.connect), 'function');
    const sent = await server.emitRoom('e2e:room:mjs', 'websocket::message', { message: 'from a module' });
    const got = await waitFor(async () => (await events(page)).length && events(page), 'the event');
    assert.deepEqual(got[0], { event: 'websocket::message', data: { message: 'from a module' }, id: sent.id, room: 'e2e:room:mjs' });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('runs the module example page with ?token=', T, async () => {
    const token = await server.register('e2e:room:modex', 'MODEX', 'smx');
    const page = await newPage(browser);
    await page.goto(`${server.base}/examples/module.html?token=${encodeURIComponent(token)}`);
    await page.waitForFunction(() => window.sbClient && window.sbClient.state === 'open');
    await page.waitForFunction(() => document.getElementById('members').textContent.includes('MODEX'));
    await server.emitRoom('e2e:room:modex', 'Hello', { n: 7 });
    await page.waitForFunction(() => document.getElementById('events').textContent.includes('{"n":7}'));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
