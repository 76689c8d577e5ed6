import { describe, expect, it } from "vitest";
import { clock, countdown, meanTime, severityLevel } from "./incidents";

const now = Date.parse("2026-11-28T10:00:00Z");

describe("incident timers", () => {
  it("count down and turn warn in the last fifth, crit when overdue", () => {
    expect(countdown("2026-11-28T10:15:00Z", now, 900)).toEqual({ text: "15:00 left", level: "ok", overdue: false });
    expect(countdown("2026-11-28T10:02:30Z", now, 900).level).toBe("warn");
    expect(countdown("2026-11-28T09:58:55Z", now, 900)).toEqual({ text: "overdue 1:05", level: "crit", overdue: true });
  });
  it("read long spans in hours and days", () => {
    expect(clock(4 * 3600 + 5 * 60)).toBe("4 h 05 min");
    expect(clock(3 * 86400)).toBe("3 d 0 h");
    expect(countdown("not a time", now, 60).text).toBe("—");
  });
  it("colour severities and format means", () => {
    expect(severityLevel("P0")).toBe("crit");
    expect(severityLevel("P2")).toBe("warn");
    expect(meanTime(17 * 60)).toBe("17 min");
    expect(meanTime(null)).toBe("—");
  });
});
