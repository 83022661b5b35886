#!/usr/bin/env bash
# Runs every fuzz target of tests/integration/fuzz.rs for a bounded time and prints the
# iteration count of each. FUZZ_SECONDS (default 10) is the budget per target; FUZZ_SEED
# repeats a run. A crashing input is saved under target/fuzz-crashes/ and fails the run.
#
#   FUZZ_SECONDS=20 fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
if [[ -n "${FUZZ_SEED:-}" ]]; then export FUZZ_SEED; fi
threads="${FUZZ_THREADS:-$(nproc 2>/dev/null || echo 2)}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --release --test integration fuzz -- --ignored --nocapture --test-threads="$threads" \
    2>&1 | tee "$log" >/dev/null || status=$?
echo "fuzz targets (FUZZ_SECONDS=$FUZZ_SECONDS per target):"
grep -E '^FUZZ ' "$log" | sort || true
if [[ $status -ne 0 ]]; then
    echo "FAILED: a target crashed; see the input named above and in target/fuzz-crashes/" >&2
    grep -E 'panicked|FUZZ .*(panic|took over)' "$log" >&2 || true
fi
exit "$status"
