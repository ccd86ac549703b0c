#!/usr/bin/python3
"""Repro (found by bench/soak.sh, postgres phase) of two faults of `join` with `since` when the
message log is behind memory or unreadable, with a PostgreSQL log:

A. After a restart, a join whose `since` is below the last id at start reads the missed events
   from the log up to the room's newest id in memory, then replays from memory only what is
   above that id. Events that memory holds but the log has not committed yet (a writer that
   is behind: here stuck since PostgreSQL restarted) are skipped, and the join still answers
   `recovered: true`: a silent loss.
B. While the log cannot be read (PostgreSQL down), such a join answers `recovered: false` with
   `last_id: 0` (the room is seeded with 0 as its latest id), although the room has events.

    /usr/bin/python3 bench/soak/repro/log_lag_join.py [path/to/switchboardd]

Prints REPRODUCED (exit 1) or FIXED (exit 0).
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import websockets

import repro_support

SCRATCH = repro_support.Scratch(port=18996)
WORK, PG, PORT = SCRATCH.work, SCRATCH.pg_dir, SCRATCH.port
pg, post = SCRATCH.pg, SCRATCH.post


def pg_ctl(action):
    home = open(os.path.join(PG, 'home')).read().strip()
    subprocess.run(['runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/pg_ctl',
                    '-D', os.path.join(home, 'data'), '-l', os.path.join(home, 'server.log'),
                    '-m', 'fast', '-w', action], capture_output=True, check=True, cwd='/')


def start(url):
    return SCRATCH.start('--log-database', url)


async def join(room, since):
    token = post('/api/register', {'room': room, 'user': 'u', 'session': 's'})['token']
    async with websockets.connect(f'ws://127.0.0.1:{PORT}/ws') as ws:
        await ws.send(json.dumps({'type': 'join', 'token': token, 'since': since}))
        ids = []
        while True:
            f = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if f['type'] == 'event':
                ids.append(f['id'])
            else:
                return ids, f


def main():
    url = pg('start')
    p = None
    try:
        p = start(url)
        a1 = post('/api/emit/room', {'room': 'A', 'event': 'e', 'data': 1})['id']
        b1 = post('/api/emit/room', {'room': 'B', 'event': 'e', 'data': 1})['id']
        p.send_signal(signal.SIGTERM)   # a clean restart: ids up to b1 are now "in the log"
        p.wait()
        p = start(url)
        # B: the log cannot be read
        pg_ctl('stop')
        ids, joined = asyncio.run(join('B', 0))
        print(f'B: room B has event {b1}; join since 0 while PostgreSQL is down: replayed {ids}, '
              f'{joined}')
        bad_b = joined.get('last_id') == 0
        pg_ctl('start')
        time.sleep(1)
        # A: the log is behind memory (its writer lost its connection when PostgreSQL stopped)
        new = [post('/api/emit/room', {'room': 'A', 'event': 'e', 'data': i})['id']
               for i in (2, 3, 4)]
        time.sleep(1)
        ids, joined = asyncio.run(join('A', 0))
        print(f'A: room A has events {[a1] + new}; join since 0: replayed {ids}, {joined}')
        bad_a = joined.get('recovered') and ids != [a1] + new
        print('daemon warnings:')
        with open(os.path.join(WORK, 'daemon.log')) as f:
            warns = [l.rstrip() for l in f if ' warn ' in l and 'open file limit' not in l]
        for l in warns[:6]:
            print('  ' + l[:200])
    finally:
        SCRATCH.clean_up(p)
    if bad_a or bad_b:
        print('REPRODUCED', ('A (silent skip, recovered: true)' if bad_a else ''),
              ('B (last_id 0)' if bad_b else ''))
        sys.exit(1)
    print('FIXED')


if __name__ == '__main__':
    main()
