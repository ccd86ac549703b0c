// Reconnects and recovery in headless Chromium: the server killed and restarted mid-test,
// a graceful stop (1001), connections cut by a proxy, onResync when recovery is impossible,
// terminal close codes (4000 by DELETE /api/connections/{id}, 1008), backoff with jitter,
// calls made while disconnected, a revoked room that is not rejoined.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, Proxy, launchBrowser, openClientPage, waitFor, sleep, TEST_TIMEOUT, SLOW,
} from './lib/harness.mjs';

const T = { timeout: TEST_TIMEOUT };
let browser;
const cleanups = [];

async function setup({ args = [], proxy = false } = {}) {
  browser ??= await launchBrowser();
  const server = await new Server({ args }).start();
  cleanups.push(() => server.dispose());
  let front = null;
  if (proxy) {
    front = await new Proxy(server.port).start();
    cleanups.push(() => front.stop());
  }
  const page = await openClientPage(browser, server.base);
  cleanups.push(() => page.context().close());
  return { server, proxy: front, page };
}

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

// Connects the page's client (window.c, recorder window.r) and joins the token.
async function connectAndJoin(page, token, options) {
  return page.evaluate(async ([token, options]) => {
    window.c = Switchboard.connect(options);
    window.r = rec(window.c);
    return window.c.join(token);
  }, [token, options]);
}

const rec = (page) => page.evaluate(() => window.r);
const state = (page) => page.evaluate(() => window.c.state);
const waitState = (page, s, timeout) => waitFor(async () => (await state(page)) === s, `state ${s}`, timeout);
const eventIds = async (page) => (await rec(page)).events.map((e) => e.id);

async function noConnectionOf(server, user) {
  await waitFor(async () => (await server.connections(`?user=${user}`)).length === 0,
    `the server to drop ${user}'s connection`);
}

describe('server restart', () => {
  it('reconnects after a kill and a restart and recovers the missed events once, in order', T, async () => {
    const { server, page } = await setup();
    const room = 'e2e:restart';
    const token = await server.register(room, 'RESTART', 's1');
    // Long enough a first delay that the server is back, and the events emitted, before it.
    const minDelay = 3000 * SLOW;
    await connectAndJoin(page, token, { minDelay, maxDelay: 2 * minDelay });
    await waitState(page, 'open');
    const live = [await server.emitRoom(room, 'live', 1), await server.emitRoom(room, 'live', 2)];
    await waitFor(async () => (await eventIds(page)).length === 2, 'the live events');

    for (const [round, signal, code] of [[1, 'SIGKILL', 1006], [2, 'SIGTERM', 1001]]) {
      await server.stop(signal);
      await waitState(page, 'reconnecting');
      await server.start(); // the same port and data dir
      const missed = [];
      for (let i = 0; i < 3; i++) {
        const sent = await server.emitRoom(room, 'missed', { round, i });
        assert.equal(sent.delivered, 0, 'emitted while the page was away');
        missed.push(sent.id);
      }
      await waitState(page, 'open', 60_000 * SLOW);
      // 'open' comes after the rejoin is answered: the replayed events are there already.
      const ids = await eventIds(page);
      assert.deepEqual(ids.slice(-3), missed, `round ${round}: the missed events, in order`);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'in increasing id order');
      const r = await rec(page);
      assert.ok(r.codes.includes(code), `round ${round}: close code ${code} seen (${r.codes})`);
      assert.deepEqual(r.resyncs, []);
    }
    const r = await rec(page);
    assert.deepEqual(r.states, ['open', 'reconnecting', 'open', 'reconnecting', 'open']);
    assert.equal(r.events.length, 2 + 3 + 3);
    assert.deepEqual(r.events.slice(2).map((e) => e.data), [
      { round: 1, i: 0 }, { round: 1, i: 1 }, { round: 1, i: 2 },
      { round: 2, i: 0 }, { round: 2, i: 1 }, { round: 2, i: 2 },
    ]);
    // Live again, in the room.
    const members = await server.ok('GET', `/api/rooms/${encodeURIComponent(room)}`);
    assert.equal(members.members.length, 1);
    const next = await server.emitRoom(room, 'live', 3);
    assert.equal(next.delivered, 1);
    await waitFor(async () => (await eventIds(page)).at(-1) === next.id, 'the next live event');
    assert.deepEqual(page.errors.filter((e) => !/WebSocket connection to .* failed/.test(e)), []);
  });

  it('calls onResync when the server restarts with a fresh log (ids start over)', T, async () => {
    const { server, page } = await setup();
    const room = 'e2e:fresh';
    const token = await server.register(room, 'FRESH', 's1');
    await connectAndJoin(page, token, { minDelay: 200, maxDelay: 1000 });
    await waitState(page, 'open');
    for (let i = 0; i < 5; i++) await server.emitRoom(room, 'old', i);
    await waitFor(async () => (await eventIds(page)).length === 5, 'five events');
    await server.restart({ fresh: true }); // same port and secret, empty data dir
    await waitFor(async () => (await rec(page)).resyncs.length === 1, 'onResync');
    await waitState(page, 'open');
    assert.deepEqual((await rec(page)).resyncs, [room]);
    // The new server's ids are smaller than those seen before: still delivered.
    const fresh = await server.emitRoom(room, 'new', 'after');
    assert.ok(fresh.id < 5, `ids started over (${fresh.id})`);
    assert.equal(fresh.delivered, 1);
    await waitFor(async () => (await eventIds(page)).at(-1) === fresh.id, 'the event of the new server');
    assert.equal((await rec(page)).events.length, 6);
  });
});

describe('cut connections', () => {
  it('replays what was missed while the connection was cut, without onResync', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const room = 'e2e:cut';
    const token = await server.register(room, 'CUT', 's1');
    await connectAndJoin(page, token, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 800 });
    await waitState(page, 'open');
    const first = await server.emitRoom(room, 'e', 0);
    await waitFor(async () => (await eventIds(page)).length === 1, 'the first event');
    proxy.block();
    proxy.cut();
    await waitState(page, 'reconnecting');
    await noConnectionOf(server, 'CUT');
    const missed = [];
    for (let i = 1; i <= 4; i++) {
      const sent = await server.emitRoom(room, 'e', i);
      assert.equal(sent.delivered, 0);
      missed.push(sent.id);
    }
    // Calls made while disconnected go out after the reconnect, after the rejoin.
    const calls = page.evaluate((room) => Promise.all([
      window.c.presence(room),
      window.c.leave('e2e:never-joined'),
    ]), room);
    await sleep(500);
    proxy.unblock();
    await waitState(page, 'open');
    const [members, left] = await calls;
    assert.deepEqual(members, [{ user: 'CUT', session: 's1' }]);
    assert.equal(left.type, 'left');
    assert.deepEqual(await eventIds(page), [first.id, ...missed]);
    const r = await rec(page);
    assert.deepEqual(r.resyncs, []);
    assert.deepEqual(r.states, ['open', 'reconnecting', 'open']);
  });

  it('calls onResync when the server no longer holds every missed event', T, async () => {
    // No message log and two events per room in memory: a gap of five cannot be filled.
    const { server, proxy, page } = await setup({
      proxy: true, args: ['--log-database', 'off', '--history-per-room', '2'],
    });
    const room = 'e2e:pruned';
    const token = await server.register(room, 'PRUNED', 's1');
    await connectAndJoin(page, token, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 800 });
    await waitState(page, 'open');
    const seen = await server.emitRoom(room, 'e', 0);
    await waitFor(async () => (await eventIds(page)).length === 1, 'the first event');
    proxy.block();
    proxy.cut();
    await noConnectionOf(server, 'PRUNED');
    const missed = [];
    for (let i = 1; i <= 5; i++) missed.push((await server.emitRoom(room, 'e', i)).id);
    proxy.unblock();
    await waitFor(async () => (await rec(page)).resyncs.length === 1, 'onResync');
    await waitState(page, 'open');
    const r = await rec(page);
    assert.deepEqual(r.resyncs, [room]);
    // What the server still held was replayed; the rest is for the page to reload.
    assert.deepEqual(r.events.map((e) => e.id), [seen.id, ...missed.slice(-2)]);
    const live = await server.emitRoom(room, 'e', 6);
    await waitFor(async () => (await eventIds(page)).at(-1) === live.id, 'the next live event');
  });

  it('reconnects with exponential backoff and jitter between minDelay and maxDelay', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const token = await server.register('e2e:backoff', 'BACKOFF', 's1');
    await connectAndJoin(page, token, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 1600 });
    await waitState(page, 'open');
    proxy.block();
    const from = proxy.accepts.length;
    const cutAt = Date.now();
    proxy.cut();
    await waitFor(() => proxy.accepts.length >= from + 6, 'six reconnect attempts', 30_000);
    const times = [cutAt, ...proxy.accepts.slice(from)];
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Each attempt is refused at once, so a gap is the client's delay (plus a little).
    // Delay n: min(maxDelay, minDelay * 2^n), stretched by up to half (shortened by up to a
    // quarter at the cap).
    const ranges = [[200, 300], [400, 600], [800, 1200], [1200, 1600], [1200, 1600], [1200, 1600]];
    gaps.slice(0, ranges.length).forEach((gap, i) => {
      const [lo, hi] = ranges[i];
      // Timers never fire early; a busy machine may run them (and see the attempt) late.
      assert.ok(gap >= lo - 40 * SLOW && gap <= hi + 300 * SLOW,
        `delay ${i + 1}: ${gap} ms not in ${lo}..${hi} (gaps ${gaps})`);
    });
    assert.ok(new Set(gaps.slice(3, 6)).size > 1, `jitter: the capped delays differ (${gaps})`);
    assert.equal(await state(page), 'reconnecting');
    proxy.unblock();
    await waitState(page, 'open');
    // Open again: the next loss starts from minDelay.
    proxy.block();
    const again = proxy.accepts.length;
    const cutAgainAt = Date.now();
    proxy.cut();
    await waitFor(() => proxy.accepts.length >= again + 1, 'an attempt');
    const gap = proxy.accepts[again] - cutAgainAt;
    assert.ok(gap >= 160 && gap <= 300 + 300 * SLOW, `the first delay after an open is minDelay again (${gap} ms)`);
    proxy.unblock();
    await waitState(page, 'open');
  });

  it('notices a connection that went silent (no close) by its ping, and recovers', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const room = 'e2e:stall';
    const token = await server.register(room, 'STALL', 's1');
    await connectAndJoin(page, token, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 800, pingInterval: 1000 });
    await waitState(page, 'open');
    const before = await server.emitRoom(room, 'e', 0);
    await waitFor(async () => (await eventIds(page)).length === 1, 'the first event');
    // Quiet but healthy: pings are answered, the connection stays.
    await sleep(3500);
    assert.deepEqual((await rec(page)).states, ['open']);
    proxy.stall();
    // The server still sees the old connection and hands it this event; it never arrives.
    const lost = await server.emitRoom(room, 'e', 1);
    assert.equal(lost.delivered, 1);
    await waitState(page, 'reconnecting', 10_000 * SLOW);
    await waitState(page, 'open');
    // The rejoin's since replays it.
    assert.deepEqual(await eventIds(page), [before.id, lost.id]);
    assert.deepEqual((await rec(page)).states, ['open', 'reconnecting', 'open']);
  });

  it('asks a join again whose connection dropped before the answer; an emit fails instead', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const first = await server.register('e2e:resend:a', 'RESEND', 's1', { publish: true });
    const second = await server.register('e2e:resend:b', 'RESEND', 's1');
    await connectAndJoin(page, first, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 800 });
    await waitState(page, 'open');
    proxy.stall(); // what the page sends now goes nowhere
    await page.evaluate((t) => {
      window.pending = { join: null, emit: null };
      window.c.join(t).then((f) => { window.pending.join = f.room; }, (e) => { window.pending.join = 'error ' + e.code; });
      window.c.emit('e2e:resend:a', 'x', 1).then(() => { window.pending.emit = 'sent'; }, (e) => { window.pending.emit = e.code; });
    }, second);
    await sleep(300);
    assert.deepEqual(await page.evaluate(() => window.pending), { join: null, emit: null });
    proxy.cut();
    await waitFor(() => page.evaluate(() => window.pending.join !== null), 'the join to be answered');
    assert.deepEqual(await page.evaluate(() => window.pending), { join: 'e2e:resend:b', emit: 'disconnected' });
    await waitState(page, 'open');
    const [connection] = await waitFor(async () => {
      const list = await server.connections('?user=RESEND');
      return list.length === 1 && list[0].rooms.length === 2 && list;
    }, 'one connection in both rooms');
    assert.deepEqual([...connection.rooms].sort(), ['e2e:resend:a', 'e2e:resend:b']);
  });

  it('does not rejoin a room it was taken out of by unregister', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const keep = await server.register('e2e:keep', 'REVOKED', 's1');
    const lose = await server.register('e2e:lose', 'REVOKED', 's1');
    await connectAndJoin(page, keep, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 800 });
    await page.evaluate((t) => window.c.join(t), lose);
    const removed = await server.ok('POST', '/api/unregister', { room: 'e2e:lose', user: 'REVOKED', session: 's1' });
    assert.equal(removed.removed, 1);
    await waitFor(async () => (await rec(page)).errors.includes('revoked'), 'the revocation to reach the page');
    assert.deepEqual(await page.evaluate(() => window.c.rooms()), ['e2e:keep']);
    proxy.cut();
    await waitState(page, 'reconnecting');
    await waitState(page, 'open');
    const [connection] = await server.connections('?user=REVOKED');
    assert.deepEqual(connection.rooms, ['e2e:keep']);
  });
});

describe('terminal close codes', () => {
  it('closes for good on 4000 (DELETE /api/connections/{id})', T, async () => {
    const { server, page } = await setup();
    const token = await server.register('e2e:kick', 'KICKED', 's1');
    await connectAndJoin(page, token, { minDelay: 200, maxDelay: 400 });
    await waitState(page, 'open');
    const [connection] = await server.connections('?user=KICKED');
    const answer = await server.ok('DELETE', `/api/connections/${connection.connection}`);
    assert.deepEqual(answer, { closed: true });
    await waitState(page, 'closed');
    await sleep(1500); // several reconnect delays
    assert.equal(await state(page), 'closed');
    assert.deepEqual(await server.connections('?user=KICKED'), [], 'no reconnect');
    const r = await rec(page);
    assert.deepEqual(r.states, ['open', 'closed']);
    assert.deepEqual(r.codes, [4000]);
    assert.equal(await page.evaluate(() => window.c.presence('e2e:kick').catch((e) => e.code)), 'closed');
  });

  it('closes for good on 1008, and reconnects after 1001 and 1013', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const token = await server.register('e2e:codes', 'CODES', 's1');
    await connectAndJoin(page, token, { url: `ws://127.0.0.1:${proxy.port}/ws`, minDelay: 200, maxDelay: 400 });
    await waitState(page, 'open');
    for (const code of [1001, 1013]) {
      proxy.closeWith(code);
      await waitState(page, 'reconnecting');
      await waitState(page, 'open');
    }
    const attempts = proxy.accepts.length;
    proxy.closeWith(1008);
    await waitState(page, 'closed');
    await sleep(1500);
    assert.equal(proxy.accepts.length, attempts, 'no reconnect after 1008');
    const r = await rec(page);
    assert.deepEqual(r.codes, [1001, 1013, 1008]);
    assert.deepEqual(r.states, ['open', 'reconnecting', 'open', 'reconnecting', 'open', 'closed']);
  });

  it('does not reconnect with reconnect: false', T, async () => {
    const { server, proxy, page } = await setup({ proxy: true });
    const token = await server.register('e2e:noretry', 'NORETRY', 's1');
    await connectAndJoin(page, token, { url: `ws://127.0.0.1:${proxy.port}/ws`, reconnect: false });
    await waitState(page, 'open');
    const attempts = proxy.accepts.length;
    proxy.cut();
    await waitState(page, 'closed');
    await sleep(1200);
    assert.equal(proxy.accepts.length, attempts);
  });
});
