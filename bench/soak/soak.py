#!/usr/bin/python3
"""Switchboard soak and chaos run (driver of bench/soak.sh; docs/soak.md).

A bounded-time run of switchboardd under churning WebSocket clients and a steady REST emitter,
in phases that each start a daemon on a fresh data dir and end with checks:

  steady    SQLite log, no chaos: the leak detector (RSS, file descriptors)
  kill      SQLite log, kill -9 of the daemon and restart on the same data dir, on a schedule
  postgres  PostgreSQL log (scripts/pg-test-cluster.sh), pg_ctl restart while emits go on, and
            one kill -9 of the daemon
  diskfull  SQLite log on a 64 MiB tmpfs, filled to the brim by a filler file while emits go
            on, a kill -9 and restart while it is full, then freed

Checks (printed every --report-interval seconds as provisional figures, and at each phase's end):
  1 log        every emit answered 2xx is in the message log (GET /api/log) with its id, room
               and data
  2 delivery   every 2xx room emit reached every client stream of that room: a stream is one
               client's membership of one room, carried over leaves, closes, kills and
               restarts by rejoining with since = the last id seen; exactly once, in increasing
               id order; a `recovered: false` join excuses its gap (counted)
  3 rss        VmRSS back within --rss-slack-mib of the process's baseline after the load
  4 fds        /proc/PID/fd count back to the baseline after the clients closed
  5 ids        ids strictly increasing across restarts, never given twice (answers, events
               and the log agree on which emit an id belongs to)
Exit status 0 only when every check of every phase passes; the last line is `soak: PASS ...`
or `soak: FAIL ...`.
"""

import argparse
import array
import asyncio
import bisect
import collections
import ctypes
import errno
import json
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

import websockets
import websockets.exceptions

INF = float('inf')
LISTEN_RE = re.compile(rb'listening on (https?)://[^\s:]+:(\d+)')
PHASE_WEIGHTS = {'steady': 0.35, 'kill': 0.25, 'postgres': 0.2, 'diskfull': 0.2}
EVENT = 'soak'
T0 = time.monotonic()


def now():
    return time.monotonic()


def log(msg):
    print(f'[soak {now() - T0:7.1f}s] {msg}', flush=True)


def mib(kib):
    return f'{kib / 1024:.1f}'


# The data of emit `seq`: reproducible from seq alone, so every copy (answer, event, log
# record) can be checked byte for byte after parsing. Some carry non-ASCII text and escapes.
_PAD = 'abcdefghijklmnopqrstuvwxyz0123456789' * 6


def payload(seq):
    n = (seq * 7919) % 160
    p = _PAD[seq % 36: seq % 36 + n]
    if seq % 7 == 0:
        p += 'é€😀'
    if seq % 11 == 0:
        p += '"\\/\n'
    return {'seq': seq, 'p': p}


def payload_bytes(room, seq):
    return json.dumps({'room': room, 'event': EVENT, 'data': payload(seq)},
                      separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def _pdeathsig():
    # The daemon dies with this driver, even when the driver is killed with SIGKILL.
    try:
        ctypes.CDLL('libc.so.6').prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def abort_transport(stream):
    """Drops the connection of `stream` (an asyncio StreamWriter or a websockets connection) at
    once, with no closing handshake; nothing when there is none or it is gone already."""
    if stream is not None:
        try:
            stream.transport.abort()
        except Exception:
            pass


class Lost(Exception):
    """The WebSocket connection went away (or was given up) during an operation."""


class Refused(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 keep-alive client (no third-party modules)
# ---------------------------------------------------------------------------------------------

class HttpConn:
    def __init__(self, port, api_key):
        self.port = port
        self.api_key = api_key
        self.reader = self.writer = None
        self.closed = True
        self.inc = 0

    async def connect(self, timeout=5.0):
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection('127.0.0.1', self.port), timeout)
        sock = self.writer.get_extra_info('socket')
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closed = False

    def close(self):
        abort_transport(self.writer)
        self.writer = self.reader = None
        self.closed = True

    async def request(self, method, path, body=None, timeout=30.0):
        head = [f'{method} {path} HTTP/1.1', f'Host: 127.0.0.1:{self.port}',
                f'X-API-Key: {self.api_key}']
        if body is not None:
            head += ['Content-Type: application/json', f'Content-Length: {len(body)}']
        data = ('\r\n'.join(head) + '\r\n\r\n').encode() + (body or b'')
        self.writer.write(data)
        try:
            return await asyncio.wait_for(self._response(), timeout)
        except BaseException:
            self.close()
            raise

    async def _response(self):
        line = await self.reader.readline()
        if not line:
            raise ConnectionError('connection closed before the answer')
        parts = line.split()
        if len(parts) < 2:
            raise ConnectionError(f'bad status line {line!r}')
        status = int(parts[1])
        length = None
        chunked = close = False
        while True:
            h = await self.reader.readline()
            if not h:
                raise ConnectionError('connection closed in the headers')
            if h in (b'\r\n', b'\n'):
                break
            name, _, value = h.decode('latin-1').partition(':')
            name = name.strip().lower()
            value = value.strip()
            if name == 'content-length':
                length = int(value)
            elif name == 'transfer-encoding' and 'chunked' in value.lower():
                chunked = True
            elif name == 'connection' and value.lower() == 'close':
                close = True
        if chunked:
            body = b''
            while True:
                size = int((await self.reader.readline()).split(b';')[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readline()
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, body


class HttpPool:
    """A few keep-alive connections shared by callers (registrations, log reads)."""

    def __init__(self, phase, size):
        self.phase = phase
        self.free = asyncio.Queue()
        for _ in range(size):
            self.free.put_nowait(HttpConn(phase.port, phase.run.api_key))

    async def call(self, method, path, body=None, timeout=15.0):
        conn = await self.free.get()
        try:
            if not conn.closed and conn.inc != self.phase.daemon.incarnation:
                conn.close()
            if conn.closed:
                await conn.connect()
                conn.inc = self.phase.daemon.incarnation
            return await conn.request(method, path, body, timeout)
        except BaseException:
            conn.close()
            raise
        finally:
            self.free.put_nowait(conn)

    def close(self):
        while not self.free.empty():
            self.free.get_nowait().close()


# ---------------------------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------------------------

class Daemon:
    def __init__(self, phase, data_dir, extra_args):
        self.phase = phase
        self.exe = phase.run.args.daemon
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.log_path = os.path.join(phase.dir, 'daemon.log')
        self.proc = None
        self.incarnation = 0
        self.expect_exit = False
        self.listening = False   # the crash monitor watches only a process that got this far
        self.pids = []

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def args(self):
        r = self.phase.run
        return [self.exe, '--listen', f'127.0.0.1:{self.phase.port}', '--data-dir', self.data_dir,
                '--api-key', r.api_key, '--jwt-secret', r.jwt_secret] + self.extra_args

    async def start(self, timeout=30.0):
        """Starts a new incarnation; True once it listens, False (with the reason logged) if
        it exited or did not listen in time."""
        assert self.proc is None, 'a daemon is already running'
        self.incarnation += 1
        self.expect_exit = False
        self.listening = False
        with open(self.log_path, 'ab') as f:
            f.write(f'=== soak: start #{self.incarnation} at +{now() - T0:.1f}s ===\n'.encode())
            offset = f.tell()
        env = {k: v for k, v in os.environ.items() if not k.startswith('SWITCHBOARD_')}
        env['QT_NO_GLIB'] = '1'
        out = open(self.log_path, 'ab')
        try:
            self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=out, env=env, preexec_fn=_pdeathsig)
        finally:
            out.close()
        deadline = now() + timeout
        while True:
            await asyncio.sleep(0.05)
            with open(self.log_path, 'rb') as f:
                f.seek(offset)
                text = f.read()
            m = LISTEN_RE.search(text)
            if m:
                self.pids.append(self.proc.pid)
                self.listening = True
                return True
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                tail = text.decode('utf-8', 'replace').strip().splitlines()[-3:]
                log(f'{self.phase.name}: daemon start #{self.incarnation} exited with {rc} '
                    f'before listening: {" | ".join(tail)}')
                self.phase.start_failures.append((now() - T0, rc, tail))
                self.proc = None
                return False
            if now() > deadline:
                log(f'{self.phase.name}: daemon start #{self.incarnation} did not listen '
                    f'within {timeout:.0f} s; killing it')
                self.expect_exit = True
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                return False

    async def kill9(self):
        if not self.proc:
            return
        self.expect_exit = True
        self.listening = False
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while self.proc.poll() is None:
            await asyncio.sleep(0.01)
        self.proc = None

    async def stop(self, timeout=20.0):
        """SIGTERM; returns the exit code (negative: killed by that signal), None if not running."""
        if not self.proc:
            return None
        self.expect_exit = True
        self.listening = False
        self.proc.terminate()
        deadline = now() + timeout
        while self.proc.poll() is None and now() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            log(f'{self.phase.name}: daemon did not exit within {timeout:.0f} s of SIGTERM; '
                'killing it')
            self.proc.kill()
            self.proc.wait()
            rc = 'killed after SIGTERM timeout'
        else:
            rc = self.proc.returncode
        self.proc = None
        return rc

    def rss_kib(self):
        try:
            with open(f'/proc/{self.proc.pid}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1])
        except Exception:
            return None
        return None

    def mem_kib(self):
        """VmRSS and its parts: RssAnon (heap, stacks), RssFile (mapped files: the journal,
        SQLite's shared memory, libraries), RssShmem."""
        out = {}
        try:
            with open(f'/proc/{self.proc.pid}/status') as f:
                for line in f:
                    key = line.split(':', 1)[0]
                    if key in ('VmRSS', 'RssAnon', 'RssFile', 'RssShmem'):
                        out[key] = int(line.split()[1])
        except Exception:
            pass
        return out

    def fds(self):
        try:
            return sorted(os.listdir(f'/proc/{self.proc.pid}/fd'), key=int)
        except Exception:
            return None

    def fd_targets(self):
        out = {}
        for fd in self.fds() or []:
            try:
                out[fd] = os.readlink(f'/proc/{self.proc.pid}/fd/{fd}')
            except OSError:
                pass
        return out

    def log_excerpt(self, max_lines=40):
        """The daemon's warnings and errors (what a bug report quotes)."""
        try:
            with open(self.log_path, 'rb') as f:
                lines = f.read().decode('utf-8', 'replace').splitlines()
        except OSError:
            return []
        keep = [l for l in lines if ' warn ' in l or ' error ' in l or ' crit' in l
                or l.startswith('===') or 'recovered' in l or 'fatal' in l.lower()]
        if len(keep) > max_lines:
            keep = keep[:max_lines // 2] + [f'... ({len(keep) - max_lines} more) ...'] + \
                keep[-max_lines // 2:]
        return keep


# ---------------------------------------------------------------------------------------------
# What was emitted
# ---------------------------------------------------------------------------------------------

class Registry:
    def __init__(self, phase):
        self.phase = phase
        self.rooms = phase.rooms
        self.room_index = {r: i for i, r in enumerate(self.rooms)}
        self.seq = 0
        self.ok_index = {}                  # id -> index into the ok_* arrays
        self.ok_id = array.array('q')
        self.ok_seq = array.array('q')
        self.ok_room = array.array('i')
        self.ok_t = array.array('d')
        self.ok_inc = array.array('i')
        self.room_sorted = {r: array.array('q') for r in self.rooms}  # ok ids, sorted
        self.room_order = {r: array.array('q') for r in self.rooms}   # ok ids, answer order
        self.room_max = {r: 0 for r in self.rooms}
        self.not_ok = {}                    # seq -> ('ambiguous', why) | ('refused', in_window) | ('status', n)
        self.id_twice = []                  # (id, first seq, second seq)
        self.refused = 0
        self.refused_outside = []           # (t, seq)
        self.ambiguous = 0
        self.other = collections.Counter()
        self.other_examples = []
        self.unreachable = 0
        self._recent = collections.deque()  # (t, id): for the provisional safe id
        self.safe_id = 0

    def new_seq(self):
        self.seq += 1
        return self.seq

    def ok(self, id_, seq, room, t, inc):
        if id_ in self.ok_index:
            self.id_twice.append((id_, self.ok_seq[self.ok_index[id_]], seq))
            log(f'{self.phase.name}: BUG id {id_} answered twice (seq '
                f'{self.ok_seq[self.ok_index[id_]]} and {seq})')
            return
        self.ok_index[id_] = len(self.ok_id)
        self.ok_id.append(id_)
        self.ok_seq.append(seq)
        self.ok_room.append(self.room_index[room])
        self.ok_t.append(t)
        self.ok_inc.append(inc)
        bisect.insort(self.room_sorted[room], id_)
        self.room_order[room].append(id_)
        if id_ > self.room_max[room]:
            self.room_max[room] = id_
        self._recent.append((t, id_))

    def update_safe_id(self, timeout):
        """Every 2xx emit with an id up to safe_id is known: answers come within the timeout
        of the request, and an id is given after the request arrives."""
        cutoff = now() - timeout - 5.0
        while self._recent and self._recent[0][0] < cutoff:
            _, id_ = self._recent.popleft()
            if id_ > self.safe_id:
                self.safe_id = id_
        return self.safe_id

    @property
    def ok_count(self):
        return len(self.ok_id)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

class Stream:
    """One client's membership of one room, from its first `joined` on, carried over leaves,
    closes and restarts by joins with since."""

    __slots__ = ('client', 'room', 'epoch', 'started', 'start', 'cursor', 'last_recv', 'recv',
                 'recv_seq', 'extra', 'tentative', 'pending_since', 'excused', 'verified_upto',
                 'missing', 'dups', 'ooo', 'joins', 'rec_false', 'dropped', 'drop_len',
                 'count', 'rereplayed', 'corrupt', 'resets', 'reset_to', 'end')

    def __init__(self, client, room, epoch):
        self.client = client
        self.room = room
        self.epoch = epoch
        self.started = False
        self.start = 0           # last_id of the first joined: events above it are expected
        self.cursor = 0          # the since of the next join
        self.last_recv = 0       # ordering: the next event must be above this
        self.recv = array.array('q')      # received ids, ascending
        self.recv_seq = array.array('q')  # their data's seq
        self.extra = {}          # id -> seq of events that came out of order
        self.tentative = 0       # ids up to this came in a replay whose join never completed
        self.pending_since = None
        self.excused = []        # (since, last_id) of recovered: false joins
        self.verified_upto = 0
        self.missing = []        # expected ids not received
        self.dups = []
        self.ooo = []
        self.joins = []          # (t, since, last_id, recovered, replayed)
        self.rec_false = 0
        self.dropped = False
        self.drop_len = None
        self.count = 0
        self.rereplayed = 0
        self.corrupt = 0
        self.resets = 0
        self.reset_to = None     # set by a recovered: false join whose last_id went back
        self.end = None          # a stream that ended so: checked up to this id

    def has(self, id_):
        i = bisect.bisect_left(self.recv, id_)
        return (i < len(self.recv) and self.recv[i] == id_) or id_ in self.extra

    def on_event(self, id_, seq):
        self.count += 1
        if id_ > self.last_recv:
            if id_ <= self.tentative and self.has(id_):
                self.rereplayed += 1   # replayed again after a join that never completed
            elif self.recv and id_ < self.recv[-1]:
                i = bisect.bisect_left(self.recv, id_)
                self.recv.insert(i, id_)
                self.recv_seq.insert(i, seq)
            else:
                self.recv.append(id_)
                self.recv_seq.append(seq)
            self.last_recv = id_
            if id_ > self.cursor:
                self.cursor = id_
        elif self.has(id_):
            self.dups.append(id_)
        else:
            self.ooo.append((id_, self.last_recv))
            self.extra[id_] = seq

    def join_sent(self, since):
        self.pending_since = since

    def joined(self, since, frame, replayed):
        last_id = int(frame.get('last_id', 0))
        recovered = bool(frame.get('recovered', True))
        self.joins.append((round(now() - T0, 3), since, last_id, recovered, replayed))
        if self.started and last_id < self.last_recv:
            # The room's latest id is below an id this client already saw in it.
            self.client.phase.stats['last_id_regressed'] += 1
            self.client.phase.last_id_regressions.append(
                (self.client.idx, self.room, self.last_recv, last_id, since,
                 list(self.recv[-3:]), self.joins[-3:], self.client.conn_no))
        if not self.started:
            self.started = True
            self.start = last_id
            self.cursor = max(self.cursor, last_id)
            self.last_recv = max(self.last_recv, last_id)
        elif not recovered and last_id < self.last_recv:
            # The room's ids went back below what this client saw (another log, or ids given
            # again): as the browser client does, counting starts again from last_id. This
            # stream ends here (checked up to since); a new one takes over from last_id.
            self.rec_false += 1
            self.reset_to = last_id
        elif not recovered:
            self.rec_false += 1
            self.excused.append((since, last_id))
            self.cursor = max(self.cursor, last_id)
            self.last_recv = max(self.last_recv, last_id)
        self.pending_since = None

    def join_incomplete(self):
        """A join with since got no `joined` (connection lost, timeout): its replay may have
        been cut short, and its recovered flag is unknown. The next join starts again from
        that since; what was received meanwhile still counts, and is not a duplicate when it
        comes again."""
        if self.pending_since is not None and self.started:
            self.tentative = max(self.tentative, self.last_recv)
            if self.last_recv > self.pending_since:
                self.resets += 1
            self.last_recv = self.pending_since
            self.cursor = self.pending_since
        self.pending_since = None

    def excused_id(self, id_):
        for since, last in self.excused:
            if (since is None or id_ > since) and id_ <= last:
                return True
        return False

    def bound(self):
        """Ids up to this are settled for this stream (no join with since is under way)."""
        if not self.started:
            return 0
        if self.pending_since is not None:
            return self.pending_since
        return self.last_recv


class Client:
    def __init__(self, phase, idx):
        self.phase = phase
        self.idx = idx
        self.user = f'soak-{phase.name}-u{idx}'
        self.session = f's{idx}'
        self.want = random.randint(1, 3)
        self.rooms = []           # tracked rooms
        self.streams = {}         # room -> Stream
        self.epochs = collections.Counter()
        self.tokens = {}
        self.ws = None
        self.reader = None
        self.pending = {}
        self.joined = set()
        self.ref = 0
        self.settled = False
        self.settled_final = False
        self.inc = 0
        self.leaving = {}         # room -> Stream while a dropping leave is under way
        self.dropped_last = {}    # room -> the Stream that last dropped it (left confirmed)
        self.conn_no = 0

    def _next_ref(self, on_answer=None):
        """A ref and the future of its answer. on_answer(frame) runs in the reader, in wire
        order with the events (before any later frame is looked at)."""
        self.ref += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.ref] = (fut, on_answer)
        return self.ref, fut

    async def _token(self, room):
        tok = self.tokens.get(room)
        if tok and random.random() < 0.6:
            return tok
        body = json.dumps({'room': room, 'user': self.user, 'session': self.session}).encode()
        try:
            status, resp = await self.phase.http.call('POST', '/api/register', body, timeout=10)
        except (OSError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            self.phase.stats['register_errors'] += 1
            raise Lost(f'register: {type(e).__name__}')
        if status != 200:
            self.phase.stats[f'register_{status}'] += 1
            raise Lost(f'register answered {status}')
        tok = json.loads(resp)['token']
        self.tokens[room] = tok
        return tok

    async def _reader(self, ws):
        st = self.phase.stats
        try:
            async for msg in ws:
                f = json.loads(msg)
                t = f.get('type')
                if t == 'event':
                    self._on_event(f)
                elif 'ref' in f:
                    fut, on_answer = self.pending.pop(f['ref'], (None, None))
                    if fut is not None and not fut.done():
                        if on_answer is not None:
                            on_answer(f)
                        fut.set_result(f)
                    else:
                        st['late_answers'] += 1
                else:
                    st[f'frame_{t}'] += 1
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:  # a harness fault must not pass for a server one silently
            st['reader_errors'] += 1
            log(f'{self.phase.name}: client {self.idx} reader error: {e!r}')
        finally:
            code = ws.close_code
            st[f'close_{code}'] += 1
            for fut, _ in self.pending.values():
                if not fut.done():
                    fut.set_exception(Lost(f'closed {code}'))
                    fut.exception()  # retrieved: no "never retrieved" noise if none awaits it
            self.pending.clear()

    def _on_event(self, f):
        st = self.phase.stats
        st['events'] += 1
        room = f.get('room')
        stream = self.streams.get(room) or self.leaving.get(room)
        data = f.get('data')
        seq = data.get('seq') if isinstance(data, dict) else None
        if stream is None or (room in self.dropped_last and (
                (not stream.started and stream.pending_since is None)
                or (stream.started and stream.epoch > 1 and int(f['id']) <= stream.start
                    and not stream.has(int(f['id']))))):
            # No membership, or one whose join (without since) is not answered yet and so
            # gets no event, or an id at or below the start of a membership taken again: the
            # event belongs to the room's dropped stream, and came after that stream's `left`.
            stream = self.dropped_last.get(room)
            if stream is None:
                st['events_not_member'] += 1
                return
            st['events_after_left'] += 1
            if len(self.phase.after_left) < 5:
                self.phase.after_left.append((self.idx, room, int(f['id'])))
        inject = self.phase.run.args.inject_faults
        if inject and stream.started and st['events'] % 4999 == 0:
            st['injected_drops'] += 1        # self-test: the event is "lost"
            return
        if inject and stream.started and st['events'] % 7001 == 0:
            st['injected_dups'] += 1         # self-test: the event comes twice
            stream.on_event(int(f['id']), seq)
        if f.get('event') != EVENT or not isinstance(seq, int) or data != payload(seq):
            stream.corrupt += 1
            st['events_corrupt'] += 1
            if st['events_corrupt'] <= 5:
                log(f'{self.phase.name}: BUG corrupt event frame for client {self.idx}: {f!r:.300}')
            seq = -1 if not isinstance(seq, int) else seq
        stream.on_event(int(f['id']), seq)

    async def _wait(self, fut, timeout):
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self.phase.stats['answer_timeouts'] += 1
            self._abort()
            raise Lost('no answer in time')

    def _abort(self):
        abort_transport(self.ws)

    async def _send(self, obj):
        try:
            await self.ws.send(json.dumps(obj))
        except websockets.exceptions.ConnectionClosed as e:
            raise Lost(f'send: {e}')

    async def _join(self, room):
        st = self.phase.stats
        stream = self.streams.get(room)
        if stream is None:
            self.epochs[room] += 1
            stream = Stream(self, room, self.epochs[room])
            self.streams[room] = stream
            self.phase.streams.append(stream)
        tok = await self._token(room)
        since = stream.cursor if stream.started else None
        before = stream.count

        def on_answer(frame):
            if frame.get('type') == 'joined':
                stream.joined(since, frame, stream.count - before)
                if stream.reset_to is not None:
                    stream.end = since
                    stream.dropped = True
                    stream.drop_len = None
                    self.epochs[room] += 1
                    fresh = Stream(self, room, self.epochs[room])
                    fresh.started = True
                    fresh.start = fresh.cursor = fresh.last_recv = stream.reset_to
                    self.streams[room] = fresh
                    self.phase.streams.append(fresh)
                    self.phase.stats['streams_reset'] += 1
            else:
                stream.join_incomplete()

        ref, fut = self._next_ref(on_answer)
        msg = {'type': 'join', 'token': tok, 'ref': ref}
        if since is not None:
            msg['since'] = since
        stream.join_sent(since)
        try:
            await self._send(msg)
            frame = await self._wait(fut, self.phase.run.args.join_timeout)
        except Lost:
            stream.join_incomplete()
            raise
        if frame.get('type') != 'joined':
            st[f'join_error_{frame.get("code")}'] += 1
            if frame.get('code') in ('invalid_token', 'expired_token', 'revoked'):
                self.tokens.pop(room, None)
            raise Refused(f'join refused: {frame.get("code")}: {frame.get("message")}')
        st['joins'] += 1
        if since is not None:
            st['joins_since'] += 1
        if not frame.get('recovered', True):
            st['recovered_false'] += 1
            log(f'{self.phase.name}: client {self.idx} room {room}: joined since {since} '
                f'recovered false (last_id {frame.get("last_id")})')
        self.joined.add(room)

    async def _leave(self, room, drop=False):
        stream = self.streams[room]
        if drop:
            stream.drop_len = len(self.phase.reg.room_order[room])
            self.leaving[room] = stream
            del self.streams[room]
        def on_answer(frame):
            if drop and frame.get('type') == 'left':
                # From here on no event of the room is expected; one published before the
                # leave may still come, and goes to this stream (counted as after_left).
                self.dropped_last[room] = self.leaving.pop(room, stream)

        ref, fut = self._next_ref(on_answer)
        self.joined.discard(room)
        try:
            await self._send({'type': 'leave', 'room': room, 'ref': ref})
            frame = await self._wait(fut, 10)
        except Lost:
            if drop:  # not confirmed: still a member as far as anyone knows; rejoin later
                stream.drop_len = None
                self.streams[room] = self.leaving.pop(room, stream)
            raise
        if frame.get('type') != 'left':
            self.phase.stats['leave_errors'] += 1
        self.phase.stats['leaves'] += 1
        if drop:
            self.rooms.remove(room)
            stream.dropped = True        # verified at the end of the phase
            self.phase.stats['rooms_dropped'] += 1

    def _pick_room(self):
        choices = [r for r in self.phase.rooms if r not in self.rooms]
        room = random.choice(choices)
        self.rooms.append(room)
        return room

    async def _pause(self, timeout, event=None):
        """Sleeps up to timeout; returns early when event is set. Raises Lost if the
        connection dies."""
        waiters = [self.reader]
        ev = None
        if event is not None:
            ev = asyncio.ensure_future(event.wait())
            waiters.append(ev)
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if ev is not None:
                ev.cancel()
        if self.reader.done():
            raise Lost('connection closed')

    async def _session(self):
        ph = self.phase
        a = ph.run.args
        url = f'ws://127.0.0.1:{ph.port}/ws'
        try:
            self.ws = await websockets.connect(url, open_timeout=10, ping_interval=20,
                                               ping_timeout=30, close_timeout=3,
                                               max_size=2 ** 22, max_queue=4096)
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
            ph.stats['connect_errors'] += 1
            raise Lost(f'connect: {type(e).__name__}')
        self.inc = ph.daemon.incarnation
        self.conn_no += 1
        ph.stats['connects'] += 1
        self.joined = set()
        self.reader = asyncio.ensure_future(self._reader(self.ws))
        while len(self.rooms) < self.want:
            self._pick_room()
        for room in list(self.rooms):
            await self._join(room)
        while True:
            if ph.final.is_set():
                self.settled = True
                await self._pause(None, ph.closing)
                await self.ws.close()
                return
            await self._pause(random.uniform(a.min_stay, a.max_stay), ph.final)
            if ph.final.is_set():
                continue
            action = random.choices(
                ['abort', 'graceful', 'close', 'bounce', 'swap'],
                weights=[30, 30, 10, 18, 12])[0]
            ph.stats[f'action_{action}'] += 1
            if action == 'abort':          # no close frame: the socket just goes (a dead page)
                self._abort()
                await asyncio.wait([self.reader], timeout=5)
                return
            if action == 'close':
                await self.ws.close()
                return
            if action == 'graceful':
                for room in list(self.rooms):
                    await self._leave(room)
                await self.ws.close()
                return
            if action == 'bounce':         # leave a room, rejoin it on the same connection
                room = random.choice(self.rooms)
                await self._leave(room)
                await self._pause(random.uniform(0.1, 2.0))
                await self._join(room)
                continue
            if action == 'swap':           # drop a room for good, take another
                room = random.choice(self.rooms)
                await self._leave(room, drop=True)
                await self._join(self._pick_room())
                continue

    async def run(self):
        ph = self.phase
        await asyncio.sleep(self.idx * 2.0 / max(1, ph.run.args.clients))
        while not ph.closing.is_set():
            await ph.up.wait()
            try:
                await self._session()
                if ph.closing.is_set():
                    break
            except (Lost, Refused) as e:
                ph.stats['sessions_lost'] += 1
                if isinstance(e, Refused):
                    log(f'{ph.name}: client {self.idx}: {e}')
            except websockets.exceptions.ConnectionClosed:
                ph.stats['sessions_lost'] += 1
            finally:
                for stream in self.streams.values():
                    if stream.pending_since is not None:
                        stream.join_incomplete()
                if self.ws is not None:
                    self._abort()
                if self.reader is not None:
                    await asyncio.wait([self.reader], timeout=5)
                self.ws = self.reader = None
                self.joined = set()
                self.settled = False
            await asyncio.sleep(random.uniform(0.05, 1.5) if not ph.final.is_set() else 0.2)


# ---------------------------------------------------------------------------------------------
# A phase
# ---------------------------------------------------------------------------------------------

class Phase:
    def __init__(self, run, name, load_s, port):
        self.run = run
        self.name = name
        self.load_s = load_s
        self.port = port
        self.dir = os.path.join(run.workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.rooms = [f'soak:{name}:r{i:02d}' for i in range(run.args.rooms)]
        self.reg = Registry(self)
        self.stats = collections.Counter()
        self.streams = []
        self.clients = []
        self.up = asyncio.Event()
        self.lifecycle = asyncio.Lock()   # one start/kill/stop sequence at a time
        self.final = asyncio.Event()
        self.closing = asyncio.Event()
        self.emitting = True
        self.windows = []          # [kind, start, end or None]
        self.start_failures = []
        self.crashes = []
        self.last_id_regressions = []
        self.warmup_problems = []
        self.after_left = []
        self.log_order_examples = []
        self.baseline_mem = {}
        self.baselines = []        # (pid, rss KiB, fd count, fd targets) per incarnation
        self.peak_rss = 0
        self.rss_series = []
        self.log = {}              # id -> (room, seq, data ok)
        self.log_cursor = 0
        self.chaos_events = []
        self.t_start = None
        self.result = {'phase': name}
        self.failures = []
        self.notes = []
        self.mount = None
        self.pg_dir = None
        self.daemon = None
        self.http = None

    # --- chaos windows: refusals (503) are allowed only inside one ---------------------------

    def open_window(self, kind):
        w = [kind, now(), None]
        self.windows.append(w)
        return w

    def close_window(self, w):
        w[2] = now()

    def in_window(self, t0, t1):
        grace = self.run.args.chaos_grace
        for _, start, end in self.windows:
            if t1 >= start and (end is None or t0 <= end + grace):
                return True
        return False

    # --- daemon -----------------------------------------------------------------------------

    async def start_daemon(self, deadline_s=60.0, retry_every=2.0):
        """Starts the daemon (retrying until deadline_s), warms it up, takes its baselines and
        lets the clients and emitters in."""
        deadline = now() + deadline_s
        while True:
            if await self.daemon.start():
                break
            if now() > deadline:
                return False
            await asyncio.sleep(retry_every)
        await self.warmup()
        self.up.set()
        return True

    async def warmup(self):
        """A register, an emit, a log query and a few joins, so that the connections and
        buffers that stay for the process's life exist before the baselines are taken."""
        conn = HttpConn(self.port, self.run.api_key)
        sockets = []
        try:
            await conn.connect()
            conn.inc = self.daemon.incarnation
            room = 'soak:warmup'
            body = json.dumps({'room': room, 'user': 'warmup', 'session': 'w'}).encode()
            status, resp = await conn.request('POST', '/api/register', body, 10)
            token = json.loads(resp)['token'] if status == 200 else None
            seq = self.reg.new_seq()
            r0 = self.rooms[0]
            status, resp = await conn.request('POST', '/api/emit/room', payload_bytes(r0, seq), 30)
            if status == 200:
                self.reg.ok(json.loads(resp)['id'], seq, r0, now(), self.daemon.incarnation)
            else:
                self.reg.not_ok[seq] = ('status', status)
            if self.run.args.sidestep_join_spin and self.daemon.incarnation > 1:
                for r in self.rooms + [room]:
                    seq = self.reg.new_seq()
                    status, resp = await conn.request('POST', '/api/emit/room',
                                                      payload_bytes(r, seq), 30)
                    if r == room:
                        self.reg.not_ok[seq] = ('warmup', status)
                    elif status == 200:
                        self.reg.ok(json.loads(resp)['id'], seq, r, now(),
                                    self.daemon.incarnation)
                    else:
                        self.reg.not_ok[seq] = ('status', status)
            await conn.request('GET', '/api/log?limit=1', None, 10)
            await conn.request('GET', '/api/stats', None, 10)
            if token:
                for k in range(4):  # every I/O thread reads the log for a join with since
                    ws = await websockets.connect(f'ws://127.0.0.1:{self.port}/ws',
                                                  open_timeout=10, close_timeout=1)
                    sockets.append(ws)
                    await ws.send(json.dumps({'type': 'join', 'token': token, 'since': 0}))
                    try:
                        await asyncio.wait_for(ws.recv(), 10)
                    except asyncio.TimeoutError:
                        self.stats['answer_timeouts'] += 1
                        self.warmup_problems.append(
                            f'daemon #{self.daemon.incarnation}: warm-up join {k + 1} (room '
                            f'soak:warmup, since 0) got no answer in 10 s')
                        raise
        except Exception as e:
            log(f'{self.name}: warm-up incomplete: {e!r}')
        finally:
            for ws in sockets:
                try:
                    ws.transport.abort()
                except Exception:
                    pass
            conn.close()
        await asyncio.sleep(1.5)
        rss = self.daemon.rss_kib()
        fds = self.daemon.fd_targets()
        self.baselines.append((self.daemon.pid, rss, len(fds), fds))
        self.baseline_mem[self.daemon.pid] = self.daemon.mem_kib()
        log(f'{self.name}: daemon #{self.daemon.incarnation} pid {self.daemon.pid} up: '
            f'baseline RSS {mib(rss or 0)} MiB, {len(fds)} fds')

    async def kill_restart(self, why, down_s):
        async with self.lifecycle:
            w = self.open_window('kill')
            self.up.clear()
            pid = self.daemon.pid
            await self.daemon.kill9()
            self.chaos_events.append((round(now() - T0, 1), f'kill -9 {pid} ({why})'))
            log(f'{self.name}: kill -9 daemon pid {pid} ({why}); down for {down_s:.1f} s')
            await asyncio.sleep(down_s)
            ok = await self.start_daemon()
            self.close_window(w)
            return ok

    async def monitor(self):
        """A daemon that exits unasked is a crash: recorded (a failure) and restarted."""
        while True:
            await asyncio.sleep(0.2)
            d = self.daemon
            if not (d.listening and not d.expect_exit and d.proc is not None
                    and d.proc.poll() is not None):
                continue
            async with self.lifecycle:
                if not (d.listening and not d.expect_exit and d.proc is not None
                        and d.proc.poll() is not None):
                    continue
                rc = d.proc.returncode
                tail = d.log_excerpt(12)
                self.crashes.append((round(now() - T0, 1), d.proc.pid, rc, tail))
                log(f'{self.name}: BUG daemon pid {d.proc.pid} exited unasked with {rc}')
                for line in tail:
                    log(f'    {line}')
                w = self.open_window('crash')
                self.up.clear()
                d.proc = None
                d.listening = False
                await self.start_daemon(deadline_s=120)
                self.close_window(w)

    async def sampler(self):
        while True:
            if self.daemon.alive():
                mem = self.daemon.mem_kib()
                rss = mem.get('VmRSS')
                if rss:
                    self.peak_rss = max(self.peak_rss, rss)
                    self.rss_series.append((round(now() - T0), rss, mem.get('RssAnon'),
                                            mem.get('RssFile'), mem.get('RssShmem')))
            await asyncio.sleep(1.0)

    # --- emitters ---------------------------------------------------------------------------

    async def emitter(self, i):
        a = self.run.args
        interval = a.emitters / a.rate
        conn = None
        next_t = now() + random.uniform(0, interval)
        reg = self.reg
        while self.emitting:
            t = now()
            if next_t > t:
                await asyncio.sleep(next_t - t)
                if not self.emitting:
                    break
            next_t = max(next_t + interval, now() - 1.0)
            if not self.up.is_set():
                if conn:
                    conn.close()
                    conn = None
                while not self.up.is_set() and self.emitting:
                    await asyncio.sleep(0.05)
                next_t = now()
                continue
            if conn is not None and (conn.closed or conn.inc != self.daemon.incarnation):
                conn.close()
                conn = None
            if conn is None:
                conn = HttpConn(self.port, self.run.api_key)
                try:
                    await conn.connect()
                    conn.inc = self.daemon.incarnation
                except (OSError, asyncio.TimeoutError):
                    reg.unreachable += 1
                    conn = None
                    await asyncio.sleep(0.2)
                    continue
            seq = reg.new_seq()
            room = random.choice(self.rooms)
            t0 = now()
            try:
                status, resp = await conn.request('POST', '/api/emit/room',
                                                  payload_bytes(room, seq), a.emit_timeout)
            except (OSError, ConnectionError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError, ValueError) as e:
                reg.not_ok[seq] = ('ambiguous', type(e).__name__)
                reg.ambiguous += 1
                conn = None
                continue
            t1 = now()
            if 200 <= status < 300:
                reg.ok(int(json.loads(resp)['id']), seq, room, t1, conn.inc)
            elif status == 503:
                inside = self.in_window(t0, t1)
                reg.not_ok[seq] = ('refused', inside)
                reg.refused += 1
                if not inside:
                    reg.refused_outside.append((round(t1 - T0, 1), seq))
            else:
                reg.not_ok[seq] = ('status', status)
                reg.other[status] += 1
                if len(reg.other_examples) < 5:
                    reg.other_examples.append((round(t1 - T0, 1), status, resp[:200].decode(
                        'utf-8', 'replace')))
            if conn.closed:
                conn = None
        if conn:
            conn.close()

    # --- the message log --------------------------------------------------------------------

    async def read_log(self, since, into, conn, timeout=60, tries=1, progress=None):
        """Pages through GET /api/log from since; returns the highest id read (also kept in
        progress[0] page by page, for a pass that fails half-way). A page that is refused
        (503: the log cannot be read now) is asked again, up to `tries` times."""
        while True:
            for attempt in range(tries):
                if conn.closed:
                    await conn.connect()
                status, body = await conn.request('GET', f'/api/log?since_id={since}&limit=1000',
                                                  None, timeout)
                if status == 200:
                    break
                self.stats['log_read_refusals'] += 1
                if attempt + 1 < tries:
                    await asyncio.sleep(1.0)
            if status != 200:
                raise ConnectionError(f'GET /api/log answered {status}: {body[:200]!r}')
            records = json.loads(body)['records']
            if not records:
                return since
            for rec in records:
                id_ = int(rec['id'])
                if id_ <= since:
                    self.stats['log_id_twice'] += 1   # ids must increase through the pages
                    self.log_order_examples.append((since, id_))
                if self.run.args.inject_faults and id_ % 2999 == 0:
                    self.stats['injected_log_drops'] += 1
                    continue
                data = rec.get('data')
                seq = data.get('seq') if isinstance(data, dict) else None
                good = isinstance(seq, int) and data == payload(seq) and rec.get('event') == EVENT
                into[id_] = (rec.get('to'), seq, good)
                since = max(since, id_)
            if progress is not None:
                progress[0] = since
            if len(records) < 1000:
                return since

    async def read_log_incremental(self):
        conn = HttpConn(self.port, self.run.api_key)
        progress = [self.log_cursor]
        try:
            await conn.connect()
            self.log_cursor = await self.read_log(self.log_cursor, self.log, conn, timeout=20,
                                                  progress=progress)
            return True
        except Exception as e:
            self.log_cursor = progress[0]
            self.stats['log_read_errors'] += 1
            log(f'{self.name}: log read failed ({e!r}); next time')
            return False
        finally:
            conn.close()

    # --- checks -----------------------------------------------------------------------------

    def verify_stream(self, s, final=False, safe=INF):
        """Expected ids of stream s in (verified_upto, bound]: missing ones are recorded."""
        reg = self.reg
        lo = max(s.verified_upto, s.start)
        if not s.started:
            return
        if s.dropped and s.end is not None:
            # Ended by ids going back: expected up to the since of that join.
            arr = reg.room_sorted[s.room]
            ids = arr[bisect.bisect_right(arr, lo):bisect.bisect_right(arr, s.end)]
            hi = INF
        elif s.dropped:
            # Expected: the emits answered before the leave was sent.
            ids = [i for i in reg.room_order[s.room][:s.drop_len] if i > lo]
            hi = INF
        else:
            hi = INF if final else min(s.bound(), safe)
            if hi <= lo:
                return
            arr = reg.room_sorted[s.room]
            i = bisect.bisect_right(arr, lo)
            j = len(arr) if hi == INF else bisect.bisect_right(arr, hi)
            ids = arr[i:j]
        for id_ in ids:
            if not s.has(id_) and not s.excused_id(id_):
                s.missing.append(id_)
        if hi == INF:
            hi = max(lo, reg.room_max[s.room])
        s.verified_upto = max(s.verified_upto, hi if not s.dropped else lo)
        if s.dropped:
            s.verified_upto = INF

    def provisional(self):
        safe = self.reg.update_safe_id(self.run.args.emit_timeout)
        for s in self.streams:
            if not s.dropped:
                self.verify_stream(s, safe=safe)
        missing_log = 0
        upto = min(self.log_cursor, safe)
        for id_ in self.reg.ok_id:
            if id_ <= upto and id_ not in self.log:
                missing_log += 1
        return missing_log

    def status_line(self, missing_log=None):
        s, r = self.stats, self.reg
        connected = sum(1 for c in self.clients if c.ws is not None and c.reader is not None
                        and not c.reader.done())
        miss = sum(len(x.missing) for x in self.streams)
        dups = sum(len(x.dups) for x in self.streams)
        ooo = sum(len(x.ooo) for x in self.streams)
        rss = self.daemon.rss_kib() if self.daemon and self.daemon.alive() else None
        fds = self.daemon.fds() if self.daemon and self.daemon.alive() else None
        base = self.baselines[-1] if self.baselines else (None, 0, 0, {})
        t = now() - self.t_start if self.t_start else 0
        return (f'{self.name} {t:5.0f}/{self.load_s:.0f}s | emits 2xx={r.ok_count} 503={r.refused}'
                f' (outside chaos {len(r.refused_outside)}) ambiguous={r.ambiguous}'
                f' other={sum(r.other.values())} | log read={len(self.log)}'
                f' missing={"?" if missing_log is None else missing_log} | clients'
                f' connected={connected}/{len(self.clients)} connects={s["connects"]}'
                f' joins={s["joins"]} (since {s["joins_since"]}) recovered_false='
                f'{s["recovered_false"]} events={s["events"]} missed={miss} dups={dups}'
                f' out_of_order={ooo} | daemon #{self.daemon.incarnation if self.daemon else 0}'
                f' rss={mib(rss) if rss else "-"} MiB (base {mib(base[1] or 0)}, peak'
                f' {mib(self.peak_rss)}) fds={len(fds) if fds is not None else "-"}'
                f' (base {base[2]}) crashes={len(self.crashes)}')

    async def reporter(self):
        every = self.run.args.report_interval
        while True:
            await asyncio.sleep(every)
            await self.read_log_incremental()
            missing = self.provisional()
            log('status: ' + self.status_line(missing))

    # --- chaos schedules --------------------------------------------------------------------

    async def chaos_kill(self):
        a = self.run.args
        L = self.load_s
        every = a.kill_every or max(6.0, min(45.0, L / 4))
        t = self.t_start + max(3.0, 0.12 * L)
        while True:
            t += random.uniform(0.6, 1.4) * every if self.chaos_events else 0
            if t > self.t_start + 0.8 * L:
                return
            await asyncio.sleep(max(0.0, t - now()))
            await self.kill_restart('schedule', random.uniform(0.2, 2.5))

    async def pg_restart(self):
        w = self.open_window('pg restart')
        t0 = now()
        proc = await asyncio.create_subprocess_exec(
            'bash', os.path.join(self.run.repo, 'scripts/pg-test-cluster.sh'), 'restart',
            self.pg_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = await proc.communicate()
        self.close_window(w)
        self.chaos_events.append((round(t0 - T0, 1), f'pg restart ({now() - t0:.1f} s, rc '
                                                       f'{proc.returncode})'))
        log(f'{self.name}: PostgreSQL restarted in {now() - t0:.1f} s (rc {proc.returncode})')
        if proc.returncode != 0:
            self.failures.append(f'pg_ctl restart failed: {err.decode()[-300:]}')

    async def chaos_pg(self):
        a = self.run.args
        L = self.load_s
        every = a.pg_restart_every or max(6.0, min(40.0, L / 4))
        kill_at = self.t_start + 0.5 * L
        killed = False
        t = self.t_start + max(3.0, 0.12 * L)
        while t <= self.t_start + 0.8 * L:
            if not killed and t > kill_at:
                await asyncio.sleep(max(0.0, kill_at - now()))
                await self.kill_restart('schedule, PostgreSQL log', random.uniform(0.2, 2.0))
                killed = True
                continue
            await asyncio.sleep(max(0.0, t - now()))
            await self.pg_restart()
            t += random.uniform(0.7, 1.3) * every
        if not killed:
            await asyncio.sleep(max(0.0, kill_at - now()))
            await self.kill_restart('schedule, PostgreSQL log', 0.5)

    def fill_disk(self, path):
        written = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 1 << 16, 4096, 512, 1):
                buf = b'\xa5' * size
                while True:
                    try:
                        n = os.write(fd, buf)
                    except OSError as e:
                        if e.errno == errno.ENOSPC:
                            break
                        raise
                    written += n
                    if n < size:
                        break
        finally:
            os.close(fd)
        return written

    async def fill(self, filler, what):
        loop = asyncio.get_running_loop()
        written = await loop.run_in_executor(None, self.fill_disk, filler)
        vfs = os.statvfs(self.mount)
        free = vfs.f_bavail * vfs.f_frsize
        self.chaos_events.append((round(now() - T0, 1), f'disk full ({what}): filler '
                                                       f'{written / 1048576:.1f} MiB, {free} bytes free'))
        log(f'{self.name}: tmpfs filled ({what}): filler {written / 1048576:.1f} MiB, {free} '
            f'bytes free')

    def unfill(self, filler):
        if os.path.exists(filler):
            os.unlink(filler)
            self.chaos_events.append((round(now() - T0, 1), 'disk freed'))
            log(f'{self.name}: tmpfs freed')

    async def chaos_diskfull(self):
        """Episode A: the disk is full for a while under load, then freed, the daemon left
        running. Episode B: full again, kill -9 while full, restarts tried on the full disk,
        then freed and the daemon started."""
        L = self.load_s
        filler = os.path.join(self.mount, 'filler')
        await asyncio.sleep(max(0.0, self.t_start + 0.12 * L - now()))
        w = self.open_window('disk full A')
        try:
            await self.fill(filler, 'A: the daemon keeps running')
            await asyncio.sleep(max(0.0, self.t_start + 0.32 * L - now()))
        finally:
            self.unfill(filler)
            self.close_window(w)
        await asyncio.sleep(max(0.0, self.t_start + 0.45 * L - now()))
        async with self.lifecycle:
            w = self.open_window('disk full B')
            try:
                await self.fill(filler, 'B: kill -9 while full')
                await asyncio.sleep(max(0.0, self.t_start + 0.55 * L - now()))
                self.up.clear()
                pid = self.daemon.pid
                await self.daemon.kill9()
                self.chaos_events.append((round(now() - T0, 1),
                                          f'kill -9 {pid} while the disk is full'))
                log(f'{self.name}: kill -9 daemon pid {pid} while the disk is full')
                await asyncio.sleep(0.5)
                free_at = self.t_start + 0.68 * L
                up = False
                while not up and now() < free_at:
                    up = await self.daemon.start(timeout=20)
                    if not up:
                        self.chaos_events.append((round(now() - T0, 1),
                                                  'restart refused while the disk is full'))
                        await asyncio.sleep(2.0)
                if up:
                    self.chaos_events.append((round(now() - T0, 1), 'restarted on the full disk'))
                    log(f'{self.name}: daemon restarted on the full disk')
                    await self.warmup()
                    self.up.set()
                await asyncio.sleep(max(0.0, free_at - now()))
            finally:
                self.unfill(filler)
                if not self.daemon.alive():
                    await self.start_daemon(deadline_s=60)
                self.close_window(w)

    # --- setup and teardown -----------------------------------------------------------------

    async def setup(self):
        extra = []
        data_dir = os.path.join(self.dir, 'data')
        if self.name == 'postgres':
            self.pg_dir = os.path.join(self.dir, 'pg')
            proc = await asyncio.create_subprocess_exec(
                'bash', os.path.join(self.run.repo, 'scripts/pg-test-cluster.sh'), 'start',
                self.pg_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f'pg-test-cluster.sh start failed: {err.decode()[-500:]}')
            url = out.decode().strip().splitlines()[-1]
            extra = ['--log-database', url]
            log(f'{self.name}: PostgreSQL log at {re.sub(r":[^:@/]+@", ":***@", url)}')
        elif self.name == 'diskfull':
            self.mount = os.path.join(self.dir, 'tmpfs')
            os.makedirs(self.mount, exist_ok=True)
            r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs',
                                self.mount], capture_output=True, text=True)
            if r.returncode != 0:
                self.mount = None
                raise RuntimeError(f'cannot mount a tmpfs (root needed): {r.stderr.strip()}')
            data_dir = os.path.join(self.mount, 'data')
        os.makedirs(data_dir, exist_ok=True)
        self.data_dir = data_dir
        self.daemon = Daemon(self, data_dir, extra)

    async def teardown(self):
        if self.daemon and self.daemon.proc:
            await self.daemon.kill9()
        if self.pg_dir:
            proc = await asyncio.create_subprocess_exec(
                'bash', os.path.join(self.run.repo, 'scripts/pg-test-cluster.sh'), 'stop',
                self.pg_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await proc.wait()
            self.pg_dir = None
        if self.mount:
            r = subprocess.run(['umount', self.mount], capture_output=True)
            if r.returncode != 0:
                subprocess.run(['umount', '-l', self.mount], capture_output=True)
            self.mount = None

    # --- the run ----------------------------------------------------------------------------

    async def run_phase(self):
        a = self.run.args
        log(f'=== phase {self.name}: {self.load_s:.0f} s of load, {a.clients} clients, '
            f'{a.rooms} rooms, {a.rate} emits/s by {a.emitters} callers ===')
        await self.setup()
        if not await self.start_daemon():
            self.failures.append('the daemon did not start')
            return
        self.http = HttpPool(self, 4)
        helpers = [asyncio.ensure_future(self.monitor()), asyncio.ensure_future(self.sampler())]
        self.t_start = now()
        reporter = asyncio.ensure_future(self.reporter())
        self.clients = [Client(self, i) for i in range(a.clients)]
        client_tasks = [asyncio.ensure_future(c.run()) for c in self.clients]
        emitters = [asyncio.ensure_future(self.emitter(i)) for i in range(a.emitters)]
        chaos = None
        if self.name == 'kill':
            chaos = asyncio.ensure_future(self.chaos_kill())
        elif self.name == 'postgres':
            chaos = asyncio.ensure_future(self.chaos_pg())
        elif self.name == 'diskfull':
            chaos = asyncio.ensure_future(self.chaos_diskfull())
        try:
            await asyncio.sleep(self.load_s)
            if chaos:
                await chaos           # its last step always restores the daemon and the disk
            # 1. the emits stop
            self.emitting = False
            await asyncio.gather(*emitters)
            log(f'{self.name}: emitters stopped: {self.reg.ok_count} answered 2xx')
            while not self.up.is_set():
                await asyncio.sleep(0.1)
            # 2. every client (re)joins its rooms with since and catches up
            self.final.set()
            deadline = now() + a.settle_timeout
            while now() < deadline and not all(c.settled for c in self.clients):
                await asyncio.sleep(0.2)
            for c in self.clients:
                c.settled_final = c.settled
            unsettled = [c.idx for c in self.clients if not c.settled]
            if unsettled:
                self.failures.append(f'{len(unsettled)} clients could not rejoin at the end: '
                                     f'{unsettled[:10]}')
            while now() < deadline:
                behind = [s for c in self.clients for s in c.streams.values()
                          if s.started and s.last_recv < self.reg.room_max[s.room]]
                if not behind:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            log(f'{self.name}: clients settled; closing them')
            # 3. the clients close
            self.closing.set()
            if client_tasks:
                _, pending = await asyncio.wait(client_tasks, timeout=30)
                for t in pending:
                    t.cancel()
            self.http.close()
            reporter.cancel()
            # 4. resources back to their baselines
            await self.check_resources()
            # 5. the whole log, read afresh
            full = {}
            conn = HttpConn(self.port, self.run.api_key)
            await conn.connect()
            t0 = now()
            try:
                await self.read_log(0, full, conn, timeout=120, tries=20)
                self.log = full
                log(f'{self.name}: read {len(full)} log records in {now() - t0:.1f} s')
            except (OSError, ConnectionError, asyncio.TimeoutError) as e:
                self.failures.append(f'GET /api/log could not be read to the end: {e}')
                self.log = self.read_log_directly()
            conn.close()
            if self.stats['log_read_refusals']:
                self.notes.append(f'GET /api/log refused {self.stats["log_read_refusals"]} '
                                  f'times (503) during the run and the final read')
            async with self.lifecycle:
                rc = await self.daemon.stop()
            self.result['stop_exit'] = rc
            if rc != 0:
                self.failures.append(f'the daemon exited with {rc} on SIGTERM')
            self.cross_check_sqlite()
            self.verify()
        finally:
            for t in helpers + [reporter] + emitters + client_tasks + ([chaos] if chaos else []):
                t.cancel()
            await asyncio.gather(*helpers, reporter, return_exceptions=True)

    async def check_resources(self):
        a = self.run.args
        pid, base_rss, base_fds, base_targets = self.baselines[-1]
        base_mem = self.baseline_mem.get(pid, {})
        slack = a.rss_slack_mib * 1024
        deadline = now() + 30
        while True:
            rss = self.daemon.rss_kib()
            fds = self.daemon.fd_targets()
            if (rss is not None and rss <= base_rss + slack and len(fds) <= base_fds) \
                    or now() > deadline:
                break
            await asyncio.sleep(1.0)
        waited = 30 - max(0.0, deadline - now())
        mem = self.daemon.mem_kib()
        self.result['mem_parts_kib'] = {'baseline': base_mem, 'end': mem}
        self.result.update(rss_base_mib=round(base_rss / 1024, 1), rss_peak_mib=round(
            self.peak_rss / 1024, 1), rss_end_mib=round((rss or 0) / 1024, 1),
            fds_base=base_fds, fds_end=len(fds), resources_wait_s=round(waited, 1),
            daemon_pid=pid)
        if rss is None or rss > base_rss + slack:
            self.failures.append(f'RSS {mib(rss or 0)} MiB did not return within '
                                 f'{a.rss_slack_mib} MiB of its baseline {mib(base_rss)} MiB '
                                 f'in 30 s (peak {mib(self.peak_rss)} MiB)')
        if len(fds) > base_fds:
            extra = {k: v for k, v in fds.items() if base_targets.get(k) != v}
            self.failures.append(f'{len(fds)} fds open after the clients closed, '
                                 f'baseline {base_fds}: new ones {dict(list(extra.items())[:12])}')
        log(f'{self.name}: resources after {waited:.0f} s: RSS {mib(rss or 0)} MiB (baseline '
            f'{mib(base_rss)}, peak {mib(self.peak_rss)}; anon {mib(mem.get("RssAnon", 0))}, '
            f'file {mib(mem.get("RssFile", 0))}, shmem {mib(mem.get("RssShmem", 0))} MiB, at '
            f'the baseline {mib(base_mem.get("RssAnon", 0))}/{mib(base_mem.get("RssFile", 0))}/'
            f'{mib(base_mem.get("RssShmem", 0))}), fds {len(fds)} (baseline {base_fds})')

    def read_log_directly(self):
        """The log straight from its database, when GET /api/log cannot give it."""
        out = {}
        try:
            if self.name == 'postgres':
                url = open(os.path.join(self.pg_dir, 'url')).read().strip()
                r = subprocess.run(['psql', url, '-X', '-At', '-F', '\x1f', '-c',
                                    'SELECT id, to_name, event, data FROM messages'],
                                   capture_output=True, text=True, check=True)
                rows = [line.split('\x1f', 3) for line in r.stdout.splitlines() if line]
            else:
                c = sqlite3.connect(f'file:{os.path.join(self.data_dir, "messages.db")}?mode=ro',
                                    uri=True)
                rows = c.execute('SELECT id, to_name, event, data FROM messages').fetchall()
                c.close()
            for id_, to, event, data in rows:
                data = json.loads(data)
                seq = data.get('seq') if isinstance(data, dict) else None
                out[int(id_)] = (to, seq, isinstance(seq, int) and data == payload(seq)
                                 and event == EVENT)
            self.notes.append(f'check 1 used the log database directly ({len(out)} records)')
            log(f'{self.name}: read {len(out)} log records from the database directly')
        except Exception as e:
            self.failures.append(f'the log could not be read directly either: {e!r}')
        return out

    def cross_check_sqlite(self):
        if self.name == 'postgres':
            return
        path = os.path.join(self.data_dir, 'messages.db')
        try:
            c = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
            n, mx = c.execute('SELECT COUNT(*), MAX(id) FROM messages').fetchone()
            c.close()
        except Exception as e:
            self.notes.append(f'could not read {path}: {e}')
            return
        mx_api = max(self.log) if self.log else None
        if n != len(self.log) or mx != mx_api:
            self.failures.append(f'messages.db holds {n} rows up to id {mx}, GET /api/log '
                                 f'listed {len(self.log)} up to {mx_api}')

    def verify(self):
        reg = self.reg
        res = self.result
        lg = self.log
        # (1) every 2xx emit in the log, same id, room and data
        missing, mismatched = [], []
        for k in range(reg.ok_count):
            id_, seq = reg.ok_id[k], reg.ok_seq[k]
            room = self.rooms[reg.ok_room[k]]
            rec = lg.get(id_)
            if rec is None:
                missing.append(k)
            elif rec[1] != seq or rec[0] != room or not rec[2]:
                mismatched.append((id_, seq, room, rec))
        ok_by_seq = {reg.ok_seq[k]: reg.ok_id[k] for k in range(reg.ok_count)}
        amb_logged = refused_logged = other_logged = phantom = moved = 0
        refused_logged_ex = []
        for id_, (room, seq, good) in lg.items():
            if seq in ok_by_seq:
                if ok_by_seq[seq] != id_:
                    moved += 1
                continue
            kind = reg.not_ok.get(seq)
            if kind is None:
                phantom += 1
            elif kind[0] == 'ambiguous':
                amb_logged += 1
            elif kind[0] == 'warmup':
                pass
            elif kind[0] == 'refused':
                refused_logged += 1
                refused_logged_ex.append((id_, seq))
            else:
                other_logged += 1
        res.update(emits_ok=reg.ok_count, emits_503=reg.refused,
                   emits_503_outside_chaos=len(reg.refused_outside), emits_ambiguous=reg.ambiguous,
                   ambiguous_in_log=amb_logged, emits_other=dict(reg.other),
                   unreachable=reg.unreachable, log_records=len(lg),
                   log_missing=len(missing), log_mismatched=len(mismatched))
        if missing:
            ex = [(reg.ok_id[k], reg.ok_seq[k], self.rooms[reg.ok_room[k]],
                   round(reg.ok_t[k] - T0, 1), reg.ok_inc[k]) for k in missing]
            res['log_missing_examples'] = ex[:50]
            ids = sorted(e[0] for e in ex)
            self.failures.append(f'{len(missing)} emits answered 2xx are not in the log: ids '
                                 f'{compress_ids(ids)} (id, seq, room, t, daemon#: {ex[:5]})')
        if mismatched:
            self.failures.append(f'{len(mismatched)} log records differ from their emit: '
                                 f'{mismatched[:5]}')
        if moved:
            self.failures.append(f'{moved} log records carry a 2xx emit under another id')
        if refused_logged:
            self.failures.append(f'{refused_logged} emits refused with 503 are in the log '
                                 f'(a refusal must change nothing): {refused_logged_ex[:5]}')
        if phantom:
            self.failures.append(f'{phantom} log records of emits never sent')
        if other_logged:
            self.notes.append(f'{other_logged} emits answered {dict(reg.other)} are in the log')
        if reg.refused_outside:
            self.failures.append(f'{len(reg.refused_outside)} emits refused with 503 outside any '
                                 f'chaos window (t, seq): {reg.refused_outside[:5]}')
        if reg.other:
            self.failures.append(f'emits answered neither 2xx nor 503: {dict(reg.other)} '
                                 f'{reg.other_examples[:3]}')
        if self.stats['log_id_twice']:
            self.failures.append(f'GET /api/log listed {self.stats["log_id_twice"]} ids not above '
                                 f'the page before (since_id, id): {self.log_order_examples[:5]}')

        # (2) deliveries; a client that could not rejoin at the end (a failure of its own) is
        # verified only up to what it had confirmed: the rest is not counted as missed.
        unverified = 0
        for s in self.streams:
            if s.dropped:
                self.verify_stream(s, final=True)
            elif s.client.settled_final:
                self.verify_stream(s, final=True)
            else:
                self.verify_stream(s, safe=INF)
                arr = reg.room_sorted[s.room]
                unverified += len(arr) - bisect.bisect_right(arr, max(s.verified_upto, s.start))
        streams = [s for s in self.streams if s.started]
        miss = [(s, i) for s in streams for i in s.missing]
        dups = sum(len(s.dups) for s in streams)
        ooo = sum(len(s.ooo) for s in streams)
        corrupt = sum(s.corrupt for s in streams)
        rec_false = sum(s.rec_false for s in streams)
        excused = 0
        for s in streams:
            for since, last in s.excused:
                arr = reg.room_sorted[s.room]
                excused += max(0, bisect.bisect_right(arr, last)
                               - bisect.bisect_right(arr, since or 0))
        # (5) ids: the same id means the same emit everywhere
        id_conflicts = []
        delivered_unlogged = 0
        ok_seq_of = {reg.ok_id[k]: reg.ok_seq[k] for k in range(reg.ok_count)}
        for s in streams:
            pairs = list(zip(s.recv, s.recv_seq)) + list(s.extra.items())
            for id_, seq in pairs:
                rec = lg.get(id_)
                truth = rec[1] if rec is not None else ok_seq_of.get(id_)
                if truth is None:
                    delivered_unlogged += 1
                elif truth != seq:
                    id_conflicts.append((s.client.idx, s.room, id_, seq, truth))
        deliveries = sum(s.count for s in streams)
        res.update(streams=len(streams), deliveries=deliveries, delivery_missed=len(miss),
                   delivery_unverified=unverified,
                   delivery_dups=dups, delivery_out_of_order=ooo, delivery_corrupt=corrupt,
                   recovered_false=rec_false, recovered_false_excused_ids=excused,
                   delivered_unlogged=delivered_unlogged, id_conflicts=len(id_conflicts),
                   connects=self.stats['connects'], joins=self.stats['joins'],
                   joins_since=self.stats['joins_since'],
                   join_resets=sum(s.resets for s in streams),
                   rooms_dropped=self.stats['rooms_dropped'],
                   close_codes={k[6:]: v for k, v in self.stats.items() if k.startswith('close_')},
                   events_not_member=self.stats['events_not_member'])
        if miss:
            by_id = collections.defaultdict(list)
            for s, i in miss:
                by_id[i].append(s)
            lines = []
            for i in sorted(by_id)[:12]:
                k = reg.ok_index.get(i)
                ss = by_id[i]
                s = ss[0]
                lines.append(f'id {i} seq {reg.ok_seq[k]} room {s.room} answered at '
                             f'+{reg.ok_t[k] - T0:.1f}s by daemon #{reg.ok_inc[k]}, in log: '
                             f'{i in lg}; missed by {len(ss)} stream(s), e.g. client {s.client.idx}'
                             f' (start {s.start}, dropped {s.dropped}, joins '
                             f'{s.joins[-4:]})')
            res['delivery_missed_examples'] = lines
            self.failures.append(f'{len(miss)} deliveries missed ({len(by_id)} distinct ids '
                                 f'{compress_ids(sorted(by_id))}):\n      ' + '\n      '.join(lines))
        if dups:
            ex = [(s.client.idx, s.room, s.dups[:5]) for s in streams if s.dups][:5]
            self.failures.append(f'{dups} duplicate deliveries (client, room, ids): {ex}')
        if ooo:
            ex = [(s.client.idx, s.room, s.ooo[:3]) for s in streams if s.ooo][:5]
            self.failures.append(f'{ooo} deliveries out of id order (client, room, (id, after)):'
                                 f' {ex}')
        if corrupt:
            self.failures.append(f'{corrupt} event frames with wrong event or data')
        if id_conflicts:
            self.failures.append(f'{len(id_conflicts)} events whose id belongs to another emit '
                                 f'(client, room, id, seq, seq of the log/answer): '
                                 f'{id_conflicts[:5]}')
        if self.last_id_regressions:
            self.failures.append(f'{len(self.last_id_regressions)} joins answered a last_id '
                                 f'below an id the client had seen in that room (client, room, '
                                 f'seen, last_id): {self.last_id_regressions[:5]}')
        if self.stats['answer_timeouts']:
            self.failures.append(f'{self.stats["answer_timeouts"]} WebSocket requests (join, '
                                 f'leave) got no answer within their timeout: the daemon stopped '
                                 f'answering on those connections')
        if self.stats['events_after_left']:
            self.notes.append(f'{self.stats["events_after_left"]} events reached a connection '
                              f'after its `left` answer for that room (published before the '
                              f'leave was handled; client, room, id): {self.after_left}')
        odd = {k: v for k, v in self.stats.items()
               if k in ('events_not_member', 'events_after_left', 'streams_reset', 'late_answers',
                        'leave_errors', 'connect_errors',
                        'register_errors', 'sessions_lost', 'log_read_errors')
               or k.startswith(('frame_', 'join_error_', 'register_'))}
        res['client_counters'] = odd
        if odd:
            self.notes.append(f'client counters: {odd}')
        if self.warmup_problems:
            self.failures.append(f'{len(self.warmup_problems)} warm-ups after a start failed: '
                                 f'{self.warmup_problems[:3]}')
        if self.run.args.inject_faults:
            self.notes.append(f'self-test: injected {self.stats["injected_drops"]} lost events,'
                              f' {self.stats["injected_dups"]} duplicated events, '
                              f'{self.stats["injected_log_drops"]} times a log record was hidden from '
                              f'a read')
        if self.stats['reader_errors']:
            self.failures.append(f'{self.stats["reader_errors"]} client reader errors (harness)')
        # (5) ids strictly increasing across restarts
        per_inc = {}
        for k in range(reg.ok_count):
            inc, id_ = reg.ok_inc[k], reg.ok_id[k]
            lo, hi = per_inc.get(inc, (id_, id_))
            per_inc[inc] = (min(lo, id_), max(hi, id_))
        order = sorted(per_inc)
        res['ids_by_daemon'] = {i: per_inc[i] for i in order}
        for a_, b_ in zip(order, order[1:]):
            if per_inc[b_][0] <= per_inc[a_][1]:
                self.failures.append(f'daemon #{b_} gave id {per_inc[b_][0]}, not above the '
                                     f'last id {per_inc[a_][1]} of daemon #{a_}')
        if reg.id_twice:
            self.failures.append(f'ids answered twice: {reg.id_twice[:5]}')
        # crashes, restarts
        res.update(restarts=self.daemon.incarnation - 1, crashes=len(self.crashes),
                   start_failures=len(self.start_failures), chaos=self.chaos_events,
                   windows=[(k, round(s - T0, 1), round((e or now()) - T0, 1))
                            for k, s, e in self.windows])
        for t, pid, rc, tail in self.crashes:
            self.failures.append(f'daemon pid {pid} exited unasked with {rc} at +{t}s: '
                                 + ' | '.join(tail[-4:]))
        if self.name != 'diskfull' and self.start_failures:
            self.failures.append(f'{len(self.start_failures)} daemon starts failed: '
                                 f'{self.start_failures[:3]}')
        res['rss_series_kib'] = self.rss_series[::10]
        res['failures'] = self.failures
        res['notes'] = self.notes

    def report(self):
        r = self.result
        ok = not self.failures
        log(f'--- phase {self.name}: {"PASS" if ok else "FAIL"} ---')
        log(f'  emits: {r.get("emits_ok")} answered 2xx, {r.get("emits_503")} refused 503 '
            f'({r.get("emits_503_outside_chaos")} outside chaos), {r.get("emits_ambiguous")} '
            f'without answer ({r.get("ambiguous_in_log")} of them in the log), other '
            f'{r.get("emits_other")}')
        log(f'  log: {r.get("log_records")} records; {r.get("log_missing")} 2xx emits missing, '
            f'{r.get("log_mismatched")} different')
        log(f'  clients: {r.get("streams")} streams, {r.get("connects")} connects, '
            f'{r.get("joins")} joins ({r.get("joins_since")} with since), '
            f'{r.get("deliveries")} events; missed {r.get("delivery_missed")}, dups '
            f'{r.get("delivery_dups")}, out of order {r.get("delivery_out_of_order")}, '
            f'not verified (client never rejoined) {r.get("delivery_unverified")}, '
            f'recovered:false {r.get("recovered_false")} (excusing '
            f'{r.get("recovered_false_excused_ids")} ids); close codes {r.get("close_codes")}')
        log(f'  daemon: {r.get("restarts")} restarts, {r.get("crashes")} crashes; RSS baseline '
            f'{r.get("rss_base_mib")} MiB, peak {r.get("rss_peak_mib")}, end {r.get("rss_end_mib")}'
            f'; fds {r.get("fds_base")} -> {r.get("fds_end")}; ids by daemon '
            f'{r.get("ids_by_daemon")}')
        if self.chaos_events:
            log(f'  chaos: {self.chaos_events}')
        for n in self.notes:
            log(f'  note: {n}')
        for f in self.failures:
            log(f'  FAIL: {f}')
        if self.failures and self.daemon:
            log(f'  daemon log {self.daemon.log_path}, warnings and errors:')
            for line in self.daemon.log_excerpt():
                log(f'    {line}')


def compress_ids(ids, limit=20):
    """[1,2,3,7,9,10] -> '1-3,7,9-10'"""
    out = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    text = [f'{a}-{b}' if a != b else f'{a}' for a, b in out]
    if len(text) > limit:
        text = text[:limit] + [f'... ({len(text) - limit} more ranges)']
    return ','.join(text)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Run:
    def __init__(self, args):
        self.args = args
        self.repo = args.repo
        self.api_key = 'soak-' + secrets.token_hex(12)
        self.jwt_secret = 'soak-secret-' + secrets.token_hex(16)
        self.workdir = args.workdir or tempfile.mkdtemp(prefix='sb-soak.')
        os.makedirs(self.workdir, exist_ok=True)
        self.phases = []


def plan(args):
    names = [p.strip() for p in args.phases.split(',') if p.strip()]
    for n in names:
        if n not in PHASE_WEIGHTS:
            raise SystemExit(f'soak.py: unknown phase {n!r} (steady, kill, postgres, diskfull)')
    if args.no_postgres and 'postgres' in names:
        names.remove('postgres')
    if args.no_diskfull and 'diskfull' in names:
        names.remove('diskfull')
    budget = args.duration - args.phase_overhead * len(names)
    total_w = sum(PHASE_WEIGHTS[n] for n in names)
    return [(n, max(args.min_phase, budget * PHASE_WEIGHTS[n] / total_w)) for n in names]


async def main_async(args):
    run = Run(args)
    log(f'workdir {run.workdir}; daemon {args.daemon}; websockets {websockets.__version__}')
    phases = plan(args)
    log('plan: ' + ', '.join(f'{n} {s:.0f} s' for n, s in phases) +
        f' (+ about {args.phase_overhead:.0f} s per phase to start, settle and check)')
    started = now()
    for name, load in phases:
        ph = Phase(run, name, load, free_port())
        run.phases.append(ph)
        try:
            await ph.run_phase()
        except Exception as e:
            ph.failures.append(f'phase aborted: {e!r}')
            log(f'{name}: phase aborted: {e!r}\n{traceback.format_exc()}')
        finally:
            await ph.teardown()
        ph.result['failures'] = ph.failures
        ph.report()
    elapsed = now() - started
    failed = [p for p in run.phases if p.failures]
    results = [p.result for p in run.phases]
    with open(os.path.join(run.workdir, 'soak-result.json'), 'w') as f:
        json.dump({'elapsed_s': round(elapsed, 1), 'args': vars(args), 'phases': results}, f,
                  indent=1, default=str)
    tot = collections.Counter()
    for r in results:
        for k in ('emits_ok', 'emits_503', 'emits_ambiguous', 'log_missing', 'delivery_missed',
                  'delivery_dups', 'delivery_out_of_order', 'recovered_false', 'restarts',
                  'crashes', 'deliveries'):
            tot[k] += r.get(k) or 0
    peak = max((r.get('rss_peak_mib') or 0) for r in results) if results else 0
    figures = (f'{elapsed:.0f}s phases={",".join(p.name for p in run.phases)} '
               f'emits_2xx={tot["emits_ok"]} refused_503={tot["emits_503"]} '
               f'no_answer={tot["emits_ambiguous"]} log_missing={tot["log_missing"]} '
               f'deliveries={tot["deliveries"]} missed={tot["delivery_missed"]} '
               f'dups={tot["delivery_dups"]} out_of_order={tot["delivery_out_of_order"]} '
               f'recovered_false={tot["recovered_false"]} restarts={tot["restarts"]} '
               f'crashes={tot["crashes"]} rss_peak={peak}MiB '
               + ' '.join(f'{r["phase"]}:rss={r.get("rss_base_mib")}/{r.get("rss_peak_mib")}/'
                          f'{r.get("rss_end_mib")}MiB,fds={r.get("fds_base")}->{r.get("fds_end")}'
                          for r in results))
    log(f'results in {run.workdir}/soak-result.json, daemon logs in {run.workdir}/*/daemon.log')
    if failed:
        print(f'soak: FAIL ({", ".join(p.name for p in failed)}) {figures}', flush=True)
        return 1
    print(f'soak: PASS {figures}', flush=True)
    if not args.keep:
        subprocess.run(['rm', '-rf', run.workdir])
    return 0


FLAG = object()  # the "type" of a setting that takes no value
# The run's settings, in the order --help lists them: flag, type (FLAG: on when given),
# default, help.
SETTINGS = [
    ('--duration', float, 3600, 'seconds of the whole run'),
    ('--phases', str, 'steady,kill,postgres,diskfull', 'phases to run, in this order'),
    ('--no-postgres', FLAG, None, 'skip the PostgreSQL phase'),
    ('--no-diskfull', FLAG, None, 'skip the tmpfs phase'),
    ('--clients', int, 200, 'churning WebSocket clients'),
    ('--rooms', int, 40, 'rooms in the pool'),
    ('--rate', float, 200, 'emits per second, all callers'),
    ('--emitters', int, 8, 'concurrent REST callers'),
    ('--min-stay', float, 1.0, 'seconds a connection stays, least'),
    ('--max-stay', float, 20.0, 'seconds a connection stays, most'),
    ('--emit-timeout', float, 30.0, 'seconds an emit may wait for its answer (then: no answer)'),
    ('--join-timeout', float, 20.0, 'seconds a join may wait for joined'),
    ('--settle-timeout', float, 60.0, 'seconds the clients get at the end to rejoin and catch up'),
    ('--kill-every', float, 0, 'seconds between kills (0: auto)'),
    ('--pg-restart-every', float, 0, 'seconds between PostgreSQL restarts (0: auto)'),
    ('--chaos-grace', float, 10.0, 'seconds after a chaos step during which 503 is still allowed'),
    ('--rss-slack-mib', float, 40.0, 'VmRSS allowed above the baseline once the load is over'),
    ('--report-interval', float, 60.0, 'seconds between status lines'),
    ('--phase-overhead', float, 15.0,
     'seconds of --duration kept per phase for start, settle and checks'),
    ('--min-phase', float, 15.0, 'least seconds of load per phase'),
]


def main():
    class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass

    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=Formatter,
                                epilog=__doc__.split('\n', 1)[1])
    p.add_argument('--daemon', required=True, help='switchboardd binary')
    p.add_argument('--repo', help='the source tree (scripts/pg-test-cluster.sh)',
                   default=os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                                  '..', '..')))
    for flag, kind, default, text in SETTINGS:
        if kind is FLAG:
            p.add_argument(flag, action='store_true', help=text)
        else:
            p.add_argument(flag, type=kind, default=default, help=text)
    p.add_argument('--sidestep-join-spin', action='store_true',
                   help='after each daemon start, emit once into every room before any join, '
                        'so that the join-with-since hang after a restart (docs/soak.md, bug 1) '
                        'is not triggered and the other checks can run')
    p.add_argument('--inject-faults', action='store_true',
                   help='self-test of the checks: clients drop every 4999th event and apply '
                        'every 7001st twice, log reads hide every id divisible by 2999; the '
                        'run must FAIL with exactly those counts')
    p.add_argument('--workdir', help='work directory (default: a new one under $TMPDIR)')
    p.add_argument('--keep', action='store_true', help='keep the work dir after a PASS')
    p.add_argument('--seed', type=int, help='seed of the random choices')
    args = p.parse_args()
    if args.seed is not None:
        random.seed(args.seed)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(main_async(args))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        rc = loop.run_until_complete(task)
    except asyncio.CancelledError:
        print('soak: FAIL interrupted', flush=True)
        rc = 130
    sys.exit(rc)


if __name__ == '__main__':
    main()
