//! The on-call schedule: the team's members, the rotation and its overrides (one
//! team-store record), and what they mean now — who is on call, who tonight, who next,
//! and the hours nobody covers.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use hsof_ops::oncall::{self, Coverage, Gap, OnCallError, Override, Rotation, Shift};
use hsof_team::oncall::SCHEDULE_NAME;
use hsof_team::sync::Kind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{at, write_id};
use crate::{AppContext, Error};

impl From<OnCallError> for Error {
    fn from(e: OnCallError) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

/// One member of the team.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct MemberView {
    /// The name the rotation and follow-ups use.
    pub name: String,
    /// The Kubernetes (or OS) user whose desktop is theirs.
    pub user: Option<String>,
    /// How to reach them.
    pub contact: Option<String>,
    /// Removed from the team at (kept so their follow-ups and shifts are named).
    pub removed_at: Option<String>,
}

/// The schedule and what it means at a time.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct OnCallView {
    /// The team's time zone (every local time shown is in it).
    pub timezone: String,
    /// Members (removed ones too, marked).
    pub members: Vec<MemberView>,
    /// The rotation, when one is set.
    pub rotation: Option<Rotation>,
    /// Who set it, when.
    pub rotation_set: Option<(String, String)>,
    /// Overrides that have not ended (cancelled ones left out).
    pub overrides: Vec<Override>,
    /// On call at the time asked.
    pub now: Option<Shift>,
    /// The next person and when they take over.
    pub next: Option<Shift>,
    /// Tonight: the team's evening (end of business hours) to the next morning.
    pub tonight: (DateTime<Utc>, DateTime<Utc>),
    /// Who covers tonight.
    pub tonight_shifts: Vec<Shift>,
    /// Hours of tonight nobody covers, one line each, local time.
    pub tonight_gaps: Vec<String>,
    /// The next seven days from the start of today (local).
    pub week: Coverage,
    /// Writes made here and not in the team store yet.
    pub pending: u32,
    /// What is wrong (a write that cannot be applied, a rotation that does not read).
    pub problems: Vec<String>,
}

/// An override as typed: local times (`2026-12-24T18:00`, team zone) or RFC 3339.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OverrideInput {
    /// Starts.
    pub start: String,
    /// Ends.
    pub end: String,
    /// Who is on call instead.
    pub who: String,
    /// Why (a swap, a holiday).
    pub reason: String,
}

/// A schedule read from its record, with the hsof-ops types.
struct Parsed {
    members: Vec<MemberView>,
    rotation: Option<Rotation>,
    rotation_set: Option<(String, String)>,
    overrides: Vec<Override>,
    pending: u32,
    problems: Vec<String>,
}

impl AppContext {
    fn schedule(&self) -> Result<Parsed, Error> {
        // A shared schedule edited by hand into a shape this app cannot read is said, not
        // shown as "no rotation".
        let unreadable = self
            .store()?
            .team_cache_get(Kind::OnCallSchedule.outbox(), SCHEDULE_NAME)?
            .and_then(|c| c.invalid)
            .map(|why| format!("the shared on-call schedule cannot be read ({why}): fix it with kubectl edit oncallschedule {SCHEDULE_NAME}"));
        let Some(r) = self.local_record(Kind::OnCallSchedule, SCHEDULE_NAME)? else {
            return Ok(Parsed {
                members: vec![],
                rotation: None,
                rotation_set: None,
                overrides: vec![],
                pending: 0,
                problems: unreadable.into_iter().collect(),
            });
        };
        let mut problems: Vec<String> = r.refused.iter().map(|w| format!("a write waits: {w}")).collect();
        let s = hsof_team::oncall::to_local(&r.object).map_err(Error::Unavailable)?;
        let rotation = match s.rotation.map(serde_json::from_value::<Rotation>) {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                problems.push(format!("the shared rotation cannot be read: {e}"));
                None
            }
            None => None,
        };
        let overrides = s
            .overrides
            .into_iter()
            .filter_map(|o| match serde_json::from_value::<Override>(o.clone()) {
                Ok(o) => Some(o),
                Err(e) => {
                    problems.push(format!("an override cannot be read ({e}): {o}"));
                    None
                }
            })
            .collect();
        Ok(Parsed {
            members: s
                .members
                .into_iter()
                .map(|m| MemberView { name: m.name, user: m.user, contact: m.contact, removed_at: m.removed_at })
                .collect(),
            rotation,
            rotation_set: s.rotation_set,
            overrides,
            pending: u32::try_from(r.pending).unwrap_or(u32::MAX),
            problems,
        })
    }

    /// The team's members (removed ones too, marked).
    pub fn members(&self) -> Result<Vec<MemberView>, Error> {
        Ok(self.schedule()?.members)
    }

    /// Who is on call over [from, to): shifts and gaps. No rotation: one gap saying so.
    pub fn oncall_coverage(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Coverage, Error> {
        let s = self.schedule()?;
        self.coverage_of(&s, from, to)
    }

    fn coverage_of(&self, s: &Parsed, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Coverage, Error> {
        let Some(rotation) = &s.rotation else {
            return Ok(Coverage {
                from,
                to,
                shifts: vec![],
                gaps: vec![Gap {
                    start: from,
                    end: to,
                    why: "no on-call rotation is set (hsofctl oncall rotation set)".into(),
                }],
            });
        };
        let holidays = self.config().config.team.holiday_dates().map_err(Error::InvalidInput)?;
        let members: Vec<String> =
            s.members.iter().filter(|m| m.removed_at.is_none()).map(|m| m.name.clone()).collect();
        Ok(oncall::coverage(rotation, &s.overrides, &members, &holidays, from, to)?)
    }

    /// The schedule and what it means at `now`.
    pub fn oncall(&self, now: DateTime<Utc>) -> Result<OnCallView, Error> {
        let s = self.schedule()?;
        // The rotation's zone is the team's (shared); a desktop's own setting only without one.
        let tz = s
            .rotation
            .as_ref()
            .and_then(|r| r.timezone.parse().ok())
            .unwrap_or_else(|| self.team_tz().unwrap_or(chrono_tz::UTC));
        let team = self.config().config.team;
        let hm = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").unwrap_or(NaiveTime::MIN);
        let tonight = oncall::night(now, tz, hm(&team.business_hours_end), hm(&team.business_hours_start));
        let day = now.with_timezone(&tz).date_naive();
        let day_start =
            tz.from_local_datetime(&day.and_time(NaiveTime::MIN)).earliest().map_or(now, |t| t.with_timezone(&Utc));
        let horizon = (day_start + Duration::days(8)).max(tonight.1);
        let all = self.coverage_of(&s, day_start.min(tonight.0), horizon)?;
        let clip = |from: DateTime<Utc>, to: DateTime<Utc>| Coverage {
            from,
            to,
            shifts: all
                .shifts
                .iter()
                .filter(|x| x.end > from && x.start < to)
                .map(|x| Shift { start: x.start.max(from), end: x.end.min(to), ..x.clone() })
                .collect(),
            gaps: all
                .gaps
                .iter()
                .filter(|g| g.end > from && g.start < to)
                .map(|g| Gap { start: g.start.max(from), end: g.end.min(to), why: g.why.clone() })
                .collect(),
        };
        let night = clip(tonight.0, tonight.1);
        Ok(OnCallView {
            timezone: tz.name().to_string(),
            now: oncall::on_call_at(&all, now).cloned(),
            next: oncall::next_after(&all, now).cloned(),
            tonight,
            tonight_gaps: oncall::describe_gaps(&night.gaps, tz),
            tonight_shifts: night.shifts,
            week: clip(day_start, day_start + Duration::days(7)),
            members: s.members,
            rotation: s.rotation,
            rotation_set: s.rotation_set,
            overrides: s.overrides.into_iter().filter(|o| o.end > now).collect(),
            pending: s.pending,
            problems: s.problems,
        })
    }

    /// Who is on call at `t` (the escalation timer's person).
    pub fn on_call_at(&self, t: DateTime<Utc>) -> Option<String> {
        let cov = self.oncall_coverage(t, t + Duration::minutes(1)).ok()?;
        oncall::on_call_at(&cov, t).map(|s| s.who.clone())
    }

    fn schedule_write(&self, op: serde_json::Value) -> Result<(), Error> {
        let current = self.local_record(Kind::OnCallSchedule, SCHEDULE_NAME)?;
        self.queue_record_write(Kind::OnCallSchedule, SCHEDULE_NAME, &op, current.as_ref())
    }

    /// Adds a member (or updates their user and contact; brings a removed one back).
    pub fn oncall_member_add(
        &self,
        name: &str,
        user: Option<&str>,
        contact: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<MemberView>, Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(Error::InvalidInput("member: a name is needed".into()));
        }
        self.schedule_write(json!({"op": "member_add", "id": write_id(), "at": at(now),
            "member": {"name": name, "user": user, "contact": contact}}))?;
        self.members()
    }

    /// Removes a member: kept by name (so their follow-ups and shifts say who), out of the
    /// rotation's coverage from now on. Returns their open follow-ups, to reassign.
    pub fn oncall_member_remove(&self, name: &str, now: DateTime<Utc>) -> Result<Vec<super::FollowUpView>, Error> {
        let members = self.members()?;
        if !members.iter().any(|m| m.name == name && m.removed_at.is_none()) {
            return Err(Error::NotFound(format!("{name} is not a current member of the team")));
        }
        self.schedule_write(json!({"op": "member_remove", "id": write_id(), "at": at(now), "name": name}))?;
        self.followups(&super::FollowUpFilter { open_only: true, owner: Some(name.into()), ..Default::default() }, now)
    }

    /// Sets the rotation (checked first; every name in it must be a current member).
    pub fn oncall_rotation_set(&self, rotation: &Rotation, now: DateTime<Utc>) -> Result<OnCallView, Error> {
        rotation.validate()?;
        let members = self.members()?;
        for m in &rotation.members {
            if !members.iter().any(|x| x.name == *m && x.removed_at.is_none()) {
                return Err(Error::InvalidInput(format!(
                    "rotation.members: {m} is not a member of the team (add them first: hsofctl oncall member add {m})"
                )));
            }
        }
        let value = serde_json::to_value(rotation).map_err(|e| Error::Unavailable(e.to_string()))?;
        self.schedule_write(json!({"op": "rotation_set", "id": write_id(), "at": at(now), "rotation": value}))?;
        self.oncall(now)
    }

    /// A time as typed: RFC 3339, or local `YYYY-MM-DDTHH:MM` / `YYYY-MM-DD HH:MM` in the
    /// team's zone.
    pub fn team_time(&self, s: &str, what: &str) -> Result<DateTime<Utc>, Error> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        let local = NaiveDateTime::parse_from_str(&s.replace(' ', "T"), "%Y-%m-%dT%H:%M")
            .map_err(|_| Error::InvalidInput(format!("{what}: {s:?} is not a time (2026-12-24T18:00, team time)")))?;
        self.team_tz()
            .unwrap_or(chrono_tz::UTC)
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{what}: {s} does not exist in {} (a DST gap)",
                    self.team_tz().unwrap_or(chrono_tz::UTC)
                ))
            })
    }

    /// Adds an override: `who` on call from `start` to `end` instead of the rotation.
    pub fn oncall_override_add(
        &self,
        input: &OverrideInput,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OnCallView, Error> {
        let who = input.who.trim();
        let members = self.members()?;
        if !members.iter().any(|m| m.name == who && m.removed_at.is_none()) {
            return Err(Error::InvalidInput(format!("override: {who:?} is not a current member of the team")));
        }
        let o = Override {
            id: format!("ovr-{}", write_id()),
            start: self.team_time(&input.start, "override start")?,
            end: self.team_time(&input.end, "override end")?,
            who: who.to_string(),
            reason: input.reason.trim().to_string(),
            by: actor.to_string(),
            created_at: now,
        };
        o.validate()?;
        let value = serde_json::to_value(&o).map_err(|e| Error::Unavailable(e.to_string()))?;
        self.schedule_write(json!({"op": "override_add", "id": write_id(), "at": at(now), "override": value}))?;
        self.oncall(now)
    }

    /// Cancels an override.
    pub fn oncall_override_cancel(&self, id: &str, now: DateTime<Utc>) -> Result<OnCallView, Error> {
        if !self.schedule()?.overrides.iter().any(|o| o.id == id) {
            return Err(Error::NotFound(format!("no override {id:?} in force")));
        }
        self.schedule_write(json!({"op": "override_cancel", "id": write_id(), "at": at(now), "override_id": id}))?;
        self.oncall(now)
    }

    /// The shifts of the next `weeks` weeks as an iCalendar file.
    pub fn oncall_ics(&self, weeks: u32, now: DateTime<Utc>) -> Result<String, Error> {
        let cov = self.oncall_coverage(now, now + Duration::weeks(i64::from(weeks.clamp(1, 52))))?;
        Ok(oncall::ics(&cov.shifts, "HSOF", now))
    }
}
