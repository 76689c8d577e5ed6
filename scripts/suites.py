#!/usr/bin/env python3
"""The workspace's test binaries: list them from a cargo build, or run them side by side.

  cargo test --workspace --no-run --message-format=json | scripts/suites.py list [FILTER...]
      One line per test binary: package directory, executable, package, target (tab-separated).
      With filters, only the binaries whose package is named, or whose PACKAGE:TARGET is.
  scripts/suites.py run LIST [-- ARGS...]
      Runs every binary of LIST as `cargo test` would (in its package's directory, with
      CARGO_MANIFEST_DIR set), RUST_TEST_JOBS of them at a time (default 3), the slowest of
      the last run first (times kept in target/suite-times.json; scripts/suite-times.json
      seeds a fresh clone). Each binary's output is
      printed whole when it ends; the exit status is 1 when any failed, and they are named.

Why side by side: `cargo test` runs one binary after another, and most of the suites wait on
their own servers and timers (Prometheus, AlertManager, the fake API server, the registry),
so on two cores one after another left the CPU idle half the time (`make rust-test`).
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMES = os.path.join(ROOT, "target", "suite-times.json")
# The slow suites' times as this machine measured them, for the first run of a fresh clone
# (before its own times exist): the slowest still start first.
SEED = os.path.join(ROOT, "scripts", "suite-times.json")


def package_name(message):
    # package_id is "path+file:///…/dir#name@version" (cargo 1.77+), "path+file:///…/dir#version"
    # (the name is the directory's) or "name version (path+…)" (older cargo).
    pid = message["package_id"]
    if "#" not in pid:
        return pid.split(" ", 1)[0]
    tail = pid.split("#", 1)[1]
    if "@" in tail:
        return tail.split("@", 1)[0]
    return os.path.basename(os.path.dirname(message["manifest_path"]))


def list_binaries(filters):
    wanted = set(filters)
    seen = set()
    for line in sys.stdin:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("reason") != "compiler-artifact" or not m.get("profile", {}).get("test"):
            continue
        exe = m.get("executable")
        if not exe or exe in seen:
            continue
        seen.add(exe)
        name = package_name(m)
        target = m["target"]["name"]
        if wanted and name not in wanted and f"{name}:{target}" not in wanted:
            continue
        print("\t".join([os.path.dirname(m["manifest_path"]), exe, name, target]))


def run_binaries(list_file, args):
    suites = []
    with open(list_file) as f:
        for line in f:
            if line.strip():
                directory, exe, package, target = line.rstrip("\n").split("\t")
                suites.append((f"{package}:{target}", directory, exe))
    if not suites:
        print("suites: no test binaries to run", file=sys.stderr)
        return 1
    last = {}
    for path in (SEED, TIMES):
        try:
            with open(path) as f:
                last.update(json.load(f))
        except (OSError, ValueError):
            pass
    # Longest first, so the long ones do not start last; a binary never timed counts as short
    # (the seed names every slow one).
    suites.sort(key=lambda s: -last.get(s[0], 0.0))
    jobs = max(1, int(os.environ.get("RUST_TEST_JOBS", "3")))

    lock = threading.Lock()
    children = set()
    results = {}
    stopping = threading.Event()

    def run(suite):
        key, directory, exe = suite
        if stopping.is_set():
            return
        env = dict(os.environ, CARGO_MANIFEST_DIR=directory)
        start = time.monotonic()
        proc = subprocess.Popen([exe, *args], cwd=directory, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        with lock:
            children.add(proc)
        out, _ = proc.communicate()
        took = time.monotonic() - start
        with lock:
            children.discard(proc)
            results[key] = (proc.returncode, took)
            sys.stdout.write(f"\n── {key} ({os.path.relpath(exe, ROOT)}): "
                             f"{'ok' if proc.returncode == 0 else 'FAILED'} in {took:.1f} s ──\n")
            sys.stdout.write(out.decode("utf-8", "replace"))
            sys.stdout.flush()

    def stop(signum, _frame):
        stopping.set()
        with lock:
            for p in children:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run, suites))
    wall = time.monotonic() - start

    last.update({k: round(t, 1) for k, (_, t) in results.items()})
    os.makedirs(os.path.dirname(TIMES), exist_ok=True)
    with open(TIMES + ".tmp", "w") as f:
        json.dump(last, f, indent=1, sort_keys=True)
    os.replace(TIMES + ".tmp", TIMES)

    failed = sorted(k for k, (rc, _) in results.items() if rc != 0)
    busy = sum(t for _, t in results.values())
    slowest = sorted(results.items(), key=lambda kv: -kv[1][1])[:5]
    print(f"\nsuites: {len(results)} binaries in {wall:.0f} s, {jobs} at a time "
          f"({busy:.0f} s one after another); slowest: "
          + ", ".join(f"{k} {t:.0f} s" for k, (_, t) in slowest))
    if failed:
        print("suites: FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "list":
        list_binaries(sys.argv[2:])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "run":
        rest = sys.argv[3:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        return run_binaries(sys.argv[2], rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
