#!/usr/bin/env bash
# `make demo`: the simulated HSOF in its own profile, the app opened on it, everything
# stopped when the app closes. Headless: `hsofctl demo start|status|scenario|stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=target/debug/hsofctl
app=target/debug/hsof-control-center
scenario="${HSOF_DEMO_SCENARIO:-healthy}"
# HSOF_DEMO_REGIONS=2: a primary region and its DR standby, as [[clusters]] (Fleet, DR drill).
regions="${HSOF_DEMO_REGIONS:-1}"

json=$("$ctl" demo start --scenario "$scenario" --regions "$regions" --json)
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$json"; }
config=$(field config)
data=$(field data_dir)
trap '"$ctl" demo stop >/dev/null || true; echo "demo stopped"' EXIT
"$ctl" demo status
echo
echo "Switch what HSOF does while the app runs, from another terminal:"
"$ctl" demo scenario | sed 's/^/  hsofctl demo scenario /'
echo
# The demo keeps its secrets in its own file, never the desktop keyring the real profile uses.
HSOF_CONTROL_SECRETS_BACKEND=file "./$app" --config "$config" --data-dir "$data"
