#!/usr/bin/env bash
# The fleet benchmark: hardbase against OpenSCAP on this machine, and `hardbase audit` of a
# synthetic fleet. Every figure is measured in this run and every ratio is between figures of
# this run (absolute times on shared machines are noisy):
#
#   1. `hardbase build` of the example bank (per profile: the fastest whole-bank time / profiles)
#      against `oscap xccdf generate fix --fix-type bash` of each profile of Debian's Debian 11
#      datastream (ssg-debian, the fastest of its runs for each): time and peak memory per profile.
#   2. The generated Linux collector + `hardbase diff` of the primary relay on this machine
#      against `oscap xccdf eval` of the datastream's standard profile, with the number of
#      checks on both sides and the collector's time per step.
#   3. `hardbase audit` of synthetic fleets (bench/fleetgen.rs) of 1k, 3k and 10k hosts, each
#      host comparing 500+ settings with 200 firewall rules and 300 services, against
#      `cat` of the same files (warm, the fastest of three runs right before each audit); the
#      audit's time is the fastest of RUNS_AUDIT runs too (the page cache and the kernel's
#      background work make single runs of a few seconds vary by a third), its peak memory the
#      largest of them; ms per host, and the largest fleet with --formats jsonl only.
#
# Usage: bash bench/fleet.sh            (from the repository root; installs nothing)
# Environment: RUNS_BUILD (10), RUNS_FIX (3), RUNS_E2E (5), RUNS_EVAL (3), RUNS_AUDIT (3), SIZES ("1000 3000
# 10000"), SEED (1), JOBS (audit --jobs; default: hardbase's own), DS (the datastream), BENCH_DIR
# (work folder; a temporary one by default, removed at the end unless KEEP=1).
#
# Needs: /usr/bin/time (apt-get install time), for parts 1-2 oscap and the datastream
# (apt-get install ssg-debian openscap-scanner), and root for the collector and for showing the
# Debian 11 content a Debian 11 /etc/debian_version in a private mount namespace (unshare -m).
# A part whose tools are missing is skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS_BUILD=${RUNS_BUILD:-10}
RUNS_FIX=${RUNS_FIX:-3}
RUNS_E2E=${RUNS_E2E:-5}
RUNS_EVAL=${RUNS_EVAL:-3}
RUNS_AUDIT=${RUNS_AUDIT:-3}
SIZES=${SIZES:-"1000 3000 10000"}
SEED=${SEED:-1}
AT=2026-11-27
DS=${DS:-/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml}
TIME=/usr/bin/time

if [ ! -x "$TIME" ]; then
  echo "fleet.sh: $TIME is missing (apt-get install time); it measures peak memory" >&2
  exit 2
fi

if [ -n "${BENCH_DIR:-}" ]; then
  work=$BENCH_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/hardbase-fleet.XXXXXX")
fi
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet
cargo build --release --quiet --example fleetgen
# Cargo's target folder (CARGO_TARGET_DIR or the build configuration may move it).
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir=${target_dir:-$PWD/target}
bin=$target_dir/release/hardbase
gen=$target_dir/release/examples/fleetgen

declare -a VERDICTS=()
verdict() { VERDICTS+=("$(printf '%-58s %s' "$1" "$2")"); }

# measure CMD...: runs CMD with its output in $work/.out and .err; sets US (wall µs), KB (peak
# RSS) and CPU (CPU time / wall time, as /usr/bin/time prints it).
measure() {
  local t0 t1
  t0=$(date +%s%N)
  "$TIME" -f '%M %P' -o "$work/.mem" "$@" >"$work/.out" 2>"$work/.err" || true
  t1=$(date +%s%N)
  US=$(((t1 - t0) / 1000))
  read -r KB CPU < <(tail -n 1 "$work/.mem")
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else printf "-" }'; }
# pass_if VALUE OP LIMIT: PASS or MISS.
pass_if() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print ok ? "PASS" : "MISS" }'; }

echo "hardbase fleet benchmark: $(uname -m), $(nproc) CPUs, $(awk '/^MemTotal:/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, load average $(load)"
# The share of the last minute in which some task waited for the disk (Linux's pressure stall
# information): above a few percent, the file system's work of an earlier run is still going on.
if [ -r /proc/pressure/io ]; then
  echo "disk pressure: $(awk '/^some/ { sub("avg60=", "", $3); print $3 "% of the last minute" }' /proc/pressure/io) with a task waiting for the disk"
fi
echo "$("$bin" --version); $(command -v oscap >/dev/null && oscap --version | head -n 1 || echo 'oscap: not installed')"

have_oscap=1
if ! command -v oscap >/dev/null 2>&1; then
  have_oscap=0
  why_oscap="oscap is not installed (apt-get install openscap-scanner ssg-debian)"
elif [ ! -f "$DS" ]; then
  have_oscap=0
  why_oscap="$DS is missing (apt-get install ssg-debian; dpkg -L ssg-debian lists the datastreams)"
fi

# ------------------------------------------------------------------------------------------
echo
echo "== 1. build: hardbase build examples/ vs oscap xccdf generate fix --fix-type bash"
"$bin" build examples/ --out "$work/dist" >/dev/null 2>&1 # warm the page cache
# A build creates 178 files, which waits on the file system's journal when the disk is busy:
# whatever earlier work left to write back (another run's gigabytes being freed, say) goes out
# first.
sync
profiles=$(find "$work/dist" -mindepth 1 -maxdepth 1 -type d | wc -l)
files=$(find "$work/dist" -type f | wc -l)
times=()
peak_kb=0
# Each run writes a new output folder, as a pipeline's clean workspace does; the folders are
# removed after the loop, because creating files right after removing a tree makes ext4 scan
# the freed inodes, which would time the file system's clean-up rather than the build.
for i in $(seq "$RUNS_BUILD"); do
  measure "$bin" build examples/ --out "$work/dist-$i"
  times+=("$US")
  [ "$KB" -gt "$peak_kb" ] && peak_kb=$KB
done
for i in $(seq "$RUNS_BUILD"); do rm -rf "$work/dist-$i"; done
# The fastest run, as for oscap below: a run of some tens of milliseconds that meets the file
# system's or another process's work (the kernel still freeing an earlier run's gigabytes, say)
# is slower by half or more, while oscap's runs of 0.4 s hardly notice it. The median and the
# slowest are printed beside it.
read -r build_us median_us slowest_us < <(printf '%s\n' "${times[@]}" | sort -n |
  awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : int((t[NR / 2] + t[NR / 2 + 1]) / 2); print t[1], m, t[NR] }')
hb_profile_us=$((build_us / profiles))
printf 'hardbase build examples/: %d profiles, %d files, %s ms (fastest of %d; median %s, slowest %s), peak %s MB\n' \
  "$profiles" "$files" "$(ms "$build_us")" "$RUNS_BUILD" "$(ms "$median_us")" "$(ms "$slowest_us")" "$(mb "$peak_kb")"
printf '  per profile                                  %8s ms   peak %6s MB\n' "$(ms "$hb_profile_us")" "$(mb "$peak_kb")"
# Each of those profiles built alone (one profile per process, as oscap generates one): peak
# memory, the mean and the largest.
names=" $(find "$work/dist" -mindepth 1 -maxdepth 1 -type d -printf '%f ') "
one_sum=0
one_n=0
one_max=0
for toml in examples/*/*.toml examples/*.toml; do
  [ -f "$toml" ] || continue
  rm -rf "$work/one"
  measure "$bin" build "$toml" --out "$work/one"
  built=$(find "$work/one" -mindepth 1 -maxdepth 1 -type d -printf '%f' 2>/dev/null || true)
  [ -n "$built" ] || continue # a layer, not a profile
  case $names in *" $built "*) ;; *) continue ;; esac
  one_sum=$((one_sum + KB))
  one_n=$((one_n + 1))
  [ "$KB" -gt "$one_max" ] && one_max=$KB
done
rm -rf "$work/one"
one_kb=$((one_sum / (one_n > 0 ? one_n : 1)))
printf '  each profile built alone (%d)                   peak %6s MB (mean), %s MB (largest)\n' "$one_n" "$(mb "$one_kb")" "$(mb "$one_max")"
if [ "$have_oscap" = 1 ]; then
  sum_us=0
  sum_kb=0
  n=0
  while IFS=: read -r id title; do
    p_us=0
    p_kb=0
    for _ in $(seq "$RUNS_FIX"); do
      measure oscap xccdf generate fix --fix-type bash --profile "$id" "$DS"
      if [ "$p_us" = 0 ] || [ "$US" -lt "$p_us" ]; then p_us=$US; fi
      [ "$KB" -gt "$p_kb" ] && p_kb=$KB
    done
    fixes=$(grep -c '^# BEGIN fix' "$work/.out" || true)
    printf '  oscap %-40s %8s ms   peak %6s MB   (%d bash fixes; %s)\n' "${id#xccdf_org.ssgproject.content_profile_}" \
      "$(ms "$p_us")" "$(mb "$p_kb")" "$fixes" "$title"
    sum_us=$((sum_us + p_us))
    sum_kb=$((sum_kb + p_kb))
    n=$((n + 1))
  done < <(oscap info --profiles "$DS" 2>/dev/null || true)
  if [ "$n" = 0 ]; then
    have_oscap=0
    why_oscap="oscap info --profiles $DS lists no profile"
  fi
fi
if [ "$have_oscap" = 1 ]; then
  oscap_us=$((sum_us / n))
  oscap_kb=$((sum_kb / n))
  printf '  oscap mean over %d profiles                  %8s ms   peak %6s MB (mean)\n' "$n" "$(ms "$oscap_us")" "$(mb "$oscap_kb")"
  t=$(ratio "$oscap_us" "$hb_profile_us")
  m=$(ratio "$oscap_kb" "$peak_kb")
  printf '  hardbase is %sx faster per profile and uses %sx less memory (peak of the whole-bank run)\n' "$t" "$m"
  printf '  built one profile per process, hardbase uses %sx less memory (mean peaks; %sx for the largest)\n' \
    "$(ratio "$oscap_kb" "$one_kb")" "$(ratio "$oscap_kb" "$one_max")"
  verdict "1. build time per profile >= 50x faster than oscap" "$t x  $(pass_if "$t" ">=" 50)"
  # oscap generates one profile per process: the like-for-like memory figure is hardbase
  # building one profile per process (the largest peak of them); the whole bank in one process
  # is reported against the same target too.
  mo=$(ratio "$oscap_kb" "$one_max")
  verdict "1. build peak memory >= 10x less, one profile per process" "$mo x  $(pass_if "$mo" ">=" 10)"
  verdict "1. build peak memory >= 10x less, whole bank in one run" "$m x  $(pass_if "$m" ">=" 10)"
else
  echo "  SKIPPED oscap: $why_oscap"
  verdict "1. build vs oscap" "SKIPPED ($why_oscap)"
fi

# ------------------------------------------------------------------------------------------
echo
echo "== 2. drift on this machine: linux/collect.sh + hardbase diff vs oscap xccdf eval"
relay=examples/regional-bank/relay-linux.toml
"$bin" build "$relay" --out "$work/relay" >/dev/null 2>&1
collect=$(find "$work/relay" -path '*/linux/collect.sh' | head -n 1)
if [ "$(id -u)" != 0 ]; then
  echo "  note: not root: the collector leaves out what needs root (nft, sshd -T, auditctl)"
fi
bash "$collect" --out "$work/snap-warm" >/dev/null 2>&1 # warm the page cache
c_us=0
d_us=0
c_kb=0
d_kb=0
for _ in $(seq "$RUNS_E2E"); do
  rm -rf "$work/snap"
  measure bash "$collect" --out "$work/snap"
  c_us=$((c_us + US))
  [ "$KB" -gt "$c_kb" ] && c_kb=$KB
  measure "$bin" diff "$relay" --live "$work/snap" --format json --at "$AT"
  d_us=$((d_us + US))
  [ "$KB" -gt "$d_kb" ] && d_kb=$KB
  cp "$work/.out" "$work/diff.json"
done
c_us=$((c_us / RUNS_E2E))
d_us=$((d_us / RUNS_E2E))
e2e_us=$((c_us + d_us))
# The settings counts of the report: "counts": {"controls": {…}, "settings": {…}}.
counts=$(awk '/"counts": \{/ { inside = 1 } inside && /"settings": \{/ { s = 1; next } s && /\}/ { exit } s { gsub(/[",]/, ""); printf "%s%s=%s", sep, $1, $2; sep = " " }' "$work/diff.json" | tr -d ':')
compared=$(echo "$counts" | tr ' ' '\n' | awk -F= '$1 == "compliant" || $1 == "drift" || $1 == "missing" { n += $2 } END { print n + 0 }')
all=$(echo "$counts" | tr ' ' '\n' | awk -F= '$1 != "unexpected" { n += $2 } END { print n + 0 }')
printf 'hardbase (%s, %d settings; %d compared: compliant, drift or missing)\n' "$relay" "$all" "$compared"
printf '  %s\n' "$counts"
printf '  collect.sh                                   %8s ms   peak %6s MB\n' "$(ms "$c_us")" "$(mb "$c_kb")"
printf '  hardbase diff --format json                  %8s ms   peak %6s MB\n' "$(ms "$d_us")" "$(mb "$d_kb")"
printf '  end to end (mean of %d)                       %8s ms\n' "$RUNS_E2E" "$(ms "$e2e_us")"
# collect.sh asks systemctl only for the units the profile governs; with --all-units it lists
# every unit file's state (the inventory `import snapshot` shows), which systemctl works out by
# searching every unit folder for links to each unit.
sc_total=0
for _ in $(seq "$RUNS_E2E"); do
  rm -rf "$work/snap-all"
  measure bash "$collect" --out "$work/snap-all" --all-units
  sc_total=$((sc_total + US))
done
printf '  for comparison, collect.sh --all-units (%d unit files) %8s ms (mean of %d)\n' \
  "$(grep -c . "$work/snap-all/unit-files.txt" || true)" "$(ms $((sc_total / RUNS_E2E)))" "$RUNS_E2E"
if [ "$have_oscap" = 1 ]; then
  profile=xccdf_org.ssgproject.content_profile_standard
  # The datastream is Debian 11 content; on another release every rule is notapplicable and
  # nothing is evaluated. As root, oscap is shown a Debian 11 /etc/debian_version in a private
  # mount namespace (nothing changes on the machine), so the rules are evaluated for real.
  eval_cmd=(oscap xccdf eval --profile "$profile" --results "$work/results.xml" "$DS")
  how="as is"
  if ! grep -q '^11\.' /etc/debian_version 2>/dev/null; then
    echo 11.11 >"$work/debian_version"
    if [ "$(id -u)" = 0 ] && unshare -m sh -c 'mount --bind "$1" /etc/debian_version' sh "$work/debian_version" 2>/dev/null; then
      eval_cmd=(unshare -m sh -c 'mount --bind "$1" /etc/debian_version && shift && exec "$@"' sh "$work/debian_version" "${eval_cmd[@]}")
      how="with /etc/debian_version shown as 11.11 in a private mount namespace"
    else
      how="as is (not root, or no private mount namespace: this is not Debian 11, so rules come out notapplicable)"
    fi
  fi
  "${eval_cmd[@]}" >/dev/null 2>&1 || true # warm
  e_us=0
  e_kb=0
  for _ in $(seq "$RUNS_EVAL"); do
    measure "${eval_cmd[@]}"
    e_us=$((e_us + US))
    [ "$KB" -gt "$e_kb" ] && e_kb=$KB
  done
  e_us=$((e_us / RUNS_EVAL))
  results=$(grep -so '<result>[a-z]*</result>' "$work/results.xml" | sed 's/<[^>]*>//g' | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
  selected=$(echo "$results" | tr ' ' '\n' | awk -F= '$1 != "notselected" { n += $2 } END { print n + 0 }')
  evaluated=$(echo "$results" | tr ' ' '\n' | awk -F= '$1 == "pass" || $1 == "fail" || $1 == "error" || $1 == "unknown" { n += $2 } END { print n + 0 }')
  printf 'oscap xccdf eval --profile standard (%s)\n' "$how"
  printf '  %d rules selected, %d evaluated (pass, fail, error, unknown): %s\n' "$selected" "$evaluated" "$results"
  printf '  oscap xccdf eval (mean of %d)                %8s ms   peak %6s MB\n' "$RUNS_EVAL" "$(ms "$e_us")" "$(mb "$e_kb")"
  t=$(ratio "$e_us" "$e2e_us")
  printf '  collect + diff is %sx faster end to end, comparing %d settings against oscap'"'"'s %d evaluated rules\n' "$t" "$compared" "$evaluated"
  verdict "2. collect + diff >= 10x faster than oscap eval" "$t x  $(pass_if "$t" ">=" 10)"
else
  echo "  SKIPPED oscap: $why_oscap"
  verdict "2. collect + diff vs oscap eval" "SKIPPED ($why_oscap)"
fi

# ------------------------------------------------------------------------------------------
echo
echo "== 3. hardbase audit of synthetic fleets (bench/fleetgen.rs, seed $SEED)"
max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
t0=$(date +%s%N)
"$gen" --out "$work/fleet" --hosts "$max" --seed "$SEED" --at "$AT" >"$work/fleetgen.txt"
t1=$(date +%s%N)
sed 's/^/  /' "$work/fleetgen.txt"
# The generator leaves gigabytes of dirty pages: written out now, so that the kernel's writeback
# does not run during the measurements below (each is preceded by a sync for the same reason).
sync
printf '  (generated in %s s)\n' "$(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.1f", n / 1e9 }')"
jobs=()
[ -n "${JOBS:-}" ] && jobs=(--jobs "$JOBS")
audit() { # audit SNAPSHOTS OUT FORMATS: the fastest of RUNS_AUDIT runs (US, CPU), the largest peak (KB)
  local best_us=0 best_cpu= top_kb=0
  for _ in $(seq "$RUNS_AUDIT"); do
    rm -rf "$2"
    sync
    measure "$bin" --baselines "$work/fleet/baselines" audit --profiles "$work/fleet/profiles" \
      --snapshots "$1" --out "$2" --at "$AT" --progress never --formats "$3" "${jobs[@]}"
    if [ "$best_us" = 0 ] || [ "$US" -lt "$best_us" ]; then
      best_us=$US
      best_cpu=$CPU
    fi
    [ "$KB" -gt "$top_kb" ] && top_kb=$KB
  done
  US=$best_us
  CPU=$best_cpu
  KB=$top_kb
}
echo "  cat: the fastest of 3 reads; audit: the fastest of $RUNS_AUDIT runs (its CPU use), the largest peak of them"
printf '  %6s %7s %9s %10s %8s %8s %10s %5s %9s  %s\n' hosts MB "cat ms" "audit ms" ms/host "peak MB" audit/cat CPU records "load average"
for n in $SIZES; do
  if [ "$n" = "$max" ]; then
    snaps=$work/fleet/snapshots
  else
    # The first n hosts of the fleet (a smaller fleet from the same seed), hard-linked.
    snaps=$work/fleet-$n
    rm -rf "$snaps"
    mkdir -p "$snaps"
    (cd "$work/fleet/snapshots" && ls | awk -F- -v n="$n" '$NF + 0 <= n' | xargs cp -al -t "$snaps")
  fi
  bytes=$(du -sb "$snaps" | cut -f1)
  sync
  (cd "$snaps" && find . -type f -print0 | xargs -0 cat >/dev/null) # warm
  # The fastest of three: the anchor is what reading the bytes costs at best on this machine.
  cat_us=0
  for _ in 1 2 3; do
    t0=$(date +%s%N)
    (cd "$snaps" && find . -type f -print0 | xargs -0 cat >/dev/null)
    t1=$(date +%s%N)
    us=$(((t1 - t0) / 1000))
    if [ "$cat_us" = 0 ] || [ "$us" -lt "$cat_us" ]; then cat_us=$us; fi
  done
  load_before=$(load)
  audit "$snaps" "$work/audit-$n" jsonl,xlsx,html
  records=$(cat "$work/.out" "$work/.err" | grep -o '([0-9]* records)' | tr -dc 0-9 || true)
  printf '  %6d %7s %9s %10s %8s %8s %10s %5s %9s  %s\n' "$n" "$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 }')" \
    "$(ms "$cat_us")" "$(ms "$US")" "$(awk -v u="$US" -v n="$n" 'BEGIN { printf "%.3f", u / 1000 / n }')" \
    "$(mb "$KB")" "$(ratio "$US" "$cat_us")" "$CPU" "${records:-?}" "$load_before"
  if [ "$n" = "$max" ]; then
    big_us=$US
    big_kb=$KB
    big_cat=$cat_us
  fi
done
sync
audit "$work/fleet/snapshots" "$work/audit-jsonl" jsonl
printf '  %6d hosts with --formats jsonl only: %s ms (%s ms/host, CPU %s); xlsx + html add %s ms\n' "$max" "$(ms "$US")" \
  "$(awk -v u="$US" -v n="$max" 'BEGIN { printf "%.3f", u / 1000 / n }')" "$CPU" "$(ms $((big_us - US)))"
echo "  summary of the $max-host audit:"
sed -n '1,3p' "$work/.out" | sed 's/^/    /'
s=$(awk -v u="$big_us" 'BEGIN { printf "%.1f", u / 1e6 }')
verdict "3. audit of $max hosts <= 30 s ($(nproc) CPUs)" "$s s  $(pass_if "$s" "<=" 30)"
verdict "3. audit peak memory <= 300 MB" "$(mb "$big_kb") MB  $(pass_if "$(mb "$big_kb")" "<=" 300)"
r=$(ratio "$big_us" "$big_cat")
verdict "3. audit <= 3x cat of the same bytes" "$r x  $(pass_if "$r" "<=" 3)"

echo
echo "== targets"
printf '  %s\n' "${VERDICTS[@]}"
