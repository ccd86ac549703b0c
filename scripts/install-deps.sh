#!/usr/bin/env bash
# Installs everything needed to build, run and test Switchboard on Debian 12 (bookworm).
#
#   bash scripts/install-deps.sh
#
# Idempotent: when every package below is already installed it does nothing (no apt run),
# so start.sh and test.sh can call it every time. Uses sudo only when not run as root.
#
# Sanitizer runs need nothing extra: g++-12 -> gcc-12 -> libgcc-12-dev depends on
# libasan8, liblsan0 and libubsan1 (see `apt-cache depends libgcc-12-dev`).
set -euo pipefail

PACKAGES=(
    # toolchain
    build-essential cmake ninja-build pkg-config git curl ca-certificates
    # test certificates (integration tests generate a self-signed pair)
    openssl
    # Qt 6.4: Core/Network/Gui/Widgets, WebSockets, HttpServer, Linguist tools, SQL drivers
    qt6-base-dev qt6-websockets-dev qt6-httpserver-dev qt6-tools-dev qt6-l10n-tools
    libqt6sql6-sqlite libqt6sql6-psql libgl-dev
    # script handlers of the endpoints run on Qt's JavaScript engine (QJSEngine, QtQml)
    qt6-declarative-dev
    # crc32() of the message log's journal (Qt links this zlib already)
    zlib1g-dev
    # server/redis: hiredis to build; a real redis-server for its tests (cluster mode)
    libhiredis-dev redis-server
    # the console draws text also offscreen (GUI tests) and under Xvfb
    fontconfig fonts-dejavu-core
    # the README walk-through uses `python3 -m websockets` as a WebSocket client
    python3 python3-websockets
)

# Extra packages can be added by the caller, e.g. SWITCHBOARD_EXTRA_PACKAGES="postgresql".
if [[ -n "${SWITCHBOARD_EXTRA_PACKAGES:-}" ]]; then
    read -r -a extra <<<"${SWITCHBOARD_EXTRA_PACKAGES}"
    PACKAGES+=("${extra[@]}")
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: this script needs a Debian-based system (apt-get, dpkg-query)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-deps: not root and sudo is not available; as root run:" >&2
        echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
# Only what is missing: installed packages are not upgraded behind the caller's back.
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

# Check again: a package that apt could not install must not pass silently.
still_missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || still_missing+=("$pkg")
done
if [[ ${#still_missing[@]} -ne 0 ]]; then
    echo "install-deps: still missing after apt-get: ${still_missing[*]}" >&2
    exit 1
fi
echo "install-deps: done"
