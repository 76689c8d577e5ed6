//! Incident response as the runbook runs it: declare (from a form or an alert),
//! acknowledge (optionally silencing the alert), snapshot the impact, post status updates
//! to Slack through the outbox, record emergency changes, resolve, write the summary, and
//! schedule the post-mortem. Timers and reminders come from `hsof-ops`, fed the team's
//! severity table and business hours from the config.

mod outbox;
mod records;
mod views;

use chrono::{DateTime, Duration, Utc};
use hsof_ops::incidents::{
    self as ops, Incident, IncidentError, IncidentStatus, NewIncident, Severity, SeverityStats, SlackMessage,
    StatusUpdate, TimelineEvent, TimelineKind,
};
use hsof_store::{IncidentChanges, IncidentRecord, NewAuditEntry, NewTimelineEvent};
use serde_json::json;

pub(crate) use outbox::{lease_holder, next_attempt, unique_id};
pub use outbox::{ReminderNotice, SlackPost};
use records::ts;
pub use views::{IncidentDetail, IncidentFilter, IncidentView, Shared};

use crate::{AppContext, Error};

fn human(d: Duration) -> String {
    let m = d.num_minutes();
    if m < 1 {
        format!("{} s", d.num_seconds().max(0))
    } else if m < 120 {
        format!("{m} min")
    } else {
        format!("{} h {} min", m / 60, m % 60)
    }
}

impl AppContext {
    pub(crate) fn event<'a>(
        now: &'a str,
        author: &'a str,
        kind: TimelineKind,
        text: &'a str,
        data: &'a str,
    ) -> NewTimelineEvent<'a> {
        NewTimelineEvent { at: now, author, kind: kind.as_str(), text, data }
    }

    /// Declares an incident: stored (with its first timeline event) before anything else,
    /// announced in Slack through the outbox, audited.
    pub fn incident_declare(
        &self,
        new: &NewIncident,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentDetail, Error> {
        new.validate()?;
        let store = self.store()?;
        let at = ts(now);
        let rec = IncidentRecord {
            title: new.title.trim().to_string(),
            severity: new.severity.to_string(),
            status: IncidentStatus::Open.to_string(),
            components: serde_json::to_string(&new.components).unwrap_or_else(|_| "[]".into()),
            description: new.description.trim().to_string(),
            declared_at: at.clone(),
            declared_by: actor.to_string(),
            source_alert: new.source_alert.as_ref().map(serde_json::Value::to_string),
            drill: new.drill.as_ref().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
            cluster: self.record_cluster(),
            ..Default::default()
        };
        let text = match &rec.drill {
            Some(d) => format!(
                "declared {} (drill on the demo scenario {d}; Slack posts held back): {}",
                new.severity, rec.title
            ),
            None => format!("declared {}: {}", new.severity, rec.title),
        };
        let data = json!({"severity": new.severity, "components": new.components,
            "source_alert": new.source_alert.as_ref().map(|a| a["fingerprint"].clone())})
        .to_string();
        let id = store.insert_incident(&rec, &Self::event(&at, actor, TimelineKind::Declared, &text, &data))?;
        let incident = self.incident(id)?;
        self.queue_slack(Some(id), &ops::declared_message(&incident, None), now)?;
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "incident.declare",
                target: &format!("incident/{id}"),
                before: None,
                after: Some(&serde_json::to_string(&incident).unwrap_or_default()),
                result: "ok",
            },
            now,
        );
        self.incident_detail(id, now)
    }

    /// Fills a declaration from an active alert: title, severity (critical → P1, warning →
    /// P2, else P3), components from its labels, description from its annotations
    /// (summary, description, runbook URL), and the alert itself.
    pub async fn incident_from_alert(&self, fingerprint: &str, now: DateTime<Utc>) -> Result<NewIncident, Error> {
        let view = self.alerts(now).await?;
        let alert = view.find(fingerprint)?;
        let severity = match alert.severity().as_str() {
            "critical" | "page" => Severity::P1,
            "warning" => Severity::P2,
            _ => Severity::P3,
        };
        let a = &alert.annotations;
        let title = a.get("summary").cloned().unwrap_or_else(|| alert.name().to_string());
        let mut description = a.get("description").cloned().unwrap_or_default();
        if let Some(url) = a.get("runbook_url") {
            description.push_str(&format!("\nRunbook: {url}"));
        }
        let components =
            ["component", "stage", "service", "job"].iter().filter_map(|k| alert.labels.get(*k).cloned()).collect();
        Ok(NewIncident {
            title,
            severity,
            components,
            description: description.trim().to_string(),
            source_alert: serde_json::to_value(alert).ok(),
            drill: None,
        })
    }

    /// Acknowledges: the response timer stops; with `silence_minutes`, the source alert is
    /// silenced in AlertManager for that long (a failure to silence is recorded, not fatal).
    pub async fn incident_ack(
        &self,
        id: i64,
        silence_minutes: Option<u32>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentDetail, Error> {
        let i = self.incident(id)?;
        if i.is_resolved() || i.is_acknowledged() {
            return Err(IncidentError::InvalidTransition { id, status: i.status, action: "acknowledged" }.into());
        }
        let policy = self.incident_policy(i.severity)?;
        let took = now - i.declared_at;
        let mut text = format!("acknowledged after {} (target {})", human(took), human(policy.response));
        let mut data = json!({"seconds": took.num_seconds(), "target_seconds": policy.response.num_seconds()});
        let fingerprint = i.source_alert.as_ref().and_then(|a| a["fingerprint"].as_str()).map(str::to_string);
        if let (Some(minutes), Some(fp)) = (silence_minutes, fingerprint) {
            let comment = format!("incident #{id}: {}", i.title);
            match self.ack_alert(&fp, Duration::minutes(i64::from(minutes)), &comment, actor, now).await {
                Ok(silence) => {
                    text.push_str(&format!("; alert silenced for {minutes} min"));
                    data["silence"] = json!(silence);
                }
                Err(e) => {
                    text.push_str("; the alert could not be silenced");
                    data["silence_error"] = json!(e.to_string());
                }
            }
        }
        let at = ts(now);
        let data = data.to_string();
        let changes =
            IncidentChanges { status: Some("acknowledged"), acknowledged_at: Some(&at), ..Default::default() };
        self.store()?.update_incident(
            id,
            &changes,
            &Self::event(&at, actor, TimelineKind::Acknowledged, &text, &data),
        )?;
        self.incident_detail(id, now)
    }

    /// Assesses impact: pods, health endpoints, rollout history and active alerts, read now
    /// and attached to the timeline (what could not be read is recorded with the reason).
    pub async fn incident_snapshot(&self, id: i64, actor: &str, now: DateTime<Utc>) -> Result<IncidentDetail, Error> {
        let i = self.incident(id)?;
        if i.is_resolved() {
            return Err(IncidentError::InvalidTransition { id, status: i.status, action: "snapshotted" }.into());
        }
        let deployment = self.config().config.cluster.deployment;
        let cluster = self.cluster().await;
        let (pods, history) = match &cluster {
            Ok(c) => {
                let (p, h) = futures_util::future::join(c.pods(), c.history(&deployment)).await;
                (p.map_err(|e| e.to_string()), h.map_err(|e| e.to_string()))
            }
            Err(e) => (Err(e.to_string()), Err(e.to_string())),
        };
        let (health, alerts) = futures_util::future::join(self.health_check(|| now), self.alerts(now)).await;
        let mut parts = Vec::new();
        match &pods {
            Ok(p) => {
                let not_ready = p
                    .iter()
                    .filter(|p| p.phase != "Running" || p.ready.split('/').next() != p.ready.split('/').nth(1))
                    .count();
                parts.push(format!("{} pods ({not_ready} not ready)", p.len()));
            }
            Err(e) => parts.push(format!("pods unreadable ({e})")),
        }
        match &health {
            Ok(h) => parts.push(format!("health {:?}", h.report.overall).to_lowercase()),
            Err(e) => parts.push(format!("health unreadable ({e})")),
        }
        match &alerts {
            Ok(a) => parts.push(format!("{} active alerts", a.groups.iter().map(|g| g.alerts.len()).sum::<usize>())),
            Err(e) => parts.push(format!("alerts unreadable ({e})")),
        }
        if let Ok(h) = &history {
            if let Some(cur) = h.iter().find(|r| r.current) {
                parts.push(format!("revision {}", cur.revision));
            }
        }
        let ok_or = |r: Result<serde_json::Value, String>| r.unwrap_or_else(|e| json!({"error": e}));
        let data = json!({
            "pods": ok_or(pods.map(|p| json!(p))),
            "health": ok_or(health.map(|h| json!(h)).map_err(|e| e.to_string())),
            "rollout_history": ok_or(history.map(|h| json!(h))),
            "alerts": ok_or(alerts.map(|a| json!(a)).map_err(|e| e.to_string())),
        })
        .to_string();
        let text = format!("impact snapshot: {}", parts.join(", "));
        let at = ts(now);
        self.store()?.append_timeline(id, &Self::event(&at, actor, TimelineKind::Snapshot, &text, &data))?;
        self.incident_detail(id, now)
    }

    /// The Slack messages a status update would post (nothing is stored or sent).
    pub fn incident_update_preview(
        &self,
        id: i64,
        update: &StatusUpdate,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlackMessage>, Error> {
        update.validate()?;
        Ok(ops::update_messages(&self.incident(id)?, update, actor, now))
    }

    /// Posts a status update: recorded on the timeline and queued for Slack (long updates
    /// are split into several messages); the update timer restarts.
    pub fn incident_update(
        &self,
        id: i64,
        update: &StatusUpdate,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentDetail, Error> {
        update.validate()?;
        let i = self.incident(id)?;
        if i.is_resolved() {
            return Err(IncidentError::InvalidTransition { id, status: i.status, action: "updated" }.into());
        }
        let messages = ops::update_messages(&i, update, actor, now);
        let at = ts(now);
        // The timeline line carries all three parts (each cut at 200 characters); the whole
        // update is in the event's data and in Slack.
        let cut = |s: &str| {
            let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if s.chars().count() > 200 {
                format!("{}…", s.chars().take(200).collect::<String>())
            } else {
                s
            }
        };
        let parts: Vec<String> =
            [("conditions", &update.conditions), ("actions", &update.actions), ("needs", &update.needs)]
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| format!("{k}: {}", cut(v)))
                .collect();
        let text = format!("status update — {}", parts.join(" · "));
        let data = serde_json::to_string(update).unwrap_or_default();
        let changes = IncidentChanges { last_update_at: Some(&at), ..Default::default() };
        self.store()?.update_incident(id, &changes, &Self::event(&at, actor, TimelineKind::Update, &text, &data))?;
        for m in &messages {
            self.queue_slack(Some(id), m, now)?;
        }
        self.incident_detail(id, now)
    }

    /// Resolves: timers stop, Slack hears it, the summary is drafted, and for levels that
    /// require one a post-mortem is scheduled for the next business day.
    pub fn incident_resolve(
        &self,
        id: i64,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentDetail, Error> {
        let i = self.incident(id)?;
        if i.is_resolved() {
            return Err(IncidentError::InvalidTransition { id, status: i.status, action: "resolved" }.into());
        }
        let policy = self.incident_policy(i.severity)?;
        let at = ts(now);
        let mut text = format!("resolved after {}", human(now - i.declared_at));
        if !note.trim().is_empty() {
            text.push_str(&format!(": {}", note.trim()));
        }
        let changes = IncidentChanges { status: Some("resolved"), resolved_at: Some(&at), ..Default::default() };
        let store = self.store()?;
        store.update_incident(id, &changes, &Self::event(&at, actor, TimelineKind::Resolved, &text, "null"))?;
        let resolved = self.incident(id)?;
        let summary = self.incident_summary(id)?;
        let first_lines: String = summary.lines().take(6).collect::<Vec<_>>().join("\n");
        self.queue_slack(Some(id), &ops::resolved_message(&resolved, &first_lines), now)?;
        if policy.postmortem {
            let due = self.business_hours_policy()?.next_business_day_start(now);
            let title = format!("Post-mortem: #{id} {}", i.title);
            if store.schedule_review(id, "postmortem", &title, &ts(due), &at)? {
                let text = format!("post-mortem scheduled for {}", due.to_rfc3339());
                store.append_timeline(id, &Self::event(&at, actor, TimelineKind::Note, &text, "null"))?;
            }
        }
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "incident.resolve",
                target: &format!("incident/{id}"),
                before: None,
                after: None,
                result: "ok",
            },
            now,
        );
        self.incident_detail(id, now)
    }

    /// Assigns `role` to `who` (or hands it over from whoever held it): a timeline entry
    /// with the time, shared like every entry.
    pub fn incident_role(
        &self,
        id: i64,
        role: ops::roles::Role,
        who: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentDetail, Error> {
        let store = self.store()?;
        let timeline: Vec<_> = store.timeline(id)?.iter().map(records::event).collect::<Result<_, _>>()?;
        let i = self.incident(id)?;
        if i.is_resolved() {
            return Err(IncidentError::InvalidTransition { id, status: i.status, action: "given roles" }.into());
        }
        let current = ops::roles::current(&timeline);
        ops::roles::check_assignment(&current, role, who)?;
        let previous = current.iter().find(|h| h.role == role).map(|h| h.who.clone());
        let who = who.trim();
        let text = ops::roles::entry_text(role, who, previous.as_deref());
        let data = ops::roles::entry_data(role, who, previous.as_deref()).to_string();
        let at = ts(now);
        store.append_timeline(id, &Self::event(&at, actor, TimelineKind::Role, &text, &data))?;
        self.incident_detail(id, now)
    }

    /// Who the declare form proposes as incident commander: the person on call now.
    pub fn proposed_commander(&self, now: DateTime<Utc>) -> Option<String> {
        self.on_call_at(now)
    }

    /// The post-incident summary: the saved one, else generated from the timeline.
    pub fn incident_summary(&self, id: i64) -> Result<String, Error> {
        let store = self.store()?;
        let rec = store.incident(id)?.ok_or(IncidentError::NotFound(id))?;
        if let Some(s) = rec.summary.clone().filter(|s| !s.trim().is_empty()) {
            return Ok(s);
        }
        let i = records::incident(&rec)?;
        let timeline: Vec<TimelineEvent> = store.timeline(id)?.iter().map(records::event).collect::<Result<_, _>>()?;
        Ok(ops::summary_markdown(&i, &timeline, &self.incident_policy(i.severity)?, self.business_hours_policy()?.tz))
    }

    /// Saves the edited summary.
    pub fn incident_save_summary(
        &self,
        id: i64,
        markdown: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<IncidentDetail, Error> {
        if markdown.trim().is_empty() {
            return Err(Error::InvalidInput("the summary is empty".into()));
        }
        let at = ts(now);
        let changes = IncidentChanges { summary: Some(markdown), ..Default::default() };
        let ev = Self::event(&at, actor, TimelineKind::Summary, "post-incident summary saved", "null");
        self.store()?.update_incident(id, &changes, &ev)?.ok_or(IncidentError::NotFound(id))?;
        self.incident_detail(id, now)
    }

    /// MTTA and MTTR per severity for incidents declared in `[from, to)`.
    pub fn incident_stats(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<SeverityStats>, Error> {
        let all: Vec<Incident> = self.store()?.incidents()?.iter().map(records::incident).collect::<Result<_, _>>()?;
        Ok(ops::stats(&all, from, to))
    }

    /// Records a change made during an open incident on its timeline (an emergency change).
    pub(crate) fn link_emergency_change(
        &self,
        incident: &Incident,
        audit: &hsof_store::AuditEntry,
        now: DateTime<Utc>,
    ) {
        let text = format!("emergency change: {} on {} — {}", audit.action, audit.target, audit.result);
        let data =
            json!({"audit_id": audit.id, "action": audit.action, "target": audit.target, "result": audit.result})
                .to_string();
        let at = ts(now);
        let written = self.store().and_then(|s| {
            Ok(s.append_timeline(incident.id, &Self::event(&at, &audit.actor, TimelineKind::Change, &text, &data))?)
        });
        if let Err(e) = written {
            tracing::error!(error = %e, incident = incident.id, "the emergency change could not be linked");
        }
    }

    /// Saves a draft as it is typed.
    pub fn draft_save(&self, key: &str, text: &str, now: DateTime<Utc>) -> Result<(), Error> {
        Ok(self.store()?.save_draft(key, text, &ts(now))?)
    }

    /// The draft under `key`.
    pub fn draft(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.store()?.draft(key)?.map(|(t, _)| t))
    }

    /// Drops the draft under `key` (its form was submitted or discarded).
    pub fn draft_delete(&self, key: &str) -> Result<(), Error> {
        Ok(self.store()?.delete_draft(key)?)
    }
}
