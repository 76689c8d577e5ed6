//! How times and durations read in messages and summaries.

use chrono::{DateTime, Duration, Utc};

/// `1 h 30 min`, `4 min 5 s`, `2 d 3 h`; the two largest units only. Negative durations
/// are prefixed with `-`.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.num_seconds();
    let mut rest = secs.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)] {
        if rest >= len && parts.len() < 2 {
            parts.push(format!("{} {unit}", rest / len));
            rest %= len;
        } else if !parts.is_empty() {
            // Stop at the first gap so "1 h 0 min 5 s" reads "1 h".
            break;
        }
    }
    if parts.is_empty() {
        return "0 s".into();
    }
    format!("{}{}", if secs < 0 { "-" } else { "" }, parts.join(" "))
}

/// `2026-03-27 20:00 CET` in the team's time zone.
pub(crate) fn local_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(Duration::seconds(5400)), "1 h 30 min");
        assert_eq!(human_duration(Duration::seconds(245)), "4 min 5 s");
        assert_eq!(human_duration(Duration::seconds(3605)), "1 h");
        assert_eq!(human_duration(Duration::zero()), "0 s");
        assert_eq!(human_duration(Duration::seconds(-90)), "-1 min 30 s");
    }

    #[test]
    fn times_show_the_zone_abbreviation() {
        let at = Utc.with_ymd_and_hms(2026, 3, 30, 7, 0, 0).single().expect("valid");
        assert_eq!(local_time(at, chrono_tz::Europe::Berlin), "2026-03-30 09:00 CEST");
    }
}
