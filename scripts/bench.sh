#!/usr/bin/env bash
# Launch-to-first-paint and idle memory of the desktop app under Xvfb, beside the floor:
# an empty Tauri window (src-tauri/examples/empty_window.rs) with WebKit's defaults and with
# the app's web view settings, and the app with its own choice and with compositing forced on,
# in one run.
# Usage: scripts/bench.sh [path-to-app-binary] [runs]   (IDLE=seconds before memory, default 60;
#        COMPARE=path-to-another-app-binary adds its rows, e.g. a build of the previous commit)
# First paint is the time from process start to the page's second animation frame after
# load: the app records it as an `app.first_paint` event (read with hsofctl), the empty
# window prints it. Idle memory is read IDLE seconds after the last launch: RSS and PSS
# (shared pages split fairly) of the main process, and PSS of WebKit's web and network
# processes.
set -euo pipefail
cd "$(dirname "$0")/.."
app="${1:-target/debug/hsof-control-center}"
runs="${2:-5}"
idle="${IDLE:-60}"
profile_dir=$(dirname "$app")
empty="$profile_dir/examples/empty_window"
ctl="$profile_dir/hsofctl"
[ -x "$ctl" ] || ctl=target/debug/hsofctl
[ -x "$app" ] || { echo "build the app first (make app, or npx tauri build --no-bundle for release)"; exit 1; }
[ -x "$ctl" ] || cargo build -q -p hsofctl
if [ ! -x "$empty" ]; then
  echo "(no $empty: build it with cargo build $([ "$profile_dir" = target/release ] && echo --release) -p hsof-control-center --example empty_window)"
  empty=""
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
disp=":$((90 + RANDOM % 100))"
Xvfb "$disp" -screen 0 1280x800x24 >/dev/null 2>&1 &
sleep 1
export HSOF_CONTROL_SECRETS_BACKEND=file

descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/$3" 2>/dev/null || echo 0; }
mib() { echo $(( ($1 + 512) / 1024 )); }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "none"}'; }

# measure LABEL COMPOSITING KIND [APP]: KIND is app or empty.
measure() {
  local label="$1" comp="$2" kind="$3" app="${4:-$app}" times="" pid="" ms i
  for i in $(seq 1 "$runs"); do
    local dir="$work/$label-$i"
    mkdir -p "$dir"
    if [ "$kind" = app ]; then
      HSOF_CONTROL_CONFIG="$dir/config.toml" HSOF_CONTROL_DATA_DIR="$dir/data" HSOF_CONTROL_COMPOSITING="$comp" \
        DISPLAY="$disp" "$app" >/dev/null 2>&1 &
      pid=$!
      ms=""
      # Wait on the app's log (a grep), not on hsofctl (a process opening the store ten
      # times a second would take CPU from the launch), then read the recorded event.
      for _ in $(seq 1 300); do
        grep -qs "first paint" "$dir"/data/logs/* && break
        sleep 0.1
      done
      for _ in $(seq 1 20); do
        ms=$(HSOF_CONTROL_CONFIG="$dir/config.toml" HSOF_CONTROL_DATA_DIR="$dir/data" \
          "$ctl" events --kind app.first_paint --limit 1 --json 2>/dev/null | sed -nE 's/.*first paint ([0-9]+) ms.*/\1/p')
        [ -n "$ms" ] && break
        sleep 0.1
      done
    else
      if [ -n "$comp" ]; then
        HSOF_CONTROL_COMPOSITING="$comp" DISPLAY="$disp" "$empty" >"$dir/out" 2>/dev/null &
      else
        env -u HSOF_CONTROL_COMPOSITING DISPLAY="$disp" "$empty" >"$dir/out" 2>/dev/null &
      fi
      pid=$!
      ms=""
      for _ in $(seq 1 300); do
        ms=$(sed -nE 's/first paint ([0-9]+) ms/\1/p' "$dir/out")
        [ -n "$ms" ] && break
        sleep 0.1
      done
    fi
    times="$times ${ms:-}"
    if [ "$i" -lt "$runs" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  done
  sleep "$idle"
  local rss pss web=0 net=0 p name
  rss=$(kib "$pid" VmRSS status)
  pss=$(kib "$pid" Pss smaps_rollup)
  for p in $(descendants "$pid"); do
    name=$(cat "/proc/$p/comm" 2>/dev/null || true)
    case "$name" in
      WebKitWebProces*) web=$(( web + $(kib "$p" Pss smaps_rollup) )) ;;
      WebKitNetworkPr*) net=$(( net + $(kib "$p" Pss smaps_rollup) )) ;;
    esac
  done
  printf '| %-34s | %5s ms | %s | %4s MiB | %4s MiB | %4s MiB | %4s MiB | %4s MiB |\n' "$label" \
    "$(echo "$times" | median)" "$(echo "$times" | xargs)" "$(mib "$rss")" "$(mib "$pss")" "$(mib "$web")" "$(mib "$net")" \
    "$(mib $(( pss + web + net )))"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "$runs cold launches each (fresh profile each), memory ${idle} s after the last; $(basename "$app") from $profile_dir"
echo
echo "| what | first paint, median | all runs (ms) | main RSS | main PSS | web process PSS | network process PSS | total PSS |"
echo "|---|---|---|---|---|---|---|---|"
if [ -n "$empty" ]; then
  measure "empty Tauri window" "" empty
  measure "empty window, app settings, compositing off" off empty
fi
if [ -n "${COMPARE:-}" ]; then
  measure "compared: $(basename "$COMPARE")" "" app "$COMPARE"
fi
measure "app" "" app
measure "app, HSOF_CONTROL_COMPOSITING=on" on app
