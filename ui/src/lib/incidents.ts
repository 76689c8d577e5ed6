// Incident timers as the screen shows them: a live countdown to each deadline, coloured
// by how close it is, from the deadlines the backend computed (so no policy lives here).
import type { Level } from "./status";

export interface Countdown {
  /** "4:32 left", "overdue 1:05", "2 h 10 min left". */
  text: string;
  level: Level;
  overdue: boolean;
}

/** Seconds as m:ss under an hour, "h h mm min" above. */
export function clock(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h >= 48 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${h} h ${String(m).padStart(2, "0")} min`;
}

/** Countdown to `due` (ISO) at `now` (ms); warn in the last fifth of `span` seconds (or 2 min). */
export function countdown(due: string, now: number, span: number): Countdown {
  const left = (Date.parse(due) - now) / 1000;
  if (!Number.isFinite(left)) return { text: "—", level: "unknown", overdue: false };
  if (left < 0) return { text: `overdue ${clock(-left)}`, level: "crit", overdue: true };
  const warnAt = Math.max(120, span / 5);
  return { text: `${clock(left)} left`, level: left <= warnAt ? "warn" : "ok", overdue: false };
}

/** Severity → the status colour it is shown in. */
export function severityLevel(s: string): Level {
  return s === "P0" || s === "P1" ? "crit" : s === "P2" ? "warn" : "unknown";
}

/** Mean time in seconds → "17 min", "2 h 05 min", "—". */
export function meanTime(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return clock(seconds);
}
