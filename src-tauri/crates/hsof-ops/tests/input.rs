//! Parsing and validation of what engineers type and configure.

use std::str::FromStr;

use chrono::Duration;
use hsof_ops::incidents::{
    format_duration, parse_duration, Escalation, IncidentError, IncidentStatus, NewIncident, Severity, StatusUpdate,
    TimelineKind,
};

#[test]
fn escalation_accepts_words_and_durations() {
    assert_eq!(Escalation::parse("immediate"), Ok(Escalation::Immediate));
    assert_eq!(Escalation::parse(" Next-Business-Day "), Ok(Escalation::NextBusinessDay));
    assert_eq!(Escalation::parse("30m"), Ok(Escalation::After(Duration::minutes(30))));
    assert_eq!(Escalation::parse("4h"), Ok(Escalation::After(Duration::hours(4))));
    assert_eq!(Escalation::parse("90s"), Ok(Escalation::After(Duration::seconds(90))));
    assert_eq!(Escalation::parse("1h30m"), Ok(Escalation::After(Duration::minutes(90))));
    for e in [Escalation::Immediate, Escalation::NextBusinessDay, Escalation::After(Duration::minutes(90))] {
        assert_eq!(Escalation::parse(&e.to_string()), Ok(e), "round trip of {e}");
    }
}

#[test]
fn escalation_rejects_nonsense_with_the_valid_forms() {
    for bad in ["", "soon", "30", "m30", "0m", "-5m", "1.5h", "30 minutes", "99999999999999999999h"] {
        let err = Escalation::parse(bad).expect_err(bad);
        let msg = err.to_string();
        assert!(matches!(err, IncidentError::InvalidInput(_)), "{bad}: {err:?}");
        assert!(msg.contains("immediate") && msg.contains("next-business-day") && msg.contains("1h30m"), "{msg}");
    }
}

#[test]
fn durations_parse_and_print_compactly() {
    assert_eq!(parse_duration("1h 30m"), Ok(Duration::minutes(90)));
    assert_eq!(parse_duration("2d"), Ok(Duration::days(2)));
    assert_eq!(format_duration(Duration::seconds(5445)), "1h30m45s");
    assert_eq!(format_duration(Duration::zero()), "0s");
    assert!(parse_duration("h").is_err());
}

#[test]
fn severity_parses_any_case_and_names_the_valid_values() {
    assert_eq!(Severity::from_str("p1"), Ok(Severity::P1));
    assert_eq!(" P3 ".parse::<Severity>(), Ok(Severity::P3));
    let err = "P5".parse::<Severity>().expect_err("no P5");
    assert_eq!(err.to_string(), "unknown severity `P5`: expected one of P0, P1, P2, P3");
    assert!(Severity::P0 < Severity::P3, "P0 sorts first, as the most severe");
    let mut all = Severity::all();
    all.sort_by(|a, b| b.cmp(a));
    assert_eq!(all[3], Severity::P0);
}

#[test]
fn words_round_trip_through_display_and_serde() {
    for s in Severity::all() {
        assert_eq!(serde_json::to_string(&s).expect("json"), format!("\"{s}\""));
    }
    for (kind, word) in [(TimelineKind::SlackPosted, "slack_posted"), (TimelineKind::Declared, "declared")] {
        assert_eq!(kind.to_string(), word);
        assert_eq!(word.parse::<TimelineKind>(), Ok(kind));
        assert_eq!(serde_json::to_string(&kind).expect("json"), format!("\"{word}\""));
    }
    assert_eq!("Acknowledged".parse::<IncidentStatus>(), Ok(IncidentStatus::Acknowledged));
    assert_eq!(serde_json::to_string(&IncidentStatus::Resolved).expect("json"), "\"resolved\"");
    let err = "closed".parse::<IncidentStatus>().expect_err("closed");
    assert_eq!(err.to_string(), "unknown incident status `closed`: expected one of open, acknowledged, resolved");
    assert!("bogus".parse::<TimelineKind>().expect_err("bogus").to_string().contains("slack_failed"));
}

#[test]
fn a_status_update_must_say_something() {
    let empty = StatusUpdate { conditions: " ".into(), actions: String::new(), needs: "\n".into() };
    assert!(matches!(empty.validate(), Err(IncidentError::InvalidInput(_))));
    let needs_only = StatusUpdate { conditions: String::new(), actions: String::new(), needs: "a DBA".into() };
    assert_eq!(needs_only.validate(), Ok(()));
}

#[test]
fn a_new_incident_needs_a_short_title() {
    let new = |title: &str| NewIncident {
        title: title.into(),
        severity: Severity::P2,
        components: vec![],
        description: String::new(),
        source_alert: None,
        drill: None,
    };
    assert_eq!(new("Model server crash-looping").validate(), Ok(()));
    assert_eq!(new("   ").validate(), Err(IncidentError::InvalidInput("an incident needs a title".into())));
    assert_eq!(new(&"é".repeat(200)).validate(), Ok(()), "200 characters, not bytes");
    let err = new(&"x".repeat(201)).validate().expect_err("too long");
    assert!(err.to_string().contains("201 characters") && err.to_string().contains("200"), "{err}");
}
