//! Occurrence status with an injected clock: all six states and the cadence's grace.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsof_ops::calendar::{grace, status, Cadence, Occurrence, OccurrenceStatus, Progress};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).single().expect("valid")
}

fn morning() -> Occurrence {
    Occurrence {
        procedure_id: "morning-health-check".into(),
        title: "Morning Health Check".into(),
        cadence: Cadence::Daily,
        start: at(8, 0),
        end: at(8, 30),
        key: "morning-health-check@2026-11-30T09:00".into(),
    }
}

fn progress(done: u32, completed: bool, skipped: bool) -> Progress {
    Progress { steps_total: 7, steps_done: done, completed, skipped }
}

#[test]
fn every_state_at_its_time() {
    let o = morning();
    let nothing = progress(0, false, false);
    assert_eq!(status(&o, &nothing, at(7, 59)), OccurrenceStatus::Upcoming);
    assert_eq!(status(&o, &nothing, at(8, 0)), OccurrenceStatus::Due);
    // Grace for a daily procedure: 4 h after its end (08:30 + 4 h = 12:30).
    assert_eq!(status(&o, &nothing, at(12, 29)), OccurrenceStatus::Due);
    assert_eq!(status(&o, &nothing, at(12, 30)), OccurrenceStatus::Overdue);

    assert_eq!(status(&o, &progress(3, false, false), at(9, 0)), OccurrenceStatus::Partial);
    assert_eq!(status(&o, &progress(3, false, false), at(7, 50)), OccurrenceStatus::Partial, "started early");
    assert_eq!(status(&o, &progress(3, false, false), at(13, 0)), OccurrenceStatus::Overdue, "never completed");

    assert_eq!(status(&o, &progress(7, true, false), at(9, 0)), OccurrenceStatus::Done);
    assert_eq!(status(&o, &progress(7, true, false), at(23, 0)), OccurrenceStatus::Done);
    assert_eq!(
        status(&o, &progress(5, true, false), at(9, 0)),
        OccurrenceStatus::Partial,
        "completed with steps missing"
    );
    assert_eq!(status(&o, &progress(5, true, false), at(23, 0)), OccurrenceStatus::Partial);

    assert_eq!(status(&o, &progress(0, false, true), at(23, 0)), OccurrenceStatus::Skipped);
    assert_eq!(status(&o, &progress(2, false, true), at(7, 0)), OccurrenceStatus::Skipped);
}

#[test]
fn grace_follows_the_cadence() {
    assert_eq!(grace(Cadence::Daily), Duration::hours(4));
    assert_eq!(grace(Cadence::Weekly), Duration::days(1));
    assert_eq!(grace(Cadence::Monthly), Duration::days(3));
    assert_eq!(grace(Cadence::Quarterly), Duration::days(7));

    let mut o = morning();
    o.cadence = Cadence::Monthly;
    let nothing = progress(0, false, false);
    assert_eq!(status(&o, &nothing, at(8, 30) + Duration::days(3) - Duration::minutes(1)), OccurrenceStatus::Due);
    assert_eq!(status(&o, &nothing, at(8, 30) + Duration::days(3)), OccurrenceStatus::Overdue);
}

#[test]
fn statuses_serialise_in_snake_case() {
    let json = serde_json::to_string(&[OccurrenceStatus::Upcoming, OccurrenceStatus::Overdue]).expect("serialises");
    assert_eq!(json, r#"["upcoming","overdue"]"#);
}
