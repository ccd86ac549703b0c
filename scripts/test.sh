#!/usr/bin/env bash
# Runs the whole test suite, the way CI does.
#
#   bash scripts/test.sh [--no-asan]
#
# 1. installs the dependencies (scripts/install-deps.sh; fast when nothing is missing),
#    postgresql and postgresql-plpython3-15 for the PostgreSQL tests (CTest starts a throw-away
#    PostgreSQL 15 server for them: scripts/pg-test-cluster.sh), chromium for the browser
#    tests (tests/e2e; CTest's e2e_setup npm-installs playwright-core into the build), and
#    Node.js/npm when missing for those and the PL/SQL syntax check (tests/sql),
# 2. builds build/release (Release, -Werror) and runs CTest there,
# 3. builds build/asan (RelWithDebInfo, AddressSanitizer + UndefinedBehaviorSanitizer,
#    -Werror) and runs CTest again with leak detection on and UBSan fatal. The ASan quarantine
#    is kept small (8 MB) so that the memory-growth checks measure the server, not ASan;
#    tests/lsan.supp silences leaks inside OpenSSL only.
#
# --no-asan skips step 3 (quick local runs). SWITCHBOARD_SKIP_DEPS=1 skips step 1.
# SB_TEST_NO_PG=1 skips the PostgreSQL tests, SB_TEST_NO_BROWSER=1 the browser tests (local
# runs only; CI always runs them).
# Exits non-zero when a build or any test fails; the last line is the summary.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

run_asan=1
for arg in "$@"; do
    case "$arg" in
        --no-asan) run_asan=0 ;;
        -h | --help)
            sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "test.sh: unknown option '$arg' (use --no-asan)" >&2
            exit 2
            ;;
    esac
done

# Qt: no GLib dispatcher (docs/ARCHITECTURE.md, "Event loops"), no display needed.
export QT_NO_GLIB=1
export QT_QPA_PLATFORM=offscreen
export CTEST_PARALLEL_LEVEL=2

started=$SECONDS
total_passed=0
total_failed=0
failures=()
summary=()

# run_pass NAME [ENV=VALUE...]: builds build/NAME and runs its tests.
run_pass() {
    local variant=$1
    shift
    local t0=$SECONDS
    echo
    echo "==== test.sh: $variant build ===="
    if ! bash scripts/build.sh "$variant"; then
        failures+=("$variant build")
        summary+=("$variant: build FAILED ($((SECONDS - t0)) s)")
        total_failed=$((total_failed + 1)) # a failed build counts as one failure
        return 2
    fi

    echo
    echo "==== test.sh: $variant tests ===="
    local log
    log=$(mktemp)
    local rc=0
    env "$@" ctest --test-dir "build/$variant" --output-on-failure -j2 --no-tests=error \
        2>&1 | tee "$log" || rc=$?
    # "100% tests passed, 0 tests failed out of 12"
    local line failed total
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    rm -f "$log"
    if [[ -n "$line" ]]; then
        failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    else
        failed=0
        total=0
    fi
    total_passed=$((total_passed + total - failed))
    total_failed=$((total_failed + failed))
    if [[ $rc -ne 0 || -z "$line" ]]; then
        [[ -n "$line" && $failed -gt 0 ]] || total_failed=$((total_failed + 1))
        failures+=("$variant tests")
        if [[ -z "$line" ]]; then
            summary+=("$variant: no test ran (ctest exit $rc), FAILED ($((SECONDS - t0)) s)")
        else
            summary+=("$variant: $((total - failed))/$total passed, FAILED ($((SECONDS - t0)) s)")
        fi
        return 1
    fi
    summary+=("$variant: $total/$total passed ($((SECONDS - t0)) s)")
}

if [[ "${SWITCHBOARD_SKIP_DEPS:-0}" != 1 ]]; then
    echo "==== test.sh: dependencies ===="
    # PostgreSQL 15 with PL/Python for the _pg tests and sql/postgresql; chromium for the
    # browser tests (label e2e; their CTest fixture e2e_setup runs `npm ci` in tests/e2e);
    # Node.js and npm for those and the PL/SQL syntax check of sql/oracle (tests/sql), unless
    # some Node.js is already there (Debian's npm would conflict with NodeSource's nodejs);
    # gdb for the stacks of a daemon that hangs on SIGTERM (tests/integration/support).
    extra="postgresql postgresql-plpython3-15 chromium gdb"
    command -v node >/dev/null 2>&1 || extra+=" nodejs"
    command -v npm >/dev/null 2>&1 || extra+=" npm"
    SWITCHBOARD_EXTRA_PACKAGES="$extra ${SWITCHBOARD_EXTRA_PACKAGES:-}" \
        bash scripts/install-deps.sh
fi

release_rc=0
run_pass release || release_rc=$?

if [[ $run_asan -eq 1 ]]; then
    if [[ $release_rc -eq 2 ]]; then
        summary+=("asan: skipped (the release build failed)")
    else
        run_pass asan \
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=8 \
            LSAN_OPTIONS="suppressions=$root/tests/lsan.supp" \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 || true
    fi
else
    summary+=("asan: skipped (--no-asan)")
fi

echo
echo "==== test.sh: summary ($((SECONDS - started)) s) ===="
for s in "${summary[@]}"; do
    echo "  $s"
done
if [[ ${#failures[@]} -ne 0 ]]; then
    echo "  FAILED: ${failures[*]}"
fi
echo "test.sh: $total_passed passed, $total_failed failed"
[[ ${#failures[@]} -eq 0 ]]
