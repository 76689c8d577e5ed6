import { describe, expect, it } from "vitest";
import { docFor, flatten, listText, parseList, setIn } from "./form";

const cfg = { cluster: { namespace: "hsof", kubeconfig: "" }, thresholds: { cpu: 80, critical: { backup_failure: true } }, ui: { theme: "dark" } };

describe("settings form", () => {
  it("flattens every table into a group with typed fields, in file order", () => {
    const g = flatten(cfg);
    expect(g.map((x) => x.key)).toEqual(["cluster", "thresholds", "thresholds.critical", "ui"]);
    expect(g[1].fields[0]).toMatchObject({ key: "thresholds.cpu", kind: "number", value: 80 });
    expect(g[2].fields[0]).toMatchObject({ key: "thresholds.critical.backup_failure", kind: "bool" });
    expect(g[3].fields[0]).toMatchObject({ kind: "choice", choices: ["dark", "light"] });
  });
  it("sets a nested value without touching the original", () => {
    const next = setIn(cfg, ["thresholds", "critical", "backup_failure"], false);
    expect(next.thresholds.critical.backup_failure).toBe(false);
    expect(cfg.thresholds.critical.backup_failure).toBe(true);
    expect(next.cluster).toBe(cfg.cluster);
  });
  it("shows lists comma-separated and reads them back as arrays", () => {
    const g = flatten({ team: { holidays: ["2026-12-25", "2026-12-26"], timezone: "UTC" } });
    expect(g[0].fields[0]).toMatchObject({ key: "team.holidays", kind: "list" });
    expect(listText(g[0].fields[0].value)).toBe("2026-12-25, 2026-12-26");
    expect(parseList(" 2026-12-25 ,,2026-12-26, ")).toEqual(["2026-12-25", "2026-12-26"]);
    expect(parseList("")).toEqual([]);
  });
  it("finds documentation for severity keys through the wildcard", () => {
    const docs = [{ key: "severities.*.response_minutes", doc: "Acknowledge within" }, { key: "ui.theme", doc: "dark or light" }];
    expect(docFor(docs, "severities.P2.response_minutes")).toBe("Acknowledge within");
    expect(docFor(docs, "ui.theme")).toBe("dark or light");
    expect(docFor(docs, "nope")).toBe("");
  });
});
