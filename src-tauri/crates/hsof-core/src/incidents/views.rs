//! Reading incidents: the severity targets from the config, an incident with its live
//! timers, its page (timeline, Slack posts, summary, post-mortem), filtered lists, and the
//! open incident changes are linked to.

use chrono::{DateTime, Duration, Utc};
use hsof_ops::incidents::{
    self as ops, BusinessHours, Escalation, Incident, IncidentError, IncidentStatus, Severity, SeverityPolicy,
    TimelineEvent, Timers,
};
use serde::{Deserialize, Serialize};

use super::outbox::SlackPost;
use super::records;
use crate::config::SeverityTargets;
use crate::{AppContext, Error};

/// An incident with its live timers (none once resolved).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct IncidentView {
    /// The incident.
    pub incident: Incident,
    /// Timers at the time of reading.
    pub timers: Option<Timers>,
    /// Its level's targets.
    pub policy: SeverityTargets,
    /// Where it is shared, when it is.
    pub shared: Option<Shared>,
    /// The cluster it was declared on, when the configuration lists several.
    pub cluster: Option<String>,
    /// Who the escalation goes to: on call when it is due (the next on call when that is
    /// the commander already); `None` without a rotation or once resolved.
    pub escalates_to: Option<String>,
}

/// A shared incident's state in the team store.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Shared {
    /// Its name in the team store (`kubectl get incident NAME`).
    pub name: String,
    /// Writes made here and not in the cluster yet (not shared yet).
    pub pending: u32,
    /// Why they wait, when the last attempt failed.
    pub error: Option<String>,
    /// When this desktop last read it from the cluster (the offline view's age).
    pub read_at: Option<String>,
}

/// Everything an incident's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct IncidentDetail {
    /// The incident and its timers.
    pub view: IncidentView,
    /// Every event, oldest first.
    pub timeline: Vec<TimelineEvent>,
    /// Its Slack messages: posted, waiting, failed.
    pub slack: Vec<SlackPost>,
    /// The saved post-incident summary.
    pub summary: Option<String>,
    /// When the post-mortem is scheduled (RFC 3339).
    pub postmortem_due: Option<String>,
    /// Timeline entries (ids) made here and not shared with the team yet.
    #[specta(type = Vec<f64>)]
    pub unshared: Vec<i64>,
    /// Who holds each role now (commander, communications lead, scribe).
    pub roles: Vec<ops::roles::RoleHolder>,
    /// Its follow-up actions.
    pub followups: Vec<crate::followthrough::FollowUpView>,
    /// Its stakeholder updates: delivered, waiting, failed.
    pub stakeholder: Vec<crate::followthrough::StakeholderPost>,
    /// When the next stakeholder update is due (none without a target or a timer).
    pub stakeholder_due: Option<DateTime<Utc>>,
}

/// Which incidents a list shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct IncidentFilter {
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only this status; `None` means all.
    pub status: Option<IncidentStatus>,
    /// Only unresolved ones.
    pub open_only: bool,
    /// Declared at or after (RFC 3339, a team-time-zone date, or relative such as `-7d`).
    pub from: Option<String>,
    /// Declared before (same forms; a date counts in whole).
    pub to: Option<String>,
}

fn when(
    ctx: &AppContext,
    s: Option<&str>,
    what: &str,
    now: DateTime<Utc>,
    bound: crate::time::Bound,
) -> Result<Option<DateTime<Utc>>, Error> {
    s.filter(|s| !s.is_empty()).map(|s| ctx.parse_when(s, what, now, bound)).transpose()
}

impl AppContext {
    /// The config's targets for `severity`.
    fn targets(&self, severity: Severity) -> SeverityTargets {
        let cfg = self.config().config.severities;
        match severity {
            Severity::P0 => cfg.P0,
            Severity::P1 => cfg.P1,
            Severity::P2 => cfg.P2,
            Severity::P3 => cfg.P3,
        }
    }

    /// The targets of `severity` from the config, as the timers use them.
    pub fn incident_policy(&self, severity: Severity) -> Result<SeverityPolicy, Error> {
        let s = self.targets(severity);
        Ok(SeverityPolicy {
            response: Duration::minutes(i64::from(s.response_minutes)),
            escalation: Escalation::parse(&s.escalation)?,
            status_update: (s.status_update_minutes > 0).then(|| Duration::minutes(i64::from(s.status_update_minutes))),
            postmortem: s.postmortem,
        })
    }

    /// The team's business hours and time zone from the config.
    pub fn business_hours_policy(&self) -> Result<BusinessHours, Error> {
        let t = self.config().config.team;
        let hours = BusinessHours::parse(&t.timezone, &t.business_hours_start, &t.business_hours_end)?;
        Ok(hours.with_holidays(self.monitor().holidays.iter().copied()))
    }

    /// One incident.
    pub fn incident(&self, id: i64) -> Result<Incident, Error> {
        let rec = self.store()?.incident(id)?.ok_or(IncidentError::NotFound(id))?;
        records::incident(&rec)
    }

    /// The incident with its timers; the escalation names who it goes to, past `commander`
    /// when the roles were read (the page), else whoever is on call then (the list).
    fn view(
        &self,
        incident: Incident,
        shared: Option<Shared>,
        cluster: Option<String>,
        commander: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<IncidentView, Error> {
        let timers = if incident.is_resolved() {
            None
        } else {
            Some(ops::timers(&incident, &self.incident_policy(incident.severity)?, &self.business_hours_policy()?, now))
        };
        let escalates_to = timers.as_ref().and_then(|t| self.escalation_person(t.escalate_at, commander));
        Ok(IncidentView { policy: self.targets(incident.severity), incident, timers, shared, cluster, escalates_to })
    }

    /// Who an escalation due at `at` goes to: on call then, or the next on call when that
    /// is `commander` (already leading it).
    pub(crate) fn escalation_person(&self, at: DateTime<Utc>, commander: Option<&str>) -> Option<String> {
        let cov = self.oncall_coverage(at, at + Duration::days(14)).ok()?;
        let now = hsof_ops::oncall::on_call_at(&cov, at)?;
        if Some(now.who.as_str()) != commander {
            return Some(now.who.clone());
        }
        hsof_ops::oncall::next_after(&cov, at).map(|s| s.who.clone())
    }

    /// The shared state of `rec` given the outbox.
    fn shared(&self, rec: &hsof_store::IncidentRecord, outbox: &[hsof_store::TeamOpRecord]) -> Option<Shared> {
        let name = rec.team_name.clone()?;
        let mine: Vec<_> = outbox.iter().filter(|o| o.name == name).collect();
        let read_at = self.store().ok()?.team_cache_get("incident", &name).ok().flatten().map(|c| c.read_at);
        Some(Shared {
            pending: mine.len() as u32,
            error: mine.iter().find_map(|o| o.last_error.clone()),
            read_at,
            name,
        })
    }

    /// An incident's page: timers, timeline, Slack messages, summary, post-mortem.
    pub fn incident_detail(&self, id: i64, now: DateTime<Utc>) -> Result<IncidentDetail, Error> {
        let store = self.store()?;
        let rec = store.incident(id)?.ok_or(IncidentError::NotFound(id))?;
        let timeline: Vec<TimelineEvent> = store.timeline(id)?.iter().map(records::event).collect::<Result<_, _>>()?;
        let mut slack: Vec<SlackPost> = store.slack_outbox(Some(id))?.iter().map(SlackPost::from_record).collect();
        let outbox = store.team_outbox()?;
        let shared = self.shared(&rec, &outbox);
        let mut unshared = Vec::new();
        if let Some(name) = &rec.team_name {
            let pending: Vec<serde_json::Value> =
                outbox.iter().filter(|o| &o.name == name).filter_map(|o| serde_json::from_str(&o.op).ok()).collect();
            let waiting: Vec<&str> = pending.iter().filter_map(|o| o["event"]["uid"].as_str()).collect();
            unshared = store
                .timeline(id)?
                .iter()
                .filter(|e| e.uid.as_deref().is_some_and(|u| waiting.contains(&u)))
                .map(|e| e.id)
                .collect();
            let cached = store.team_cache_get("incident", name)?;
            let obj = cached.and_then(|c| serde_json::from_str::<serde_json::Value>(&c.object).ok());
            let in_record = obj.as_ref().and_then(|o| o["status"]["slack"].as_array().cloned()).unwrap_or_default();
            let queued =
                pending.iter().filter(|o| o["op"] == "slack").filter(|o| !in_record.iter().any(|m| m["id"] == o["id"]));
            slack.extend(in_record.iter().map(SlackPost::from_shared));
            slack.extend(queued.map(|o| {
                SlackPost::from_shared(&serde_json::json!({"text": o["text"], "createdAt": o["at"],
                "error": "not shared yet: waits in this desktop's outbox for the cluster"}))
            }));
        }
        let postmortem_due = store.reviews()?.into_iter().find(|r| r.incident_id == id).map(|r| r.due_at);
        let roles = ops::roles::current(&timeline);
        let commander = roles.iter().find(|h| h.role == ops::roles::Role::Commander).map(|h| h.who.clone());
        let view = self.view(records::incident(&rec)?, shared, rec.cluster.clone(), commander.as_deref(), now)?;
        let filter = crate::followthrough::FollowUpFilter { incident_id: Some(id), ..Default::default() };
        Ok(IncidentDetail {
            view,
            roles,
            followups: self.followups(&filter, now)?,
            stakeholder: self.incident_stakeholder_posts(id)?,
            stakeholder_due: self.stakeholder_next_due(id)?,
            timeline,
            slack,
            summary: rec.summary,
            postmortem_due,
            unshared,
        })
    }

    /// Incidents matching `filter`: unresolved first (most severe first), then the rest,
    /// newest first.
    pub fn incidents(&self, filter: &IncidentFilter, now: DateTime<Utc>) -> Result<Vec<IncidentView>, Error> {
        let from = when(self, filter.from.as_deref(), "from", now, crate::time::Bound::Start)?;
        let to = when(self, filter.to.as_deref(), "to", now, crate::time::Bound::End)?;
        let mut out = Vec::new();
        let store = self.store()?;
        let outbox = store.team_outbox()?;
        for rec in store.incidents()? {
            let i = records::incident(&rec)?;
            if filter.severity.is_some_and(|s| s != i.severity)
                || filter.status.as_ref().is_some_and(|s| *s != i.status)
                || (filter.open_only && i.is_resolved())
                || from.is_some_and(|f| i.declared_at < f)
                || to.is_some_and(|t| i.declared_at >= t)
            {
                continue;
            }
            out.push(self.view(i, self.shared(&rec, &outbox), rec.cluster.clone(), None, now)?);
        }
        out.sort_by(|a, b| {
            let (ia, ib) = (&a.incident, &b.incident);
            ia.is_resolved()
                .cmp(&ib.is_resolved())
                .then_with(|| if ia.is_resolved() { std::cmp::Ordering::Equal } else { ia.severity.cmp(&ib.severity) })
                .then_with(|| ib.declared_at.cmp(&ia.declared_at))
        });
        Ok(out)
    }

    /// The incident changes are linked to as emergency changes: the most severe unresolved
    /// one (the newest among equals), if any.
    pub fn incident_for_changes(&self) -> Option<Incident> {
        let recs = self.store().ok()?.incidents().ok()?;
        // With several clusters, an incident declared on another cluster is not this one's
        // emergency; one that names no cluster (a single-cluster file, a teammate's) still is.
        let here = self.record_cluster();
        recs.iter()
            .filter(|r| here.is_none() || r.cluster.is_none() || r.cluster == here)
            .filter_map(|r| records::incident(r).ok())
            .filter(|i| !i.is_resolved())
            .min_by(|a, b| a.severity.cmp(&b.severity).then_with(|| b.declared_at.cmp(&a.declared_at)))
    }
}
