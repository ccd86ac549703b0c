#!/usr/bin/python3
"""Repro (found by bench/soak.sh, postgres phase of the hour run): ids given again after a
restart. While the message log cannot be written (here: the PostgreSQL writer stuck after
PostgreSQL restarted) the journal fills up; later emits are still published and delivered to
the room's connections, but their records are in neither the journal nor the database, and
their answers turn into 500 log_failed. After a restart (kill -9) the daemon takes its next id
from the log's highest, so it gives the ids its clients already received to other events.

    /usr/bin/python3 bench/soak/repro/id_reuse_after_outage.py [path/to/switchboardd]

Prints REPRODUCED (exit 1) or FIXED (exit 0).
"""
import asyncio
import json
import os
import signal
import sys
import time

import websockets

import repro_support

SCRATCH = repro_support.Scratch(port=18997)
PORT = SCRATCH.port
pg, post = SCRATCH.pg, SCRATCH.post_status
BIG = 'x' * 900_000   # a record of ~900 KB: the 16 MiB journal is full after ~18 of them


def start(url):
    return SCRATCH.start('--log-database', url)


async def watch(seen, stop):
    """A member of room r that records every event id it receives."""
    token = post('/api/register', {'room': 'r', 'user': 'u', 'session': 's'})[1]['token']
    async with websockets.connect(f'ws://127.0.0.1:{PORT}/ws', max_size=2 ** 24) as ws:
        await ws.send(json.dumps({'type': 'join', 'token': token}))
        while not stop.is_set():
            try:
                f = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except asyncio.TimeoutError:
                continue
            if f['type'] == 'event':
                seen[f['id']] = f['data'] if not isinstance(f['data'], str) else 'big'


async def outage(seen):
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(watch(seen, stop))
    await asyncio.sleep(0.5)
    loop = asyncio.get_running_loop()
    statuses = []
    for i in range(30):
        status, _ = await loop.run_in_executor(
            None, lambda: post('/api/emit/room', {'room': 'r', 'event': 'e', 'data': BIG}, 5))
        statuses.append(status)
    await asyncio.sleep(1)
    stop.set()
    await watcher
    return statuses


def main():
    url = pg('start')
    p = None
    try:
        p = start(url)
        print('before the outage:', post('/api/emit/room', {'room': 'r', 'event': 'e', 'data': 1}))
        pg('restart')                      # the log writer never reconnects (bug 2)
        time.sleep(1)
        seen = {}
        statuses = asyncio.run(outage(seen))
        print('30 emits of 900 KB while the log cannot be written, answers:', statuses)
        print('ids the room member received:', sorted(seen))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        p = start(url)
        status, answer = post('/api/emit/room', {'room': 'r', 'event': 'e', 'data': 'after'})
        print('after kill -9 and restart, a new emit:', status, answer)
        reused = isinstance(answer, dict) and answer.get('id') in seen
        if reused:
            print(f'id {answer["id"]} was already received by the member as another event '
                  f'(data {str(seen[answer["id"]])[:20]}...)')
    finally:
        SCRATCH.clean_up(p)
    if reused:
        print('REPRODUCED')
        sys.exit(1)
    print('FIXED')


if __name__ == '__main__':
    main()
