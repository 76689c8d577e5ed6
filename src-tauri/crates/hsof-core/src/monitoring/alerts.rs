//! AlertManager: active alerts grouped by severity, silences, acknowledgement.

use chrono::{DateTime, Utc};
use hsof_monitor::alertmanager::{Alert, NewSilence, Silence};
use hsof_store::NewAuditEntry;
use serde::{Deserialize, Serialize};

use super::{last_known_or, remember, rfc3339, Fresh, Freshness};
use crate::{AppContext, Error};

/// Alerts of one severity.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct AlertGroup {
    /// `critical`, `warning`, `info` or `none`.
    pub severity: String,
    /// Its alerts, oldest first.
    pub alerts: Vec<Alert>,
}

/// Active alerts and silences.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct AlertsView {
    /// Critical first.
    pub groups: Vec<AlertGroup>,
    /// Active and pending silences (expired ones are left out).
    pub silences: Vec<Silence>,
    /// Source and age.
    pub freshness: Freshness,
}

impl AlertsView {
    /// Active (not silenced, not inhibited) alerts of `severity`.
    pub fn active_count(&self, severity: &str) -> usize {
        self.groups
            .iter()
            .filter(|g| g.severity == severity)
            .flat_map(|g| &g.alerts)
            .filter(|a| a.status.state == "active")
            .count()
    }
}

const CACHE_KEY: &str = "alerts";

impl Fresh for AlertsView {
    fn freshness_mut(&mut self) -> &mut Freshness {
        &mut self.freshness
    }
}
const ORDER: [&str; 4] = ["critical", "warning", "info", "none"];

fn group(alerts: Vec<Alert>) -> Vec<AlertGroup> {
    let mut groups: Vec<AlertGroup> = Vec::new();
    let mut sorted = alerts;
    sorted.sort_by(|a, b| a.starts_at.cmp(&b.starts_at));
    for a in sorted {
        let sev = a.severity();
        match groups.iter_mut().find(|g| g.severity == sev) {
            Some(g) => g.alerts.push(a),
            None => groups.push(AlertGroup { severity: sev, alerts: vec![a] }),
        }
    }
    groups.sort_by_key(|g| ORDER.iter().position(|o| *o == g.severity).unwrap_or(ORDER.len()));
    groups
}

impl AlertsView {
    /// The alert with `fingerprint` in this view.
    pub fn find(&self, fingerprint: &str) -> Result<&Alert, Error> {
        self.groups
            .iter()
            .flat_map(|g| &g.alerts)
            .find(|a| a.fingerprint == fingerprint)
            .ok_or_else(|| Error::NotFound(format!("no active alert with fingerprint {fingerprint}")))
    }
}

impl AppContext {
    /// Active alerts and silences; the last known list, marked stale, when AlertManager is away.
    pub async fn alerts(&self, now: DateTime<Utc>) -> Result<AlertsView, Error> {
        let m = self.monitor();
        let store = self.store()?;
        let source = format!("AlertManager {}", m.config.endpoints.alertmanager_url);
        let fetched = match &m.alertmanager {
            Ok(am) => match futures_util::future::join(am.alerts(), am.silences()).await {
                (Ok(a), Ok(s)) => Ok((a, s)),
                (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
            },
            Err(e) => Err(e.clone()),
        };
        match fetched {
            Ok((alerts, silences)) => {
                let view = AlertsView {
                    groups: group(alerts),
                    silences: silences.into_iter().filter(|s| s.status.state != "expired").collect(),
                    freshness: Freshness { source, fetched_at: Some(rfc3339(now)), stale: false, error: None },
                };
                remember(store, &self.scoped(CACHE_KEY), &view, now)?;
                Ok(view)
            }
            Err(error) => last_known_or(store, &self.scoped(CACHE_KEY), error, || AlertsView {
                groups: vec![],
                silences: vec![],
                freshness: Freshness { source, fetched_at: None, stale: true, error: None },
            }),
        }
    }

    /// Acknowledges an alert by silencing exactly its label set for `duration`; audited.
    pub async fn ack_alert(
        &self,
        fingerprint: &str,
        duration: chrono::Duration,
        comment: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        if duration <= chrono::Duration::zero() || duration > chrono::Duration::days(30) {
            return Err(Error::InvalidInput("a silence lasts between 1 minute and 30 days".into()));
        }
        if comment.trim().is_empty() {
            return Err(Error::InvalidInput("say why the alert is acknowledged (the comment is required)".into()));
        }
        let am = self.monitor().alertmanager.map_err(Error::Unavailable)?;
        let alerts = am.alerts().await.map_err(Error::from)?;
        let alert = alerts
            .iter()
            .find(|a| a.fingerprint == fingerprint)
            .ok_or_else(|| Error::NotFound(format!("no active alert with fingerprint {fingerprint}")))?;
        let silence = NewSilence::for_alert(alert, now, duration, actor, comment);
        let result = am.create_silence(&silence).await;
        let target = format!("alert/{} ({fingerprint})", alert.name());
        let after = serde_json::to_string(&silence).ok();
        let outcome = match &result {
            Ok(id) => format!("ok: silence {id}"),
            Err(e) => format!("error: {e}"),
        };
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "alert.silence",
                target: &target,
                before: None,
                after: after.as_deref(),
                result: &outcome,
            },
            now,
        );
        Ok(result?)
    }

    /// Ends a silence now; audited.
    pub async fn expire_silence(&self, id: &str, actor: &str, now: DateTime<Utc>) -> Result<(), Error> {
        let am = self.monitor().alertmanager.map_err(Error::Unavailable)?;
        let result = am.expire_silence(id).await;
        let outcome = match &result {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("error: {e}"),
        };
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "silence.expire",
                target: &format!("silence/{id}"),
                before: None,
                after: None,
                result: &outcome,
            },
            now,
        );
        Ok(result?)
    }

    /// Records that an alert should become an incident (the incidents feature picks it up).
    pub async fn link_alert(&self, fingerprint: &str, actor: &str, now: DateTime<Utc>) -> Result<i64, Error> {
        let view = self.alerts(now).await?;
        let alert = view.find(fingerprint)?;
        let json = serde_json::to_string(alert).unwrap_or_default();
        Ok(self.store()?.link_alert(fingerprint, alert.name(), &json, &rfc3339(now), actor)?)
    }
}
