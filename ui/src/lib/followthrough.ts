// What follows an incident, as the screens show it: on-call times in the team's zone, the
// forms' inputs (overrides, the rotation), follow-up due dates, roles, stakeholder posts and
// the post-mortem's impact. Pure: tested in followthrough.test.ts.
import type {
  BudgetImpact, ComponentStatus, Due, FollowUpState, FollowUpView, MemberView, OverrideInput, PageStatus, Role, Rotation,
  ShiftSource, StakeholderPost, StakeholderPreview, TimelineSource,
} from "./ipc";
import type { Level } from "./status";

export const ROLES: readonly { role: Role; label: string }[] = [
  { role: "commander", label: "Commander" },
  { role: "communications", label: "Communications lead" },
  { role: "scribe", label: "Scribe" },
];

/** Names of the members who have not been removed (what a datalist offers). */
export function activeNames(members: MemberView[]): string[] {
  return members.filter((m) => !m.removed_at).map((m) => m.name);
}

// ---- Times in the team's zone -------------------------------------------------------

type Parts = { weekday: string; year: string; month: string; day: string; hour: string; minute: string };

function parts(ms: number, timeZone?: string | null): Parts | null {
  if (!Number.isFinite(ms)) return null;
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone || undefined, weekday: "short", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  } catch {
    return parts(ms, null); // an unknown zone: the desktop's own
  }
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
  return { weekday: p.weekday, year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute };
}

/** An instant as a date in `timeZone` (the desktop's without one): `2026-12-07`. */
export function isoDate(ms: number, timeZone?: string | null): string {
  const p = parts(ms, timeZone);
  return p ? `${p.year}-${p.month}-${p.day}` : "";
}

/** The date a week after `now` in `timeZone`: a new follow-up's due date by default. */
export function weekAhead(now: number, timeZone?: string | null): string {
  return isoDate(now + 7 * 86400_000, timeZone);
}

/** An instant (RFC 3339) in `timeZone`: `Mon 2026-12-07 09:00`; the text itself when unreadable. */
export function zoned(iso: string, timeZone?: string | null): string {
  const p = parts(Date.parse(iso), timeZone);
  return p ? `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : iso;
}

/** An instant as a `datetime-local` value in `timeZone`: `2026-12-07T09:00`. */
export function toLocalInput(iso: string, timeZone?: string | null): string {
  const p = parts(Date.parse(iso), timeZone);
  return p ? `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}` : "";
}

/**
 * A span in `timeZone`, the end as short as reads unambiguously: `Mon 2026-12-07 09:00 → 17:00`
 * the same day, `→ Tue 09:00` within the week, else in full.
 */
export function span(start: string, end: string, timeZone?: string | null): string {
  const a = parts(Date.parse(start), timeZone);
  const b = parts(Date.parse(end), timeZone);
  if (!a || !b) return `${start} → ${end}`;
  const head = `${a.weekday} ${a.year}-${a.month}-${a.day} ${a.hour}:${a.minute}`;
  const days = (Date.parse(end) - Date.parse(start)) / 86400_000;
  if (a.year === b.year && a.month === b.month && a.day === b.day) return `${head} → ${b.hour}:${b.minute}`;
  if (days > 0 && days < 6) return `${head} → ${b.weekday} ${b.hour}:${b.minute}`;
  return `${head} → ${b.weekday} ${b.year}-${b.month}-${b.day} ${b.hour}:${b.minute}`;
}

/** Where a shift comes from, in words. */
export function shiftSource(s: ShiftSource): string {
  return s.kind === "rotation" ? "rotation" : `override${s.reason ? `: ${s.reason}` : ""} (by ${s.by})`;
}

// ---- Forms ---------------------------------------------------------------------------

const LOCAL = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d+)?)?$/;

/** A `datetime-local` value as the backend reads team time, `YYYY-MM-DDTHH:MM`; null when not one. */
export function localDateTime(v: string): string | null {
  const m = LOCAL.exec(v.trim());
  return m ? `${m[1]}T${m[2]}` : null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** The override form as the backend takes it (start and end in team time), or what is wrong. */
export function overrideInput(f: { who: string; start: string; end: string; reason: string }): Checked<OverrideInput> {
  const who = f.who.trim();
  if (!who) return { ok: false, error: "who: name the member on call instead" };
  const start = localDateTime(f.start);
  if (!start) return { ok: false, error: "start: a date and time (team time)" };
  const end = localDateTime(f.end);
  if (!end) return { ok: false, error: "end: a date and time (team time)" };
  if (end <= start) return { ok: false, error: "end: after the start" };
  return { ok: true, value: { who, start, end, reason: f.reason.trim() } };
}

export type Every = "weekly" | "daily" | "rrule";
const WEEKDAY = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

/** The weekday (`MO`) of a local `YYYY-MM-DD…` date, as a calendar date (no zone involved). */
export function weekdayOf(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(local.trim());
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) ? null : WEEKDAY[d.getUTCDay()];
}

/** The RRULE body of the form's *every*: weekly on the first hand-over's weekday, daily, or as typed. */
export function rotationRule(every: Every, start: string, custom: string): string {
  if (every === "daily") return "FREQ=DAILY";
  if (every === "weekly") {
    const wd = weekdayOf(start);
    return wd ? `FREQ=WEEKLY;BYDAY=${wd}` : "FREQ=WEEKLY";
  }
  return custom.trim().replace(/^RRULE:/i, "");
}

/** How the form shows an existing rule: weekly or daily when it is exactly that, else the RRULE. */
export function everyOf(rrule: string, start: string): { every: Every; custom: string } {
  const r = rrule.trim().replace(/^RRULE:/i, "").toUpperCase();
  if (r === "FREQ=DAILY") return { every: "daily", custom: "" };
  if (r === rotationRule("weekly", start, "")) return { every: "weekly", custom: "" };
  return { every: "rrule", custom: rrule.trim() };
}

/** The rotation form as the backend takes it, or what is wrong. */
export function rotationInput(
  f: { members: string; every: Every; custom: string; start: string; skip_holidays: boolean },
  timezone: string,
): Checked<Rotation> {
  const members = f.members.split(",").map((m) => m.trim()).filter(Boolean);
  if (!members.length) return { ok: false, error: "members: name them in turn order, separated by commas" };
  const dup = members.find((m, i) => members.indexOf(m) !== i);
  if (dup) return { ok: false, error: `members: ${dup} is named twice` };
  const start = localDateTime(f.start);
  if (!start) return { ok: false, error: "first hand-over: a date and time (team time)" };
  const rrule = rotationRule(f.every, start, f.custom);
  if (!rrule) return { ok: false, error: "every: write the RRULE, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO" };
  return { ok: true, value: { members, rrule, start, timezone, skip_holidays: f.skip_holidays } };
}

// ---- Follow-ups ----------------------------------------------------------------------

/** Where a due date stands, in words: `overdue 3 d`, `due today`, `due in 5 d`. */
export function dueText(d: Due): string {
  switch (d.kind) {
    case "closed": return "closed";
    case "overdue": return `overdue ${d.days} d`;
    case "today": return "due today";
    case "later": return d.days === 1 ? "due tomorrow" : `due in ${d.days} d`;
  }
}

/** Its colour, as the calendar's: due today warns, overdue is critical; otherwise none. */
export function dueLevel(d: Due): Level | null {
  return d.kind === "overdue" ? "crit" : d.kind === "today" ? "warn" : null;
}

export const STATE_LABEL: Record<FollowUpState, string> = { open: "open", in_progress: "in progress", done: "done", wont_do: "won't do" };

export const isClosed = (s: FollowUpState) => s === "done" || s === "wont_do";

/** Overdue open follow-ups: this desktop user's and everyone's. */
export function overdueCounts(list: FollowUpView[]): { mine: number; all: number } {
  const late = list.filter((f) => !isClosed(f.state) && f.due_state.kind === "overdue");
  return { mine: late.filter((f) => f.mine).length, all: late.length };
}

/** An owner to reassign from: removed, or not a member of a team that has members. */
export function needsOwner(f: FollowUpView, members: string[]): boolean {
  return !isClosed(f.state) && !f.owner_is_member && members.length > 0;
}

// ---- Stakeholders --------------------------------------------------------------------

export const PAGE_STATUSES: readonly PageStatus[] = ["investigating", "identified", "monitoring", "resolved"];
export const COMPONENT_STATUSES: readonly ComponentStatus[] = ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"];

/** `degraded_performance` → `degraded performance`. */
export const words = (v: string) => v.replace(/_/g, " ");

/** A component's status colour: operational ok, degraded or partial warn, major outage crit. */
export function componentLevel(c: ComponentStatus): Level {
  return c === "operational" ? "ok" : c === "major_outage" ? "crit" : c === "under_maintenance" ? "unknown" : "warn";
}

/** A stakeholder post: delivered, refused for good (retried by hand only), or waiting. */
export function postState(p: StakeholderPost): { text: string; level: Level } {
  if (p.posted_at) return { text: "delivered", level: "ok" };
  if (p.gave_up) return { text: "refused", level: "crit" };
  return { text: p.attempts ? `waiting · ${p.attempts} attempt${p.attempts === 1 ? "" : "s"}` : "waiting", level: "warn" };
}

/** What a rendered stakeholder update sends: the request line and JSON body, or the webhook body. */
export function renderedPayload(p: StakeholderPreview | null): { head: string | null; body: string } | null {
  if (!p) return null;
  if (p.request) return { head: `${p.request.method} ${p.request.path}`, body: JSON.stringify(p.request.body ?? {}, null, 2) };
  if (p.webhook_body) return { head: null, body: p.webhook_body };
  return null;
}

// ---- Post-mortem ---------------------------------------------------------------------

/** Share of the error budget one incident used: `42.1 %`, or `unknown`. */
export function consumed(b: BudgetImpact): string {
  return b.consumed == null || !Number.isFinite(b.consumed) ? "unknown" : `${(b.consumed * 100).toFixed(1)} %`;
}

/** Critical when the incident alone spent the whole budget (the only line the data draws). */
export function consumedLevel(b: BudgetImpact): Level | null {
  return b.consumed != null && b.consumed >= 1 ? "crit" : null;
}

export const SOURCE_LABEL: Record<TimelineSource, string> = {
  incident: "incident", audit: "audit", alert: "alert", event: "event", rollout: "rollout", slo: "SLO",
};

/** A detail that reads as a diff: several lines, some starting with + or -. */
export function isDiff(detail: string | null | undefined): boolean {
  return !!detail && detail.includes("\n") && /^[+-]/m.test(detail);
}

