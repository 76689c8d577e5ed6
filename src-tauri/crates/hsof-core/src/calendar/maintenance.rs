//! Maintenance windows with the runbook's 48-hour advance notice: a reminder when the
//! announcement is due, a ready-to-send announcement, and optionally an AlertManager
//! silence covering the window.

use chrono::{DateTime, Utc};
use hsof_monitor::alertmanager::{Matcher, NewSilence};
use hsof_ops::calendar::{self as cal, MaintenanceWindow};
use hsof_store::{NewAuditEntry, WindowRecord};
use serde::{Deserialize, Serialize};

use super::{ts, CalendarNotice};
use crate::time::parse_time as parse;
use crate::{AppContext, Error};

/// A window as the calendar shows it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct MaintenanceView {
    /// The window.
    pub window: MaintenanceWindow,
    /// Expected impact.
    pub impact: String,
    /// Who scheduled it.
    pub created_by: String,
    /// When the announcement is due (48 h before the start).
    pub notice_due: String,
    /// Whether it was scheduled with the full notice.
    pub notice_ok: bool,
    /// The announcement to send.
    pub announcement: String,
    /// The AlertManager silence covering it.
    pub silence_id: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
}

/// A window to schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct NewWindow {
    /// Title.
    pub title: String,
    /// Start (RFC 3339).
    pub start: String,
    /// End (RFC 3339).
    pub end: String,
    /// What will be done.
    pub description: String,
    /// Expected impact on users.
    pub impact: String,
    /// Create an AlertManager silence for the window.
    pub silence: bool,
}

impl AppContext {
    fn window_view(&self, r: WindowRecord) -> Result<MaintenanceView, Error> {
        let start = parse(&r.starts_at, "window start")?;
        let window = MaintenanceWindow {
            id: r.id,
            title: r.title.clone(),
            start,
            end: parse(&r.ends_at, "window end")?,
            description: r.description.clone(),
        };
        let created = parse(&r.created_at, "window created").unwrap_or(start);
        let contact = self.config().config.slack.channel;
        Ok(MaintenanceView {
            announcement: cal::announcement(&window, self.team_tz()?, &r.impact, &contact),
            notice_due: ts(start - cal::NOTICE),
            notice_ok: start - created >= cal::NOTICE,
            window,
            impact: r.impact,
            created_by: r.created_by,
            silence_id: r.silence_id,
            cancelled_at: r.cancelled_at,
        })
    }

    /// Every maintenance window, soonest first.
    pub fn windows(&self) -> Result<Vec<MaintenanceView>, Error> {
        self.store()?.windows()?.into_iter().map(|r| self.window_view(r)).collect()
    }

    /// Schedules a window (short notice is allowed and said so); with `silence`, an
    /// AlertManager silence covers it (a failure to silence is reported, the window kept).
    pub async fn schedule_window(
        &self,
        w: &NewWindow,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(MaintenanceView, Vec<String>), Error> {
        if w.title.trim().is_empty() {
            return Err(Error::InvalidInput("a maintenance window needs a title".into()));
        }
        let (start, end) = (
            self.parse_when(&w.start, "start", now, crate::time::Bound::Start)?,
            self.parse_when(&w.end, "end", now, crate::time::Bound::End)?,
        );
        let check = cal::check_window(start, end, now).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let mut warnings = check.warnings.clone();
        let id = self.store()?.insert_window(&WindowRecord {
            title: w.title.trim().into(),
            starts_at: ts(start),
            ends_at: ts(end),
            description: w.description.clone(),
            impact: w.impact.clone(),
            created_at: ts(now),
            created_by: actor.into(),
            ..Default::default()
        })?;
        if w.silence {
            match self.silence_window(id, &w.title, start, end, actor).await {
                Ok(silence) => self.store()?.set_window_silence(id, &silence)?,
                Err(e) => warnings.push(format!("the AlertManager silence could not be created: {e}")),
            }
        }
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "maintenance.schedule",
                target: &format!("maintenance/{id}"),
                before: None,
                after: Some(&serde_json::to_string(w).unwrap_or_default()),
                result: "ok",
            },
            now,
        );
        let view = self
            .windows()?
            .into_iter()
            .find(|v| v.window.id == id)
            .ok_or_else(|| Error::NotFound(format!("maintenance window {id}")))?;
        Ok((view, warnings))
    }

    async fn silence_window(
        &self,
        id: i64,
        title: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        actor: &str,
    ) -> Result<String, Error> {
        let am = self.monitor().alertmanager.map_err(Error::Unavailable)?;
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        // HSOF's own alerts (endpoints.silence_matchers), for the window only: on a shared
        // AlertManager, other teams' alerts are not silenced.
        let matchers = self
            .config()
            .config
            .endpoints
            .silence_matchers
            .iter()
            .map(|m| Matcher::parse(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidInput(format!("endpoints.silence_matchers: {e}")))?;
        if matchers.is_empty() {
            return Err(Error::InvalidInput(
                "endpoints.silence_matchers is empty: a silence without matchers would hide every alert".into(),
            ));
        }
        let silence = NewSilence {
            matchers,
            starts_at: fmt(start),
            ends_at: fmt(end),
            created_by: actor.into(),
            comment: format!("maintenance window #{id}: {title}"),
        };
        Ok(am.create_silence(&silence).await?)
    }

    /// Cancels a window (and expires its silence, if any).
    pub async fn cancel_window(&self, id: i64, actor: &str, now: DateTime<Utc>) -> Result<(), Error> {
        let w = self
            .windows()?
            .into_iter()
            .find(|v| v.window.id == id)
            .ok_or_else(|| Error::NotFound(format!("no maintenance window {id}")))?;
        if !self.store()?.cancel_window(id, &ts(now))? {
            return Err(Error::InvalidInput(format!("maintenance window {id} is already cancelled")));
        }
        if let Some(s) = &w.silence_id {
            if let Err(e) = self.expire_silence(s, actor, now).await {
                tracing::warn!(error = %e, silence = s, "the window's silence could not be expired");
            }
        }
        self.record_event(now, "maintenance.cancel", &format!("maintenance window {id} cancelled"));
        Ok(())
    }

    /// Announcements that have come due (48 h before a window), each noticed once.
    pub(super) fn maintenance_notices(&self, now: DateTime<Utc>) -> Result<Vec<CalendarNotice>, Error> {
        let store = self.store()?;
        let mut out = Vec::new();
        for w in self.windows()? {
            if w.cancelled_at.is_some() || w.window.start <= now {
                continue;
            }
            let due = parse(&w.notice_due, "notice due")?;
            if now >= due && store.mark_notice(&format!("notice:{}", w.window.id), &ts(now))? {
                out.push(CalendarNotice {
                    title: format!("Announce maintenance: {}", w.window.title),
                    body: "The runbook's 48-hour notice is due: the announcement text is on the Calendar screen."
                        .into(),
                });
            }
        }
        Ok(out)
    }
}
