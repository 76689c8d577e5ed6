//! The post-incident summary and response statistics.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{incident, utc};
use hsof_ops::incidents::{stats, summary_markdown, Incident, Severity, SeverityPolicy, TimelineEvent, TimelineKind};
use serde_json::json;

fn event(id: i64, at: DateTime<Utc>, author: &str, kind: TimelineKind, text: &str) -> TimelineEvent {
    TimelineEvent { id, at, author: author.into(), kind, text: text.into(), data: serde_json::Value::Null }
}

fn mins(m: i64) -> Duration {
    Duration::minutes(m)
}

/// P1 declared Monday 2026-03-02 11:00 CET, acknowledged after 4 min, escalated after 31,
/// updated at 15 and 40, resolved after 90.
fn resolved_p1() -> (Incident, Vec<TimelineEvent>) {
    let d = utc(2026, 3, 2, 10, 0);
    let mut i = incident(7, Severity::P1, d);
    i.source_alert = Some(json!({
        "labels": {"alertname": "InferenceLatencyHigh", "severity": "critical"},
        "annotations": {"summary": "p99 above 500 ms"},
        "startsAt": "2026-03-02T09:55:00Z"
    }));
    i.acknowledge(d + mins(4)).expect("ack");
    i.escalate(d + mins(31)).expect("escalate");
    i.record_update(d + mins(40)).expect("update");
    i.resolve(d + mins(90)).expect("resolve");
    let timeline = vec![
        event(6, d + mins(90), "bob", TimelineKind::Resolved, "Latency normal for 30 min"),
        event(1, d, "alice", TimelineKind::Declared, "Declared P1"),
        event(2, d + mins(4), "bob", TimelineKind::Acknowledged, "bob is on it"),
        event(3, d + mins(15), "bob", TimelineKind::Update, "Conditions: p99 2 s | Actions: profiling"),
        event(4, d + mins(31), "bob", TimelineKind::Escalated, "Paged the ML platform lead"),
        event(5, d + mins(35), "bob", TimelineKind::Change, "kubectl rollout undo deployment/hsof-main -n hsof"),
        event(7, d + mins(40), "bob", TimelineKind::Update, "Rolled back;\nwatching"),
        event(8, d + mins(41), "hsof", TimelineKind::SlackFailed, "Slack unavailable (HTTP 503)"),
    ];
    (i, timeline)
}

#[test]
fn the_summary_has_window_response_and_the_whole_timeline() {
    let (i, timeline) = resolved_p1();
    let md = summary_markdown(&i, &timeline, &SeverityPolicy::runbook(Severity::P1), chrono_tz::Europe::Berlin);
    assert!(md.starts_with("# [P1] Incident #7: Inference latency above SLO\n"), "{md}");
    for needle in [
        "_All times Europe/Berlin._",
        "- **Declared:** 2026-03-02 11:00 CET",
        "- **Resolved:** 2026-03-02 12:30 CET",
        "- **Duration:** 1 h 30 min",
        "`InferenceLatencyHigh` (severity critical; p99 above 500 ms; firing since 2026-03-02 10:55 CET)",
        "- **Declared by:** alice",
        "| Time to acknowledge | 4 min | 15 min | yes |",
        "| Escalation | escalated at 2026-03-02 11:31 CET (31 min after declaration) | after 30 min | late |",
        "| Status updates | 2 posted (longest gap 50 min) | every 15 min | no |",
        "| Time to resolve | 1 h 30 min | — | — |",
        "- [ ] Schedule post-mortem",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| 2026-")).collect();
    assert_eq!(rows.len(), timeline.len(), "one row per event");
    assert!(rows[0].contains("| alice | declared | Declared P1 |"), "sorted by time: {}", rows[0]);
    for e in &timeline {
        let text = e.text.replace('|', "\\|").replace('\n', "<br>");
        assert!(rows.iter().any(|r| r.contains(&text) && r.contains(&e.kind.to_string())), "{} missing", e.text);
    }
    let actions = md.split("## Actions taken").nth(1).and_then(|s| s.split("## Follow-ups").next()).expect("actions");
    assert!(actions.contains("kubectl rollout undo") && actions.contains("Rolled back; watching"), "{actions}");
    assert!(!actions.contains("Paged the ML platform lead"), "escalations are not actions");
}

#[test]
fn an_open_low_severity_incident_reads_as_ongoing_without_a_postmortem() {
    let d = utc(2026, 3, 2, 10, 0);
    let i = incident(8, Severity::P3, d);
    let md = summary_markdown(&i, &[], &SeverityPolicy::runbook(Severity::P3), chrono_tz::Europe::Berlin);
    assert!(md.contains("- **Resolved:** not yet (ongoing)"), "{md}");
    assert!(md.contains("| Time to acknowledge | not acknowledged | 4 h | no |"), "{md}");
    assert!(md.contains("none (declared manually)") && md.contains("_None recorded._"), "{md}");
    assert!(md.contains("| Status updates | 0 posted | not required | — |"), "{md}");
    assert!(!md.contains("post-mortem"), "P3 needs no post-mortem");
}

fn done(id: i64, severity: Severity, declared: DateTime<Utc>, ack: Option<i64>, resolve: Option<i64>) -> Incident {
    let mut i = incident(id, severity, declared);
    i.acknowledged_at = ack.map(|m| declared + mins(m));
    i.resolved_at = resolve.map(|m| declared + mins(m));
    i
}

#[test]
fn stats_average_per_severity_within_the_range_only() {
    let from = utc(2026, 3, 1, 0, 0);
    let to = utc(2026, 4, 1, 0, 0);
    let incidents = vec![
        done(1, Severity::P1, from, Some(5), Some(60)),
        done(2, Severity::P1, utc(2026, 3, 10, 12, 0), Some(15), None),
        done(3, Severity::P1, utc(2026, 3, 20, 12, 0), None, Some(120)),
        done(4, Severity::P1, utc(2026, 2, 28, 12, 0), Some(500), Some(900)),
        done(5, Severity::P1, to, Some(500), Some(900)),
        done(6, Severity::P0, utc(2026, 3, 5, 3, 0), Some(2), Some(30)),
        done(7, Severity::P2, utc(2026, 3, 6, 3, 0), None, None),
    ];
    let s = stats(&incidents, from, to);
    assert_eq!(s.iter().map(|x| x.severity).collect::<Vec<_>>(), Severity::all());
    let by = |sev: Severity| s.iter().find(|x| x.severity == sev).expect("every severity");
    let p1 = by(Severity::P1);
    assert_eq!(p1.count, 3, "from is inclusive, to exclusive");
    assert_eq!(p1.mtta_secs, Some(600.0), "(5 + 15) / 2 min");
    assert_eq!(p1.mttr_secs, Some(5400.0), "(60 + 120) / 2 min");
    let p0 = by(Severity::P0);
    assert_eq!((p0.count, p0.mtta_secs, p0.mttr_secs), (1, Some(120.0), Some(1800.0)));
    let p2 = by(Severity::P2);
    assert_eq!((p2.count, p2.mtta_secs, p2.mttr_secs), (1, None, None));
    let p3 = by(Severity::P3);
    assert_eq!((p3.count, p3.mtta_secs, p3.mttr_secs), (0, None, None));
}

#[test]
fn a_drill_is_marked_scored_and_kept_out_of_the_statistics() {
    let (mut i, timeline) = resolved_p1();
    i.drill = Some("error-burst".into());
    let md = summary_markdown(&i, &timeline, &SeverityPolicy::runbook(Severity::P1), chrono_tz::Europe::Berlin);
    assert!(md.starts_with("# [DRILL] [P1] Incident #7:"), "{md}");
    assert!(md.contains("demo scenario `error-burst`"), "{md}");
    let card = md.split("## Drill summary").nth(1).expect("scorecard");
    assert!(card.contains("**Time to acknowledge:** 4 min (target 15 min, met)"), "{card}");
    assert!(card.contains("**Time to resolve:** 1 h 30 min"), "{card}");
    // Acknowledged, two updates, an escalation, a change, resolved: six steps.
    assert!(card.contains("**Steps taken:** 6"), "{card}");

    let (real, _) = resolved_p1();
    let d = real.declared_at;
    let s = stats(&[real, i], d - mins(1), d + mins(1));
    let p1 = s.iter().find(|x| x.severity == Severity::P1).expect("P1");
    assert_eq!(p1.count, 1, "the drill was counted");
}
