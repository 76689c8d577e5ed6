//! Times as the app stores and accepts them: RFC 3339 in UTC on disk; from people, also
//! dates and times in the team time zone and relative forms (`-7d`, `now`, `today`).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{AppContext, Error};

/// RFC 3339 with milliseconds in UTC, as the store keeps times (sortable as text).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time given for `what`; a clear `InvalidInput` error otherwise.
pub fn parse_time(s: &str, what: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::InvalidInput(format!("{what}: {s:?} is not an RFC 3339 time ({e})")))
}

/// Which end of a range a time is for: a bare day means its first instant as a start and
/// the first instant of the next day as an end, so `--from 2027-01-01 --to 2027-03-31`
/// takes in the whole of 31 March.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Start,
    End,
}

/// What `parse_when` accepts, for error messages and `--help`.
pub const WHEN_FORMS: &str =
    "an RFC 3339 time, a date YYYY-MM-DD or YYYY-MM-DD HH:MM in the team time zone, now, today, yesterday, tomorrow, or a relative time such as -7d, -12h, +30m, -2w";

/// A time as a person types it: RFC 3339 (`2027-01-05T22:00:00Z`), a local date or date and
/// time in `tz` (`2027-01-05`, `2027-01-05 22:00`, `2027-01-05T22:00`), `now`, `today`,
/// `yesterday`, `tomorrow`, or an offset from `now` (`-7d`, `+2h`, `-30m`, `-90s`, `-2w`).
pub fn parse_when(s: &str, what: &str, now: DateTime<Utc>, tz: Tz, bound: Bound) -> Result<DateTime<Utc>, Error> {
    let t = s.trim();
    let bad = || Error::InvalidInput(format!("{what}: {s:?} is not a time; give {WHEN_FORMS}"));
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(x) = DateTime::parse_from_rfc3339(t) {
        return Ok(x.with_timezone(&Utc));
    }
    let today = now.with_timezone(&tz).date_naive();
    let day = match t.to_ascii_lowercase().as_str() {
        "now" => return Ok(now),
        "today" => Some(today),
        "yesterday" => today.pred_opt(),
        "tomorrow" => today.succ_opt(),
        _ => NaiveDate::parse_from_str(t, "%Y-%m-%d").ok(),
    };
    if let Some(day) = day {
        let day = if bound == Bound::End { day.succ_opt().ok_or_else(bad)? } else { day };
        return local(day.and_time(NaiveTime::MIN), tz, what, s);
    }
    for f in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return local(dt, tz, what, s);
        }
    }
    relative(t).and_then(|d| now.checked_add_signed(d)).ok_or_else(bad)
}

/// `-7d`, `+2h`, `30m` (a bare offset counts forward), `-2w`, `-90s`.
fn relative(t: &str) -> Option<Duration> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'-' => (-1, &t[1..]),
        b'+' => (1, &t[1..]),
        _ => (1, t),
    };
    let unit = rest.chars().last()?;
    let n: i64 = rest[..rest.len() - unit.len_utf8()].parse().ok()?;
    let d = match unit {
        's' => Duration::try_seconds(n)?,
        'm' => Duration::try_minutes(n)?,
        'h' => Duration::try_hours(n)?,
        'd' => Duration::try_days(n)?,
        'w' => Duration::try_weeks(n)?,
        _ => return None,
    };
    Some(d * sign)
}

/// A local wall-clock time in `tz`: the earlier instant when the clock goes back, the
/// first instant after the gap when it jumps forward.
fn local(dt: NaiveDateTime, tz: Tz, what: &str, s: &str) -> Result<DateTime<Utc>, Error> {
    if let Some(t) = tz.from_local_datetime(&dt).earliest() {
        return Ok(t.with_timezone(&Utc));
    }
    // In a spring-forward gap: the hour after it exists.
    tz.from_local_datetime(&(dt + Duration::hours(1)))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Error::InvalidInput(format!("{what}: {s:?} does not exist in {tz}")))
}

impl AppContext {
    /// `parse_when` in the team time zone.
    pub fn parse_when(&self, s: &str, what: &str, now: DateTime<Utc>, bound: Bound) -> Result<DateTime<Utc>, Error> {
        parse_when(s, what, now, self.team_tz()?, bound)
    }
}

/// The first instant of local date `day` in `tz` (a midnight DST skips is the first
/// instant after it).
pub fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut t = day.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(x) = tz.from_local_datetime(&t).earliest() {
            return x.with_timezone(&Utc);
        }
        t += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("parses").with_timezone(&Utc)
    }

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    #[test]
    fn dates_are_local_days_and_an_end_day_is_inclusive() {
        let now = at("2026-12-01T10:00:00Z");
        assert_eq!(
            parse_when("2027-01-01", "from", now, BERLIN, Bound::Start).expect("parses"),
            at("2026-12-31T23:00:00Z")
        );
        assert_eq!(
            parse_when("2027-03-31", "to", now, BERLIN, Bound::End).expect("parses"),
            at("2027-03-31T22:00:00Z")
        );
        assert_eq!(
            parse_when("2027-07-01 09:30", "t", now, BERLIN, Bound::Start).expect("parses"),
            at("2027-07-01T07:30:00Z")
        );
        assert_eq!(
            parse_when("2027-07-01T09:30", "t", now, BERLIN, Bound::End).expect("parses"),
            at("2027-07-01T07:30:00Z")
        );
    }

    #[test]
    fn rfc3339_relative_and_words() {
        let now = at("2026-12-01T23:30:00Z"); // 00:30 on 2 December in Berlin
        assert_eq!(
            parse_when("2026-01-02T03:04:05+02:00", "t", now, BERLIN, Bound::Start).expect("parses"),
            at("2026-01-02T01:04:05Z")
        );
        assert_eq!(parse_when("-7d", "t", now, BERLIN, Bound::Start).expect("parses"), now - Duration::days(7));
        assert_eq!(parse_when("+30m", "t", now, BERLIN, Bound::Start).expect("parses"), now + Duration::minutes(30));
        assert_eq!(parse_when("-2w", "t", now, BERLIN, Bound::Start).expect("parses"), now - Duration::weeks(2));
        assert_eq!(parse_when("now", "t", now, BERLIN, Bound::End).expect("parses"), now);
        assert_eq!(parse_when("today", "t", now, BERLIN, Bound::Start).expect("parses"), at("2026-12-01T23:00:00Z"));
        assert_eq!(parse_when("Today", "t", now, BERLIN, Bound::End).expect("parses"), at("2026-12-02T23:00:00Z"));
        assert_eq!(
            parse_when("yesterday", "t", now, BERLIN, Bound::Start).expect("parses"),
            at("2026-11-30T23:00:00Z")
        );
    }

    #[test]
    fn daylight_saving_edges() {
        let now = at("2027-01-01T00:00:00Z");
        // 2027-03-28 02:30 does not exist in Berlin: the hour after the jump.
        assert_eq!(
            parse_when("2027-03-28 02:30", "t", now, BERLIN, Bound::Start).expect("parses"),
            at("2027-03-28T01:30:00Z")
        );
        // 2027-10-31 02:30 happens twice: the first.
        assert_eq!(
            parse_when("2027-10-31 02:30", "t", now, BERLIN, Bound::Start).expect("parses"),
            at("2027-10-31T00:30:00Z")
        );
        // The day of the change is 23 hours long.
        let a = parse_when("2027-03-28", "t", now, BERLIN, Bound::Start).expect("parses");
        let b = parse_when("2027-03-28", "t", now, BERLIN, Bound::End).expect("parses");
        assert_eq!(b - a, Duration::hours(23));
    }

    #[test]
    fn bad_input_is_named_with_the_forms() {
        let now = at("2027-01-01T00:00:00Z");
        for s in ["", "soon", "-7", "7x", "2027-13-01", "-99999999999999d", "d", "-d"] {
            let e = parse_when(s, "from", now, BERLIN, Bound::Start).expect_err("refused").to_string();
            assert!(e.contains("from") && e.contains("-7d") && e.contains("YYYY-MM-DD"), "{s}: {e}");
        }
    }
}
