//! The post-mortem that writes its own timeline: entries from the incident record, the audit
//! log, alerts, cluster events, rollouts and SLO measurements merged in time order; the
//! incident's impact on the error budgets and the dataset pipeline; and the Markdown document
//! the team finishes (contributing factors, lessons, follow-up actions).
//!
//! Everything here is pure: the caller reads the sources and measures the SLOs, and says in
//! [`SourceNote`]s what it could and could not read, so the document never leaves anything out
//! silently.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::time_format::{human_duration, local_time};
use super::Incident;

/// Where a timeline entry comes from. The variants' order is the order of entries that happen
/// at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The incident's own timeline (declared, acknowledged, updates, changes, resolved).
    Incident,
    /// The audit log of changes made through HSOF.
    Audit,
    /// Alerts that fired or cleared.
    Alert,
    /// Cluster events (pod restarts, evictions, node conditions).
    Event,
    /// Rollouts and rollbacks.
    Rollout,
    /// SLO measurements (burn-rate alerts, budget thresholds crossed).
    Slo,
}

impl Source {
    /// All sources, in their order.
    pub fn all() -> [Source; 6] {
        [Self::Incident, Self::Audit, Self::Alert, Self::Event, Self::Rollout, Self::Slo]
    }

    /// How the document names the source.
    pub fn label(self) -> &'static str {
        match self {
            Self::Incident => "Incident",
            Self::Audit => "Audit",
            Self::Alert => "Alert",
            Self::Event => "Event",
            Self::Rollout => "Rollout",
            Self::Slo => "SLO",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One entry of the post-mortem's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Entry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Where it comes from.
    pub source: Source,
    /// Who did it, when a person did.
    pub who: Option<String>,
    /// What happened, in one line.
    pub text: String,
    /// Supporting detail: a change's dry-run diff, an event's count.
    pub detail: Option<String>,
}

/// Merges the sources' entries in time order. The sort is stable: entries at the same instant
/// follow the order of [`Source`]'s variants, then the order in which they arrived (source list
/// by source list, each in its own order). Exact duplicates (same `at`, `source` and `text`) are
/// dropped; the first copy is kept, and takes the `who` or `detail` it lacks from a dropped copy.
pub fn merge(sources: Vec<Vec<Entry>>) -> Vec<Entry> {
    let mut all: Vec<Entry> = sources.into_iter().flatten().collect();
    all.sort_by_key(|e| (e.at, e.source));
    let mut merged: Vec<Entry> = Vec::with_capacity(all.len());
    let mut seen: HashMap<(DateTime<Utc>, Source, String), usize> = HashMap::new();
    for e in all {
        match seen.entry((e.at, e.source, e.text.clone())) {
            MapEntry::Occupied(kept) => {
                let kept = &mut merged[*kept.get()];
                if kept.who.is_none() {
                    kept.who = e.who;
                }
                if kept.detail.is_none() {
                    kept.detail = e.detail;
                }
            }
            MapEntry::Vacant(slot) => {
                slot.insert(merged.len());
                merged.push(e);
            }
        }
    }
    merged
}

/// One SLO over the incident's window, as measured (`None` = not measured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SloWindow {
    /// The SLO's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The objective as a fraction: `0.999` for 99.9 %.
    pub objective: f64,
    /// The length of the SLO's window, in days (30 for a 30-day SLO).
    pub slo_window_days: u32,
    /// Bad events during the incident.
    pub bad_in_window: Option<f64>,
    /// All events during the incident (context; the budget is measured against the SLO window).
    pub total_in_window: Option<f64>,
    /// All events in the SLO window that contains the incident.
    pub total_in_slo_window: Option<f64>,
    /// Minutes during the incident when the 5-minute bad fraction was above `1 − objective`.
    pub minutes_over: Option<f64>,
    /// Why the SLO could not be measured at all, when it could not.
    pub error: Option<String>,
}

/// What the incident cost one SLO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BudgetImpact {
    /// The SLO's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The objective as a fraction (0 when the one given was not a finite number).
    pub objective: f64,
    /// Bad events during the incident.
    pub bad_events: Option<f64>,
    /// The fraction of the SLO window's error budget used during the incident:
    /// `bad_in_window / ((1 − objective) × total_in_slo_window)`. Above 1 when the incident
    /// alone overspent the budget.
    pub consumed: Option<f64>,
    /// Minutes over target during the incident.
    pub minutes_over: Option<f64>,
}

/// The incident's impact. Every figure that could not be computed is `None` and has a line
/// in `unknown` saying why: never a silent zero, never NaN or infinity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Impact {
    /// When the impact began.
    pub start: DateTime<Utc>,
    /// When it ended.
    pub end: DateTime<Utc>,
    /// `end − start` in minutes (0 when the end is before the start, which `unknown` reports).
    pub duration_minutes: f64,
    /// One per SLO, in the order given.
    pub budgets: Vec<BudgetImpact>,
    /// Datasets not processed because of the incident, rounded to whole datasets.
    pub datasets_delayed: Option<f64>,
    /// Each figure that could not be computed, and why.
    pub unknown: Vec<String>,
}

/// Dataset throughput: the rate in the hour before the incident, and what was processed
/// during it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Throughput {
    /// Datasets per hour in the hour before the incident.
    pub per_hour_before: Option<f64>,
    /// Datasets processed between the incident's start and end.
    pub processed_in_window: Option<f64>,
}

/// The impact of an incident from `start` to `end`.
///
/// For each SLO, the budget consumed is `bad_in_window / ((1 − objective) ×
/// total_in_slo_window)`. Datasets delayed are `max(0, per_hour_before × duration_hours −
/// processed_in_window)`, rounded to whole datasets. A figure whose inputs are missing, not
/// finite or negative, an SLO window without events, or an objective outside (0, 1) gives
/// `None` and a line in [`Impact::unknown`] naming the figure and the reason.
pub fn impact(start: DateTime<Utc>, end: DateTime<Utc>, slos: &[SloWindow], throughput: &Throughput) -> Impact {
    let mut unknown = Vec::new();
    let window_ok = end >= start;
    let duration_minutes = if window_ok {
        (end - start).num_milliseconds() as f64 / 60_000.0
    } else {
        unknown.push(format!(
            "Duration: the end ({}) is before the start ({})",
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        0.0
    };
    let budgets = slos.iter().map(|slo| budget_impact(slo, &mut unknown)).collect();
    let datasets_delayed = if window_ok {
        datasets_delayed(duration_minutes, throughput, &mut unknown)
    } else {
        unknown.push("Datasets delayed: the incident's window is invalid".to_string());
        None
    };
    Impact { start, end, duration_minutes, budgets, datasets_delayed, unknown }
}

fn budget_impact(slo: &SloWindow, unknown: &mut Vec<String>) -> BudgetImpact {
    let name = format!("`{}` ({})", one_line(&slo.id), one_line(&slo.title));
    let mut b = BudgetImpact {
        id: slo.id.clone(),
        title: slo.title.clone(),
        // NaN or infinity never leaves here; the line in `unknown` says what was given.
        objective: if slo.objective.is_finite() { slo.objective } else { 0.0 },
        bad_events: None,
        consumed: None,
        minutes_over: None,
    };
    if let Some(error) = &slo.error {
        unknown.push(format!("SLO {name}: not measured: {}", one_line(error)));
        return b;
    }
    let bad = measured(slo.bad_in_window);
    b.bad_events = bad.as_ref().ok().copied();
    if let Err(why) = &bad {
        unknown.push(format!("Bad events for SLO {name}: {why}"));
    }
    match consumed(slo, bad) {
        Ok(c) => b.consumed = Some(c),
        Err(why) => unknown.push(format!("Budget consumed for SLO {name}: {why}")),
    }
    match measured(slo.minutes_over) {
        Ok(m) => b.minutes_over = Some(m),
        Err(why) => unknown.push(format!("Minutes over target for SLO {name}: {why}")),
    }
    b
}

/// The fraction of the SLO window's budget used, or why it cannot be known.
fn consumed(slo: &SloWindow, bad: Result<f64, String>) -> Result<f64, String> {
    if !(slo.objective.is_finite() && slo.objective > 0.0 && slo.objective < 1.0) {
        return Err(format!(
            "the objective {} is not a fraction between 0 and 1, so there is no error budget",
            slo.objective
        ));
    }
    let bad = bad.map_err(|_| "the bad events were not measured".to_string())?;
    let days = slo.slo_window_days;
    let total =
        measured(slo.total_in_slo_window).map_err(|why| format!("the events in the {days}-day SLO window: {why}"))?;
    if total == 0.0 {
        return Err(format!("the {days}-day SLO window had no events, so it has no error budget to consume"));
    }
    let c = bad / ((1.0 - slo.objective) * total);
    if c.is_finite() {
        Ok(c)
    } else {
        Err("the budget is too small to divide by".to_string())
    }
}

fn datasets_delayed(duration_minutes: f64, t: &Throughput, unknown: &mut Vec<String>) -> Option<f64> {
    let rate = measured(t.per_hour_before)
        .map_err(|why| unknown.push(format!("Datasets delayed: the rate in the hour before the incident: {why}")));
    let processed = measured(t.processed_in_window)
        .map_err(|why| unknown.push(format!("Datasets delayed: the datasets processed during the incident: {why}")));
    let (Ok(rate), Ok(processed)) = (rate, processed) else { return None };
    let delayed = (rate * duration_minutes / 60.0 - processed).max(0.0).round();
    if delayed.is_finite() {
        Some(delayed)
    } else {
        unknown.push("Datasets delayed: the figures are too large to compute".to_string());
        None
    }
}

/// A measured figure, or why it cannot be used.
fn measured(v: Option<f64>) -> Result<f64, String> {
    match v {
        None => Err("not measured".to_string()),
        Some(v) if !v.is_finite() => Err(format!("the measurement is not a finite number ({v})")),
        Some(v) if v < 0.0 => Err(format!("the measurement is negative ({v})")),
        Some(v) => Ok(v),
    }
}

/// One follow-up action, as tracked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FollowUpLine {
    /// What is to be done.
    pub title: String,
    /// Who does it.
    pub owner: String,
    /// When it is due, `YYYY-MM-DD`.
    pub due: String,
    /// Where it stands (`open`, `in progress`, `done`, ...). [`summary_line`] counts `done`,
    /// `closed`, `completed`, `complete`, `resolved`, `fixed`, `cancelled` and `canceled` (any
    /// case) as no longer open.
    pub state: String,
}

/// Whether a source of the timeline could be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SourceNote {
    /// The source.
    pub source: Source,
    /// True when its entries are in the timeline.
    pub read: bool,
    /// `12 entries`, or why it could not be read.
    pub note: String,
}

/// A post-mortem: the incident, its merged timeline, its impact and what the team wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PostMortem {
    /// The incident.
    pub incident: Incident,
    /// Who held each role: (role title, holder).
    pub roles: Vec<(String, String)>,
    /// The timeline, as [`merge`] gives it.
    pub timeline: Vec<Entry>,
    /// The impact, as [`impact`] gives it.
    pub impact: Impact,
    /// Markdown typed by the team; may be empty.
    pub contributing_factors: String,
    /// Markdown typed by the team; may be empty.
    pub lessons: String,
    /// The follow-up actions.
    pub follow_ups: Vec<FollowUpLine>,
    /// What was read to write the timeline, and what could not be.
    pub sources: Vec<SourceNote>,
}

/// The post-mortem as Markdown, times in `tz`.
///
/// Sections, in order: the title `# Post-mortem: <reference> <title>`; a summary table
/// (severity, components, declared, acknowledged, resolved, duration, one row per role);
/// `## Impact` (one line per SLO: budget consumed as a percentage of the SLO window's budget
/// with the bad events, and minutes over target; datasets delayed; each unknown figure said as
/// unknown, with why); `## Timeline` (a table of local time, source, who and what; a short
/// one-line detail on its own line in the cell, a longer one numbered below the table in a
/// code block, a diff in a `diff` block); `## Contributing factors` and `## Lessons learned`
/// (the team's Markdown, `_to be written_` when empty); `## Follow-up actions` (a table);
/// `## Sources` (each source read, not read with why, or not consulted). Pipes and line
/// breaks in free text are escaped in table cells so they cannot break a table.
pub fn markdown(pm: &PostMortem, tz: chrono_tz::Tz) -> String {
    let i = &pm.incident;
    let mut md = format!("# Post-mortem: {} {}\n\n", i.reference(), one_line(&i.title));
    if let Some(scenario) = &i.drill {
        md.push_str(&format!(
            "_A drill on the demo scenario `{}`: a rehearsal, not a real incident._\n\n",
            one_line(scenario).replace('`', "'")
        ));
    }
    md.push_str(&format!("_All times {}._\n\n", tz.name()));
    md.push_str(&summary_table(pm, tz));
    md.push_str(&impact_section(&pm.impact, tz));
    md.push_str(&timeline_section(&pm.timeline, tz));
    md.push_str(&format!("\n## Contributing factors\n\n{}\n", written(&pm.contributing_factors)));
    md.push_str(&format!("\n## Lessons learned\n\n{}\n", written(&pm.lessons)));
    md.push_str(&follow_ups_section(&pm.follow_ups));
    md.push_str(&sources_section(&pm.sources));
    md
}

fn summary_table(pm: &PostMortem, tz: chrono_tz::Tz) -> String {
    let i = &pm.incident;
    let mut rows: Vec<(String, String)> = vec![
        ("Severity".into(), format!("{} ({})", i.severity, i.severity.description())),
        ("Components".into(), if i.components.is_empty() { "—".into() } else { cell(&i.components.join(", ")) }),
        ("Declared".into(), format!("{} by {}", local_time(i.declared_at, tz), cell(&i.declared_by))),
        (
            "Acknowledged".into(),
            i.acknowledged_at.map_or_else(
                || "not acknowledged".into(),
                |a| format!("{} ({} after declaration)", local_time(a, tz), human_duration(a - i.declared_at)),
            ),
        ),
        ("Resolved".into(), i.resolved_at.map_or_else(|| "not resolved (ongoing)".into(), |r| local_time(r, tz))),
        (
            "Duration (declared to resolved)".into(),
            i.resolved_at.map_or_else(|| "ongoing".into(), |r| human_duration(r - i.declared_at)),
        ),
    ];
    for (role, holder) in &pm.roles {
        rows.push((cell(role), cell(holder)));
    }
    if pm.roles.is_empty() {
        rows.push(("Roles".into(), "none recorded".into()));
    }
    let mut md = String::from("| | |\n|---|---|\n");
    for (name, value) in rows {
        md.push_str(&format!("| **{name}** | {value} |\n"));
    }
    md
}

fn impact_section(im: &Impact, tz: chrono_tz::Tz) -> String {
    let mut md = String::from("\n## Impact\n\n");
    md.push_str(&format!(
        "- **Window:** {} to {} ({})\n",
        local_time(im.start, tz),
        local_time(im.end, tz),
        minutes(im.duration_minutes)
    ));
    for b in &im.budgets {
        let consumed = b.consumed.map_or_else(
            || "budget consumed unknown".to_string(),
            |c| format!("{} of the SLO window's error budget consumed", percent(c)),
        );
        let bad = b.bad_events.map_or_else(|| "bad events unknown".to_string(), |n| format!("{} bad events", count(n)));
        let over = match b.minutes_over {
            None => "minutes over target unknown".to_string(),
            Some(0.0) => "never over target".to_string(),
            Some(m) => format!("{} over target", minutes(m)),
        };
        let objective =
            if b.objective > 0.0 && b.objective <= 1.0 { percent(b.objective) } else { "not valid".to_string() };
        md.push_str(&format!(
            "- **{}** (`{}`, objective {objective}): {consumed} ({bad}); {over}.\n",
            one_line(&b.title),
            one_line(&b.id).replace('`', "'"),
        ));
    }
    if im.budgets.is_empty() {
        md.push_str("- **Error budgets:** no SLO was given for this incident.\n");
    }
    match im.datasets_delayed {
        Some(n) => md.push_str(&format!("- **Datasets delayed:** {}\n", count(n))),
        None => md.push_str("- **Datasets delayed:** unknown\n"),
    }
    if !im.unknown.is_empty() {
        md.push_str("- **Unknown figures:**\n");
        for u in &im.unknown {
            md.push_str(&format!("  - {}\n", one_line(u)));
        }
    }
    md
}

fn timeline_section(timeline: &[Entry], tz: chrono_tz::Tz) -> String {
    let mut md = String::from("\n## Timeline\n\n");
    if timeline.is_empty() {
        md.push_str("_No entries: see Sources for what was read._\n");
        return md;
    }
    md.push_str("| Time | Source | Who | What |\n|---|---|---|---|\n");
    let mut details: Vec<(&Entry, &str)> = Vec::new();
    for e in timeline {
        let mut what = cell(&e.text);
        match e.detail.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) if is_short(d) => what.push_str(&format!("<br>`{}`", cell(d))),
            Some(d) => {
                details.push((e, d));
                what.push_str(&format!(" (detail {} below)", details.len()));
            }
            None => {}
        }
        let who = e.who.as_deref().map(str::trim).filter(|w| !w.is_empty()).map_or_else(|| "—".into(), cell);
        md.push_str(&format!("| {} | {} | {who} | {what} |\n", local_time(e.at, tz), e.source));
    }
    if !details.is_empty() {
        md.push_str("\n**Details**\n\n");
        for (n, (e, d)) in details.iter().enumerate() {
            let fence = "`".repeat(longest_backtick_run(d).max(2) + 1);
            let lang = if is_diff(d) { "diff" } else { "" };
            if n > 0 {
                md.push('\n');
            }
            md.push_str(&format!("{}. {} · {}: {}\n\n", n + 1, local_time(e.at, tz), e.source, one_line(&e.text)));
            md.push_str(&format!("   {fence}{lang}\n"));
            for line in d.lines() {
                md.push_str(&format!("   {line}\n"));
            }
            md.push_str(&format!("   {fence}\n"));
        }
    }
    md
}

fn follow_ups_section(follow_ups: &[FollowUpLine]) -> String {
    let mut md = String::from("\n## Follow-up actions\n\n");
    if follow_ups.is_empty() {
        md.push_str("_None recorded._\n");
        return md;
    }
    md.push_str("| Action | Owner | Due | State |\n|---|---|---|---|\n");
    for f in follow_ups {
        md.push_str(&format!("| {} | {} | {} | {} |\n", cell(&f.title), cell(&f.owner), cell(&f.due), cell(&f.state)));
    }
    md
}

fn sources_section(notes: &[SourceNote]) -> String {
    let mut md = String::from("\n## Sources\n\n| Source | Read | Note |\n|---|---|---|\n");
    for n in notes {
        let read = if n.read { "yes" } else { "**no**" };
        md.push_str(&format!("| {} | {read} | {} |\n", n.source, cell_or_dash(&n.note)));
    }
    for s in Source::all() {
        if !notes.iter().any(|n| n.source == s) {
            md.push_str(&format!("| {s} | not consulted | — |\n"));
        }
    }
    if notes.iter().any(|n| !n.read) {
        md.push_str("\n_The timeline lacks the entries of the sources that could not be read._\n");
    }
    md
}

/// The short form used by the monthly review's incident summary: one Markdown bullet with the
/// reference, severity, title, impact duration, budget consumed per SLO and the follow-ups open and
/// done (see [`FollowUpLine::state`]).
pub fn summary_line(pm: &PostMortem) -> String {
    let i = &pm.incident;
    let drill = if i.drill.is_some() { "[DRILL] " } else { "" };
    let budgets = if pm.impact.budgets.is_empty() {
        "no SLO measured".to_string()
    } else {
        let each: Vec<String> = pm
            .impact
            .budgets
            .iter()
            .map(|b| {
                let c = b.consumed.map_or_else(|| "unknown".to_string(), percent);
                format!("{} {c}", one_line(&b.title))
            })
            .collect();
        each.join(", ")
    };
    let follow_ups = if pm.follow_ups.is_empty() {
        "none".to_string()
    } else {
        let done = pm.follow_ups.iter().filter(|f| is_done(&f.state)).count();
        format!("{} open, {done} done", pm.follow_ups.len() - done)
    };
    format!(
        "- {drill}**{}** [{}] {}: impact {}; budget consumed: {budgets}; follow-ups: {follow_ups}",
        i.reference(),
        i.severity,
        one_line(&i.title),
        minutes(pm.impact.duration_minutes)
    )
}

fn is_done(state: &str) -> bool {
    const DONE: [&str; 8] = ["done", "closed", "completed", "complete", "resolved", "fixed", "cancelled", "canceled"];
    let state = state.trim();
    DONE.iter().any(|d| d.eq_ignore_ascii_case(state))
}

/// `50 %`, `12.3 %`, `0.05 %`, `< 0.01 %` for a fraction.
fn percent(fraction: f64) -> String {
    let v = fraction * 100.0;
    if v > 0.0 && v < 0.005 {
        return "< 0.01 %".into();
    }
    let decimals = if v.abs() >= 99.0 && v.abs() < 100.0 {
        // 99.9 % and 99.95 % objectives must not read as 100 %.
        4
    } else if v.abs() >= 1.0 {
        1
    } else {
        2
    };
    format!("{} %", trimmed(v, decimals))
}

/// `1,000,000` for a count, rounded to a whole number.
fn count(n: f64) -> String {
    let digits = format!("{:.0}", n.abs().round());
    let mut grouped = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 0.0 && digits != "0" {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A number of minutes as people write durations (`1 h 30 min`).
fn minutes(m: f64) -> String {
    human_duration(Duration::seconds((m * 60.0).round() as i64))
}

/// `v` with at most `decimals` decimals, trailing zeros dropped.
fn trimmed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn written(markdown: &str) -> String {
    let text = markdown.trim();
    if text.is_empty() {
        "_to be written_".into()
    } else {
        text.to_string()
    }
}

/// A detail short enough for its table cell: one line of at most 80 characters, no backticks.
fn is_short(detail: &str) -> bool {
    !detail.contains(['\n', '\r', '`']) && detail.chars().count() <= 80
}

/// A unified diff: a header line (`diff `, `--- `, `+++ `, `@@`), or only `+`, `-` and context
/// lines with at least one change.
fn is_diff(detail: &str) -> bool {
    let lines: Vec<&str> = detail.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines
        .iter()
        .any(|l| l.starts_with("diff ") || l.starts_with("@@") || l.starts_with("--- ") || l.starts_with("+++ "))
    {
        return true;
    }
    lines.iter().any(|l| l.starts_with(['+', '-'])) && lines.iter().all(|l| l.starts_with(['+', '-', ' ']))
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text safe in a Markdown table cell: pipes escaped, line breaks as `<br>`.
fn cell(s: &str) -> String {
    s.trim().replace('|', "\\|").replace("\r\n", "<br>").replace(['\n', '\r'], "<br>")
}

fn cell_or_dash(s: &str) -> String {
    if s.trim().is_empty() {
        "—".into()
    } else {
        cell(s)
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::incidents::{IncidentStatus, Severity};

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 27, h, m, 0).single().expect("valid time")
    }

    fn entry(at: DateTime<Utc>, source: Source, text: &str) -> Entry {
        Entry { at, source, who: None, text: text.into(), detail: None }
    }

    fn slo(bad: Option<f64>, total_slo: Option<f64>) -> SloWindow {
        SloWindow {
            id: "api-availability".into(),
            title: "API availability".into(),
            objective: 0.999,
            slo_window_days: 30,
            bad_in_window: bad,
            total_in_window: Some(20_000.0),
            total_in_slo_window: total_slo,
            minutes_over: Some(12.0),
            error: None,
        }
    }

    fn incident() -> Incident {
        Incident {
            id: 12,
            title: "GPU node lost | pipeline stalled".into(),
            severity: Severity::P1,
            status: IncidentStatus::Resolved,
            components: vec!["gpu".into(), "pipeline".into()],
            description: "gpu-3 went NotReady".into(),
            declared_at: t(14, 0),
            declared_by: "alice".into(),
            acknowledged_at: Some(t(14, 4)),
            escalated_at: None,
            resolved_at: Some(t(15, 30)),
            last_update_at: Some(t(15, 0)),
            source_alert: None,
            drill: None,
            shared_name: None,
        }
    }

    fn post_mortem() -> PostMortem {
        let timeline = merge(vec![
            vec![entry(t(14, 0), Source::Incident, "Declared P1"), entry(t(15, 30), Source::Incident, "Resolved")],
            vec![Entry {
                at: t(14, 20),
                source: Source::Rollout,
                who: Some("bob".into()),
                text: "Rolled back model | v42 → v41".into(),
                detail: Some(
                    "--- a/deploy.yaml\n+++ b/deploy.yaml\n@@ -1 +1 @@\n-image: model:v42\n+image: model:v41".into(),
                ),
            }],
            vec![Entry {
                at: t(13, 55),
                source: Source::Event,
                who: None,
                text: "NodeNotReady gpu-3".into(),
                detail: Some("count 7".into()),
            }],
        ]);
        PostMortem {
            incident: incident(),
            roles: vec![("Incident commander".into(), "alice".into()), ("Scribe".into(), "carol".into())],
            timeline,
            impact: impact(
                t(13, 55),
                t(15, 30),
                &[slo(Some(500.0), Some(1_000_000.0))],
                &Throughput { per_hour_before: Some(100.0), processed_in_window: None },
            ),
            contributing_factors: "The drain script ignored GPU taints.".into(),
            lessons: String::new(),
            follow_ups: vec![
                FollowUpLine {
                    title: "Fix drain | taints".into(),
                    owner: "bob".into(),
                    due: "2026-04-10".into(),
                    state: "open".into(),
                },
                FollowUpLine {
                    title: "Alert on NotReady\nGPU nodes".into(),
                    owner: "alice".into(),
                    due: "2026-04-03".into(),
                    state: "Done".into(),
                },
            ],
            sources: vec![
                SourceNote { source: Source::Incident, read: true, note: "2 entries".into() },
                SourceNote {
                    source: Source::Alert,
                    read: false,
                    note: "Alertmanager unreachable: connection refused".into(),
                },
            ],
        }
    }

    #[test]
    fn postmortem_merge_orders_by_time_then_source_then_arrival_and_drops_duplicates() {
        let merged = merge(vec![
            vec![entry(t(10, 5), Source::Rollout, "rollout b"), entry(t(10, 0), Source::Audit, "audit a")],
            vec![
                entry(t(10, 5), Source::Incident, "update"),
                entry(t(10, 5), Source::Rollout, "rollout a"),
                // The same rollout as the first list's, with who and detail: one copy stays.
                Entry {
                    who: Some("bob".into()),
                    detail: Some("diff".into()),
                    ..entry(t(10, 5), Source::Rollout, "rollout b")
                },
            ],
            vec![entry(t(10, 0), Source::Incident, "declared"), entry(t(10, 0), Source::Incident, "declared")],
        ]);
        let order: Vec<(&str, Source)> = merged.iter().map(|e| (e.text.as_str(), e.source)).collect();
        assert_eq!(
            order,
            [
                ("declared", Source::Incident),
                ("audit a", Source::Audit),
                ("update", Source::Incident),
                ("rollout b", Source::Rollout),
                ("rollout a", Source::Rollout),
            ]
        );
        assert_eq!(merged[3].who.as_deref(), Some("bob"), "the kept copy takes the dropped copy's who");
        assert_eq!(merged[3].detail.as_deref(), Some("diff"));
        // Same text from another source, or at another time, is not a duplicate.
        let kept = merge(vec![vec![entry(t(9, 0), Source::Alert, "x"), entry(t(9, 0), Source::Event, "x")]]);
        assert_eq!(kept.len(), 2);
        assert!(merge(vec![]).is_empty());
    }

    #[test]
    fn postmortem_impact_measures_the_budget_and_the_delayed_datasets() {
        let im = impact(
            t(14, 0),
            t(15, 30),
            &[slo(Some(500.0), Some(1_000_000.0))],
            &Throughput { per_hour_before: Some(100.0), processed_in_window: Some(110.0) },
        );
        assert_eq!(im.duration_minutes, 90.0);
        let b = &im.budgets[0];
        // 99.9 % of 1,000,000 leaves 1,000 bad events of budget; 500 is half of it.
        assert!((b.consumed.expect("consumed") - 0.5).abs() < 1e-12, "{b:?}");
        assert_eq!(b.bad_events, Some(500.0));
        assert_eq!(b.minutes_over, Some(12.0));
        // 100 an hour for 1.5 h is 150; 110 were processed.
        assert_eq!(im.datasets_delayed, Some(40.0));
        assert!(im.unknown.is_empty(), "{:?}", im.unknown);

        // Faster than usual during the incident: nothing delayed, not a negative figure.
        let im = impact(
            t(14, 0),
            t(15, 0),
            &[],
            &Throughput { per_hour_before: Some(10.0), processed_in_window: Some(12.4) },
        );
        assert_eq!(im.datasets_delayed, Some(0.0));
        // Rounded to whole datasets.
        let im = impact(
            t(14, 0),
            t(14, 20),
            &[],
            &Throughput { per_hour_before: Some(10.0), processed_in_window: Some(0.0) },
        );
        assert_eq!(im.datasets_delayed, Some(3.0));
    }

    #[test]
    fn postmortem_impact_names_every_unknown_figure_and_never_leaks_nan() {
        let not_measured = SloWindow { error: Some("Prometheus unreachable".into()), ..slo(None, None) };
        let nan_slo = SloWindow { minutes_over: Some(f64::NAN), ..slo(Some(f64::INFINITY), Some(f64::NAN)) };
        let perfect = SloWindow { objective: 1.0, id: "perfect".into(), ..slo(Some(1.0), Some(10.0)) };
        let im = impact(
            t(14, 0),
            t(15, 0),
            &[slo(Some(500.0), None), slo(Some(500.0), Some(0.0)), not_measured, nan_slo, perfect],
            &Throughput::default(),
        );
        assert!(im.budgets.iter().all(|b| b.consumed.is_none()), "{:?}", im.budgets);
        assert_eq!(im.budgets[0].bad_events, Some(500.0), "what was measured is kept");
        assert_eq!(im.datasets_delayed, None);
        let u = im.unknown.join("\n");
        for expected in [
            "Budget consumed for SLO `api-availability` (API availability): the events in the 30-day SLO window: not measured",
            "Budget consumed for SLO `api-availability` (API availability): the 30-day SLO window had no events",
            "SLO `api-availability` (API availability): not measured: Prometheus unreachable",
            "Bad events for SLO `api-availability` (API availability): the measurement is not a finite number (inf)",
            "Minutes over target for SLO `api-availability` (API availability): the measurement is not a finite number (NaN)",
            "Budget consumed for SLO `perfect` (API availability): the objective 1 is not a fraction between 0 and 1",
            "Datasets delayed: the rate in the hour before the incident: not measured",
            "Datasets delayed: the datasets processed during the incident: not measured",
        ] {
            assert!(u.contains(expected), "missing `{expected}` in:\n{u}");
        }
        for b in &im.budgets {
            for v in [b.bad_events, b.consumed, b.minutes_over].into_iter().flatten() {
                assert!(v.is_finite(), "{b:?}");
            }
        }

        // An end before the start is reported, not turned into a negative duration.
        let im =
            impact(t(15, 0), t(14, 0), &[], &Throughput { per_hour_before: Some(1.0), processed_in_window: Some(0.0) });
        assert_eq!((im.duration_minutes, im.datasets_delayed), (0.0, None));
        assert!(
            im.unknown[0].starts_with("Duration: the end (2026-03-27T14:00:00Z) is before the start"),
            "{:?}",
            im.unknown
        );
    }

    #[test]
    fn postmortem_markdown_has_its_sections_in_order() {
        let md = markdown(&post_mortem(), chrono_tz::Europe::Berlin);
        assert!(md.starts_with("# Post-mortem: #12 GPU node lost | pipeline stalled\n"), "{md}");
        let sections = [
            "| **Severity** | P1 (Significant degradation) |",
            "## Impact",
            "## Timeline",
            "## Contributing factors",
            "## Lessons learned",
            "## Follow-up actions",
            "## Sources",
        ];
        let positions: Vec<usize> =
            sections.iter().map(|s| md.find(s).unwrap_or_else(|| panic!("`{s}` missing in:\n{md}"))).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}\n{md}");
        assert!(md.contains("| **Declared** | 2026-03-27 15:00 CET by alice |"), "{md}");
        assert!(md.contains("| **Acknowledged** | 2026-03-27 15:04 CET (4 min after declaration) |"), "{md}");
        assert!(md.contains("| **Duration (declared to resolved)** | 1 h 30 min |"), "{md}");
        assert!(md.contains("| **Incident commander** | alice |\n| **Scribe** | carol |"), "{md}");
        assert!(
            md.contains(
                "- **API availability** (`api-availability`, objective 99.9 %): 50 % of the SLO window's error budget consumed (500 bad events); 12 min over target."
            ),
            "{md}"
        );
        assert!(md.contains("- **Datasets delayed:** unknown\n"), "{md}");
        assert!(
            md.contains("  - Datasets delayed: the datasets processed during the incident: not measured\n"),
            "{md}"
        );
        assert!(md.contains("## Lessons learned\n\n_to be written_\n"), "{md}");
        assert!(md.contains("## Contributing factors\n\nThe drain script ignored GPU taints.\n"), "{md}");
        assert!(md.contains("| Alert | **no** | Alertmanager unreachable: connection refused |"), "{md}");
        assert!(md.contains("| SLO | not consulted | — |"), "{md}");
        assert!(md.contains("_The timeline lacks the entries of the sources that could not be read._"), "{md}");
    }

    #[test]
    fn postmortem_markdown_tables_survive_pipes_and_line_breaks() {
        let md = markdown(&post_mortem(), chrono_tz::Europe::Berlin);
        // Every table row has exactly as many unescaped pipes as its table's header.
        let mut columns = None;
        for line in md.lines() {
            if !line.starts_with('|') {
                columns = None;
                continue;
            }
            let pipes =
                line.char_indices().filter(|&(k, c)| c == '|' && (k == 0 || line.as_bytes()[k - 1] != b'\\')).count();
            let expected = *columns.get_or_insert(pipes);
            assert_eq!(pipes, expected, "row breaks its table: {line}\n{md}");
        }
        assert!(md.contains("| Fix drain \\| taints | bob | 2026-04-10 | open |"), "{md}");
        assert!(md.contains("| Alert on NotReady<br>GPU nodes | alice | 2026-04-03 | Done |"), "{md}");
        assert!(md.contains("Rolled back model \\| v42 → v41 (detail 1 below)"), "{md}");
        assert!(md.contains("| 2026-03-27 14:55 CET | Event | — | NodeNotReady gpu-3<br>`count 7` |"), "{md}");
    }

    #[test]
    fn postmortem_markdown_puts_a_diff_in_a_diff_block() {
        let md = markdown(&post_mortem(), chrono_tz::Europe::Berlin);
        let block = "1. 2026-03-27 15:20 CET · Rollout: Rolled back model | v42 → v41\n\n   ```diff\n   --- a/deploy.yaml\n   +++ b/deploy.yaml\n   @@ -1 +1 @@\n   -image: model:v42\n   +image: model:v41\n   ```\n";
        assert!(md.contains(block), "{md}");
        assert!(is_diff("-a: 1\n+a: 2\n b: 3"));
        assert!(!is_diff("12 restarts\nlast: OOMKilled"));
        // A detail containing a fence cannot close the block early.
        let mut pm = post_mortem();
        pm.timeline = vec![Entry { detail: Some("see ```\nmore".into()), ..entry(t(14, 0), Source::Audit, "x") }];
        assert!(markdown(&pm, chrono_tz::UTC).contains("   ````\n   see ```\n   more\n   ````\n"));
    }

    #[test]
    fn postmortem_markdown_says_what_is_missing() {
        let mut pm = post_mortem();
        pm.timeline.clear();
        pm.follow_ups.clear();
        pm.roles.clear();
        pm.contributing_factors = "  ".into();
        pm.incident.resolved_at = None;
        pm.incident.acknowledged_at = None;
        pm.incident.drill = Some("gpu-loss".into());
        let md = markdown(&pm, chrono_tz::UTC);
        for expected in [
            "_A drill on the demo scenario `gpu-loss`",
            "| **Acknowledged** | not acknowledged |",
            "| **Resolved** | not resolved (ongoing) |",
            "| **Roles** | none recorded |",
            "_No entries: see Sources for what was read._",
            "## Contributing factors\n\n_to be written_",
            "## Follow-up actions\n\n_None recorded._",
        ] {
            assert!(md.contains(expected), "missing `{expected}` in:\n{md}");
        }
    }

    #[test]
    fn postmortem_summary_line_is_one_bullet() {
        let line = summary_line(&post_mortem());
        assert_eq!(
            line,
            "- **#12** [P1] GPU node lost | pipeline stalled: impact 1 h 35 min; budget consumed: API availability 50 %; follow-ups: 1 open, 1 done"
        );
        let mut pm = post_mortem();
        pm.impact.budgets[0].consumed = None;
        pm.follow_ups.clear();
        pm.incident.drill = Some("x".into());
        assert!(summary_line(&pm).ends_with("budget consumed: API availability unknown; follow-ups: none"));
        assert!(summary_line(&pm).starts_with("- [DRILL] **#12**"));
        assert!(!summary_line(&pm).contains('\n'));
    }

    #[test]
    fn postmortem_numbers_read_plainly() {
        assert_eq!(percent(0.5), "50 %");
        assert_eq!(percent(0.999), "99.9 %");
        assert_eq!(percent(0.9995), "99.95 %");
        assert_eq!(percent(1.234), "123.4 %");
        assert_eq!(percent(0.0012), "0.12 %");
        assert_eq!(percent(0.00001), "< 0.01 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(count(1_000_000.0), "1,000,000");
        assert_eq!(count(999.6), "1,000");
        assert_eq!(count(12.0), "12");
    }

    fn arb_entry() -> impl Strategy<Value = Entry> {
        (0i64..5, 0usize..6, prop::sample::select(vec!["a", "b", "c"]), prop::option::of("[xy]")).prop_map(
            |(minute, source, text, who)| Entry {
                at: t(10, 0) + Duration::minutes(minute),
                source: Source::all()[source],
                who,
                text: text.into(),
                detail: None,
            },
        )
    }

    proptest! {
        #[test]
        fn postmortem_merge_is_sorted_complete_and_free_of_duplicates(
            lists in prop::collection::vec(prop::collection::vec(arb_entry(), 0..8), 0..4)
        ) {
            let merged = merge(lists.clone());
            prop_assert!(merged.windows(2).all(|w| (w[0].at, w[0].source) <= (w[1].at, w[1].source)));
            let key = |e: &Entry| (e.at, e.source, e.text.clone());
            let keys: Vec<_> = merged.iter().map(key).collect();
            let unique: std::collections::HashSet<_> = keys.iter().cloned().collect();
            prop_assert_eq!(unique.len(), keys.len());
            for e in lists.iter().flatten() {
                prop_assert!(unique.contains(&key(e)));
            }
        }

        #[test]
        fn postmortem_impact_figures_are_finite_or_explained(
            bad in prop::option::of(prop::num::f64::ANY),
            total in prop::option::of(prop::num::f64::ANY),
            objective in prop::num::f64::ANY,
            rate in prop::option::of(prop::num::f64::ANY),
            processed in prop::option::of(prop::num::f64::ANY),
            minutes in 0i64..10_000,
        ) {
            let s = SloWindow { objective, ..slo(bad, total) };
            let im = impact(t(0, 0), t(0, 0) + Duration::minutes(minutes), &[s],
                &Throughput { per_hour_before: rate, processed_in_window: processed });
            let b = &im.budgets[0];
            prop_assert!(b.objective.is_finite() && im.duration_minutes.is_finite());
            for v in [b.bad_events, b.consumed, b.minutes_over, im.datasets_delayed].into_iter().flatten() {
                prop_assert!(v.is_finite() && v >= 0.0, "{:?}", im);
            }
            prop_assert!(b.consumed.is_some() || im.unknown.iter().any(|u| u.starts_with("Budget consumed")));
            prop_assert!(im.datasets_delayed.is_some() || im.unknown.iter().any(|u| u.starts_with("Datasets delayed")));
        }
    }
}
