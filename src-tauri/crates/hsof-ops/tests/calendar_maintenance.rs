//! Maintenance windows: validation, the 48-hour notice, and the announcement text.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hsof_ops::calendar::{announcement, check_window, MaintenanceError, MaintenanceWindow, NOTICE};

fn utc(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).single().expect("valid")
}

#[test]
fn a_window_announced_48_hours_ahead_is_fine() {
    let now = utc(12, 1, 9);
    let check = check_window(utc(12, 5, 21), utc(12, 6, 1), now).expect("valid");
    assert!(check.notice_ok);
    assert_eq!(check.notice_due, utc(12, 3, 21));
    assert!(check.warnings.is_empty());

    let exactly = check_window(now + NOTICE, now + NOTICE + Duration::hours(1), now).expect("valid");
    assert!(exactly.notice_ok, "48 h is enough");
}

#[test]
fn short_notice_is_a_warning_not_an_error() {
    let now = utc(12, 4, 9);
    let check = check_window(utc(12, 5, 21), utc(12, 6, 1), now).expect("still valid");
    assert!(!check.notice_ok);
    assert_eq!(check.notice_due, utc(12, 3, 21));
    assert_eq!(check.warnings.len(), 1);
    assert!(check.warnings[0].contains("36 h") && check.warnings[0].contains("48 hours"), "{:?}", check.warnings);
}

#[test]
fn impossible_windows_are_rejected() {
    let now = utc(12, 1, 9);
    let e = check_window(utc(12, 5, 21), utc(12, 5, 20), now).expect_err("ends before it starts");
    assert!(matches!(e, MaintenanceError::EndsBeforeStart { .. }));
    assert!(e.to_string().contains("ends") && e.to_string().contains("before it starts"), "{e}");
    assert!(matches!(check_window(utc(12, 5, 21), utc(12, 5, 21), now), Err(MaintenanceError::EndsBeforeStart { .. })));
    assert!(matches!(check_window(utc(11, 30, 21), utc(11, 30, 22), now), Err(MaintenanceError::InThePast { .. })));
    let e = check_window(utc(12, 5, 8), utc(12, 5, 21), now).expect_err("13 h");
    assert_eq!(e, MaintenanceError::TooLong { minutes: 13 * 60 });
    assert!(check_window(utc(12, 5, 8), utc(12, 5, 20), now).is_ok(), "12 h is the limit");
}

#[test]
fn the_announcement_gives_local_and_utc_times_impact_and_contact() {
    let w = MaintenanceWindow {
        id: 3,
        title: "GPU node pool upgrade".into(),
        start: utc(12, 5, 21),
        end: utc(12, 6, 1),
        description: "Rolling upgrade of the gpu-a100 pool.".into(),
    };
    let text = announcement(
        &w,
        Berlin,
        "Feature selection jobs queue and run slower; no data loss.",
        "#hsof-ops / ops@company.com",
    );
    assert!(text.starts_with("Scheduled maintenance: GPU node pool upgrade\n"), "{text}");
    assert!(text.contains("Sat 2026-12-05 22:00 CET – Sun 2026-12-06 02:00 CET (Europe/Berlin)"), "{text}");
    assert!(text.contains("Sat 2026-12-05 21:00 UTC – Sun 2026-12-06 01:00 UTC"), "{text}");
    assert!(text.contains("Duration: 4 h\n"), "{text}");
    assert!(text.contains("Expected impact: Feature selection jobs queue and run slower; no data loss.\n"));
    assert!(text.contains("Details: Rolling upgrade of the gpu-a100 pool.\n"));
    assert!(text.ends_with("Contact: #hsof-ops / ops@company.com\n"));

    let summer = MaintenanceWindow {
        start: utc(7, 4, 6),
        end: utc(7, 4, 7) + Duration::minutes(30),
        description: String::new(),
        ..w
    };
    let text = announcement(&summer, Berlin, "None expected.", "ops");
    assert!(text.contains("Sat 2026-07-04 08:00 CEST – 09:30 CEST"), "{text}");
    assert!(text.contains("Duration: 1 h 30 min"), "{text}");
    assert!(!text.contains("Details:"));
}
