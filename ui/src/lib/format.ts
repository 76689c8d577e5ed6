// Formatting shared by every screen: sizes, ages, timestamps.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB". */
export function bytes(n: number | null): string {
  if (n === null || !Number.isFinite(n) || n < 0) return "—";
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(1)} ${UNITS[i]}`;
}

/** Age of a reading taken at `then` (ISO string or ms) seen at `now` (ms): "4 s ago". */
export function age(then: string | number, now: number): string {
  const t = typeof then === "number" ? then : Date.parse(then);
  if (!Number.isFinite(t)) return "unknown age";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** ISO timestamp → "2026-11-27 09:00:05 UTC". */
export function utc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}
