// One meaning per colour, everywhere: ok green, warn amber, crit red, unknown grey.

export type Level = "ok" | "warn" | "crit" | "unknown";

/** Maps HSOF's health words and the app's own states to a level. */
export function levelOf(status: string | null | undefined): Level {
  switch ((status ?? "").toUpperCase()) {
    case "OK":
    case "HEALTHY":
    case "READY":
    case "PASS":
      return "ok";
    case "WARNING":
    case "WARN":
    case "DEGRADED":
      return "warn";
    case "CRITICAL":
    case "DOWN":
    case "ERROR":
    case "FAIL":
      return "crit";
    default:
      return "unknown";
  }
}

const RANK: Record<Level, number> = { ok: 0, unknown: 1, warn: 2, crit: 3 };

/** The worse of two levels (unknown ranks between ok and warn, as in the backend). */
export function worse(a: Level, b: Level): Level {
  return RANK[a] >= RANK[b] ? a : b;
}
