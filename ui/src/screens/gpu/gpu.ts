// Pure helpers of the GPU screen: figures in words and chart geometry, tested in gpu.test.ts.
import type { GpuAlert, GpuBucket } from "../../lib/ipc";
import type { Level } from "../../lib/status";

/** Bytes as GiB with one decimal, or an em dash when unknown. */
export function gib(bytes: number | null | undefined): string {
  return bytes == null ? "—" : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** A figure with its unit, or an em dash when unknown. */
export function fig(v: number | null | undefined, unit: string, digits = 0): string {
  return v == null ? "—" : `${v.toFixed(digits)}${unit}`;
}

/** `part` as a share of `whole`, 0..100, or null when either is unknown or the whole is 0. */
export function share(part: number | null | undefined, whole: number | null | undefined): number | null {
  return part == null || whole == null || whole <= 0 ? null : Math.min(100, Math.max(0, (part * 100) / whole));
}

/** The status pill of a device: the worst active alert, else ok. */
export function deviceLevel(alerts: GpuAlert[]): Level {
  const active = alerts.filter((a) => a.active);
  if (active.some((a) => a.level === "critical")) return "crit";
  if (active.length > 0) return "warn";
  return "ok";
}

export type Metric = "utilization_pct" | "memory_pct" | "temperature_c" | "power_w" | "sm_clock_mhz";

/** One value per bucket for a metric; memory is the share of total, in percent. */
export function values(buckets: GpuBucket[], m: Metric): [number, number | null][] {
  return buckets.map((b) => {
    const v = m === "memory_pct" ? share(b.memory_used, b.memory_total) : b[m];
    return [b.ts ?? 0, v ?? null];
  });
}

/**
 * An SVG path over [from, to] x [0, max] in a w x h box. The line breaks where a value is
 * missing or two points are more than `gap` seconds apart (the app was not sampling).
 */
export function linePath(points: [number, number | null][], from: number, to: number, max: number,
  w: number, h: number, gap: number): string {
  const span = Math.max(1, to - from);
  const top = max > 0 ? max : 1;
  let d = "";
  let prev: number | null = null;
  for (const [t, v] of points) {
    if (v == null) { prev = null; continue; }
    const x = ((t - from) / span) * w;
    const y = h - (Math.min(v, top) / top) * h;
    d += `${prev == null || t - prev > gap ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`;
    prev = t;
  }
  return d;
}

/** The top of a chart's scale: a fixed ceiling (100 for percentages) or the data's maximum with headroom. */
export function scaleMax(points: [number, number | null][], fixed: number | null, floor = 1): number {
  if (fixed != null) return fixed;
  const m = Math.max(floor, ...points.map(([, v]) => v ?? 0));
  return m * 1.1;
}
