#!/usr/bin/python3
"""Repro (found by bench/soak.sh): after any restart on a non-empty message log, the second
`join` with `since` of a room that has had no event since the restart never gets `joined`:
the I/O thread spins in ClientConnection::handleJoin (Hub::join keeps answering NeedLog with
needLogUpTo = the room's lastId, below its droppedUpTo = the last id at start; each turn
appends a pin), every connection of that thread freezes and memory grows.

    /usr/bin/python3 bench/soak/repro/join_since_spin.py build/release/app/daemon/switchboardd

Prints FIXED or REPRODUCED (exit status 1), with the spinning thread's stack when gdb is there.
"""
import asyncio, json, os, signal, subprocess, sys, tempfile
import websockets

import repro_support

DAEMON = repro_support.daemon_path()
DATA = tempfile.mkdtemp(prefix='sb-repro.')
PORT = 18993


def start():
    return repro_support.start_daemon(DAEMON, PORT, DATA, os.path.join(DATA, 'daemon.log'))


def post(path, body):
    return repro_support.post(PORT, path, body)


async def two_joins():
    token = post('/api/register', {'room': 'quiet', 'user': 'u', 'session': 's'})['token']
    for i in (1, 2):
        async with websockets.connect(f'ws://127.0.0.1:{PORT}/ws') as ws:
            await ws.send(json.dumps({'type': 'join', 'token': token, 'since': 0}))
            try:
                print(f'join {i}:', await asyncio.wait_for(ws.recv(), 5))
            except asyncio.TimeoutError:
                print(f'join {i}: no answer within 5 s')
                return False
    return True


p = start()
post('/api/emit/room', {'room': 'busy', 'event': 'e', 'data': 1})   # the log is not empty
p.send_signal(signal.SIGTERM)                                          # a clean restart is enough
p.wait()
p = start()
ok = asyncio.run(two_joins())
if not ok:
    if os.path.exists('/usr/bin/gdb'):
        bt = subprocess.run(['gdb', '-p', str(p.pid), '-batch', '-ex', 'thread apply all bt 12'],
                            capture_output=True, text=True).stdout
        print('\n'.join(l for l in bt.splitlines() if l.startswith(('Thread', '#'))))
    with open(f'/proc/{p.pid}/status') as f:
        print([l.strip() for l in f if l.startswith('VmRSS')])
    p.send_signal(signal.SIGTERM)
    try:
        print('exit status after SIGTERM:', p.wait(20))
    except subprocess.TimeoutExpired:
        print('no exit within 20 s of SIGTERM')
p.kill()
p.wait()
print('FIXED' if ok else 'REPRODUCED', 'data dir', DATA)
sys.exit(0 if ok else 1)
