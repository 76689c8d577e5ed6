//! A procedure's RRULE and DTSTART, checked and turned into an `rrule::RRuleSet` in a
//! time zone.

use chrono::{Datelike, Duration, LocalResult, NaiveDateTime, TimeZone};
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

/// Formats accepted for a procedure's `start`.
const START_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];

/// Why a rule was rejected, and which field to fix.
pub(crate) struct RuleError {
    pub(crate) field: &'static str,
    pub(crate) reason: String,
}

/// What the check learned about a valid rule.
pub(crate) struct Checked {
    pub(crate) freq: Frequency,
}

/// Parses `2026-01-05T09:00` (team-local, no offset).
pub(crate) fn parse_start(start: &str) -> Result<NaiveDateTime, String> {
    START_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(start.trim(), f).ok())
        .ok_or_else(|| format!("`{start}` is not a local date and time like 2026-01-05T09:00"))
}

/// The rule body without an optional `RRULE:` prefix.
fn body(rrule: &str) -> &str {
    let trimmed = rrule.trim();
    match trimmed.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => &trimmed[6..],
        _ => trimmed,
    }
}

fn parse(rrule: &str) -> Result<RRule<Unvalidated>, RuleError> {
    let text = body(rrule);
    if text.contains(['\n', '\r']) || text.to_ascii_uppercase().contains("DTSTART") {
        return Err(RuleError {
            field: "rrule",
            reason: "give the RRULE body only (e.g. FREQ=MONTHLY;BYDAY=1MO); DTSTART goes in `start`".into(),
        });
    }
    text.parse().map_err(|e: rrule::RRuleError| RuleError { field: "rrule", reason: format!("`{text}`: {e}") })
}

/// Checks that the rule parses and validates, and that `start` is its first occurrence.
///
/// The match is checked in UTC: a rule of days, weeks, months or years matches the same
/// local wall-clock times in every zone.
pub(crate) fn check(rrule: &str, start: NaiveDateTime) -> Result<Checked, RuleError> {
    let unvalidated = parse(rrule)?;
    let tz = rrule::Tz::UTC;
    let dt_start = tz.from_utc_datetime(&start);
    let rule = unvalidated
        .validate(dt_start)
        .map_err(|e| RuleError { field: "rrule", reason: format!("`{}`: {e}", body(rrule)) })?;
    let freq = rule.get_freq();
    let first = RRuleSet::new(dt_start).rrule(rule).into_iter().next();
    match first {
        Some(first) if first == dt_start => Ok(Checked { freq }),
        Some(first) => Err(RuleError {
            field: "start",
            reason: format!(
                "{} ({}) is not an occurrence of `{}`; its first occurrence from then is {} ({}): \
                 start on a date and time the rule yields",
                start.format("%Y-%m-%dT%H:%M"),
                start.weekday(),
                body(rrule),
                first.naive_utc().format("%Y-%m-%dT%H:%M"),
                first.weekday(),
            ),
        }),
        None => Err(RuleError {
            field: "rrule",
            reason: format!("`{}` yields no occurrence from {}", body(rrule), start.format("%Y-%m-%dT%H:%M")),
        }),
    }
}

/// The recurrence set in `tz`. A start that falls in a DST gap moves to the first valid
/// minute after it; an ambiguous one takes the earlier instant.
pub(crate) fn set_in(rrule: &str, start: &str, tz: chrono_tz::Tz) -> Option<RRuleSet> {
    let naive = parse_start(start).ok()?;
    let tz: rrule::Tz = tz.into();
    let dt_start = local(tz, naive)?;
    let rule = parse(rrule).ok()?.validate(dt_start).ok()?;
    Some(RRuleSet::new(dt_start).rrule(rule))
}

/// `naive` in `tz`, moved past a DST gap if it falls in one.
fn local(tz: rrule::Tz, naive: NaiveDateTime) -> Option<chrono::DateTime<rrule::Tz>> {
    // Gaps are at most a few hours long; step a minute at a time past one.
    (0..=24 * 60).find_map(|m| match tz.from_local_datetime(&(naive + Duration::minutes(m))) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(earliest, _) => Some(earliest),
        LocalResult::None => None,
    })
}
