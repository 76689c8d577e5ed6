#!/usr/bin/env bash
# `make e2e`: the real app under Xvfb, one spec at a time per display, E2E_JOBS displays side
# by side (default 2): each spec launches its own app (its own profile, tauri-driver port and
# WebKitWebDriver), so specs on different displays share nothing, and most of a spec's time
# is the app and WebKit waiting on each other, not the CPU.
#
# Built with the workspace's package selection, as rust-test builds: `-p hsof-tests` would
# unify features over a smaller graph and compile some 180 dependencies a second time.
#
# Usage: scripts/e2e.sh [FILTER]   (a substring of the spec names, as cargo test takes)
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$(cargo test --workspace --features hsof-tests/e2e --test e2e --no-run --message-format=json-render-diagnostics -q \
  | python3 scripts/suites.py list hsof-tests:e2e | cut -f2)
[ -n "$exe" ] || { echo "e2e: the spec binary was not built" >&2; exit 1; }
mapfile -t specs < <(cd tests && "$exe" --list --format terse "$@" | sed -n 's/: test$//p')
[ ${#specs[@]} -gt 0 ] || { echo "e2e: no spec matches: $*" >&2; exit 1; }
jobs="${E2E_JOBS:-2}"
[ "$jobs" -le ${#specs[@]} ] || jobs=${#specs[@]}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((g = 0; g < jobs; g++)); do
  group=()
  for ((i = g; i < ${#specs[@]}; i += jobs)); do group+=("${specs[$i]}"); done
  # Its own display number range per group: two `xvfb-run -a` started together can pick the
  # same free number.
  (cd tests && CARGO_MANIFEST_DIR="$PWD" xvfb-run -a -n $((90 + 10 * g)) --server-args="-screen 0 1280x800x24" \
    "$exe" --exact --test-threads=1 "${group[@]}") >"$work/$g.log" 2>&1 && echo 0 >"$work/$g.rc" || echo $? >"$work/$g.rc" &
done
wait
status=0
for ((g = 0; g < jobs; g++)); do
  printf '\n── e2e, display group %d of %d ──\n' $((g + 1)) "$jobs"
  cat "$work/$g.log"
  [ "$(cat "$work/$g.rc")" = 0 ] || status=1
done
[ $status = 0 ] && echo "e2e: ${#specs[@]} specs passed on $jobs displays" || echo "e2e: FAILED (above)" >&2
exit $status
