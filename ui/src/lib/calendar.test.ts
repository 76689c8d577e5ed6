import { describe, expect, it } from "vitest";
import { hoursBetween, localInputToIso, statusLevel, verdictLevel } from "./calendar";

describe("calendar colours", () => {
  it("map every status and verdict to the app's levels", () => {
    expect(statusLevel("done")).toBe("ok");
    expect(statusLevel("due")).toBe("warn");
    expect(statusLevel("partial")).toBe("warn");
    expect(statusLevel("overdue")).toBe("crit");
    expect(statusLevel("upcoming")).toBe("unknown");
    expect(statusLevel("skipped")).toBe("unknown");
    expect(statusLevel("untracked")).toBe("unknown");
    expect(verdictLevel("pass")).toBe("ok");
    expect(verdictLevel("fail")).toBe("crit");
    expect(verdictLevel("unknown")).toBe("unknown");
  });
  it("convert form times", () => {
    expect(localInputToIso("")).toBeNull();
    expect(localInputToIso("not a date")).toBeNull();
    expect(localInputToIso("2026-12-01T22:00")).toMatch(/^2026-12-0[12]T/);
    expect(hoursBetween("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z")).toBe(48);
  });
});
