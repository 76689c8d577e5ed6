import { describe, expect, it } from "vitest";
import {
  activeNames, componentLevel, consumed, consumedLevel, dueLevel, dueText, everyOf, isDiff, isoDate, localDateTime, renderedPayload,
  needsOwner, overdueCounts, overrideInput, postState, rotationInput, rotationRule, shiftSource, span, toLocalInput, weekAhead,
  weekdayOf, zoned,
} from "./followthrough";
import type { BudgetImpact, FollowUpView, StakeholderPost, StakeholderPreview, StakeholderUpdate } from "./ipc";

const fu = (over: Partial<FollowUpView>): FollowUpView => ({
  name: "fu-1", title: "Fix it", owner: "alice", owner_is_member: true, due: "2026-12-07", due_state: { kind: "later", days: 3 },
  state: "open", reason: null, closed_by: null, closed_at: null, incident: null, incident_id: null, incident_title: null,
  source: "manual", created_by: "bob", created_at: "2026-12-01T09:00:00Z", history: [], pending: 0, mine: false, problems: [], ...over,
});

describe("team time", () => {
  it("formats instants in the team's zone", () => {
    expect(zoned("2026-12-07T08:00:00Z", "Europe/Berlin")).toBe("Mon 2026-12-07 09:00");
    expect(zoned("2026-07-06T08:00:00Z", "Europe/Berlin")).toBe("Mon 2026-07-06 10:00");
    expect(zoned("2026-12-07T08:00:00Z", "UTC")).toBe("Mon 2026-12-07 08:00");
    expect(zoned("not a time", "UTC")).toBe("not a time");
    expect(toLocalInput("2026-12-07T23:30:00Z", "Europe/Berlin")).toBe("2026-12-08T00:30");
    expect(isoDate(Date.parse("2026-12-07T23:30:00Z"), "Europe/Berlin")).toBe("2026-12-08");
    expect(isoDate(Date.parse("2026-12-07T23:30:00Z"), "UTC")).toBe("2026-12-07");
  });
  it("falls back to the desktop's zone for an unknown one", () => {
    expect(zoned("2026-12-07T08:00:00Z", "Not/AZone")).toMatch(/^\w{3} 2026-12-0\d \d\d:\d\d$/);
  });
  it("shortens a span's end as far as it stays clear", () => {
    expect(span("2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z", "UTC")).toBe("Mon 2026-12-07 08:00 → 16:00");
    expect(span("2026-12-07T08:00:00Z", "2026-12-08T08:00:00Z", "UTC")).toBe("Mon 2026-12-07 08:00 → Tue 08:00");
    expect(span("2026-12-07T08:00:00Z", "2026-12-14T08:00:00Z", "UTC")).toBe("Mon 2026-12-07 08:00 → Mon 2026-12-14 08:00");
  });
  it("defaults a due date to a week ahead, in the team's date", () => {
    const now = Date.parse("2026-12-07T23:30:00Z");
    expect(weekAhead(now, "UTC")).toBe("2026-12-14");
    expect(weekAhead(now, "Europe/Berlin")).toBe("2026-12-15");
  });
  it("names where a shift comes from", () => {
    expect(shiftSource({ kind: "rotation" })).toBe("rotation");
    expect(shiftSource({ kind: "override", id: "ovr-1", reason: "swap with Bob", by: "alice" })).toBe("override: swap with Bob (by alice)");
    expect(shiftSource({ kind: "override", id: "ovr-1", reason: "", by: "alice" })).toBe("override (by alice)");
  });
});

describe("override form", () => {
  it("sends datetime-local values as team time, minutes only", () => {
    expect(localDateTime("2026-12-24T18:00")).toBe("2026-12-24T18:00");
    expect(localDateTime("2026-12-24T18:00:30")).toBe("2026-12-24T18:00");
    expect(localDateTime("2026-12-24 18:00")).toBe("2026-12-24T18:00");
    expect(localDateTime("")).toBeNull();
    expect(localDateTime("24.12.2026 18:00")).toBeNull();
    expect(overrideInput({ who: " alice ", start: "2026-12-24T18:00", end: "2026-12-27T09:00:00", reason: " holiday swap " })).toEqual({
      ok: true, value: { who: "alice", start: "2026-12-24T18:00", end: "2026-12-27T09:00", reason: "holiday swap" },
    });
  });
  it("says what is wrong", () => {
    const base = { who: "alice", start: "2026-12-24T18:00", end: "2026-12-27T09:00", reason: "" };
    expect(overrideInput({ ...base, who: " " })).toMatchObject({ ok: false, error: expect.stringMatching(/^who/) });
    expect(overrideInput({ ...base, start: "" })).toMatchObject({ ok: false, error: expect.stringMatching(/^start/) });
    expect(overrideInput({ ...base, end: "x" })).toMatchObject({ ok: false, error: expect.stringMatching(/^end/) });
    expect(overrideInput({ ...base, end: base.start })).toEqual({ ok: false, error: "end: after the start" });
  });
});

describe("rotation form", () => {
  it("builds the rule from every", () => {
    expect(weekdayOf("2026-01-05T09:00")).toBe("MO");
    expect(weekdayOf("2026-12-24")).toBe("TH");
    expect(weekdayOf("soon")).toBeNull();
    expect(rotationRule("weekly", "2026-01-05T09:00", "")).toBe("FREQ=WEEKLY;BYDAY=MO");
    expect(rotationRule("daily", "2026-01-05T09:00", "")).toBe("FREQ=DAILY");
    expect(rotationRule("rrule", "", " RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO ")).toBe("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO");
  });
  it("reads an existing rule back", () => {
    expect(everyOf("FREQ=WEEKLY;BYDAY=MO", "2026-01-05T09:00")).toEqual({ every: "weekly", custom: "" });
    expect(everyOf("FREQ=DAILY", "2026-01-05T09:00")).toEqual({ every: "daily", custom: "" });
    expect(everyOf("FREQ=WEEKLY;BYDAY=TU", "2026-01-05T09:00")).toEqual({ every: "rrule", custom: "FREQ=WEEKLY;BYDAY=TU" });
  });
  it("checks the form", () => {
    const f = { members: "alice, bob ,, carol", every: "weekly" as const, custom: "", start: "2026-01-05T09:00", skip_holidays: true };
    expect(rotationInput(f, "Europe/Berlin")).toEqual({
      ok: true,
      value: { members: ["alice", "bob", "carol"], rrule: "FREQ=WEEKLY;BYDAY=MO", start: "2026-01-05T09:00", timezone: "Europe/Berlin", skip_holidays: true },
    });
    expect(rotationInput({ ...f, members: " , " }, "UTC")).toMatchObject({ ok: false });
    expect(rotationInput({ ...f, members: "alice, bob, alice" }, "UTC")).toEqual({ ok: false, error: "members: alice is named twice" });
    expect(rotationInput({ ...f, start: "" }, "UTC")).toMatchObject({ ok: false, error: expect.stringMatching(/^first hand-over/) });
    expect(rotationInput({ ...f, every: "rrule", custom: "" }, "UTC")).toMatchObject({ ok: false, error: expect.stringMatching(/^every/) });
  });
});

describe("follow-ups", () => {
  it("say where a due date stands", () => {
    expect(dueText({ kind: "overdue", days: 3 })).toBe("overdue 3 d");
    expect(dueText({ kind: "today" })).toBe("due today");
    expect(dueText({ kind: "later", days: 1 })).toBe("due tomorrow");
    expect(dueText({ kind: "later", days: 5 })).toBe("due in 5 d");
    expect(dueText({ kind: "closed" })).toBe("closed");
    expect([dueLevel({ kind: "overdue", days: 1 }), dueLevel({ kind: "today" }), dueLevel({ kind: "later", days: 2 }), dueLevel({ kind: "closed" })])
      .toEqual(["crit", "warn", null, null]);
  });
  it("count overdue ones, mine and all", () => {
    const late = { due_state: { kind: "overdue", days: 2 } } as const;
    expect(overdueCounts([fu(late), fu({ ...late, mine: true }), fu({ ...late, state: "done" }), fu({})])).toEqual({ mine: 1, all: 2 });
  });
  it("offer reassigning when the owner is gone", () => {
    expect(needsOwner(fu({ owner_is_member: false }), ["bob"])).toBe(true);
    expect(needsOwner(fu({ owner_is_member: false }), [])).toBe(false);
    expect(needsOwner(fu({ owner_is_member: false, state: "wont_do" }), ["bob"])).toBe(false);
    expect(needsOwner(fu({}), ["bob"])).toBe(false);
    expect(activeNames([{ name: "a", user: null, contact: null, removed_at: null }, { name: "b", user: null, contact: null, removed_at: "2026-12-01T00:00:00Z" }])).toEqual(["a"]);
  });
});

describe("stakeholders", () => {
  const update: StakeholderUpdate = { status: "identified", body: "Fixed soon.", components: { c1: "partial_outage" }, name: "Pipeline slow" };
  const post = (over: Partial<StakeholderPost>): StakeholderPost => ({
    id: 3, created_at: "2026-12-07T08:00:00Z", status: "investigating", body: "x", attempts: 0, posted_at: null, page_incident: null,
    next_attempt_at: null, last_error: null, gave_up: false, shared_id: null, ...over,
  });
  it("colour posts and components", () => {
    expect(postState(post({ posted_at: "2026-12-07T08:01:00Z" }))).toEqual({ text: "delivered", level: "ok" });
    expect(postState(post({ gave_up: true, attempts: 3 }))).toEqual({ text: "refused", level: "crit" });
    expect(postState(post({ attempts: 2 }))).toEqual({ text: "waiting · 2 attempts", level: "warn" });
    expect(postState(post({}))).toEqual({ text: "waiting", level: "warn" });
    expect([componentLevel("operational"), componentLevel("degraded_performance"), componentLevel("major_outage"), componentLevel("under_maintenance")])
      .toEqual(["ok", "warn", "crit", "unknown"]);
  });
  it("show what the rendered update sends", () => {
    const p: StakeholderPreview = {
      target: "statuspage", update,
      request: { method: "PATCH", path: "/pages/p1/incidents/i9", body: { incident: { status: "identified", body: "Fixed soon." } } },
      webhook_body: null, page_incident: "i9", next_due: null, blocked: null,
    };
    const out = renderedPayload(p)!;
    expect(out.head).toBe("PATCH /pages/p1/incidents/i9");
    expect(JSON.parse(out.body)).toEqual({ incident: { status: "identified", body: "Fixed soon." } });
    const hook = { ...p, target: "webhook", request: null, webhook_body: "{\"title\": \"x\"}" };
    expect(renderedPayload(hook)).toEqual({ head: null, body: "{\"title\": \"x\"}" });
    expect(renderedPayload({ ...hook, webhook_body: null })).toBeNull();
    expect(renderedPayload(null)).toBeNull();
  });
});

describe("post-mortem", () => {
  const b = (c: number | null): BudgetImpact => ({ id: "s", title: "S", objective: 0.999, bad_events: 10, consumed: c, minutes_over: 3 });
  it("shows budget consumed, unknown when it is", () => {
    expect(consumed(b(0.4213))).toBe("42.1 %");
    expect(consumed(b(null))).toBe("unknown");
    expect([consumedLevel(b(1.2)), consumedLevel(b(0.99)), consumedLevel(b(null))]).toEqual(["crit", null, null]);
  });
  it("tells a diff from a one-line detail", () => {
    expect(isDiff("--- before\n+++ after\n-replicas: 2\n+replicas: 3")).toBe(true);
    expect(isDiff("count 4")).toBe(false);
    expect(isDiff(null)).toBe(false);
  });
});
