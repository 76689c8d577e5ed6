import { describe, expect, it } from "vitest";
import { age, bytes, duration, metricValue, pct, utc } from "./format";
import { levelOf, worse } from "./status";
import { SECTIONS, sectionForKey, stepSection } from "./sections";

describe("format", () => {
  it("sizes in binary units", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(bytes(24 * 1024 ** 3)).toBe("24.0 GiB");
    expect(bytes(-1)).toBe("—");
  });
  it("ages readings", () => {
    const now = Date.parse("2026-11-27T09:10:00Z");
    expect(age("2026-11-27T09:09:56Z", now)).toBe("4 s ago");
    expect(age("2026-11-27T08:10:00Z", now)).toBe("1 h ago");
    expect(age("2026-11-20T09:10:00Z", now)).toBe("7 d ago");
    expect(age("garbage", now)).toBe("unknown age");
  });
  it("formats metric values, shares and durations", () => {
    expect(metricValue("backup_age_secs", 3 * 3600, "s ago")).toBe("3.0 h ago");
    expect(metricValue("error_rate_pct", 0.0412, "%")).toBe("0.04 %");
    expect(metricValue("throughput_per_hour", 180.4, "datasets/h")).toBe("180 datasets/h");
    expect(metricValue("x", null, "%")).toBe("no data");
    expect(pct(0.99912)).toBe("99.912 %");
    expect(pct(null)).toBe("—");
    expect(duration(50 * 3600)).toBe("2 d 2 h");
    expect(duration(90)).toBe("1 min");
  });
  it("prints UTC timestamps", () => {
    expect(utc("2026-11-27T09:00:05.123Z")).toBe("2026-11-27 09:00:05 UTC");
  });
});

describe("status colours", () => {
  it("maps HSOF health words to one level each", () => {
    expect(levelOf("HEALTHY")).toBe("ok");
    expect(levelOf("WARNING")).toBe("warn");
    expect(levelOf("CRITICAL")).toBe("crit");
    expect(levelOf("UNKNOWN")).toBe("unknown");
    expect(levelOf("degraded")).toBe("warn");
    expect(levelOf(undefined)).toBe("unknown");
    expect(levelOf("fail")).toBe("crit");
    expect(worse("ok", "unknown")).toBe("unknown");
    expect(worse("crit", "warn")).toBe("crit");
  });
});

describe("sections", () => {
  it("has every section of the mission with a unique shortcut", () => {
    expect(SECTIONS.map((s) => s.label)).toEqual([
      "Overview", "Fleet", "Cluster", "SLOs & Alerts", "Calendar", "Incidents", "On-call",
      "Changes", "Security", "Maintenance", "Cost & Capacity", "GPU", "Experiments", "Reports", "Settings",
    ]);
    expect(new Set(SECTIONS.map((s) => s.key)).size).toBe(SECTIONS.length);
  });
  it("selects by Alt+key only", () => {
    const k = (key: string, altKey = true) => ({ key, altKey, ctrlKey: false, metaKey: false });
    expect(sectionForKey(k("1"))).toBe("overview");
    expect(sectionForKey(k("0"))).toBe("settings");
    expect(sectionForKey(k("1", false))).toBeNull();
    expect(sectionForKey(k("f"))).toBe("fleet");
    expect(sectionForKey(k("F"))).toBe("fleet");
    expect(sectionForKey(k("y"))).toBe("security");
    expect(sectionForKey(k("m"))).toBe("maintenance");
    expect(sectionForKey(k("c"))).toBe("cost");
    expect(sectionForKey(k("o"))).toBe("oncall");
    // Alt+K stays the cluster switcher's.
    expect(sectionForKey(k("k"))).toBeNull();
  });
  it("steps with wrap-around", () => {
    expect(stepSection("overview", -1)).toBe("settings");
    expect(stepSection("settings", 1)).toBe("overview");
    expect(stepSection("cluster", 1)).toBe("slos");
  });
});
