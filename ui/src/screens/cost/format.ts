// Pure helpers of the Cost & Capacity screen: money, quantities, verdict colours, the
// Set resources request a right-sizing row makes, and chart geometry. Tested in format.test.ts.
import type { CapacityView, ChangeRequest, CostView } from "../../lib/ipc";
import { levelOf, type Level } from "../../lib/status";

export type Sizing = CapacityView["rightsizing"][number];
export type Autoscale = CapacityView["autoscaling"][number];
export type Growth = CapacityView["datasets_growth"];
export type Regression = CapacityView["regressions"][number];
export type Period = CostView["days"][number];

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

/** A number with `digits` decimals, or an em dash when unknown. */
export function num(v: number | null | undefined, digits = 1): string {
  return v == null || !Number.isFinite(v) ? "—" : v.toFixed(digits);
}

/**
 * Money in the view's currency: two decimals from 1 up, two significant digits below
 * (a cost per dataset of 0.0042 is not "0.00"); an em dash when unknown.
 */
export function money(v: number | null | undefined, currency: string): string {
  if (v == null || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  const s = a >= 1 || a === 0 ? v.toFixed(2) : String(Number(v.toPrecision(2)));
  return `${s} ${currency}`;
}

/** A share (0..1) as a whole percentage, `42 %`. */
export function pct(share: number | null | undefined, digits = 0): string {
  return share == null || !Number.isFinite(share) ? "—" : `${(share * 100).toFixed(digits)} %`;
}

/** A change as a signed percentage: 0.123 → `+12.3 %`. */
export function signedPct(share: number | null | undefined): string {
  if (share == null || !Number.isFinite(share)) return "—";
  return `${share > 0 ? "+" : ""}${(share * 100).toFixed(1)} %`;
}

const trim = (v: number, digits: number) => String(Number(v.toFixed(digits)));

/** CPU in cores: `250m` below one core, `1.5 cores` from one. */
export function cpu(cores: number | null | undefined): string {
  if (cores == null || !Number.isFinite(cores)) return "—";
  if (Math.abs(cores) < 1) return `${Math.round(cores * 1000)}m`;
  return `${trim(cores, 2)} ${cores === 1 ? "core" : "cores"}`;
}

/** Memory in bytes: `512 MiB` below one GiB, `1.5 GiB` from one. */
export function memory(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return "—";
  if (Math.abs(bytes) < 2 ** 30) return `${Math.round(bytes / 2 ** 20)} MiB`;
  return `${trim(bytes / 2 ** 30, 1)} GiB`;
}

/** GPUs in devices (a percentile may be a fraction of one). */
export function gpus(devices: number | null | undefined): string {
  if (devices == null || !Number.isFinite(devices)) return "—";
  return `${trim(devices, 2)} GPU${devices === 1 ? "" : "s"}`;
}

/** A right-sizing quantity in the resource's own unit. */
export function quantity(resource: Sizing["resource"], v: number | null | undefined): string {
  return resource === "cpu" ? cpu(v) : resource === "memory" ? memory(v) : gpus(v);
}

/** An RFC 3339 instant or date as its date, `2026-12-07`; an em dash when absent. */
export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : "—";
}

/** A local hour, `09:00`. */
export const hour = (h: number | null | undefined) => (h == null ? "—" : `${String(h).padStart(2, "0")}:00`);

/** A weekday (0 = Monday) by name. */
export const weekday = (d: number | null | undefined) => (d == null ? "—" : WEEKDAYS[((d % 7) + 7) % 7]);

/** A verdict word as shown: `pinned_at_max` → `pinned at max`. */
export const words = (v: string) => v.replace(/_/g, " ");

/** The budget's status: ok pass, warning warn, critical fail, unknown unknown. */
export function costLevel(s: CostView["budget"]["status"]): Level {
  return levelOf({ ok: "pass", warning: "warn", critical: "fail", unknown: "unknown" }[s]);
}

/** A right-sizing verdict: over and under warn, right passes, no data or no request unknown. */
export function sizingLevel(v: Sizing["verdict"]): Level {
  return v === "over" || v === "under" ? "warn" : v === "right" ? "ok" : "unknown";
}

/** An autoscaler's verdict: pinned at max, flapping and never scales warn. */
export function scalingLevel(v: Autoscale["verdict"]): Level {
  if (v === "pinned_at_max" || v === "flapping" || v === "never_scales") return "warn";
  return v === "healthy" || v === "pinned_at_min" ? "ok" : "unknown";
}

/** A regression row: a regression fails; a side without data cannot tell; else passes. */
export function regressionLevel(r: Regression): Level {
  if (r.regression) return "crit";
  return r.baseline_mean == null || r.period_mean == null ? "unknown" : "ok";
}

/**
 * The *Set resources* change a right-sizing row proposes: requests only (CPU, memory, or
 * GPUs as a whole number), for the deployment the change targets; null when the row has no
 * recommendation to apply.
 */
export function resizeRequest(r: Sizing, deployment: string): ChangeRequest | null {
  if (r.workload !== deployment || (r.verdict !== "over" && r.verdict !== "under") || !r.recommended_text) return null;
  const resources = { cpu_request: null as string | null, cpu_limit: null, memory_request: null as string | null, memory_limit: null, gpus: null as number | null };
  if (r.resource === "cpu") resources.cpu_request = r.recommended_text;
  else if (r.resource === "memory") resources.memory_request = r.recommended_text;
  else {
    const n = Number.parseInt(r.recommended_text, 10);
    const g = Number.isFinite(n) ? n : Math.ceil(r.recommended ?? NaN);
    if (!Number.isFinite(g) || g < 0) return null;
    resources.gpus = g;
  }
  return { kind: "set_resources", container: r.container, resources };
}

/** Bars for values over a w × h box, one slot each; a missing value has no bar. */
export function bars(values: (number | null)[], max: number, w: number, h: number): { x: number; y: number; w: number; h: number; i: number }[] {
  const slot = w / Math.max(1, values.length);
  const top = max > 0 ? max : 1;
  return values.flatMap((v, i) => {
    if (v == null || !Number.isFinite(v)) return [];
    const bh = (Math.max(0, Math.min(v, top)) / top) * h;
    return [{ x: i * slot + slot * 0.15, y: h - bh, w: slot * 0.7, h: bh, i }];
  });
}

/** A closed SVG path of the band between `low` and `high` over [from, to] × [0, max]. */
export function bandPath(points: [number | null, number | null, number | null, number | null][],
  from: number, to: number, max: number, w: number, h: number): string {
  const span = Math.max(1, to - from);
  const top = max > 0 ? max : 1;
  const pts = points.filter((p): p is [number, number | null, number, number] => p[0] != null && p[2] != null && p[3] != null);
  if (pts.length < 2) return "";
  const x = (t: number) => (((t - from) / span) * w).toFixed(1);
  const y = (v: number) => (h - (Math.max(0, Math.min(v, top)) / top) * h).toFixed(1);
  const upper = pts.map((p, i) => `${i ? "L" : "M"}${x(p[0])},${y(p[3])}`).join("");
  const lower = [...pts].reverse().map((p) => `L${x(p[0])},${y(p[2])}`).join("");
  return `${upper}${lower}Z`;
}

/** Heat: a value's share of the strip's highest, 0..1, or null when unknown. */
export function heat(v: number | null | undefined, values: (number | null)[]): number | null {
  if (v == null || !Number.isFinite(v)) return null;
  const m = Math.max(0, ...values.map((x) => (x != null && Number.isFinite(x) ? x : 0)));
  return m > 0 ? Math.max(0, v / m) : 0;
}
