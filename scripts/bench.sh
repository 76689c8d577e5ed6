#!/usr/bin/env bash
# Launch-to-first-paint and idle memory of the desktop app, under Xvfb.
# Usage: scripts/bench.sh [path-to-app-binary] [runs]
# First paint is the time from process start to the UI's second animation frame after
# mount, recorded by the app itself as an `app.first_paint` event. Idle memory is read
# 60 s after launch: RSS of the app process, and PSS (shared pages split fairly) of the
# app plus its WebKit child processes.
set -euo pipefail
cd "$(dirname "$0")/.."
app="${1:-target/debug/hsof-control-center}"
runs="${2:-5}"
ctl=target/debug/hsofctl
[ -x "$app" ] || { echo "build the app first (make app)"; exit 1; }
[ -x "$ctl" ] || cargo build -q -p hsofctl
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
disp=":$((90 + RANDOM % 100))"
Xvfb "$disp" -screen 0 1280x800x24 >/dev/null 2>&1 &
sleep 1
export HSOF_CONTROL_SECRETS_BACKEND=file

descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
pss_tree() { # PSS in KiB of a process and all its descendants
  local total=0 p
  for p in "$1" $(descendants "$1"); do
    total=$(( total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}

echo "first paint (ms), $runs cold launches with a fresh profile each:"
for i in $(seq 1 "$runs"); do
  export HSOF_CONTROL_CONFIG="$work/$i/config.toml" HSOF_CONTROL_DATA_DIR="$work/$i/data"
  DISPLAY="$disp" "$app" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    ms=$("$ctl" events --kind app.first_paint --limit 1 --json 2>/dev/null | sed -nE 's/.*first paint ([0-9]+) ms.*/\1/p')
    [ -n "$ms" ] && break
    sleep 0.1
  done
  echo "  run $i: ${ms:-none}"
  if [ "$i" -lt "$runs" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
done
echo "idle memory after 60 s (last run):"
sleep 60
echo "  app process RSS: $(( $(awk '/^VmRSS:/ {print $2}' /proc/$pid/status) / 1024 )) MiB"
echo "  app + WebKit processes PSS: $(( $(pss_tree "$pid") / 1024 )) MiB"
kill "$pid"
