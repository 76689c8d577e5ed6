// One meaning per colour, everywhere: ok green, warn amber, crit red, unknown grey.

export type Level = "ok" | "warn" | "crit" | "unknown";

/** Maps HSOF's health words and the app's own states to a level. */
export function levelOf(status: string | null | undefined): Level {
  switch ((status ?? "").toUpperCase()) {
    case "OK":
    case "HEALTHY":
    case "READY":
      return "ok";
    case "WARNING":
    case "DEGRADED":
      return "warn";
    case "CRITICAL":
    case "DOWN":
    case "ERROR":
      return "crit";
    default:
      return "unknown";
  }
}
