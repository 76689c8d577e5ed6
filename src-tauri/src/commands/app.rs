use chrono::Utc;
use hsof_core::{AppContext, Doctor, IpcError};
use hsof_store::AppEvent;
use serde::Serialize;
use tauri::State;

use crate::StartedAt;

/// The facts Overview shows.
#[tauri::command]
#[specta::specta]
pub async fn doctor(ctx: State<'_, AppContext>) -> Result<Doctor, IpcError> {
    Ok(ctx.doctor(Utc::now()))
}

/// How long the first paint took.
#[derive(Debug, Serialize, specta::Type)]
pub struct FirstPaint {
    /// Milliseconds from process start to the UI's first paint.
    pub ms: f64,
}

/// Called once by the UI after its first paint; recorded as an `app.first_paint` event.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(ctx: State<'_, AppContext>, started: State<'_, StartedAt>) -> FirstPaint {
    let ms = started.0.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(ms, "first paint");
    ctx.record_event(Utc::now(), "app.first_paint", &format!("first paint {ms:.0} ms after launch"));
    FirstPaint { ms }
}

/// What the app did recently, newest first.
#[tauri::command]
#[specta::specta]
pub async fn recent_events(ctx: State<'_, AppContext>, limit: u32) -> Result<Vec<AppEvent>, IpcError> {
    Ok(ctx.store()?.recent_events(None, limit).map_err(hsof_core::Error::from)?)
}
