//! The rotation: an RFC 5545 rule of hand-overs in the team's time zone (the `rrule`
//! crate), the turn order, and holidays.

use std::collections::BTreeSet;
use std::iter::Peekable;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};
use serde::{Deserialize, Serialize};

use super::error::OnCallError;
use super::local::local_to_utc;

/// Formats accepted for [`Rotation::start`].
const START_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];

/// The team's rotation.
///
/// Occurrence k of the rule (k = 0 at `start`) is a hand-over to `members[k % n]`, at the
/// occurrence's local wall time (that of `start`, unless the rule sets BYHOUR or
/// BYMINUTE) in `timezone`: a Monday 09:00 hand-over stays at 09:00 local across DST, so
/// a weekly shift lasts 167 or 169 hours that week. A wall time that does not exist that
/// day (spring forward, 02:30) is the first instant after the gap (03:00); one that occurs
/// twice (fall back) is the earlier instant.
///
/// When a hand-over moves (a holiday, see `skip_holidays`) to or past the next one, or
/// falls on the same instant as the next one (02:00 and 03:00 on the spring-forward
/// day), it does not happen and the turn order does not advance: the next hand-over goes
/// to the person whose turn it was, so nobody loses a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Rotation {
    /// Turn order (member names).
    pub members: Vec<String>,
    /// RFC 5545 RRULE body of the hand-overs, without DTSTART: `FREQ=WEEKLY;BYDAY=MO`,
    /// `FREQ=DAILY`, `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO`. Daily or less often, without end
    /// (no COUNT or UNTIL).
    pub rrule: String,
    /// The first hand-over in team-local time, `2026-01-05T09:00` (members[0] takes over
    /// then); must be an occurrence of the rule.
    pub start: String,
    /// IANA time zone of `start` and of every hand-over (`Europe/Berlin`).
    pub timezone: String,
    /// A hand-over whose local date is a holiday moves to the next business day (not a
    /// holiday, not Saturday or Sunday) at the same local time.
    pub skip_holidays: bool,
}

/// A rotation whose fields have been checked.
struct Checked {
    /// The team's zone.
    tz: Tz,
    /// The rule with DTSTART at `start`, in "floating" time: the occurrences are local wall
    /// times, read as UTC only so that the `rrule` crate never applies a zone itself.
    set: RRuleSet,
}

impl Rotation {
    /// Checks every field; the error names the field (`rotation.rrule: …`). An empty
    /// `members` is valid (the coverage then says the rotation has no members); a blank
    /// name is not.
    pub fn validate(&self) -> Result<(), OnCallError> {
        self.check().map(|_| ())
    }

    /// The hand-over instants (UTC) with who takes over, from the last one at or before
    /// `from` to the first after `to`, in time order. Without members there is none.
    ///
    /// Holidays are the team's local dates; they matter only with `skip_holidays`.
    pub fn handovers(
        &self,
        holidays: &BTreeSet<NaiveDate>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String)>, OnCallError> {
        if to < from {
            return Err(OnCallError::invalid(format!("handovers: `to` ({to}) is before `from` ({from})")));
        }
        let checked = self.check()?;
        let n = self.members.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (at, turn) in self.schedule(&checked, holidays) {
            let who = self.members[turn % n].clone();
            if at <= from {
                // Only the last one at or before `from` is kept.
                out.clear();
                out.push((at, who));
            } else {
                out.push((at, who));
                if at > to {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every hand-over from the first, as (instant, turn number): the turn counts the
    /// hand-overs that happened before it.
    fn schedule<'a>(
        &self,
        checked: &'a Checked,
        holidays: &'a BTreeSet<NaiveDate>,
    ) -> HandOvers<'a, impl Iterator<Item = DateTime<rrule::Tz>> + 'a> {
        HandOvers {
            occurrences: (&checked.set).into_iter().peekable(),
            tz: checked.tz,
            holidays: self.skip_holidays.then_some(holidays),
            turn: 0,
        }
    }

    fn check(&self) -> Result<Checked, OnCallError> {
        for (i, name) in self.members.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(OnCallError::invalid(format!("rotation.members[{i}]: the name is empty")));
            }
        }
        let tz: Tz = self.timezone.trim().parse().map_err(|_| {
            OnCallError::invalid(format!(
                "rotation.timezone: `{}` is not an IANA time zone name such as Europe/Berlin",
                self.timezone
            ))
        })?;
        let start = START_FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(self.start.trim(), f).ok())
            .ok_or_else(|| {
                OnCallError::invalid(format!(
                    "rotation.start: `{}` is not a local date and time like 2026-01-05T09:00",
                    self.start
                ))
            })?;
        let body = rule_body(&self.rrule);
        if body.is_empty() {
            return Err(OnCallError::invalid("rotation.rrule: the rule is empty; write e.g. FREQ=WEEKLY;BYDAY=MO"));
        }
        if body.contains(['\n', '\r']) || body.to_ascii_uppercase().contains("DTSTART") {
            return Err(OnCallError::invalid(
                "rotation.rrule: give the RRULE body only (e.g. FREQ=WEEKLY;BYDAY=MO); DTSTART goes in `start`",
            ));
        }
        let bad_rule = |e: rrule::RRuleError| OnCallError::invalid(format!("rotation.rrule: `{body}`: {e}"));
        let rule: RRule<Unvalidated> = body.parse().map_err(bad_rule)?;
        let dt_start = rrule::Tz::UTC.from_utc_datetime(&start);
        let rule = rule.validate(dt_start).map_err(bad_rule)?;
        let freq = rule.get_freq();
        if matches!(freq, Frequency::Hourly | Frequency::Minutely | Frequency::Secondly) {
            return Err(OnCallError::invalid(format!(
                "rotation.rrule: `{body}`: FREQ={freq} is too frequent; hand-overs repeat daily, weekly, monthly \
                 or yearly (two shifts a day: FREQ=DAILY;BYHOUR=9,21)"
            )));
        }
        if rule.get_count().is_some() || rule.get_until().is_some() {
            return Err(OnCallError::invalid(format!(
                "rotation.rrule: `{body}`: a rotation goes on without end; remove COUNT and UNTIL"
            )));
        }
        // `limit` bounds the search for an occurrence, so an impossible rule (BYMONTH=2;
        // BYMONTHDAY=30) ends instead of looping.
        let set = RRuleSet::new(dt_start).rrule(rule).limit();
        match (&set).into_iter().next() {
            Some(first) if first == dt_start => Ok(Checked { tz, set }),
            Some(first) => Err(OnCallError::invalid(format!(
                "rotation.start: {} ({}) is not an occurrence of `{body}`; the first one from then is {} ({}): \
                 start on a date and time the rule yields",
                start.format("%Y-%m-%dT%H:%M"),
                start.weekday(),
                first.naive_utc().format("%Y-%m-%dT%H:%M"),
                first.weekday(),
            ))),
            None => Err(OnCallError::invalid(format!(
                "rotation.rrule: `{body}` yields no occurrence from {}",
                start.format("%Y-%m-%dT%H:%M")
            ))),
        }
    }
}

/// The rule body without an optional `RRULE:` prefix.
fn rule_body(rrule: &str) -> &str {
    let trimmed = rrule.trim();
    match trimmed.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => trimmed[6..].trim(),
        _ => trimmed,
    }
}

/// The hand-overs that happen, in order, with their turn numbers.
struct HandOvers<'a, I: Iterator<Item = DateTime<rrule::Tz>>> {
    /// The rule's occurrences as local wall times (read as UTC).
    occurrences: Peekable<I>,
    /// The team's zone.
    tz: Tz,
    /// The holidays when they move hand-overs.
    holidays: Option<&'a BTreeSet<NaiveDate>>,
    /// The next turn number.
    turn: usize,
}

impl<I: Iterator<Item = DateTime<rrule::Tz>>> Iterator for HandOvers<'_, I> {
    type Item = (DateTime<Utc>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let local = self.occurrences.next()?.naive_utc();
            let planned = match self.holidays {
                Some(holidays) if holidays.contains(&local.date()) => match next_business_day(local.date(), holidays) {
                    Some(day) => day.and_time(local.time()),
                    None => continue,
                },
                _ => local,
            };
            let at = local_to_utc(self.tz, planned);
            // The following hand-over where the rule puts it (whether or not it moves).
            let following = self.occurrences.peek().map(|n| local_to_utc(self.tz, n.naive_utc()));
            if following.is_some_and(|f| at >= f) {
                continue;
            }
            let turn = self.turn;
            self.turn += 1;
            return Some((at, turn));
        }
    }
}

/// The first day after `day` that is neither a holiday nor a Saturday or Sunday.
fn next_business_day(day: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> Option<NaiveDate> {
    // Ends: the holidays are finite.
    let mut d = day.succ_opt()?;
    while holidays.contains(&d) || matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d.succ_opt()?;
    }
    Some(d)
}
