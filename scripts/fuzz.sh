#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz and runs each for a while (docs/fuzzing.md).
#
#   bash scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Targets: raw_json body_decoder notify_payload token_verify config_loader names, and the two
# that drive the real server in process over loopback sockets: http_stream ws_frames
# (the executables are build/fuzz/tests/fuzz/fuzz_<target>).
#
# 1. installs clang-15 and libclang-common-15-dev (libFuzzer) with the other dependencies
#    (scripts/install-deps.sh; SWITCHBOARD_SKIP_DEPS=1 skips it),
# 2. configures build/fuzz with clang-15 and SWITCHBOARD_FUZZ=ON (-fsanitize=fuzzer-no-link,
#    address,undefined everywhere; the targets link -fsanitize=fuzzer), -Werror, and builds
#    the targets (SWITCHBOARD_CMAKE_ARGS as in build.sh, e.g. a ccache launcher),
# 3. runs the targets one after the other, each on its corpus build/fuzz/corpus/<target>
#    (seeded from tests/fuzz/corpus/<target>, kept between runs), and prints per target the
#    executions, exec/s and coverage (cov: and ft: of libFuzzer's last line).
#
# Exits non-zero when a build fails or any target finds a crash, leak, timeout or out-of-memory;
# the input is then in build/fuzz/artifacts/<target>/ and the log in build/fuzz/logs/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

all_targets=(raw_json body_decoder notify_payload token_verify config_loader names http_stream
    ws_frames)
seconds=60
if [[ $# -gt 0 ]]; then
    case "$1" in
        -h | --help)
            sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
    esac
    if [[ "$1" =~ ^[0-9]+$ ]]; then
        seconds=$1
        shift
    fi
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
    known=0
    for a in "${all_targets[@]}"; do
        [[ "$t" == "$a" ]] && known=1
    done
    if [[ $known -eq 0 ]]; then
        echo "fuzz.sh: unknown target '$t' (use: ${all_targets[*]})" >&2
        exit 2
    fi
done

# Longest input per target: what its entrance takes in practice, small enough to stay fast.
max_len() {
    case "$1" in
        raw_json) echo 4096 ;;
        body_decoder) echo 8192 ;;
        notify_payload) echo 8000 ;; # PostgreSQL's NOTIFY payload limit
        token_verify) echo 2048 ;;
        config_loader) echo 4096 ;;
        names) echo 1024 ;;
        http_stream) echo 8192 ;;
        ws_frames) echo 4096 ;;
    esac
}
# A dictionary of JSON tokens helps where the input is JSON.
dict() {
    case "$1" in
        raw_json | body_decoder | notify_payload | token_verify) echo "-dict=$root/tests/fuzz/json.dict" ;;
        config_loader) echo "-dict=$root/tests/fuzz/ini.dict" ;;
        http_stream) echo "-dict=$root/tests/fuzz/http.dict" ;;
        ws_frames) echo "-dict=$root/tests/fuzz/json.dict" ;;
    esac
}

# The network targets run the whole server in process: memory it frees on its own threads
# after an input is done would read as leaks of that input, so leak detection is left to the
# ASan test pass for them (the server's tests run with detect_leaks=1).
extra_flags() {
    case "$1" in
        http_stream | ws_frames) echo "-detect_leaks=0" ;;
    esac
}

if [[ "${SWITCHBOARD_SKIP_DEPS:-0}" != 1 ]]; then
    SWITCHBOARD_EXTRA_PACKAGES="${SWITCHBOARD_EXTRA_PACKAGES:-} clang-15 libclang-common-15-dev" \
        bash scripts/install-deps.sh
fi

builddir="$root/build/fuzz"
extra=()
if [[ -n "${SWITCHBOARD_CMAKE_ARGS:-}" ]]; then
    read -r -a extra <<<"${SWITCHBOARD_CMAKE_ARGS}"
fi
cache="$builddir/CMakeCache.txt"
if [[ -f "$cache" ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache"; then
    rm -rf "$cache" "$builddir/CMakeFiles"
fi
echo "fuzz.sh: configuring $builddir (clang-15, SWITCHBOARD_FUZZ=ON)"
CC=clang-15 CXX=clang++-15 cmake -S "$root" -B "$builddir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-15 \
    -DSWITCHBOARD_FUZZ=ON -DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_SANITIZE=OFF \
    -DSWITCHBOARD_BUILD_TESTS=OFF -DSWITCHBOARD_CONSOLE=OFF "${extra[@]}" >/dev/null
build_targets=()
for t in "${targets[@]}"; do
    build_targets+=("fuzz_$t")
done
echo "fuzz.sh: building ${build_targets[*]}"
cmake --build "$builddir" -j"$(nproc 2>/dev/null || echo 2)" --target "${build_targets[@]}"

export QT_NO_GLIB=1 QT_QPA_PLATFORM=offscreen
# Leaks inside OpenSSL are not ours (tests/lsan.supp); UBSan stops at the first report.
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

mkdir -p "$builddir/logs"
failed=()
summary=()
for t in "${targets[@]}"; do
    corpus="$builddir/corpus/$t"
    artifacts="$builddir/artifacts/$t"
    log="$builddir/logs/$t.log"
    mkdir -p "$corpus" "$artifacts"
    if [[ -d "$root/tests/fuzz/corpus/$t" ]]; then
        cp -n "$root/tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    read -r -a dict_arg <<<"$(dict "$t") $(extra_flags "$t")"
    echo
    echo "==== fuzz.sh: $t for $seconds s ===="
    rc=0
    "$builddir/tests/fuzz/fuzz_$t" "$corpus" "${dict_arg[@]}" \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
    # "#123456	DONE   cov: 1234 ft: 5678 corp: 90/12Kb lim: 4096 exec/s: 2057 rss: 80Mb"
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([^ ]+).*/\1/p' <<<"$last")
    line=$(printf '%-15s executions %10s  exec/s %7s  cov %6s  ft %7s  corpus %s' \
        "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
    if [[ $rc -ne 0 ]]; then
        failed+=("$t")
        line+="  FAILED (exit $rc; artifacts in $artifacts, log $log)"
        grep -E 'ERROR: |invariant failed|SUMMARY: |Test unit written' "$log" | head -n 20 || true
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "==== fuzz.sh: summary ($seconds s per target) ===="
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -ne 0 ]]; then
    echo "fuzz.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz.sh: no crash, leak or timeout"
