//! Occurrences of the catalog's procedures in the team's time zone, with the `rrule`
//! crate: a 09:00 procedure stays at 09:00 local across DST changes.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::catalog::{Cadence, Catalog, Procedure};
use super::rule;

/// Format of the local start inside an occurrence key.
const KEY_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// One occurrence of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Occurrence {
    /// The procedure's id.
    pub procedure_id: String,
    /// The procedure's title.
    pub title: String,
    /// The procedure's cadence (sets the grace period).
    pub cadence: Cadence,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it is planned to end (start + the procedure's duration).
    pub end: DateTime<Utc>,
    /// Stable id, `<procedure_id>@<local start>`, e.g. `morning-health-check@2026-11-30T09:00`.
    pub key: String,
}

/// Occurrences of every procedure starting in `[from, to)`, sorted by start then procedure id.
pub fn occurrences(catalog: &Catalog, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
    let mut all: Vec<Occurrence> =
        catalog.procedures.iter().flat_map(|p| procedure_occurrences(p, tz, from, to)).collect();
    all.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.procedure_id.cmp(&b.procedure_id)));
    all
}

/// Occurrences of one procedure starting in `[from, to)`, in order.
fn procedure_occurrences(p: &Procedure, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
    if from >= to {
        return Vec::new();
    }
    // `parse_catalog` has validated the rule; a hand-built catalog with a bad one has none.
    let Some(set) = rule::set_in(&p.rrule, &p.start, tz) else { return Vec::new() };
    let duration = Duration::minutes(i64::from(p.duration_minutes));
    set.into_iter()
        .map(|t| t.with_timezone(&Utc))
        .skip_while(|t| *t < from)
        .take_while(|t| *t < to)
        .map(|start| Occurrence {
            procedure_id: p.id.clone(),
            title: p.title.clone(),
            cadence: p.cadence,
            start,
            end: start + duration,
            key: format!("{}@{}", p.id, start.with_timezone(&tz).format(KEY_TIME_FORMAT)),
        })
        .collect()
}

/// The occurrence a key names, if the key's time really is an occurrence of its procedure.
pub fn occurrence_by_key(catalog: &Catalog, tz: Tz, key: &str) -> Option<Occurrence> {
    let (id, local) = key.rsplit_once('@')?;
    let procedure = catalog.procedure(id)?;
    let naive = NaiveDateTime::parse_from_str(local, KEY_TIME_FORMAT).ok()?;
    // Any zone's offset is within ±1 day of UTC, so this window holds the instant.
    let around = naive.and_utc();
    procedure_occurrences(procedure, tz, around - Duration::days(2), around + Duration::days(2))
        .into_iter()
        .find(|o| o.key == key)
}
