#!/usr/bin/env python3
"""Stage 1 of hsof-select against scikit-learn's SelectKBest on the same synthetic CSV.

Generates data with sklearn.datasets.make_classification (informative, redundant and noise columns,
columns shuffled with a known permutation), writes it to CSV, then in one run:
  - times SelectKBest(mutual_info_classif, k) and SelectKBest(f_classif, k) (fit only),
  - runs `cargo run --release -p hsof-select --example stage1_csv` on the same CSV (filter time
    measured inside, CSV parsing reported separately),
and reports, for each, the recall of the informative columns among the k selected and the time
ratio against hsof-select.

Usage: python3 benches/compare_sklearn.py [--rows 2000] [--features 1000] [--k 50] [--threads 2]
The first run creates a virtual environment under ~/.cache/hsof-bench-venv with scikit-learn and
numpy (from PyPI) and re-executes itself there.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import benchvenv

REPO = Path(__file__).resolve().parent.parent


def main():
    benchvenv.ensure("hsof-bench-venv", ["scikit-learn", "numpy"], ["numpy", "sklearn"], __file__)
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.feature_selection import SelectKBest, f_classif, mutual_info_classif

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--features", type=int, default=1000)
    ap.add_argument("--informative", type=int, default=10)
    ap.add_argument("--redundant", type=int, default=10)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    # shuffle=False puts informative columns first, then redundant, then noise; we shuffle ourselves
    # so we know where each went.
    x, y = make_classification(
        n_samples=a.rows, n_features=a.features, n_informative=a.informative, n_redundant=a.redundant,
        n_repeated=0, n_classes=2, shuffle=False, random_state=a.seed,
    )
    rng = np.random.default_rng(a.seed)
    perm = rng.permutation(a.features)  # new column i holds old column perm[i]
    x = x[:, perm].astype(np.float32)
    names = [f"f{i}" for i in range(a.features)]
    informative = {names[i] for i in range(a.features) if perm[i] < a.informative}
    signal = {names[i] for i in range(a.features) if perm[i] < a.informative + a.redundant}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.csv"
        t = time.perf_counter()
        with open(path, "w") as f:
            f.write(",".join(names + ["target"]) + "\n")
            for row, label in zip(x, y):
                f.write(",".join(f"{v:.6g}" for v in row) + f",{label}\n")
        print(f"data: {a.rows} rows x {a.features} features ({a.informative} informative, "
              f"{a.redundant} redundant), k = {a.k}; CSV written in {time.perf_counter() - t:.1f} s")

        results = {}
        for label, score in [("sklearn mutual_info_classif", mutual_info_classif), ("sklearn f_classif", f_classif)]:
            t = time.perf_counter()
            sel = SelectKBest(lambda X, Y: score(X, Y) if score is f_classif else score(X, Y, random_state=0), k=a.k)
            sel.fit(x, y)
            secs = time.perf_counter() - t
            results[label] = ({names[i] for i in np.flatnonzero(sel.get_support())}, secs)

        env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", str(REPO / "target")))
        cmd = ["cargo", "run", "-q", "--release", "-p", "hsof-select", "--example", "stage1_csv", "--",
               str(path), "target", str(a.k), str(a.threads)]
        out = subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout
        rust = json.loads(out.strip().splitlines()[-1])
        results["hsof-select stage 1"] = (set(rust["selected"]), rust["filter_seconds"])
        print(f"hsof-select CSV load: {rust['load_seconds']:.2f} s, threads: {rust['threads']}")

    base = results["hsof-select stage 1"][1]
    print(f"{'method':32} {'time s':>9} {'x hsof':>8} {'informative recall':>19} {'signal in k':>12}")
    for label, (chosen, secs) in results.items():
        recall = len(chosen & informative) / len(informative)
        sig = len(chosen & signal)
        print(f"{label:32} {secs:9.3f} {secs / base:8.1f} {recall:19.2f} {sig:>7d}/{len(chosen)}")


if __name__ == "__main__":
    main()
