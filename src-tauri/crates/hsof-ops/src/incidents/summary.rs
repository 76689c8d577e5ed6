//! The post-incident summary ("Write incident summary" in the runbook), as Markdown the
//! engineer edits before sharing.

use chrono::{DateTime, Duration, Utc};

use super::time_format::{human_duration, local_time};
use super::{Escalation, Incident, SeverityPolicy, TimelineEvent, TimelineKind};

/// Markdown post-incident summary: title line with severity, impact window (declared →
/// resolved, duration), detection (source alert if any, declared by), response times
/// against targets (time to acknowledge vs `policy.response`; escalated or not), timeline
/// table (time, author, kind, text), actions (Change and Update events), follow-ups (a
/// checklist the engineer edits, plus "Schedule post-mortem" for policies with
/// `postmortem`), all times in the team time zone `tz`.
pub fn summary_markdown(
    i: &Incident,
    timeline: &[TimelineEvent],
    policy: &SeverityPolicy,
    tz: chrono_tz::Tz,
) -> String {
    let mut events: Vec<&TimelineEvent> = timeline.iter().collect();
    events.sort_by_key(|e| e.at);
    let mut md = match &i.drill {
        Some(scenario) => format!(
            "# [DRILL] [{}] Incident {}: {}\n\n_A rehearsal on the demo scenario `{scenario}`: not posted to Slack, not in the response-time statistics._\n\n",
            i.severity,
            i.reference(),
            i.title.trim()
        ),
        None => format!("# [{}] Incident {}: {}\n\n", i.severity, i.reference(), i.title.trim()),
    };
    let components = if i.components.is_empty() { "—".to_string() } else { i.components.join(", ") };
    md.push_str(&format!("**Status:** {} · **Components:** {components}\n\n", i.status));
    if !i.description.trim().is_empty() {
        md.push_str(&format!("{}\n\n", i.description.trim()));
    }

    md.push_str(&format!("## Impact window\n\n_All times {}._\n\n", tz.name()));
    md.push_str(&format!("- **Declared:** {}\n", local_time(i.declared_at, tz)));
    match i.resolved_at {
        Some(r) => {
            md.push_str(&format!("- **Resolved:** {}\n", local_time(r, tz)));
            md.push_str(&format!("- **Duration:** {}\n\n", human_duration(r - i.declared_at)));
        }
        None => md.push_str("- **Resolved:** not yet (ongoing)\n\n"),
    }

    md.push_str("## Detection\n\n");
    match &i.source_alert {
        Some(alert) => md.push_str(&format!("- **Source alert:** {}\n", describe_alert(alert, tz))),
        None => md.push_str("- **Source alert:** none (declared manually)\n"),
    }
    md.push_str(&format!("- **Declared by:** {}\n\n", i.declared_by));

    md.push_str("## Response\n\n| Measure | Actual | Target | Met |\n|---|---|---|---|\n");
    let (ack_actual, ack_met) = match i.acknowledged_at {
        Some(a) => (human_duration(a - i.declared_at), yes_no(a - i.declared_at <= policy.response)),
        None => ("not acknowledged".to_string(), "no"),
    };
    md.push_str(&format!("| Time to acknowledge | {ack_actual} | {} | {ack_met} |\n", human_duration(policy.response)));
    md.push_str(&escalation_row(i, policy, tz));
    md.push_str(&updates_row(i, &events, policy));
    let resolve = i.resolved_at.map_or_else(|| "ongoing".to_string(), |r| human_duration(r - i.declared_at));
    md.push_str(&format!("| Time to resolve | {resolve} | — | — |\n\n"));
    if i.drill.is_some() {
        md.push_str(&drill_summary(i, &events, policy));
    }

    md.push_str("## Timeline\n\n| Time | Author | Kind | Text |\n|---|---|---|---|\n");
    for e in &events {
        md.push_str(&format!("| {} | {} | {} | {} |\n", local_time(e.at, tz), cell(&e.author), e.kind, cell(&e.text)));
    }
    if events.is_empty() {
        md.push_str("| — | — | — | _no events recorded_ |\n");
    }

    md.push_str("\n## Actions taken\n\n");
    let actions: Vec<&&TimelineEvent> =
        events.iter().filter(|e| matches!(e.kind, TimelineKind::Change | TimelineKind::Update)).collect();
    for e in &actions {
        md.push_str(&format!("- **{}** ({}, {}): {}\n", local_time(e.at, tz), e.author, e.kind, one_line(&e.text)));
    }
    if actions.is_empty() {
        md.push_str("_None recorded._\n");
    }

    md.push_str("\n## Follow-ups\n\n");
    md.push_str("- [ ] Root cause: _describe what failed and why_\n");
    md.push_str("- [ ] Prevent recurrence: _action, owner, due date_\n");
    md.push_str("- [ ] Detection: _did the alert fire early enough? tune thresholds if not_\n");
    md.push_str("- [ ] Update runbook procedures if needed\n");
    if policy.postmortem {
        md.push_str("- [ ] Schedule post-mortem\n");
    }
    md
}

/// A drill's scorecard: how long each step of the response took and what was done.
fn drill_summary(i: &Incident, events: &[&TimelineEvent], policy: &SeverityPolicy) -> String {
    let steps: Vec<&&TimelineEvent> = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                TimelineKind::Acknowledged
                    | TimelineKind::Snapshot
                    | TimelineKind::Update
                    | TimelineKind::Change
                    | TimelineKind::Escalated
                    | TimelineKind::Note
                    | TimelineKind::Resolved
            )
        })
        .collect();
    let mut md = String::from("## Drill summary\n\n");
    let mtta = i.acknowledged_at.map(|a| a - i.declared_at);
    let mttr = i.resolved_at.map(|r| r - i.declared_at);
    md.push_str(&format!(
        "- **Time to acknowledge:** {} (target {}{})\n",
        mtta.map_or_else(|| "not acknowledged".into(), human_duration),
        human_duration(policy.response),
        match mtta {
            Some(d) if d <= policy.response => ", met",
            Some(_) => ", missed",
            None => "",
        }
    ));
    md.push_str(&format!("- **Time to resolve:** {}\n", mttr.map_or_else(|| "not resolved".into(), human_duration)));
    md.push_str(&format!("- **Steps taken:** {}", steps.len()));
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for e in &steps {
        let k = e.kind.to_string();
        match kinds.iter_mut().find(|(n, _)| *n == k) {
            Some((_, c)) => *c += 1,
            None => kinds.push((k, 1)),
        }
    }
    if !kinds.is_empty() {
        let list: Vec<String> = kinds.iter().map(|(k, c)| format!("{c} {k}")).collect();
        md.push_str(&format!(" ({})", list.join(", ")));
    }
    md.push_str("\n\n");
    md
}

fn yes_no(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "no"
    }
}

fn escalation_row(i: &Incident, policy: &SeverityPolicy, tz: chrono_tz::Tz) -> String {
    let (target, deadline) = match policy.escalation {
        Escalation::Immediate => ("immediately".to_string(), Some(policy.response)),
        Escalation::After(d) => (format!("after {}", human_duration(d)), Some(d)),
        Escalation::NextBusinessDay => ("next business day".to_string(), None),
    };
    let (actual, met) = match (i.escalated_at, deadline) {
        (Some(e), Some(d)) => (escalated(i, e, tz), if e - i.declared_at <= d { "yes" } else { "late" }),
        (Some(e), None) => (escalated(i, e, tz), "—"),
        (None, Some(d)) if i.resolved_at.is_some_and(|r| r - i.declared_at <= d) => {
            ("not escalated (resolved first)".to_string(), "yes")
        }
        (None, Some(_)) => ("not escalated".to_string(), "no"),
        (None, None) => ("not escalated".to_string(), "—"),
    };
    format!("| Escalation | {actual} | {target} | {met} |\n")
}

fn escalated(i: &Incident, at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    format!("escalated at {} ({} after declaration)", local_time(at, tz), human_duration(at - i.declared_at))
}

/// Status updates posted, and whether no gap (declaration → updates → resolution) exceeded
/// the cadence.
fn updates_row(i: &Incident, events: &[&TimelineEvent], policy: &SeverityPolicy) -> String {
    let updates: Vec<DateTime<Utc>> = events.iter().filter(|e| e.kind == TimelineKind::Update).map(|e| e.at).collect();
    let actual = format!("{} posted", updates.len());
    let Some(every) = policy.status_update else {
        return format!("| Status updates | {actual} | not required | — |\n");
    };
    let mut marks = vec![i.declared_at];
    marks.extend(updates.iter().copied());
    if let Some(r) = i.resolved_at {
        marks.push(r);
    }
    let longest = marks.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_else(Duration::zero);
    let met = if i.resolved_at.is_some() { yes_no(longest <= every) } else { "—" };
    format!(
        "| Status updates | {actual} (longest gap {}) | every {} | {met} |\n",
        human_duration(longest),
        human_duration(every)
    )
}

/// `AlertName` (severity, summary, started at) from an AlertManager alert.
fn describe_alert(alert: &serde_json::Value, tz: chrono_tz::Tz) -> String {
    let text = |ptr: &str| alert.pointer(ptr).and_then(serde_json::Value::as_str).map(str::to_string);
    let name = text("/labels/alertname").or_else(|| text("/alertname"));
    let Some(name) = name else {
        return format!("`{}`", one_line(&alert.to_string()).chars().take(300).collect::<String>());
    };
    let mut detail = Vec::new();
    if let Some(sev) = text("/labels/severity") {
        detail.push(format!("severity {sev}"));
    }
    if let Some(summary) = text("/annotations/summary") {
        detail.push(one_line(&summary));
    }
    if let Some(start) = text("/startsAt").and_then(|s| DateTime::parse_from_rfc3339(&s).ok()) {
        detail.push(format!("firing since {}", local_time(start.with_timezone(&Utc), tz)));
    }
    if detail.is_empty() {
        format!("`{name}`")
    } else {
        format!("`{name}` ({})", detail.join("; "))
    }
}

/// Text safe in a Markdown table cell.
fn cell(s: &str) -> String {
    s.trim().replace('|', "\\|").replace("\r\n", "<br>").replace('\n', "<br>")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
