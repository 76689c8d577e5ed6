#!/usr/bin/env python3
"""hsof-select against the feature selectors a data scientist would otherwise use, in one run on
the same Madelon-like data (scikit-learn's make_classification, Guyon's generator).

Every tool selects 15 columns from the same 75 % training rows; every selection is then judged
the same way: the share of the 15 that are useful (informative or their linear combinations) and
the accuracy of one random forest (200 trees) fitted on the training rows with those columns and
scored on the 25 % held-out rows no tool saw.

  - scikit-learn pipeline: SelectKBest(mutual_info_classif, 50) -> random forest top 15 ->
    5-fold random-forest CV (the ten lines one would write; its CV is its reported score);
  - mrmr_selection's mrmr_classif (K = 15);
  - Boruta (BorutaPy with a depth-5 random forest), its confirmed columns ranked, top 15;
  - hsof-select through the CLI, `hsofctl select --input train.csv --target y --k3 15 --json`,
    timed as a process (CSV parsing, its own outer validation and report included).

Usage: python3 benches/compare_peers.py [--rows 2000] [--features 500] [--seed 0]
The first run creates ~/.cache/hsof-peers-venv with scikit-learn, pandas, mrmr_selection and
Boruta (PyPI) and re-executes itself there. Build the CLI first: cargo build --release -p hsofctl.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchvenv

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["scikit-learn", "numpy", "pandas", "mrmr_selection", "Boruta"]
MODULES = ["sklearn", "pandas", "mrmr", "boruta"]


def main():
    benchvenv.ensure("hsof-peers-venv", PACKAGES, MODULES, __file__)
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import SelectKBest, mutual_info_classif
    from sklearn.model_selection import cross_val_score, train_test_split

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--features", type=int, default=500)
    ap.add_argument("--informative", type=int, default=5)
    ap.add_argument("--redundant", type=int, default=15)
    ap.add_argument("--k", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    # Madelon's recipe: a few informative columns on 2 clusters per class, their linear
    # combinations, the rest noise; shuffle=False keeps the useful columns first, then a known
    # permutation hides them.
    x, y = make_classification(n_samples=a.rows, n_features=a.features, n_informative=a.informative,
                               n_redundant=a.redundant, n_repeated=0, n_clusters_per_class=2,
                               class_sep=1.0, flip_y=0.01, shuffle=False, random_state=a.seed)
    rng = np.random.default_rng(a.seed)
    perm = rng.permutation(a.features)
    x = x[:, perm]
    names = [f"f{j}" for j in range(a.features)]
    useful = {names[new] for new, old in enumerate(perm) if old < a.informative + a.redundant}
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, stratify=y, random_state=a.seed)
    dtr = pd.DataFrame(xtr, columns=names)

    def judge(cols):
        idx = [names.index(c) for c in cols]
        rf = RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=a.threads).fit(xtr[:, idx], ytr)
        return sum(c in useful for c in cols) / max(len(cols), 1), rf.score(xte[:, idx], yte)

    rows = []

    t = time.perf_counter()
    kb = SelectKBest(lambda X, Y: mutual_info_classif(X, Y, random_state=0), k=50).fit(xtr, ytr)
    cand = np.flatnonzero(kb.get_support())
    rf = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=a.threads).fit(xtr[:, cand], ytr)
    top = cand[np.argsort(-rf.feature_importances_)[: a.k]]
    cv = cross_val_score(RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=a.threads),
                         xtr[:, top], ytr, cv=5).mean()
    rows.append(("scikit-learn pipeline", time.perf_counter() - t, [names[j] for j in top], f"5-fold CV {cv:.3f}"))

    try:
        import mrmr
        t = time.perf_counter()
        chosen = mrmr.mrmr_classif(X=dtr, y=pd.Series(ytr), K=a.k, show_progress=False, n_jobs=a.threads)
        rows.append(("mrmr_selection", time.perf_counter() - t, list(chosen), "—"))
    except Exception as e:  # a peer that fails is reported, not fatal
        rows.append(("mrmr_selection", float("nan"), [], f"failed: {e}"))

    try:
        from boruta import BorutaPy
        np.int = int; np.float = float; np.bool = bool  # BorutaPy 0.3/0.4 still use the removed aliases
        t = time.perf_counter()
        b = BorutaPy(RandomForestClassifier(n_jobs=a.threads, max_depth=5, random_state=0),
                     n_estimators="auto", random_state=a.seed, max_iter=100).fit(xtr, ytr)
        order = np.argsort(b.ranking_, kind="stable")
        chosen = [names[j] for j in order[: a.k]]
        rows.append(("Boruta", time.perf_counter() - t, chosen, f"{int(b.support_.sum())} confirmed"))
    except Exception as e:
        rows.append(("Boruta", float("nan"), [], f"failed: {e}"))

    hsofctl = REPO / "target" / "release" / "hsofctl"
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "train.csv"
        dtr.assign(y=ytr).to_csv(csv, index=False)
        env = dict(os.environ, HSOF_CONTROL_DATA_DIR=str(Path(tmp) / "data"),
                   HSOF_CONTROL_CONFIG=str(Path(tmp) / "config.toml"))
        t = time.perf_counter()
        out = subprocess.run([str(hsofctl), "select", "--input", str(csv), "--target", "y", "--k3", str(a.k),
                              "--threads", str(a.threads), "--json"], env=env, capture_output=True, text=True)
        secs = time.perf_counter() - t
        if out.returncode != 0:
            sys.exit(f"hsofctl failed ({out.returncode}): {out.stderr}")
        fr = json.loads(out.stdout)["report"]["final_results"]
        v = fr["validation"]
        rows.append(("hsof-select (hsofctl)", secs, [f["name"] for f in fr["selected_features"]],
                     f"held out ({v['scheme']}) {fr['score']:.3f}, inner {v['inner_score']:.3f}"))

    base = rows[-1][1]
    print(f"data: make_classification {a.rows} x {a.features}, {a.informative} informative, {a.redundant} redundant, "
          f"seed {a.seed}; selection on {len(ytr)} rows, judged on {len(yte)} held-out rows")
    print("| tool | useful share of the 15 | held-out RF accuracy | time | time / hsof-select | its own score |")
    print("|---|---|---|---|---|---|")
    for name, secs, cols, own in rows:
        share, acc = judge(cols) if cols else (float("nan"), float("nan"))
        print(f"| {name} | {share:.2f} | {acc:.3f} | {secs:.2f} s | {secs / base:.1f}× | {own} |")
    all_useful = sorted(useful)
    share, acc = judge(all_useful)
    print(f"| (all {len(all_useful)} useful columns) | 1.00 | {acc:.3f} | | | |")


if __name__ == "__main__":
    main()
