//! Overrides, shifts and gaps: who is on call over a period.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::error::OnCallError;
use super::local::local_label;
use super::rotation::Rotation;

/// The longest an override may last.
pub const MAX_OVERRIDE: Duration = Duration::days(90);

/// A person on call instead of the rotation for a while (a swap is two overrides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Override {
    /// Its id in the store.
    pub id: String,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends (exclusive).
    pub end: DateTime<Utc>,
    /// Who is on call meanwhile.
    pub who: String,
    /// Why, in the words of whoever made it (`swap with Bob`, `Alice at a conference`).
    pub reason: String,
    /// Who made it.
    pub by: String,
    /// When it was made; where overrides overlap, the one made later wins.
    pub created_at: DateTime<Utc>,
}

impl Override {
    /// Checks that it ends after it starts, lasts at most [`MAX_OVERRIDE`] (90 days) and
    /// names someone; the error names the field (`override.end: …`).
    pub fn validate(&self) -> Result<(), OnCallError> {
        if self.end <= self.start {
            return Err(OnCallError::invalid(format!(
                "override.end: {} is not after override.start {}",
                self.end, self.start
            )));
        }
        if self.end - self.start > MAX_OVERRIDE {
            return Err(OnCallError::invalid(format!(
                "override.end: {} is {} days after override.start {}; an override lasts at most {} days",
                self.end,
                (self.end - self.start).num_days(),
                self.start,
                MAX_OVERRIDE.num_days()
            )));
        }
        if self.who.trim().is_empty() {
            return Err(OnCallError::invalid("override.who: nobody is named"));
        }
        Ok(())
    }
}

/// Where a shift comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShiftSource {
    /// The rotation's turn order.
    Rotation,
    /// An override.
    Override {
        /// The override's id.
        id: String,
        /// Why it was made.
        reason: String,
        /// Who made it.
        by: String,
    },
}

/// A person on call over [start, end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Shift {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends (exclusive).
    pub end: DateTime<Utc>,
    /// Who is on call.
    pub who: String,
    /// The rotation or the override that puts them there.
    pub source: ShiftSource,
}

/// A time over [start, end) when nobody is on call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Gap {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends (exclusive).
    pub end: DateTime<Utc>,
    /// Why nobody is on call (`Bob is no longer a member of the team`).
    pub why: String,
}

/// Who is on call over [from, to): shifts and gaps together cover it exactly, in time
/// order, without overlap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Coverage {
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    /// The shifts, in time order.
    pub shifts: Vec<Shift>,
    /// The gaps, in time order.
    pub gaps: Vec<Gap>,
}

/// What fills a stretch of time.
#[derive(Debug, Clone, PartialEq)]
enum Fill {
    Shift { who: String, source: ShiftSource },
    Gap(String),
}

/// A stretch of time and what fills it.
#[derive(Debug, Clone)]
struct Piece {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    fill: Fill,
}

/// Who is on call over [from, to): the rotation's shifts with the overrides on top.
///
/// - The rotation's shifts run from one hand-over to the next (see [`Rotation`]), clipped
///   to [from, to). Before the first hand-over there is a gap `the rotation starts at
///   2026-01-05 09:00 Europe/Berlin`; a rotation without members is one gap `the rotation
///   has no members`.
/// - Overrides go on top, over shifts and gaps alike; where they overlap, the one created
///   later wins (on equal `created_at`, the later in `overrides`).
/// - A shift of someone not in `members` (the team's current members) is a gap `<who> is
///   no longer a member of the team`.
/// - Adjacent shifts of the same person and source, and adjacent gaps with the same
///   reason, are merged.
///
/// Errors: an invalid rotation or override (the message names the field and, for an
/// override, its id), or `to` before `from`. `from == to` gives an empty coverage.
pub fn coverage(
    rotation: &Rotation,
    overrides: &[Override],
    members: &[String],
    holidays: &BTreeSet<NaiveDate>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Coverage, OnCallError> {
    if to < from {
        return Err(OnCallError::invalid(format!("coverage: `to` ({to}) is before `from` ({from})")));
    }
    rotation.validate()?;
    for o in overrides {
        o.validate().map_err(|e| OnCallError::invalid(format!("{e} (override `{}`)", o.id)))?;
    }
    let mut pieces = rotation_pieces(rotation, holidays, from, to)?;

    let mut order: Vec<usize> = (0..overrides.len()).collect();
    order.sort_by_key(|&i| (overrides[i].created_at, i));
    for i in order {
        let o = &overrides[i];
        let (start, end) = (o.start.max(from), o.end.min(to));
        if start < end {
            let fill = Fill::Shift {
                who: o.who.clone(),
                source: ShiftSource::Override { id: o.id.clone(), reason: o.reason.clone(), by: o.by.clone() },
            };
            pieces = paint(pieces, Piece { start, end, fill });
        }
    }

    let mut merged: Vec<Piece> = Vec::with_capacity(pieces.len());
    for mut piece in pieces {
        if let Fill::Shift { who, .. } = &piece.fill {
            if !members.contains(who) {
                piece.fill = Fill::Gap(format!("{who} is no longer a member of the team"));
            }
        }
        match merged.last_mut() {
            Some(last) if last.end == piece.start && last.fill == piece.fill => last.end = piece.end,
            _ => merged.push(piece),
        }
    }

    let (mut shifts, mut gaps) = (Vec::new(), Vec::new());
    for Piece { start, end, fill } in merged {
        match fill {
            Fill::Shift { who, source } => shifts.push(Shift { start, end, who, source }),
            Fill::Gap(why) => gaps.push(Gap { start, end, why }),
        }
    }
    Ok(Coverage { from, to, shifts, gaps })
}

/// The rotation alone over [from, to), as pieces that partition it.
fn rotation_pieces(
    rotation: &Rotation,
    holidays: &BTreeSet<NaiveDate>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Piece>, OnCallError> {
    if from == to {
        return Ok(Vec::new());
    }
    if rotation.members.is_empty() {
        return Ok(vec![Piece { start: from, end: to, fill: Fill::Gap("the rotation has no members".into()) }]);
    }
    let handovers = rotation.handovers(holidays, from, to)?;
    let mut pieces = Vec::with_capacity(handovers.len() + 1);
    match handovers.first() {
        Some((first, _)) if *first > from => pieces.push(Piece {
            start: from,
            end: (*first).min(to),
            fill: Fill::Gap(format!("the rotation starts at {}", local_label(*first, timezone(rotation)))),
        }),
        Some(_) => {}
        // A rule that yields nothing: `validate` refuses it, so this is only defensive.
        None => pieces.push(Piece { start: from, end: to, fill: Fill::Gap("the rotation has no hand-over".into()) }),
    }
    for (i, (at, who)) in handovers.iter().enumerate() {
        let start = (*at).max(from);
        let end = handovers.get(i + 1).map_or(to, |(next, _)| (*next).min(to));
        if start < end {
            pieces.push(Piece { start, end, fill: Fill::Shift { who: who.clone(), source: ShiftSource::Rotation } });
        }
    }
    Ok(pieces)
}

/// The rotation's zone (validated by then).
fn timezone(rotation: &Rotation) -> chrono_tz::Tz {
    rotation.timezone.trim().parse().unwrap_or(chrono_tz::UTC)
}

/// `top` laid over `pieces` (a partition of a period that contains `top`).
fn paint(pieces: Vec<Piece>, top: Piece) -> Vec<Piece> {
    let (start, end) = (top.start, top.end);
    let mut out = Vec::with_capacity(pieces.len() + 2);
    let mut top = Some(top);
    for p in pieces {
        if p.end <= start || p.start >= end {
            if p.start >= end {
                out.extend(top.take());
            }
            out.push(p);
            continue;
        }
        if p.start < start {
            out.push(Piece { start: p.start, end: start, fill: p.fill.clone() });
        }
        out.extend(top.take());
        if p.end > end {
            out.push(Piece { start: end, end: p.end, fill: p.fill });
        }
    }
    out.extend(top);
    out
}

/// The shift at `t`, if someone is on call then (not in a gap, within the coverage).
pub fn on_call_at(cov: &Coverage, t: DateTime<Utc>) -> Option<&Shift> {
    let i = cov.shifts.partition_point(|s| s.end <= t);
    cov.shifts.get(i).filter(|s| s.start <= t)
}

/// The first shift after the one at `t` whose person differs from it (who is next, and
/// when). When nobody is on call at `t` (a gap), the first shift that starts after `t`.
pub fn next_after(cov: &Coverage, t: DateTime<Utc>) -> Option<&Shift> {
    match on_call_at(cov, t) {
        Some(current) => cov.shifts.iter().skip_while(|s| s.start < current.end).find(|s| s.who != current.who),
        None => cov.shifts.iter().find(|s| s.start > t),
    }
}
