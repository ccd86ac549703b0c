#!/usr/bin/env bash
# Configures and builds Switchboard with Ninja.
#
#   bash scripts/build.sh [release|asan] [target...]     (default: release, every target)
#
#   release  build/release  Release, -Werror
#   asan     build/asan     RelWithDebInfo, AddressSanitizer + UndefinedBehaviorSanitizer, -Werror
#
# Targets are Ninja targets, e.g. `switchboardd` or `app/all` (the programs, no tests).
# Extra CMake arguments can be passed in SWITCHBOARD_CMAKE_ARGS (split on spaces).
# Dependencies are not installed here: run scripts/install-deps.sh first.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
variant=${1:-release}
targets=("${@:2}")

case "$variant" in
    release)
        build_type=Release
        options=(-DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_SANITIZE=OFF)
        ;;
    asan)
        build_type=RelWithDebInfo
        options=(-DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_SANITIZE=ON)
        ;;
    -h | --help)
        sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "build.sh: unknown variant '$variant' (use release or asan)" >&2
        exit 2
        ;;
esac

builddir="$root/build/$variant"
extra=()
if [[ -n "${SWITCHBOARD_CMAKE_ARGS:-}" ]]; then
    read -r -a extra <<<"${SWITCHBOARD_CMAKE_ARGS}"
fi

jobs=$(nproc 2>/dev/null || echo 2)

# A build dir configured earlier with another generator (a plain `cmake -S . -B build/release`
# makes Unix Makefiles) cannot be switched to Ninja in place: start that cache afresh.
cache="$builddir/CMakeCache.txt"
if [[ -f "$cache" ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache"; then
    echo "build.sh: $builddir was configured with another generator; reconfiguring with Ninja"
    rm -rf "$cache" "$builddir/CMakeFiles"
fi

echo "build.sh: configuring $variant ($build_type) in $builddir"
cmake -S "$root" -B "$builddir" -G Ninja \
    -DCMAKE_BUILD_TYPE="$build_type" \
    "${options[@]}" "${extra[@]}"

target_args=()
if [[ ${#targets[@]} -gt 0 ]]; then
    target_args=(--target "${targets[@]}")
fi
echo "build.sh: building ${targets[*]:-all targets} with $jobs jobs"
cmake --build "$builddir" -j"$jobs" "${target_args[@]}"
echo "build.sh: $variant build done in $builddir"
