#!/usr/bin/env bash
# `make rust-test`: what `cargo test --workspace` checks — every test binary of the workspace
# and the doc tests — with the binaries run side by side (scripts/suites.py: RUST_TEST_JOBS at
# a time, the slowest first) instead of one after another. The build is the same
# `cargo test --workspace` build, so `make test-dates` and the CLI suites reuse its binaries.
#
# Usage: scripts/rust-test.sh [FILTER...]   (package names or PACKAGE:TARGET, default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cargo test --workspace --no-run --message-format=json-render-diagnostics | python3 scripts/suites.py list "$@" >"$list"
[ -s "$list" ] || { echo "rust-test: no test binaries match: $*" >&2; exit 1; }
status=0
python3 scripts/suites.py run "$list" || status=$?
if [ $# -eq 0 ]; then
  cargo test --workspace --doc -q || status=$?
fi
exit $status
