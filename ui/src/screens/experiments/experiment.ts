// Pure pieces of the Experiments screen: the request from the form, the per-stage progress,
// the importance chart's geometry, and how a score reads.
import type { BackendChoice, ExperimentRequest, OuterValidation, Progress, SizeChoice, Stage, Validation } from "../../lib/ipc";

export const STAGES: readonly Stage[] = ["load", "filter", "search", "evaluate"];

export interface StageView {
  stage: Stage;
  fraction: number;
  message: string;
  state: "waiting" | "running" | "done";
}

/** Every stage waiting, before a run starts. */
export function initialStages(): StageView[] {
  return STAGES.map((stage) => ({ stage, fraction: 0, message: "", state: "waiting" }));
}

/** The stages after one progress message: earlier stages are done, later ones wait. */
export function applyProgress(views: StageView[], p: Progress): StageView[] {
  const at = STAGES.indexOf(p.stage);
  if (at < 0) return views;
  return views.map((v, i) => {
    if (i < at) return v.state === "done" ? v : { ...v, fraction: 1, state: "done" };
    if (i > at) return v;
    const fraction = Math.min(1, Math.max(0, p.fraction ?? 0));
    return { ...v, fraction, message: p.message, state: fraction >= 1 ? "done" : "running" };
  });
}

/** The stages once a run finished well: all done. */
export function allDone(views: StageView[]): StageView[] {
  return views.map((v) => ({ ...v, fraction: 1, state: "done" }));
}

export type Format = "csv" | "parquet" | "dataset_yaml";

export interface Form {
  path: string;
  format: Format;
  target: string;
  ids: string[];
  /** How rows relate for validation: "" (by class), "group:COL" or "time:COL". */
  split: string;
  k1: number;
  k2: number;
  /** The final size: the bound the data chooses under (`auto`) or the size itself (`fixed`). */
  k3: number;
  sizeMode: SizeMode;
  seed: number;
  backend: BackendChoice;
  outer: OuterChoice;
  outPath: string;
  /** Where it runs: here, or as a Kubernetes Job on the team's GPU nodes. */
  place: Place;
  /** GPUs per pod on the cluster; null: the configuration's `experiments.cluster.gpus`. */
  gpus: number | null;
}

export type Place = "here" | "cluster";
/** `auto`: stage 3 chooses the final size up to k3; `fixed`: exactly k3 (hsofctl --k3). */
export type SizeMode = "auto" | "fixed";

/** Whether a failed local run was refused for memory: the cluster is then offered. */
export function tooLargeHere(err: { code: string; message: string } | null): boolean {
  return !!err && err.code === "invalid_input" && /is too large: loading it needs/.test(err.message);
}

/** The outer validation choices the form offers (the CLI's `--outer` takes any). */
export const OUTER_CHOICES = ["auto", "folds:3", "folds:5", "folds:10", "holdout:0.25", "holdout:0.2"] as const;
export type OuterChoice = (typeof OUTER_CHOICES)[number];

/** The engine's value for a form choice. */
export function outerValue(c: OuterChoice): OuterValidation {
  const [kind, n] = c.split(":");
  if (kind === "folds") return { folds: Number(n) };
  if (kind === "holdout") return { holdout: Number(n) };
  return "auto";
}

/** The form choice for a stored request's value (auto when it is not one the form offers). */
export function outerChoice(v: OuterValidation | null | undefined): OuterChoice {
  if (v && typeof v === "object") {
    const c = "folds" in v ? `folds:${v.folds}` : `holdout:${v.holdout}`;
    return (OUTER_CHOICES as readonly string[]).includes(c) ? (c as OuterChoice) : "auto";
  }
  return "auto";
}

/** How the score was measured, in a few words: "3 outer folds", "holdout of 500 rows". */
export function schemeText(v: Validation | null | undefined, innerFolds: number): string {
  if (!v || !v.scheme) return `${innerFolds}-fold CV`;
  if (v.scheme === "nested_folds") return `held out · ${v.fold_scores.length} outer folds`;
  if (v.scheme === "holdout") return `held out · holdout of ${v.held_out_rows[0] ?? 0} rows`;
  return `no rows held out · ${innerFolds}-fold CV (optimistic)`;
}

export const DEFAULT_SIZES = { k1: 500, k2: 50, k3: 50, seed: 42 } as const;

/** What stops the form from running, in words; empty when it can run. */
export function formProblems(f: Form): string[] {
  const out: string[] = [];
  if (!f.path.trim()) out.push("Choose a file.");
  if (f.format !== "dataset_yaml" && !f.target) out.push("Choose the target column.");
  if (f.target && f.ids.includes(f.target)) out.push(`${f.target} cannot be both the target and an ID column.`);
  const { column } = splitOf(f.split);
  if (column && (column === f.target || f.ids.includes(column))) {
    out.push(`${column} cannot be both the ${splitOf(f.split).kind} column and the target or an ID column.`);
  }
  for (const [k, v] of [["k1", f.k1], ["k2", f.k2], ["k3", f.k3]] as const) {
    if (!Number.isInteger(v) || v < 1) out.push(`${k} must be a whole number ≥ 1.`);
  }
  if (!Number.isInteger(f.seed) || f.seed < 0) out.push("seed must be a whole number ≥ 0.");
  if (f.place === "cluster") {
    if (f.format === "dataset_yaml") out.push("A dataset YAML names a SQLite file on this desktop: run a CSV or Parquet file on the cluster.");
    if (f.gpus !== null && (!Number.isInteger(f.gpus) || f.gpus < 0 || f.gpus > 16)) out.push("GPUs per pod must be 0 to 16.");
    if (f.gpus === 0 && f.backend === "gpu") out.push("The GPU backend needs at least one GPU per pod.");
  }
  return out;
}

/** A note (not an error) when the sizes do not narrow stage after stage. */
export function sizeNote(f: Pick<Form, "k1" | "k2" | "k3">): string {
  if (f.k1 < f.k2 || f.k2 < f.k3) return "Sizes usually narrow: k1 ≥ k2 ≥ k3; the engine clamps each stage to what it receives.";
  return "";
}

/** The form's split choice as kind and column ("group" / "time"; empty when by class). */
export function splitOf(split: string): { kind: "" | "group" | "time"; column: string } {
  const i = split.indexOf(":");
  const kind = split.slice(0, i);
  if (i < 0 || (kind !== "group" && kind !== "time")) return { kind: "", column: "" };
  return { kind, column: split.slice(i + 1) };
}

/** The IPC request for a valid form. */
export function buildRequest(f: Form): ExperimentRequest {
  const yaml = f.format === "dataset_yaml";
  const { kind, column } = splitOf(f.split);
  return {
    input: f.path.trim(),
    target: yaml ? null : f.target,
    id_columns: yaml ? [] : f.ids.filter((c) => c !== f.target),
    group_column: !yaml && kind === "group" ? column : null,
    time_column: !yaml && kind === "time" ? column : null,
    k1: f.k1,
    k2: f.k2,
    k3: f.sizeMode === "fixed" ? f.k3 : null,
    k3_max: f.sizeMode === "auto" ? f.k3 : null,
    seed: f.seed,
    threads: null,
    backend: f.backend,
    outer: outerValue(f.outer),
    search_seconds: null,
    class_weight: null,
    out_path: f.outPath.trim() || null,
    cluster: f.place === "cluster" ? { gpus: f.gpus } : null,
  };
}

/** The format the backend will read, by extension (the same rule as the Rust side). */
export function formatOf(path: string): Format {
  const ext = path.trim().toLowerCase().split(/[\\/]/).pop()?.split(".").slice(1).pop() ?? "";
  if (ext === "parquet" || ext === "pq") return "parquet";
  if (ext === "yaml" || ext === "yml") return "dataset_yaml";
  return "csv";
}

export interface Bar {
  name: string;
  value: number;
  x: number;
  width: number;
  negative: boolean;
}

/** Horizontal bars for values that may be negative (permutation importance): one scale,
 *  a zero axis at `zero`, every bar inside [0, width]. */
export function bars(items: { name: string; importance: number | null }[], width: number): { bars: Bar[]; zero: number } {
  const vals = items.map((i) => (i.importance !== null && Number.isFinite(i.importance) ? i.importance : 0));
  const lo = Math.min(0, ...vals);
  const hi = Math.max(0, ...vals);
  const scale = width / (hi - lo || 1);
  const zero = lo < 0 ? -lo * scale : 0;
  return {
    zero,
    bars: items.map((it, i) => {
      const v = vals[i];
      return { name: it.name, value: v, x: v >= 0 ? zero : zero + v * scale, width: Math.abs(v) * scale, negative: v < 0 };
    }),
  };
}

/** "accuracy 0.912 ± 0.021", or "—" without a score. */
export function scoreText(metric: string | null | undefined, score: number | null | undefined, std: number | null | undefined): string {
  if (score === null || score === undefined || !Number.isFinite(score)) return "—";
  const sd = std === null || std === undefined || !Number.isFinite(std) ? "" : ` ± ${std.toFixed(3)}`;
  return `${metric ?? "score"} ${score.toFixed(3)}${sd}`;
}

/** Seconds with a precision that suits them: 0.042 → "42 ms", 3.21 → "3.2 s". */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The file name of a path, for dense tables. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** ID columns to tick for a new file: named like an id (`id`, `user_id`, `PassengerId`) and
 *  unique in the preview rows. The user can untick them. */
export function suggestIds(columns: { name: string; distinct: number; missing: number; rows_scanned: number }[]): string[] {
  return columns
    .filter((c) => /^id$|[_\-\s]id$|^id[_\-\s]|[a-z]Id$|[a-z]ID$/i.test(c.name) || c.name === "ID")
    .filter((c) => c.rows_scanned > 0 && c.missing === 0 && c.distinct === c.rows_scanned)
    .map((c) => c.name);
}

/** A number with fixed digits, or "—" (the backend sends non-finite floats as null). */
export function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
}

/** One row of the final-size curve as the screen draws it. */
export interface SizeBar {
  size: number;
  score: number | null;
  std: number | null;
  /** Bar length in percent of the range from the lowest score (or the bar) to the best. */
  width: number;
  /** Whether the size reached the bar a smaller size had to clear. */
  clears: boolean;
  chosen: boolean;
  by: string;
}

/** The size curve of a report (`final_results.size_choice`), ready to draw; a score the
 *  engine could not compute (null) draws no bar and never clears. */
export function sizeBars(choice: SizeChoice): SizeBar[] {
  const scores = choice.curve.map((p) => p.score).filter((x): x is number => x !== null && Number.isFinite(x));
  const best = choice.best_score ?? Math.max(...scores);
  const bar = choice.threshold ?? best;
  const lo = Math.min(...scores, bar);
  const span = Math.max(best - lo, 1e-9);
  return choice.curve.map((p) => ({
    size: p.size,
    score: p.score,
    std: p.score_std,
    width: p.score === null ? 0 : Math.max(2, Math.min(100, Math.round(((p.score - lo) / span) * 100))),
    clears: p.score !== null && p.score >= bar,
    chosen: p.size === choice.chosen,
    by: `${p.model.replace(/_/g, " ")} · ${p.origin.replace(/_/g, " ")}`,
  }));
}
