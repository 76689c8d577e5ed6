//! Incident response: declare, acknowledge, snapshot, update, resolve, summary, drafts.
//! Each command calls one hsof-core function; Slack posts leave through the outbox, which
//! is flushed right after a command queues one (and by the poller until it is sent).

use chrono::Utc;
use hsof_core::incidents::{IncidentDetail, IncidentFilter, IncidentView};
use hsof_core::{os_user, IpcError};
use hsof_ops::incidents::{NewIncident, SeverityStats, SlackMessage, StatusUpdate};

use crate::active::Ctx;

/// Sends what the outbox of `ctx` (the profile that queued the post) holds, in the
/// background: the command answers at once.
fn flush_soon(ctx: &Ctx) {
    let ctx = ctx.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = ctx.flush_slack(Utc::now()).await {
            tracing::warn!(error = %e, "Slack outbox flush failed");
        }
    });
}

/// Incidents matching `filter`, unresolved first.
#[tauri::command]
#[specta::specta]
pub fn incidents_list(ctx: Ctx, filter: IncidentFilter) -> Result<Vec<IncidentView>, IpcError> {
    Ok(ctx.incidents(&filter, Utc::now())?)
}

/// One incident's page.
#[tauri::command]
#[specta::specta]
pub fn incident_get(ctx: Ctx, id: f64) -> Result<IncidentDetail, IpcError> {
    Ok(ctx.incident_detail(id as i64, Utc::now())?)
}

/// A declaration prefilled from an active alert.
#[tauri::command]
#[specta::specta]
pub async fn incident_from_alert(ctx: Ctx, fingerprint: String) -> Result<NewIncident, IpcError> {
    Ok(ctx.incident_from_alert(&fingerprint, Utc::now()).await?)
}

/// Declares an incident (stored before the form closes; the draft is dropped).
#[tauri::command]
#[specta::specta]
pub fn incident_declare(ctx: Ctx, incident: NewIncident) -> Result<IncidentDetail, IpcError> {
    let d = ctx.incident_declare(&incident, &os_user(), Utc::now())?;
    let _ = ctx.draft_delete("incident-new");
    flush_soon(&ctx);
    Ok(d)
}

/// The scenarios a drill can rehearse, and whether the demo environment runs.
#[tauri::command]
#[specta::specta]
pub fn drill_scenarios() -> (Vec<hsof_demo::drill::DrillScenario>, bool) {
    let running = hsof_demo::Profile::resolve(None)
        .map(|p| matches!(hsof_demo::status(&p), hsof_demo::Status::Running(_)))
        .unwrap_or(false);
    (hsof_demo::drill::scenarios(), running)
}

/// Starts a drill: the demo environment switches to `scenario` and a drill incident is
/// declared (never posted to Slack, kept out of the statistics).
#[tauri::command]
#[specta::specta]
pub fn incident_drill(
    ctx: Ctx,
    scenario: String,
    severity: Option<hsof_ops::incidents::Severity>,
) -> Result<IncidentDetail, IpcError> {
    let profile = hsof_demo::Profile::resolve(None).map_err(|e| IpcError::from(&hsof_core::Error::Unavailable(e)))?;
    Ok(hsof_demo::drill::start(&ctx, &profile, &scenario, severity, &os_user(), Utc::now())?)
}

/// Acknowledges; optionally silences the source alert for `silence_minutes`.
#[tauri::command]
#[specta::specta]
pub async fn incident_ack(ctx: Ctx, id: f64, silence_minutes: Option<u32>) -> Result<IncidentDetail, IpcError> {
    Ok(ctx.incident_ack(id as i64, silence_minutes, &os_user(), Utc::now()).await?)
}

/// Takes an impact snapshot onto the timeline.
#[tauri::command]
#[specta::specta]
pub async fn incident_snapshot(ctx: Ctx, id: f64) -> Result<IncidentDetail, IpcError> {
    Ok(ctx.incident_snapshot(id as i64, &os_user(), Utc::now()).await?)
}

/// The Slack messages an update would post.
#[tauri::command]
#[specta::specta]
pub fn incident_update_preview(ctx: Ctx, id: f64, update: StatusUpdate) -> Result<Vec<SlackMessage>, IpcError> {
    Ok(ctx.incident_update_preview(id as i64, &update, &os_user(), Utc::now())?)
}

/// Posts a status update.
#[tauri::command]
#[specta::specta]
pub fn incident_update(ctx: Ctx, id: f64, update: StatusUpdate) -> Result<IncidentDetail, IpcError> {
    let d = ctx.incident_update(id as i64, &update, &os_user(), Utc::now())?;
    let _ = ctx.draft_delete(&format!("incident-{}-update", id as i64));
    flush_soon(&ctx);
    Ok(d)
}

/// Resolves.
#[tauri::command]
#[specta::specta]
pub fn incident_resolve(ctx: Ctx, id: f64, note: String) -> Result<IncidentDetail, IpcError> {
    let d = ctx.incident_resolve(id as i64, &note, &os_user(), Utc::now())?;
    flush_soon(&ctx);
    Ok(d)
}

/// The post-incident summary (saved, else generated from the timeline).
#[tauri::command]
#[specta::specta]
pub fn incident_summary(ctx: Ctx, id: f64) -> Result<String, IpcError> {
    Ok(ctx.incident_summary(id as i64)?)
}

/// Saves the edited summary.
#[tauri::command]
#[specta::specta]
pub fn incident_save_summary(ctx: Ctx, id: f64, markdown: String) -> Result<IncidentDetail, IpcError> {
    let d = ctx.incident_save_summary(id as i64, &markdown, &os_user(), Utc::now())?;
    let _ = ctx.draft_delete(&format!("incident-{}-summary", id as i64));
    Ok(d)
}

/// MTTA / MTTR per severity for incidents declared in `[from, to)` (RFC 3339).
#[tauri::command]
#[specta::specta]
pub fn incident_stats(ctx: Ctx, from: String, to: String) -> Result<Vec<SeverityStats>, IpcError> {
    let parse = hsof_core::time::parse_time;
    Ok(ctx.incident_stats(parse(&from, "from")?, parse(&to, "to")?)?)
}

/// Puts a failed Slack message back in the queue now and sends it.
#[tauri::command]
#[specta::specta]
pub fn slack_retry(ctx: Ctx, outbox_id: f64) -> Result<bool, IpcError> {
    let queued = ctx.slack_retry(outbox_id as i64, Utc::now())?;
    flush_soon(&ctx);
    Ok(queued)
}

/// Saves a draft as it is typed (crash-safe forms).
#[tauri::command]
#[specta::specta]
pub fn draft_save(ctx: Ctx, key: String, text: String) -> Result<(), IpcError> {
    Ok(ctx.draft_save(&key, &text, Utc::now())?)
}

/// The draft saved under `key`.
#[tauri::command]
#[specta::specta]
pub fn draft_get(ctx: Ctx, key: String) -> Result<Option<String>, IpcError> {
    Ok(ctx.draft(&key)?)
}

/// Discards the draft under `key`.
#[tauri::command]
#[specta::specta]
pub fn draft_delete(ctx: Ctx, key: String) -> Result<(), IpcError> {
    Ok(ctx.draft_delete(&key)?)
}
