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

    fn view(&self, incident: Incident, now: DateTime<Utc>) -> Result<IncidentView, Error> {
        let timers = if incident.is_resolved() {
            None
        } else {
            Some(ops::timers(&incident, &self.incident_policy(incident.severity)?, &self.business_hours_policy()?, now))
        };
        Ok(IncidentView { policy: self.targets(incident.severity), incident, timers })
    }

    /// An incident's page: timers, timeline, Slack messages, summary, post-mortem.
    pub fn incident_detail(&self, id: i64, now: DateTime<Utc>) -> Result<IncidentDetail, Error> {
        let store = self.store()?;
        let rec = store.incident(id)?.ok_or(IncidentError::NotFound(id))?;
        let timeline = store.timeline(id)?.iter().map(records::event).collect::<Result<_, _>>()?;
        let slack = store.slack_outbox(Some(id))?.iter().map(SlackPost::from_record).collect();
        let postmortem_due = store.reviews()?.into_iter().find(|r| r.incident_id == id).map(|r| r.due_at);
        Ok(IncidentDetail {
            view: self.view(records::incident(&rec)?, now)?,
            timeline,
            slack,
            summary: rec.summary,
            postmortem_due,
        })
    }

    /// Incidents matching `filter`: unresolved first (most severe first), then the rest,
    /// newest first.
    pub fn incidents(&self, filter: &IncidentFilter, now: DateTime<Utc>) -> Result<Vec<IncidentView>, Error> {
        let from = when(self, filter.from.as_deref(), "from", now, crate::time::Bound::Start)?;
        let to = when(self, filter.to.as_deref(), "to", now, crate::time::Bound::End)?;
        let mut out = Vec::new();
        for rec in self.store()?.incidents()? {
            let i = records::incident(&rec)?;
            if filter.severity.is_some_and(|s| s != i.severity)
                || filter.status.as_ref().is_some_and(|s| *s != i.status)
                || (filter.open_only && i.is_resolved())
                || from.is_some_and(|f| i.declared_at < f)
                || to.is_some_and(|t| i.declared_at >= t)
            {
                continue;
            }
            out.push(self.view(i, now)?);
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
        recs.iter()
            .filter_map(|r| records::incident(r).ok())
            .filter(|i| !i.is_resolved())
            .min_by(|a, b| a.severity.cmp(&b.severity).then_with(|| b.declared_at.cmp(&a.declared_at)))
    }
}
