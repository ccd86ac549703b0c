#!/usr/bin/env bash
# Quick start: installs the dependencies, builds the release variant and starts Switchboard.
#
#   bash scripts/start.sh [server flags...]
#
# Starts the console `switchboard` when it has been built and a display is present
# ($DISPLAY or $WAYLAND_DISPLAY), else the daemon `switchboardd`. Every argument is passed
# through, e.g. `bash scripts/start.sh --listen 0.0.0.0:8080`; see `switchboardd --help`.
# Without arguments the server listens on 127.0.0.1:8080 with the embedded defaults and,
# on its first start, writes a generated API key and JWT secret into
# ~/.local/share/switchboard/switchboard.ini (mode 0600).
#
# SWITCHBOARD_SKIP_DEPS=1 skips the dependency check; SWITCHBOARD_SKIP_BUILD=1 the build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ "${SWITCHBOARD_SKIP_DEPS:-0}" != 1 ]]; then
    bash scripts/install-deps.sh
fi
if [[ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ]]; then
    # The programs only (app/all: the daemon, and the console once it exists); no tests.
    bash scripts/build.sh release app/all
fi

builddir="$root/build/release"
console="$builddir/app/console/switchboard"
daemon="$builddir/app/daemon/switchboardd"

# The GLib event dispatcher costs O(sockets) per wake-up; the programs set this too.
export QT_NO_GLIB=1

if [[ -x "$console" && ( -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ) ]]; then
    echo "start.sh: starting the console $console $*" >&2
    exec "$console" "$@"
fi
if [[ ! -x "$daemon" ]]; then
    echo "start.sh: $daemon was not built" >&2
    exit 1
fi
echo "start.sh: starting $daemon $* (Ctrl+C or SIGTERM stops it)" >&2
exec "$daemon" "$@"
