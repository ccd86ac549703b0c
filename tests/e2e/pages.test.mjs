// The pages in headless Chromium: the APEX example (a stand-in apex object receives
// apex.event.trigger and region refreshes), the two seed pages against the compatibility
// routes (a raw WebSocket at / fed by POST /, the RTM listener fed by POST /api/broadcast),
// and the landing page (no console errors, no call needing the key until the user gives
// one, its demo shows events).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  withServerAndBrowser, newPage, openClientPage, waitFor, sleep, screenshot, TEST_TIMEOUT, API_KEY,
} from './lib/harness.mjs';

const T = { timeout: TEST_TIMEOUT };
let server;
let browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

describe('Oracle APEX', () => {
  it('raises every event as apex.event.trigger(document, event, data) and refreshes regions', T, async () => {
    const room = 'hr:emp:1234';
    const token = await server.register(room, 'SCOTT', '4711');
    const page = await newPage(browser);
    await page.goto(`${server.base}/examples/apex.html?token=${encodeURIComponent(token)}`);
    await page.waitForFunction(() => window.sbClient && window.sbClient.state === 'open');

    // A Dynamic Action on websocket::message shows this.data.message.
    await server.emitRoom(room, 'websocket::message', { message: 'Hello World!' });
    await page.waitForFunction(() => document.getElementById('banner').textContent === 'Hello World!');
    let calls = await page.evaluate(() => window.apexCalls);
    assert.deepEqual(calls, [{ selector: 'document', event: 'websocket::message', data: { message: 'Hello World!' } }]);

    // websocket::refresh {"region": "emp"} refreshes the region with no Dynamic Action.
    await server.emitRoom(room, 'websocket::refresh', { region: 'emp' });
    await page.waitForFunction(() => window.regionRefreshes.emp === 1);
    assert.equal(await page.textContent('#emp-refreshes'), '1');

    // A custom event name fires its own Dynamic Action (here: refresh the region).
    await server.emitRoom(room, 'RefreshEmployees');
    await page.waitForFunction(() => window.regionRefreshes.emp === 2);
    calls = await page.evaluate(() => window.apexCalls);
    assert.deepEqual(calls.map((c) => [c.event, c.data]), [
      ['websocket::message', { message: 'Hello World!' }],
      ['websocket::refresh', { region: 'emp' }],
      ['RefreshEmployees', null],
    ]);
    assert.ok(calls.every((c) => c.selector === 'document'));

    // A region that is not on the page: the event is still raised, nothing breaks.
    await server.emitRoom(room, 'websocket::refresh', { region: 'not_here' });
    await page.waitForFunction(() => window.apexCalls.length === 4);
    await server.emitRoom(room, 'websocket::refresh', 'no region');
    await page.waitForFunction(() => window.apexCalls.length === 5);
    assert.equal(await page.evaluate(() => window.regionRefreshes.emp), 2);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('passes the document itself and guards a partial apex object', T, async () => {
    const token = await server.register('apex:partial', 'P', 's');
    const page = await openClientPage(browser, server.base);
    await page.evaluate(async (token) => {
      window.seen = [];
      // apex.region is missing, apex.region(...) returns null, apex.event.trigger throws:
      // the client goes on.
      window.apex = {
        event: {
          trigger(selector, name, data) {
            window.seen.push({ isDocument: selector === document, name, data });
            if (name === 'boom') throw new Error('a failing Dynamic Action');
          },
        },
      };
      window.c = Switchboard.connect({});
      window.c.on('after', () => window.seen.push('handler'));
      await window.c.join(token);
    }, token);
    await server.emitRoom('apex:partial', 'websocket::refresh', { region: 'emp' });
    await server.emitRoom('apex:partial', 'boom', 1);
    await page.evaluate(() => { window.apex.region = () => null; });
    await server.emitRoom('apex:partial', 'websocket::refresh', { region: 'emp' });
    await server.emitRoom('apex:partial', 'after', 2);
    await page.waitForFunction(() => window.seen.length === 5);
    assert.deepEqual(await page.evaluate(() => window.seen), [
      { isDocument: true, name: 'websocket::refresh', data: { region: 'emp' } },
      { isDocument: true, name: 'boom', data: 1 },
      { isDocument: true, name: 'websocket::refresh', data: { region: 'emp' } },
      'handler',
      { isDocument: true, name: 'after', data: 2 },
    ]);
    await page.context().close();
  });
});

describe('seed pages on the compatibility routes', () => {
  it('runs the database-chat page: a raw WebSocket at / fed by POST /', T, async () => {
    const page = await newPage(browser);
    await page.goto(`${server.base}/examples/database-chat.html`);
    await page.waitForFunction(() => window.connection && window.connection.readyState === 1);
    // A JSON body is pushed as it is; the snippet logs json.message.
    const pushed = await server.call('POST', '/', { message: 'Hello World!' });
    assert.equal(pushed.status, 200);
    assert.deepEqual(pushed.body, { message: 'Send to 1 clients' });
    await page.waitForFunction(() => document.getElementById('console').textContent.includes('Hello World!'));
    // What the database's push('REFRESH') sends: not JSON, so {"message": "REFRESH"}.
    await server.call('POST', '/', 'REFRESH', { raw: true, headers: { 'Content-Type': 'text/plain' } });
    await page.waitForFunction(() => document.getElementById('refresh-count').textContent === '1');
    // {"message":"REFRESH"} as JSON does the same.
    await server.call('POST', '/', { message: 'REFRESH' });
    await page.waitForFunction(() => document.getElementById('refresh-count').textContent === '2');
    // A /ws room emit does not reach a legacy connection.
    await server.emitRoom('any:room', 'websocket::message', { message: 'not for legacy pages' });
    await sleep(300);
    const lines = await page.$$eval('#console li', (lis) => lis.map((li) => li.textContent));
    assert.deepEqual(lines, ['Hello World!']);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('runs the RTM listener: {channel, eventName, payload} from POST /api/broadcast', T, async () => {
    const page = await newPage(browser);
    await page.goto(`${server.base}/examples/rtm-listener.html`);
    await page.waitForFunction(() => window.pageSockets.length === 1 && window.pageSockets[0].readyState === 1);
    const answer = await server.call('POST', '/api/broadcast', {
      channel: 'test', eventName: 'ping', payload: { itemName: 'P10_MESSAGE', value: 'Hello' },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { ok: true });
    await page.waitForFunction(() => document.getElementById('P10_MESSAGE').value === 'Hello');
    await page.waitForFunction(() => document.getElementById('banner').textContent === 'Received: Hello');
    // Another channel or another event name: filtered out by the listener.
    await server.call('POST', '/api/broadcast', { channel: 'other', eventName: 'ping', payload: { itemName: 'P10_MESSAGE', value: 'no' } });
    await server.call('POST', '/api/broadcast', { channel: 'test', eventName: 'pong', payload: { itemName: 'P10_MESSAGE', value: 'no' } });
    await server.call('POST', '/api/broadcast', { channel: 'test', eventName: 'ping', payload: { itemName: 'P10_MESSAGE', value: 'Again' } });
    await page.waitForFunction(() => document.getElementById('P10_MESSAGE').value === 'Again');
    const calls = await page.evaluate(() => window.apexCalls);
    assert.deepEqual(calls, [
      ['item.setValue', 'P10_MESSAGE', 'Hello'],
      ['event.trigger', 'rtm-message', { channel: 'test', eventName: 'ping', payload: { itemName: 'P10_MESSAGE', value: 'Hello' } }],
      ['item.setValue', 'P10_MESSAGE', 'Again'],
      ['event.trigger', 'rtm-message', { channel: 'test', eventName: 'ping', payload: { itemName: 'P10_MESSAGE', value: 'Again' } }],
    ]);
    // The broadcast also reached room "test" of /ws clients.
    const log = await server.ok('GET', '/api/log?room=test');
    assert.equal(log.records.length, 3);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

describe('landing page', () => {
  it('loads without console errors and calls nothing that needs the key', T, async () => {
    const page = await newPage(browser);
    const requests = [];
    page.on('request', (req) => requests.push({ url: new URL(req.url()).pathname, headers: req.headers() }));
    const response = await page.goto(`${server.base}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'], /^text\/html/);
    await page.waitForFunction(() => document.getElementById('status-text').textContent.startsWith('Running'));
    assert.equal(await page.evaluate(() => typeof window.Switchboard.connect), 'function');
    assert.match(await page.textContent('#version'), /^\d+\.\d+\.\d+/);
    // The snippets carry this server's address.
    assert.ok((await page.textContent('#connect')).includes(server.base));
    await sleep(500);
    assert.deepEqual(page.errors, []);
    const api = requests.filter((r) => r.url.startsWith('/api/') || r.url === '/metrics');
    assert.deepEqual([...new Set(api.map((r) => r.url))], ['/api/health']);
    assert.ok(requests.every((r) => !('x-api-key' in r.headers) && !('authorization' in r.headers)));
    // Nothing from elsewhere.
    const external = await page.evaluate(() =>
      [...document.querySelectorAll('[src],[href]')]
        .map((el) => el.src || el.href)
        .filter((u) => u && !u.startsWith(location.origin) && !u.startsWith('#') && !u.startsWith('data:')));
    assert.deepEqual(external, []);
    await screenshot(page, 'landing.png');
    await page.context().close();
  });

  it('demo: requests a token with the key, joins, shows events, sends one', T, async () => {
    const page = await newPage(browser);
    await page.goto(`${server.base}/`);
    await page.click('#tab-key');
    await page.fill('#api-key', API_KEY);
    await page.fill('#room', 'demo:e2e');
    await page.fill('#user', 'visitor');
    await page.click('#register');
    await page.waitForFunction(() => document.getElementById('token').value.startsWith('eyJ'));
    assert.match(await page.textContent('#claims'), /demo:e2e/);
    await page.click('#join');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
    await page.waitForFunction(() => document.getElementById('members').textContent.includes('visitor'));

    const sent = await server.emitRoom('demo:e2e', 'RefreshEmployees', { id: 4711 });
    await page.waitForFunction((id) => document.getElementById('events').textContent.includes('#' + id), sent.id);
    const first = await page.textContent('#events li.event');
    assert.match(first, /RefreshEmployees/);
    assert.match(first, /"id": 4711/);

    // Send with the key (REST): the page's own member receives it too.
    await page.selectOption('#via', 'rest');
    await page.fill('#event', 'websocket::message');
    await page.fill('#data', '{"message": "from the demo"}');
    await page.click('#send');
    await page.waitForFunction(() => document.getElementById('events').textContent.includes('from the demo'));
    assert.match(await page.textContent('#send-result'), /delivered to 1/);

    // Send with the token (client emit, pub): another member gets it.
    const other = await openClientPage(browser, server.base);
    const otherToken = await server.register('demo:e2e', 'other', 'so');
    await other.evaluate(async (t) => {
      window.c = Switchboard.connect({});
      window.r = rec(window.c);
      await window.c.join(t);
    }, otherToken);
    await page.selectOption('#via', 'ws');
    await page.fill('#data', '{"message": "over the socket"}');
    await page.click('#send');
    await other.waitForFunction(() => window.r.events.some((e) => e.data && e.data.message === 'over the socket'));
    assert.match(await page.textContent('#send-result'), /delivered to 1 other/);
    await screenshot(page, 'landing-demo.png');

    // Leave, then disconnect.
    await page.click('#leave');
    await page.waitForFunction(() => document.getElementById('events').textContent.includes('Left demo:e2e'));
    await page.click('#disconnect');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'closed');
    assert.deepEqual(page.errors, []);
    await other.context().close();
    await page.context().close();
  });

  it('demo: a pasted token joins without any key; a bad one shows the error', T, async () => {
    const page = await newPage(browser);
    const keyed = [];
    page.on('request', (req) => { if (req.headers()['x-api-key']) keyed.push(req.url()); });
    await page.goto(`${server.base}/`);
    await page.fill('#token', 'not-a-token');
    await page.click('#join');
    await page.waitForFunction(() => document.getElementById('demo-error').textContent.startsWith('invalid_token'));
    const token = await server.register('demo:paste', 'paster', 'sp');
    await page.fill('#token', token);
    await page.click('#join');
    await page.waitForFunction(() => !document.getElementById('leave').disabled);
    const sent = await server.emitRoom('demo:paste', 'hello', 'pasted');
    await page.waitForFunction((id) => document.getElementById('events').textContent.includes('#' + id), sent.id);
    // Sending with the key while none was given: refused in the page, no call made.
    await page.selectOption('#via', 'rest');
    await page.click('#send');
    await page.waitForFunction(() => document.getElementById('demo-error').textContent.startsWith('unauthorized'));
    assert.deepEqual(keyed, []);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
