import { describe, expect, it } from "vitest";
import {
  allDone, applyProgress, bars, baseName, buildRequest, formatOf, formProblems, initialStages, outerChoice, outerValue,
  schemeText, scoreText, seconds, sizeBars, sizeNote, suggestIds, tooLargeHere, type Form,
} from "./experiment";

const form: Form = {
  path: " /data/titanic.csv ", format: "csv", target: "Survived", ids: ["PassengerId", "Survived"], split: "",
  k1: 500, k2: 50, k3: 15, sizeMode: "fixed", seed: 42, backend: "auto", outer: "auto", outPath: "", place: "here", gpus: null,
};

describe("running on the cluster", () => {
  it("asks for a Job only when chosen, with the GPUs given or the configured default", () => {
    expect(buildRequest(form).cluster).toBeNull();
    expect(buildRequest({ ...form, place: "cluster" }).cluster).toEqual({ gpus: null });
    expect(buildRequest({ ...form, place: "cluster", gpus: 2 }).cluster).toEqual({ gpus: 2 });
  });
  it("refuses what the cluster cannot run and offers it when this machine refused the file for memory", () => {
    expect(formProblems({ ...form, place: "cluster", format: "dataset_yaml", target: "" })[0]).toMatch(/dataset YAML/);
    expect(formProblems({ ...form, place: "cluster", gpus: 0, backend: "gpu" })).toContain("The GPU backend needs at least one GPU per pod.");
    expect(formProblems({ ...form, ids: ["PassengerId"], place: "cluster", gpus: 2 })).toEqual([]);
    expect(tooLargeHere({ code: "invalid_input", message: "/d/big.csv is too large: loading it needs about 90000 MiB but the limit is 12000 MiB" })).toBe(true);
    expect(tooLargeHere({ code: "invalid_input", message: "target column `y` not found" })).toBe(false);
    expect(tooLargeHere(null)).toBe(false);
  });
});

describe("experiment progress", () => {
  it("marks earlier stages done, the current one running and later ones waiting", () => {
    let s = initialStages();
    expect(s.map((v) => v.state)).toEqual(["waiting", "waiting", "waiting", "waiting"]);
    s = applyProgress(s, { stage: "search", fraction: 0.4, message: "200 iterations per tree" });
    expect(s.map((v) => v.state)).toEqual(["done", "done", "running", "waiting"]);
    expect(s[1].fraction).toBe(1);
    expect(s[2]).toMatchObject({ fraction: 0.4, message: "200 iterations per tree" });
    s = applyProgress(s, { stage: "evaluate", fraction: 1.7, message: "best" });
    expect(s[3]).toMatchObject({ fraction: 1, state: "done" });
    expect(allDone(initialStages()).every((v) => v.state === "done" && v.fraction === 1)).toBe(true);
  });
});

describe("experiment form", () => {
  it("builds the request without the target among the ids and trims paths", () => {
    const r = buildRequest({ ...form, outPath: "  " });
    expect(r).toMatchObject({ input: "/data/titanic.csv", target: "Survived", id_columns: ["PassengerId"], k3: 15, out_path: null });
    const y = buildRequest({ ...form, format: "dataset_yaml" });
    expect(y.target).toBeNull();
    expect(y.id_columns).toEqual([]);
  });
  it("fixes the final size or lets the data choose it under a bound", () => {
    expect(buildRequest(form)).toMatchObject({ k3: 15, k3_max: null });
    expect(buildRequest({ ...form, sizeMode: "auto", k3: 30 })).toMatchObject({ k3: null, k3_max: 30 });
  });
  it("sends the outer validation the form chose and reads it back from a stored request", () => {
    expect(buildRequest(form).outer).toBe("auto");
    expect(buildRequest({ ...form, outer: "folds:5" }).outer).toEqual({ folds: 5 });
    expect(buildRequest({ ...form, outer: "holdout:0.25" }).outer).toEqual({ holdout: 0.25 });
    expect(outerChoice({ folds: 10 })).toBe("folds:10");
    expect(outerChoice({ holdout: 0.2 })).toBe("holdout:0.2");
    expect(outerChoice({ folds: 7 })).toBe("auto");
    expect(outerChoice(null)).toBe("auto");
    expect(outerValue(outerChoice({ folds: 3 }))).toEqual({ folds: 3 });
  });
  it("names how the score was measured", () => {
    const v = { scheme: "nested_folds", description: "", fold_scores: [0.5, 0.52, 0.48], held_out_rows: [100, 100, 100], inner_score: 0.7, inner_score_std: 0.02 };
    expect(schemeText(v, 5)).toBe("held out · 3 outer folds");
    expect(schemeText({ ...v, scheme: "holdout", fold_scores: [0.5], held_out_rows: [250] }, 5)).toBe("held out · holdout of 250 rows");
    expect(schemeText({ ...v, scheme: "none" }, 3)).toMatch(/no rows held out.*optimistic/);
    expect(schemeText(undefined, 5)).toBe("5-fold CV");
  });
  it("says what stops a run", () => {
    expect(formProblems({ ...form, ids: ["PassengerId"] })).toEqual([]);
    expect(formProblems({ ...form, target: "" })).toContain("Choose the target column.");
    expect(formProblems({ ...form, target: "", format: "dataset_yaml", ids: [] })).toEqual([]);
    expect(formProblems({ ...form, ids: [], k3: 0 })).toEqual(["k3 must be a whole number ≥ 1."]);
    expect(formProblems({ ...form, ids: [], k1: 2.5, seed: -1 })).toHaveLength(2);
    expect(formProblems({ ...form })[0]).toMatch(/both the target and an ID/);
    expect(sizeNote({ k1: 10, k2: 50, k3: 5 })).toMatch(/narrow/);
    expect(sizeNote({ k1: 500, k2: 50, k3: 15 })).toBe("");
  });
  it("reads the format from the extension as the backend does", () => {
    expect(formatOf("/d/a.CSV")).toBe("csv");
    expect(formatOf("/d/a.parquet")).toBe("parquet");
    expect(formatOf("/d/titanic.yml")).toBe("dataset_yaml");
    expect(formatOf("/d.v2/noext")).toBe("csv");
    expect(baseName("/d/x/titanic.csv")).toBe("titanic.csv");
  });
  it("suggests unique id-like columns only", () => {
    const c = (name: string, distinct: number, missing = 0) => ({ name, distinct, missing, rows_scanned: 100 });
    expect(suggestIds([c("PassengerId", 100), c("id", 100), c("user_id", 99), c("Survived", 2), c("Pclass", 3), c("idle", 100)]))
      .toEqual(["PassengerId", "id"]);
  });
});

describe("importance chart", () => {
  it("keeps every bar inside the width with one zero axis for negative values", () => {
    const { bars: b, zero } = bars([{ name: "a", importance: 0.3 }, { name: "b", importance: 0.1 }, { name: "c", importance: -0.1 }], 200);
    expect(zero).toBeCloseTo(50);
    expect(b[0]).toMatchObject({ x: 50, negative: false });
    expect(b[0].width).toBeCloseTo(150);
    expect(b[2].x).toBeCloseTo(0);
    expect(b[2]).toMatchObject({ negative: true });
    for (const x of b) {
      expect(x.x).toBeGreaterThanOrEqual(0);
      expect(x.x + x.width).toBeLessThanOrEqual(200 + 1e-9);
    }
  });
  it("draws all-positive values from the left edge and survives zeros and NaN", () => {
    expect(bars([{ name: "a", importance: 2 }], 100)).toMatchObject({ zero: 0, bars: [{ x: 0, width: 100 }] });
    const z = bars([{ name: "a", importance: 0 }, { name: "b", importance: Number.NaN }], 100);
    expect(z.bars.every((x) => x.width === 0 && Number.isFinite(x.x))).toBe(true);
  });
});

describe("numbers", () => {
  it("reads scores and times", () => {
    expect(scoreText("accuracy", 0.91234, 0.0211)).toBe("accuracy 0.912 ± 0.021");
    expect(scoreText("r2", 0.5, null)).toBe("r2 0.500");
    expect(scoreText("accuracy", null, null)).toBe("—");
    expect(seconds(0.042)).toBe("42 ms");
    expect(seconds(3.21)).toBe("3.2 s");
    expect(seconds(125)).toBe("2 min 5 s");
    expect(seconds(null)).toBe("—");
  });
});

describe("the held-out split choice", () => {
  const base = { path: "/d.csv", format: "csv" as const, target: "y", ids: ["id"], split: "", k1: 5, k2: 3, k3: 2, sizeMode: "fixed" as const, seed: 1, backend: "auto" as const, outer: "auto" as const, outPath: "", place: "here" as const, gpus: null };
  it("names the group or time column in the request, and nothing by default", () => {
    expect(buildRequest(base)).toMatchObject({ group_column: null, time_column: null });
    expect(buildRequest({ ...base, split: "group:site" })).toMatchObject({ group_column: "site", time_column: null });
    expect(buildRequest({ ...base, split: "time:ts:utc" })).toMatchObject({ group_column: null, time_column: "ts:utc" });
  });
  it("refuses a split column that is the target or an ID", () => {
    expect(formProblems({ ...base, split: "group:y" })).toEqual(["y cannot be both the group column and the target or an ID column."]);
    expect(formProblems({ ...base, split: "time:id" })).toHaveLength(1);
    expect(formProblems({ ...base, split: "group:site" })).toEqual([]);
  });
});

describe("final size curve", () => {
  const point = (size: number, score: number | null) => ({ size, score, score_std: 0.01, model: "boosted_trees" as const, origin: "search_order" });
  it("draws each size against the bar and marks the chosen one", () => {
    const rows = sizeBars({ rule: "auto", description: "", curve: [point(1, 0.6), point(5, 0.8), point(12, 0.82)], best_score: 0.82, threshold: 0.805, chosen: 12 });
    expect(rows.map((r) => [r.size, r.clears, r.chosen])).toEqual([[1, false, false], [5, false, false], [12, true, true]]);
    expect(rows[0].width).toBe(2);
    expect(rows[2].width).toBe(100);
    expect(rows[1].by).toBe("boosted trees · search order");
  });
  it("a score the engine could not compute draws no bar", () => {
    const rows = sizeBars({ rule: "auto", description: "", curve: [point(1, null), point(2, 0.7)], best_score: 0.7, threshold: null, chosen: 2 });
    expect(rows[0]).toMatchObject({ width: 0, clears: false });
    expect(rows[1]).toMatchObject({ clears: true, chosen: true });
  });
});
