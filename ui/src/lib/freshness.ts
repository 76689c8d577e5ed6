// Every number shows its source and age; stale values say so.
import type { Freshness } from "./ipc";
import { age } from "./format";

/** "read 4 s ago", or "STALE — last read 3 min ago", or "never read". */
export function ageLabel(f: Freshness, now: number): string {
  if (!f.fetched_at) return f.stale ? "no data yet" : "";
  return f.stale ? `STALE — last read ${age(f.fetched_at, now)}` : `read ${age(f.fetched_at, now)}`;
}
