//! Follow-up actions: created from an incident or its post-mortem (or by hand), owned by a
//! member of the team, due on a date in the team's time zone, chased until done or given
//! up with a reason. An overdue one notifies its owner's desktop once a day.

use chrono::{DateTime, NaiveDate, Utc};
use hsof_ops::incidents::followups::{self as rules, Due, FollowUpState};
use hsof_ops::incidents::TimelineKind;
use hsof_team::sync::Kind;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{at, write_id, LocalRecord};
use crate::incidents::ReminderNotice;
use crate::{AppContext, Error};

/// One follow-up as the screens show it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FollowUpView {
    /// Its name in the team store (`fu-…`).
    pub name: String,
    /// What to do.
    pub title: String,
    /// Who owns it (a member's name).
    pub owner: String,
    /// The owner is a current member of the team (false: removed, or never added).
    pub owner_is_member: bool,
    /// Due date, `YYYY-MM-DD` in the team's time zone.
    pub due: String,
    /// Where the due date stands today.
    pub due_state: Due,
    /// State.
    pub state: FollowUpState,
    /// Why it was closed (won't do), or the note given when done.
    pub reason: Option<String>,
    /// Closed by, at.
    pub closed_by: Option<String>,
    /// Closed at.
    pub closed_at: Option<String>,
    /// The incident it came from: its shared name or `local-<desktop>-<id>`.
    pub incident: Option<String>,
    /// That incident's id on this desktop, when it is here.
    #[specta(type = Option<f64>)]
    pub incident_id: Option<i64>,
    /// That incident's title when created.
    pub incident_title: Option<String>,
    /// `incident`, `postmortem` or `manual`.
    pub source: String,
    /// Created by, at.
    pub created_by: String,
    /// Created at.
    pub created_at: String,
    /// Every change, oldest first: (at, by, text).
    pub history: Vec<(String, String, String)>,
    /// Writes made here and not in the team store yet.
    pub pending: u32,
    /// Owned by this desktop's user.
    pub mine: bool,
    /// What is wrong with it, when something is (owner removed, incident deleted).
    pub problems: Vec<String>,
}

/// A new follow-up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct NewFollowUp {
    /// What to do.
    pub title: String,
    /// Who owns it.
    pub owner: String,
    /// `YYYY-MM-DD`, or `+3d` / `+2w` from today.
    pub due: String,
    /// The incident it comes from (local id).
    #[specta(type = Option<f64>)]
    pub incident_id: Option<i64>,
    /// `incident` (default with an incident), `postmortem`, or `manual`.
    pub source: Option<String>,
}

/// Which follow-ups to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FollowUpFilter {
    /// Open and in progress only.
    pub open_only: bool,
    /// Overdue only.
    pub overdue_only: bool,
    /// This owner's only.
    pub owner: Option<String>,
    /// This incident's only (local id).
    #[specta(type = Option<f64>)]
    pub incident_id: Option<i64>,
    /// Mine only.
    pub mine: bool,
}

/// The longest reason a state change takes (the shared history keeps 2 KiB per entry).
const MAX_REASON: usize = 1000;

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|x| !x.is_empty()).map(str::to_string)
}

impl AppContext {
    /// The team's local date at `now`.
    pub(crate) fn team_today(&self, now: DateTime<Utc>) -> NaiveDate {
        let tz: chrono_tz::Tz = self.config().config.team.timezone.parse().unwrap_or(chrono_tz::UTC);
        now.with_timezone(&tz).date_naive()
    }

    fn followup_view(&self, r: &LocalRecord, members: &[super::MemberView], now: DateTime<Utc>) -> FollowUpView {
        let (spec, st) = (&r.object["spec"], &r.object["status"]);
        let owner = s(&st["owner"]).unwrap_or_default();
        let state = st["state"].as_str().and_then(|x| x.parse().ok()).unwrap_or(FollowUpState::Open);
        let due = s(&st["due"]).unwrap_or_default();
        let due_state = NaiveDate::parse_from_str(&due, "%Y-%m-%d")
            .map(|d| rules::due(state, d, self.team_today(now)))
            .unwrap_or(Due::Today);
        let incident = s(&spec["incident"]);
        let incident_id = incident.as_deref().and_then(|i| self.incident_id_of_ref(i));
        let member = members.iter().find(|m| m.name == owner);
        let owner_is_member = member.is_some_and(|m| m.removed_at.is_none());
        let mut problems = Vec::new();
        if !state.is_closed() {
            match member {
                Some(m) if m.removed_at.is_some() => problems.push(format!(
                    "{owner} was removed from the team ({}): reassign it",
                    m.removed_at.as_deref().unwrap_or_default()
                )),
                None if !members.is_empty() => {
                    problems.push(format!("{owner} is not a member of the team: reassign it"))
                }
                _ => {}
            }
        }
        if let (Some(i), None) = (&incident, incident_id) {
            problems
                .push(format!("its incident {i} is not in the store any more (deleted): the follow-up stands alone"));
        }
        problems.extend(r.refused.iter().map(|w| format!("a write waits: {w}")));
        FollowUpView {
            name: r.name.clone(),
            title: s(&spec["title"]).unwrap_or_default(),
            mine: self.is_me(&owner, member.and_then(|m| m.user.as_deref())),
            owner,
            owner_is_member,
            due,
            due_state,
            state,
            reason: s(&st["reason"]),
            closed_by: s(&st["closedBy"]),
            closed_at: s(&st["closedAt"]),
            incident,
            incident_id,
            incident_title: s(&spec["incidentTitle"]),
            source: s(&spec["source"]).unwrap_or_else(|| "manual".into()),
            created_by: s(&spec["createdByLocal"]).or_else(|| s(&spec["createdBy"])).unwrap_or_default(),
            created_at: s(&spec["createdAt"]).unwrap_or_default(),
            history: st["history"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|h| {
                    let by = s(&h["byLocal"]).or_else(|| s(&h["by"])).unwrap_or_default();
                    (s(&h["at"]).unwrap_or_default(), by, s(&h["text"]).unwrap_or_default())
                })
                .collect(),
            pending: u32::try_from(r.pending).unwrap_or(u32::MAX),
            problems,
        }
    }

    /// This desktop's id in references to incidents kept only here (made once, random).
    fn desktop_id(&self) -> Result<String, Error> {
        let store = self.store()?;
        if let Some(d) = store.team_meta("desktop_id")? {
            return Ok(d);
        }
        let d = super::random_hex(3);
        store.set_team_meta("desktop_id", &d)?;
        Ok(d)
    }

    /// A local incident id for a reference (`inc-…` shared name, or `local-<desktop>-<id>`
    /// of an incident kept on one desktop: this one's only when the desktop is this one).
    pub(crate) fn incident_id_of_ref(&self, reference: &str) -> Option<i64> {
        let store = self.store().ok()?;
        match reference.strip_prefix("local-") {
            Some(rest) => {
                let (desktop, id) = rest.split_once('-')?;
                if self.desktop_id().ok()? != desktop {
                    return None;
                }
                id.parse().ok().filter(|id| store.incident(*id).ok().flatten().is_some())
            }
            None => store.incident_by_team_name(reference).ok().flatten(),
        }
    }

    /// How a follow-up or post-mortem refers to incident `id`: its shared name, else
    /// `local-<desktop>-<id>` (unique across the team's desktops).
    pub(crate) fn incident_ref(&self, id: i64) -> Result<String, Error> {
        let i = self.incident(id)?;
        match i.shared_name {
            Some(n) => Ok(n),
            None => Ok(format!("local-{}-{id}", self.desktop_id()?)),
        }
    }

    /// The follow-ups, overdue first, then by due date.
    pub fn followups(&self, filter: &FollowUpFilter, now: DateTime<Utc>) -> Result<Vec<FollowUpView>, Error> {
        let members = self.members()?;
        let mut out: Vec<FollowUpView> = self
            .local_records(Kind::FollowUp)?
            .iter()
            .map(|r| self.followup_view(r, &members, now))
            .filter(|f| !filter.open_only || !f.state.is_closed())
            .filter(|f| !filter.overdue_only || matches!(f.due_state, Due::Overdue { .. }))
            .filter(|f| filter.owner.as_ref().is_none_or(|o| *o == f.owner))
            .filter(|f| filter.incident_id.is_none_or(|i| f.incident_id == Some(i)))
            .filter(|f| !filter.mine || f.mine)
            .collect();
        out.sort_by(|a, b| {
            (a.state.is_closed(), a.due.as_str(), a.name.as_str()).cmp(&(
                b.state.is_closed(),
                b.due.as_str(),
                b.name.as_str(),
            ))
        });
        Ok(out)
    }

    /// One follow-up.
    pub fn followup(&self, name: &str, now: DateTime<Utc>) -> Result<FollowUpView, Error> {
        let members = self.members()?;
        let r = self
            .local_record(Kind::FollowUp, name)?
            .ok_or_else(|| Error::NotFound(format!("no follow-up {name:?} (hsofctl followup list shows them)")))?;
        Ok(self.followup_view(&r, &members, now))
    }

    fn check_owner(&self, owner: &str) -> Result<(), Error> {
        let members = self.members()?;
        if members.is_empty() {
            return Ok(()); // no team defined yet: any name
        }
        match members.iter().find(|m| m.name == owner) {
            Some(m) if m.removed_at.is_none() => Ok(()),
            Some(_) => Err(Error::InvalidInput(format!("{owner} was removed from the team: choose a current member"))),
            None => Err(Error::InvalidInput(format!(
                "{owner} is not a member of the team ({}); add them with `hsofctl oncall member add`",
                members
                    .iter()
                    .filter(|m| m.removed_at.is_none())
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Creates a follow-up (from incident `incident_id` when given: its timeline says so).
    pub fn followup_create(&self, new: &NewFollowUp, actor: &str, now: DateTime<Utc>) -> Result<FollowUpView, Error> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(Error::InvalidInput("title: say what is to be done".into()));
        }
        let owner = new.owner.trim();
        if owner.is_empty() {
            return Err(Error::InvalidInput("owner: name who does it".into()));
        }
        self.check_owner(owner)?;
        let due = rules::parse_due(&new.due, self.team_today(now))?;
        if due < self.team_today(now) {
            return Err(Error::InvalidInput(format!("due: {due} is in the past (today is {})", self.team_today(now))));
        }
        let incident = new.incident_id.map(|id| self.incident(id)).transpose()?;
        let reference = new.incident_id.map(|id| self.incident_ref(id)).transpose()?;
        let source =
            new.source.clone().unwrap_or_else(|| if incident.is_some() { "incident" } else { "manual" }.into());
        if !["incident", "postmortem", "manual"].contains(&source.as_str()) {
            return Err(Error::InvalidInput(format!("source: {source:?} is not incident, postmortem or manual")));
        }
        let name = format!("fu-{}-{}", self.team_today(now).format("%Y%m%d"), super::random_hex(4));
        if self.local_record(Kind::FollowUp, &name)?.is_some() {
            return Err(Error::Unavailable(format!("the new follow-up's name {name} is taken; add it again")));
        }
        let op = json!({"op": "create", "id": write_id(), "at": at(now), "by": actor, "followup": {
            "title": title, "owner": owner, "due": due.format("%Y-%m-%d").to_string(), "incident": reference,
            "incident_title": incident.as_ref().map(|i| i.title.clone()), "source": source, "cluster": self.record_cluster()}});
        self.queue_record_write(Kind::FollowUp, &name, &op, None)?;
        if let Some(i) = &incident {
            let text = format!("follow-up {name}: {title} (owner {owner}, due {due})");
            let data = json!({"followup": name}).to_string();
            let at = at(now);
            self.store()?.append_timeline(i.id, &Self::event(&at, actor, TimelineKind::FollowUp, &text, &data))?;
        }
        self.followup(&name, now)
    }

    fn followup_write(
        &self,
        name: &str,
        mut op: Value,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<FollowUpView, Error> {
        let r = self
            .local_record(Kind::FollowUp, name)?
            .ok_or_else(|| Error::NotFound(format!("no follow-up {name:?} (hsofctl followup list shows them)")))?;
        op["id"] = json!(write_id());
        op["at"] = json!(at(now));
        op["by"] = json!(actor);
        self.queue_record_write(Kind::FollowUp, name, &op, Some(&r))?;
        self.followup(name, now)
    }

    /// Gives a follow-up to another member.
    pub fn followup_assign(
        &self,
        name: &str,
        owner: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<FollowUpView, Error> {
        let owner = owner.trim();
        self.check_owner(owner)?;
        if self.followup(name, now)?.owner == owner {
            return Err(Error::InvalidInput(format!("{name} is {owner}'s already")));
        }
        self.followup_write(name, json!({"op": "owner", "owner": owner}), actor, now)
    }

    /// Moves a follow-up's due date (`YYYY-MM-DD`, `+3d`, `+2w`).
    pub fn followup_due(&self, name: &str, due: &str, actor: &str, now: DateTime<Utc>) -> Result<FollowUpView, Error> {
        let due = rules::parse_due(due, self.team_today(now))?;
        if due < self.team_today(now) {
            return Err(Error::InvalidInput(format!("due: {due} is in the past (today is {})", self.team_today(now))));
        }
        self.followup_write(name, json!({"op": "due", "due": due.format("%Y-%m-%d").to_string()}), actor, now)
    }

    /// Moves a follow-up to `state` (won't do needs a reason).
    pub fn followup_state(
        &self,
        name: &str,
        state: FollowUpState,
        reason: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<FollowUpView, Error> {
        let f = self.followup(name, now)?;
        rules::check_transition(f.state, state, reason)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.len() > MAX_REASON) {
            return Err(Error::InvalidInput(format!("the reason is longer than {MAX_REASON} bytes: say it shorter")));
        }
        self.followup_write(name, json!({"op": "state", "state": state.as_str(), "reason": reason}), actor, now)
    }

    /// Overdue follow-ups of this desktop's user, each once per day (the poller shows them
    /// as desktop notifications). `now` is an argument, so a test can move the clock.
    pub fn followups_tick(&self, now: DateTime<Utc>) -> Result<Vec<ReminderNotice>, Error> {
        let store = self.store()?;
        let today = self.team_today(now);
        let mut out = Vec::new();
        for f in self.followups(&FollowUpFilter { open_only: true, mine: true, ..Default::default() }, now)? {
            let Due::Overdue { days } = f.due_state else { continue };
            let key = format!("followup-notified:{}:{today}", f.name);
            if store.team_meta(&key)?.is_some() {
                continue;
            }
            store.set_team_meta(&key, &at(now))?;
            out.push(ReminderNotice {
                incident_id: f.incident_id.unwrap_or_default(),
                title: format!("Follow-up overdue by {days} day{}", if days == 1 { "" } else { "s" }),
                body: format!(
                    "{} (due {}){}",
                    f.title,
                    f.due,
                    f.incident.map(|i| format!(" — from {i}")).unwrap_or_default()
                ),
            });
        }
        Ok(out)
    }
}
