"""What the repros in this folder share: the daemon to run (their first argument), starting it
and waiting for /api/health, REST calls with its API key, and a scratch PostgreSQL cluster
(scripts/pg-test-cluster.sh). Imported by the repro scripts; runs nothing by itself."""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
CLUSTER = os.path.join(ROOT, 'scripts/pg-test-cluster.sh')
API_KEY = 'k'


def daemon_path():
    """switchboardd: the script's first argument, else the release build's."""
    return sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, 'build/release/app/daemon/switchboardd')


def start_daemon(daemon, port, data_dir, log_path, *args):
    """Starts `daemon` on 127.0.0.1:`port` (output appended to `log_path`) and returns its
    process once /api/health answers; exits the script when it does not within 10 s."""
    out = open(log_path, 'ab')
    p = subprocess.Popen([daemon, '--listen', f'127.0.0.1:{port}', '--data-dir', data_dir,
                          '--api-key', API_KEY, '--jwt-secret', 's', *args], stdout=out,
                         stderr=out, env={**os.environ, 'QT_NO_GLIB': '1'})
    for _ in range(200):
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/api/health', timeout=1)
            return p
        except Exception:
            time.sleep(0.05)
    raise SystemExit('the daemon did not start')


def _request(port, path, body):
    return urllib.request.Request(f'http://127.0.0.1:{port}{path}', data=json.dumps(body).encode(),
                                  headers={'X-API-Key': API_KEY,
                                           'Content-Type': 'application/json'})


def post(port, path, body, timeout=10):
    """POSTs `body` as JSON and returns the decoded answer; an HTTP error raises."""
    return json.loads(urllib.request.urlopen(_request(port, path, body), timeout=timeout).read())


def post_status(port, path, body, timeout=10):
    """POSTs `body` as JSON and returns (HTTP status, decoded answer); (None, the error) when
    there is no answer."""
    try:
        with urllib.request.urlopen(_request(port, path, body), timeout=timeout) as a:
            return a.status, json.loads(a.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b'{}')
    except Exception as e:
        return None, repr(e)


def pg(pg_dir, command):
    """Runs scripts/pg-test-cluster.sh `command` (start, restart, stop) on the cluster in
    `pg_dir`; returns what it prints (for start: the database URL)."""
    return subprocess.run(['bash', CLUSTER, command, pg_dir], capture_output=True, text=True,
                          check=True).stdout.strip()


def stop_all(p, pg_dir, work):
    """The repros' cleanup: kills the daemon `p` (if any), stops the cluster, removes `work`."""
    if p:
        p.kill()
        p.wait()
    try:
        pg(pg_dir, 'stop')
    except Exception:
        pass
    subprocess.run(['rm', '-rf', work])


class Scratch:
    """A repro's scratch space: a new work directory, the daemon of daemon_path() on
    127.0.0.1:`port` with its data and log in there, and a PostgreSQL cluster in work/pg."""

    def __init__(self, port):
        self.port = port
        self.daemon = daemon_path()
        self.work = tempfile.mkdtemp(prefix='sb-repro.')
        self.pg_dir = os.path.join(self.work, 'pg')

    def start(self, *args):
        return start_daemon(self.daemon, self.port, os.path.join(self.work, 'data'),
                            os.path.join(self.work, 'daemon.log'), *args)

    def pg(self, command):
        return pg(self.pg_dir, command)

    def post(self, path, body, timeout=10):
        return post(self.port, path, body, timeout)

    def post_status(self, path, body, timeout=10):
        return post_status(self.port, path, body, timeout)

    def clean_up(self, p):
        stop_all(p, self.pg_dir, self.work)
