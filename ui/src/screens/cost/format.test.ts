import { describe, expect, it } from "vitest";
import {
  bandPath, bars, costLevel, cpu, day, gpus, heat, hour, memory, money, num, pct, quantity, regressionLevel,
  resizeRequest, scalingLevel, signedPct, sizingLevel, weekday, words, type Regression, type Sizing,
} from "./format";

const row = (over: Partial<Sizing>): Sizing => ({
  workload: "hsof-main", container: "hsof", resource: "cpu", request: 4, limit: null, p95: 1.2,
  recommended: 1.5, recommended_text: "1500m", monthly_saving: 40, verdict: "over", reason: "", ...over,
});

describe("cost figures", () => {
  it("money keeps small costs per dataset readable", () => {
    expect(money(1234.5, "EUR")).toBe("1234.50 EUR");
    expect(money(0.0042, "EUR")).toBe("0.0042 EUR");
    expect(money(0.35, "USD")).toBe("0.35 USD");
    expect(money(0, "USD")).toBe("0.00 USD");
    expect(money(-2, "USD")).toBe("-2.00 USD");
    expect(money(null, "USD")).toBe("—");
    expect(money(NaN, "USD")).toBe("—");
  });
  it("shares and changes", () => {
    expect(pct(0.423)).toBe("42 %");
    expect(pct(null)).toBe("—");
    expect(signedPct(0.123)).toBe("+12.3 %");
    expect(signedPct(-0.05)).toBe("-5.0 %");
    expect(signedPct(null)).toBe("—");
    expect(num(2.345, 2)).toBe("2.35");
    expect(num(undefined)).toBe("—");
  });
  it("quantities in their units", () => {
    expect(cpu(0.25)).toBe("250m");
    expect(cpu(1)).toBe("1 core");
    expect(cpu(1.5)).toBe("1.5 cores");
    expect(memory(512 * 2 ** 20)).toBe("512 MiB");
    expect(memory(1.5 * 2 ** 30)).toBe("1.5 GiB");
    expect(gpus(1)).toBe("1 GPU");
    expect(gpus(0.73)).toBe("0.73 GPUs");
    expect(quantity("memory", 2 ** 31)).toBe("2 GiB");
    expect(quantity("gpu", null)).toBe("—");
  });
  it("dates, hours, weekdays, words", () => {
    expect(day("2026-12-07T00:00:00+01:00")).toBe("2026-12-07");
    expect(day(null)).toBe("—");
    expect(hour(9)).toBe("09:00");
    expect(weekday(0)).toBe("Mon");
    expect(weekday(6)).toBe("Sun");
    expect(words("pinned_at_max")).toBe("pinned at max");
  });
});

describe("verdict colours", () => {
  it("maps each verdict", () => {
    expect([costLevel("ok"), costLevel("warning"), costLevel("critical"), costLevel("unknown")]).toEqual(["ok", "warn", "crit", "unknown"]);
    expect([sizingLevel("over"), sizingLevel("under"), sizingLevel("right"), sizingLevel("no_data"), sizingLevel("no_request")])
      .toEqual(["warn", "warn", "ok", "unknown", "unknown"]);
    expect([scalingLevel("pinned_at_max"), scalingLevel("flapping"), scalingLevel("never_scales"), scalingLevel("healthy"), scalingLevel("pinned_at_min"), scalingLevel("no_data")])
      .toEqual(["warn", "warn", "warn", "ok", "ok", "unknown"]);
    const r: Regression = { id: "p95", name: "P95", unit: "s", baseline_mean: 1, period_mean: 1.5, change: 0.5, change_pct: 50, t: 3, significant: true, regression: true, verdict: "" };
    expect(regressionLevel(r)).toBe("crit");
    expect(regressionLevel({ ...r, regression: false })).toBe("ok");
    expect(regressionLevel({ ...r, regression: false, baseline_mean: null })).toBe("unknown");
  });
});

describe("resizeRequest", () => {
  it("sets the request of the row's resource only", () => {
    expect(resizeRequest(row({}), "hsof-main")).toEqual({
      kind: "set_resources", container: "hsof",
      resources: { cpu_request: "1500m", cpu_limit: null, memory_request: null, memory_limit: null, gpus: null },
    });
    expect(resizeRequest(row({ resource: "memory", recommended_text: "1536Mi", verdict: "under" }), "hsof-main")).toMatchObject({
      resources: { cpu_request: null, memory_request: "1536Mi", gpus: null },
    });
    expect(resizeRequest(row({ resource: "gpu", recommended: 2, recommended_text: "2" }), "hsof-main")).toMatchObject({
      resources: { cpu_request: null, memory_request: null, gpus: 2 },
    });
  });
  it("offers nothing for another workload, a right size or no recommendation", () => {
    expect(resizeRequest(row({}), "other")).toBeNull();
    expect(resizeRequest(row({ verdict: "right" }), "hsof-main")).toBeNull();
    expect(resizeRequest(row({ recommended_text: null }), "hsof-main")).toBeNull();
    expect(resizeRequest(row({ resource: "gpu", recommended: null, recommended_text: "x" }), "hsof-main")).toBeNull();
  });
});

describe("chart geometry", () => {
  it("draws a bar per known value", () => {
    const b = bars([1, null, 2], 2, 30, 10);
    expect(b.map((r) => r.i)).toEqual([0, 2]);
    expect(b[1].h).toBe(10);
    expect(b[0].y).toBe(5);
  });
  it("closes the band from high forward to low back", () => {
    expect(bandPath([[0, 1, 0, 2], [10, 1, 0, 2]], 0, 10, 2, 100, 10)).toBe("M0.0,0.0L100.0,0.0L100.0,10.0L0.0,10.0Z");
    expect(bandPath([[0, 1, 0, 2]], 0, 10, 2, 100, 10)).toBe("");
  });
  it("heat is a share of the strip's highest", () => {
    expect(heat(2, [1, 2, null])).toBe(1);
    expect(heat(1, [1, 2, null])).toBe(0.5);
    expect(heat(null, [1])).toBeNull();
    expect(heat(0, [0, null])).toBe(0);
  });
});
