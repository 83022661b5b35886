#!/usr/bin/env bash
# Times `hardbase check` on the example bank and `hardbase build` of the example ATM against an anchor measured in the same run:
# `hardbase --version` (process start-up and catalog-free exit). Prints milliseconds and the ratio,
# since absolute times on shared machines are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/hardbase
runs=${RUNS:-50}

time_ms() {
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
    end=$(date +%s%N)
    echo $(( (end - start) / runs / 1000 ))
}

"$bin" check examples/regional-bank >/dev/null   # warm the page cache
anchor_us=$(time_ms "$bin" --version)
check_us=$(time_ms "$bin" check examples/regional-bank --at 2026-11-27)
json_us=$(time_ms "$bin" check examples/regional-bank --format json --at 2026-11-27)
out=$(mktemp -d)
build_us=$(time_ms "$bin" build examples/regional-bank/branch-atm-shinjuku.toml --out "$out/dist")
rm -rf "$out"
controls=$("$bin" list controls --format json | grep -c '"id"')
profiles=$(ls examples/regional-bank/*.toml | wc -l)
awk -v a="$anchor_us" -v c="$check_us" -v j="$json_us" -v b="$build_us" -v n="$runs" -v k="$controls" -v p="$profiles" 'BEGIN {
    printf "catalog: %d controls; example: %d files; %d runs each\n", k, p, n
    printf "anchor  hardbase --version              %8.2f ms\n", a / 1000
    printf "check   examples/regional-bank (text)   %8.2f ms  (%.2fx anchor)\n", c / 1000, c / a
    printf "check   examples/regional-bank (json)   %8.2f ms  (%.2fx anchor)\n", j / 1000, j / a
    printf "build   branch-atm-shinjuku (all files) %8.2f ms  (%.2fx anchor)\n", b / 1000, b / a
}'
