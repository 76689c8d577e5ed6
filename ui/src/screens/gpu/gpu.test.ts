import { describe, expect, it } from "vitest";
import { deviceLevel, fig, gib, linePath, scaleMax, share, values } from "./gpu";
import type { GpuAlert, GpuBucket } from "../../lib/ipc";

const alert = (over: Partial<GpuAlert>): GpuAlert =>
  ({ rule: "temperature", level: "critical", active: false, since: null, value: null, title: "", ...over });

const bucket = (ts: number, over: Partial<GpuBucket> = {}): GpuBucket => ({
  ts, samples: 1, utilization_pct: null, memory_util_pct: null, memory_used: null, memory_used_max: null,
  memory_total: null, temperature_c: null, temperature_max_c: null, power_w: null, power_limit_w: null,
  sm_clock_mhz: null, memory_clock_mhz: null, ...over,
});

describe("GPU figures", () => {
  it("says unknown plainly instead of zero", () => {
    expect(gib(null)).toBe("—");
    expect(gib(80 * 2 ** 30)).toBe("80.0 GiB");
    expect(fig(null, " °C")).toBe("—");
    expect(fig(71.4, " °C")).toBe("71 °C");
    expect(share(null, 10)).toBeNull();
    expect(share(5, 0)).toBeNull();
    expect(share(9, 10)).toBe(90);
  });

  it("colours a device by its worst active alert", () => {
    expect(deviceLevel([alert({})])).toBe("ok");
    expect(deviceLevel([alert({ rule: "utilization_low", level: "warning", active: true })])).toBe("warn");
    expect(deviceLevel([alert({ level: "warning", active: true }), alert({ active: true })])).toBe("crit");
  });
});

describe("GPU charts", () => {
  it("turns memory into a share of the total", () => {
    const v = values([bucket(0, { memory_used: 45, memory_total: 50 }), bucket(10)], "memory_pct");
    expect(v).toEqual([[0, 90], [10, null]]);
  });

  it("breaks the line at missing values and at sampling gaps", () => {
    const pts: [number, number | null][] = [[0, 0], [10, 50], [20, null], [30, 100], [40, 100], [500, 50]];
    const d = linePath(pts, 0, 500, 100, 500, 100, 60);
    expect(d).toBe("M0.0,100.0L10.0,50.0M30.0,0.0L40.0,0.0M500.0,50.0");
  });

  it("scales percentages to 100 and other figures to their maximum with headroom", () => {
    expect(scaleMax([[0, 30]], 100)).toBe(100);
    expect(scaleMax([[0, 200], [1, null]], null)).toBeCloseTo(220);
    expect(scaleMax([], null, 5)).toBeCloseTo(5.5);
  });
});
