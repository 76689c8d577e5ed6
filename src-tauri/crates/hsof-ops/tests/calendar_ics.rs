//! The `.ics` export: one recurring VEVENT per procedure with RRULE and DTSTART;TZID, a
//! VTIMEZONE for that TZID, maintenance windows, and the whole parses back.

use chrono::{TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hsof_ops::calendar::{export_ics, load_catalog, MaintenanceWindow};
use icalendar::{Calendar, Component};

fn window() -> MaintenanceWindow {
    MaintenanceWindow {
        id: 7,
        title: "Node pool upgrade; GPU drivers, CUDA".into(),
        start: Utc.with_ymd_and_hms(2026, 12, 5, 21, 0, 0).single().expect("valid"),
        end: Utc.with_ymd_and_hms(2026, 12, 6, 1, 0, 0).single().expect("valid"),
        description: "Rolling upgrade of the gpu-a100 pool.\nExpect slower processing.".into(),
    }
}

/// When the file is made: every DTSTAMP.
fn stamp() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 7, 15, 0).single().expect("time")
}

fn unfolded(ics: &str) -> String {
    ics.replace("\r\n ", "")
}

#[test]
fn every_procedure_is_one_recurring_event_that_parses_back() {
    let catalog = load_catalog(None).expect("valid");
    let ics = export_ics(&catalog, Berlin, &[window()], stamp());
    let parsed: Calendar = ics.parse().expect("the export parses back");
    let events: Vec<_> = parsed.events().collect();
    assert_eq!(events.len(), catalog.procedures.len() + 1);

    for p in &catalog.procedures {
        let uid = format!("{}@hsof-control-center", p.id);
        let event = events.iter().find(|e| e.get_uid() == Some(uid.as_str())).unwrap_or_else(|| panic!("{uid}"));
        assert_eq!(event.get_summary(), Some(p.title.as_str()));
        assert_eq!(event.property_value("RRULE"), Some(p.rrule.as_str()));
        let dtstart = event.properties().get("DTSTART").expect("DTSTART");
        assert_eq!(dtstart.params().get("TZID").map(|t| t.value()), Some("Europe/Berlin"), "{uid}");
        let compact = p.start.replace(['-', ':'], "") + "00";
        assert_eq!(dtstart.value(), compact, "{uid}");
        let description = event.get_description().expect("a description");
        for step in &p.steps {
            assert!(description.contains(&step.text), "{uid}: {}", step.text);
        }
    }
    let morning =
        events.iter().find(|e| e.get_uid() == Some("morning-health-check@hsof-control-center")).expect("present");
    let description = morning.get_description().expect("description");
    assert!(
        description.contains("$ kubectl get pods -n hsof") && description.contains("[automated: pod status]"),
        "{description}"
    );
    assert_eq!(morning.property_value("DTEND"), Some("20260105T093000"));

    let maintenance = events.iter().find(|e| e.get_uid() == Some("maintenance-7@hsof-control-center")).expect("window");
    assert_eq!(maintenance.get_summary(), Some("Maintenance: Node pool upgrade; GPU drivers, CUDA"));
    assert_eq!(maintenance.property_value("DTSTART"), Some("20261205T210000Z"));
    assert_eq!(maintenance.property_value("DTEND"), Some("20261206T010000Z"));
    assert_eq!(maintenance.get_description(), Some(window().description.as_str()));
}

#[test]
fn the_export_is_valid_rfc_5545_text() {
    let catalog = load_catalog(None).expect("valid");
    let ics = export_ics(&catalog, Berlin, &[window()], stamp());
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n'), "every line ends in CRLF");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "line longer than 75 octets: {line}");
    }
    let text = unfolded(&ics);
    for needed in ["VERSION:2.0", "PRODID:-//HSOF//Control Center//EN", "CALSCALE:GREGORIAN"] {
        assert!(text.contains(needed), "{needed}");
    }
    assert_eq!(text.matches("BEGIN:VEVENT").count(), text.matches("END:VEVENT").count());
    assert_eq!(text.matches("DTSTAMP:").count(), catalog.procedures.len() + 1, "every event has a DTSTAMP");
    assert_eq!(text.matches("RRULE:").count(), catalog.procedures.len() + 2, "events plus the zone's two rules");
    assert!(text.contains("DESCRIPTION:Runbook: Daily Operations › Morning Health Check (9:00 AM)\\n\\n1. "));
    assert!(text.contains("SUMMARY:Maintenance: Node pool upgrade\\; GPU drivers\\, CUDA"), "text is escaped");

    // The one TZID used is defined, before the events, with Berlin's rules.
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
    assert!(text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"));
    let zone = &text[text.find("BEGIN:VTIMEZONE").expect("zone")..text.find("END:VTIMEZONE").expect("zone end")];
    assert!(zone.contains("TZID:Europe/Berlin"));
    assert!(zone.contains(
        "BEGIN:DAYLIGHT\r\nDTSTART:20250330T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT"
    ), "{zone}");
    assert!(zone.contains(
        "BEGIN:STANDARD\r\nDTSTART:20251026T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD"
    ), "{zone}");
    assert!(!zone.contains("UID:") && !zone.contains("DTSTAMP:"), "a VTIMEZONE has no UID or DTSTAMP");
}

#[test]
fn the_export_reads_no_clock_and_other_zones_get_their_own_rules() {
    let catalog = load_catalog(None).expect("valid");
    assert_eq!(
        export_ics(&catalog, Berlin, &[], stamp()),
        export_ics(&catalog, Berlin, &[], stamp()),
        "same input, same bytes"
    );
    // DTSTAMP is the export time, not each event's start, so subscribers see edits as new.
    let text = unfolded(&export_ics(&catalog, Berlin, &[window()], stamp()));
    let stamps: Vec<&str> = text.lines().filter(|l| l.starts_with("DTSTAMP:")).collect();
    assert!(stamps.len() > 20 && stamps.iter().all(|l| *l == "DTSTAMP:20261130T071500Z"), "{stamps:?}");
    let later = stamp() + chrono::Duration::hours(1);
    assert!(unfolded(&export_ics(&catalog, Berlin, &[], later)).contains("DTSTAMP:20261130T081500Z"));

    let new_york = unfolded(&export_ics(&catalog, chrono_tz::America::New_York, &[], stamp()));
    assert!(new_york.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"), "second Sunday of March");
    assert!(new_york.contains("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU"), "first Sunday of November");
    assert!(new_york.contains("DTSTART;TZID=America/New_York:20260105T090000"));

    let kolkata = unfolded(&export_ics(&catalog, chrono_tz::Asia::Kolkata, &[], stamp()));
    assert!(kolkata.contains("BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nTZNAME:IST\r\nEND:STANDARD"), "{kolkata}");
    assert!(!kolkata.contains("BEGIN:DAYLIGHT"));
}
