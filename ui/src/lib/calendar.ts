// The calendar's status colours and verdict colours, the same everywhere in the app:
// ok green, warn amber, crit red, unknown grey.
import type { Level } from "./status";

export type OccurrenceStatus = "upcoming" | "due" | "done" | "partial" | "skipped" | "overdue" | "untracked";

/** Status → colour level. Upcoming is neutral; due needs attention; overdue is late. */
export function statusLevel(s: OccurrenceStatus): Level {
  switch (s) {
    case "done": return "ok";
    case "due": case "partial": return "warn";
    case "overdue": return "crit";
    default: return "unknown";
  }
}

/** A step verdict → colour level. */
export function verdictLevel(v: string): Level {
  return v === "pass" || v === "done" ? "ok" : v === "warn" ? "warn" : v === "fail" ? "crit" : "unknown";
}

/** `datetime-local` input value (local time) → RFC 3339 UTC, or null when empty/invalid. */
export function localInputToIso(v: string): string | null {
  if (!v) return null;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

/** Hours between two ISO times. */
export function hoursBetween(a: string, b: string): number {
  return (Date.parse(b) - Date.parse(a)) / 3_600_000;
}
