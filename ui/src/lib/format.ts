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

/** A metric value for display: hours for backup age, sensible precision elsewhere. */
export function metricValue(id: string, v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return "no data";
  if (id === "backup_age_secs") return `${(v / 3600).toFixed(1)} h ago`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
}

/** A share (0–1) as a percentage with enough digits for SLOs: 0.99912 → "99.912 %". */
export function pct(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(digits)} %`;
}

/** Seconds → "3 h 20 min", "2 d 4 h". */
export function duration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return "—";
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
