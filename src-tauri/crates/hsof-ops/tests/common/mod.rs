//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use hsof_ops::incidents::{BusinessHours, Incident, NewIncident, Severity};

/// A UTC instant; panics only on a typo in the test itself.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid test time")
}

/// Europe/Berlin, 09:00–17:00.
pub fn berlin() -> BusinessHours {
    BusinessHours::parse("Europe/Berlin", "09:00", "17:00").expect("valid business hours")
}

/// An open incident declared at `at`.
pub fn incident(id: i64, severity: Severity, at: DateTime<Utc>) -> Incident {
    let new = NewIncident {
        title: "Inference latency above SLO".into(),
        severity,
        components: vec!["model".into(), "gpu".into()],
        description: "p99 latency 2.3 s, target 500 ms".into(),
        source_alert: None,
        drill: None,
    };
    Incident::declare(id, new, "alice", at).expect("valid incident")
}
