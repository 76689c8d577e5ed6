#!/usr/bin/env bash
# `make test-dates`: the suites that start no third-party server (store, ops, core, the CLI,
# the incident and calendar suites of hsof-tests; the engine's when it reads the clock) run
# under Debian's libfaketime at instants that break naive date code: a week's end, both DST
# changes in Berlin, a leap day and a year's end, each in a time zone of its own.
#
# How: the test binaries are built once with the real clock (cargo must not see file times
# in the future), then each binary runs with LD_PRELOAD=libfaketimeMT and FAKETIME set to an
# offset ("+N" seconds) from now, so every process a test starts (hsofctl, the fake API
# server) sees the same fake clock, which goes on ticking. Monotonic clocks stay real
# (FAKETIME_DONT_FAKE_MONOTONIC=1): tokio's timers and SQLite's busy waits measure real
# durations, only the wall clock moves.
#
# Usage: scripts/test-dates.sh [NAME...]   (default: every instant below)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1mtest-dates:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mtest-dates:\033[0m %s\n' "$*" >&2; exit 1; }

# name | instant (with its UTC offset) | TZ the tests run in
instants=(
  "sunday-2359|2027-01-03 23:59:30 +0000|UTC"
  "dst-start-berlin|2027-03-28 01:59:30 +0100|Europe/Berlin"
  "dst-end-berlin|2027-10-31 02:30:00 +0200|Europe/Berlin"
  "leap-day|2028-02-29 12:00:00 +0000|America/New_York"
  "year-end|2026-12-31 23:59:50 +0000|UTC"
)

lib=""
for l in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 /usr/lib/*/faketime/libfaketimeMT.so.1; do
  [ -f "$l" ] && { lib="$l"; break; }
done
[ -n "$lib" ] || die "libfaketime not found: apt-get install libfaketime (scripts/bootstrap.sh test does)"

# The suites: package tests, and two hsof-tests suites (calendar without the one test that
# starts AlertManager). hsof-select (the engine) reads no wall clock and no local time zone
# (only Instant, which stays real here, and naive dates in data), so five fake dates cannot
# change what its suites check, and they were two thirds of this script's time: it is run
# here only if its sources start reading the clock or the zone. The binaries come from the workspace build `make rust-test` ran
# (`cargo test --workspace`, the same package and feature selection, so cargo finds every one
# fresh and compiles nothing); run alone, this builds them once, the same way.
say "building the test binaries (reused from cargo test --workspace when fresh)"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
packages="hsof-store hsof-ops hsof-core hsofctl"
if grep -rqE 'Utc::now|Local::now|chrono::Local|SystemTime|now_local|Zoned|TZ' src-tauri/crates/hsof-select/src; then
  say "hsof-select reads the clock or the time zone: its suites run at every instant too"
  packages="$packages hsof-select"
fi
# shellcheck disable=SC2086 # $packages is a list of names
cargo test --workspace --no-run --message-format=json-render-diagnostics -q \
  | python3 scripts/suites.py list $packages hsof-tests:incidents hsof-tests:calendar | sort -u >"$list"
[ -s "$list" ] || die "no test binaries were built"

skip_for() {
  case "$1" in
    calendar) echo "--skip gates_use_recorded_jobs_and_windows_are_silenced_in_alertmanager" ;;
  esac
}

selected=("$@")
# The instants run side by side (TEST_DATES_JOBS at a time, default 5): the suites mostly wait
# on their own servers and timers (a run of all suites at one instant is ~40 s of wall time
# for ~10 s of CPU), so five in parallel take little longer than one. Each instant's output is
# kept apart and printed whole, in order.
jobs="${TEST_DATES_JOBS:-5}"
work=$(mktemp -d)
trap 'rm -f "$list"; rm -rf "$work"' EXIT

run_instant() { # name instant tz: writes $work/NAME.{log,failed,runs}
  local name="$1" instant="$2" tz="$3" target seen runs=0
  : >"$work/$name.failed"
  target=$(date -d "$instant" +%s) || { echo "$name: cannot parse $instant" >>"$work/$name.failed"; return; }
  # Every suite starts at the instant itself (the offset is taken anew for each binary).
  fake_env() { echo LD_PRELOAD="$lib" FAKETIME="$(printf '%+d' $((target - $(date +%s))))" FAKETIME_DONT_FAKE_MONOTONIC=1 TZ="$tz"; }
  # libfaketime must take, or this whole instant proves nothing.
  # shellcheck disable=SC2046
  seen=$(env $(fake_env) date +%s)
  if ! { [ $((seen - target)) -ge 0 ] && [ $((seen - target)) -lt 60 ]; }; then
    echo "$name: libfaketime did not move the clock to $instant (saw $(date -d "@$seen"))" >>"$work/$name.failed"
    return
  fi
  # shellcheck disable=SC2046
  say "$name: each suite starts at $(env $(fake_env) date '+%a %F %T %Z') ($tz)"
  while IFS=$'\t' read -r dir exe _package target_name; do
    runs=$((runs + 1))
    local export_env
    read -r -a export_env <<<"$(fake_env)"
    # shellcheck disable=SC2046
    if ! (cd "$dir" && env "${export_env[@]}" CARGO_MANIFEST_DIR="$dir" "$exe" -q $(skip_for "$target_name")); then
      echo "$name: $(basename "$dir") $target_name" >>"$work/$name.failed"
    fi
  done <"$list"
  echo "$runs" >"$work/$name.runs"
}

names=()
for spec in "${instants[@]}"; do
  IFS='|' read -r name instant tz <<<"$spec"
  if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_instant "$name" "$instant" "$tz" >"$work/$name.log" 2>&1 &
  names+=("$name")
done
wait || true

failed=()
runs=0
for name in "${names[@]}"; do
  cat "$work/$name.log"
  runs=$((runs + $(cat "$work/$name.runs" 2>/dev/null || echo 0)))
  while IFS= read -r f; do failed+=("$f"); done <"$work/$name.failed"
done

if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31mtest-dates:\033[0m failed at:\n' >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
say "$runs suite runs passed at every instant"
