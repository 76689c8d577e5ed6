use chrono::Utc;
use hsof_core::{AppContext, Doctor, IpcError};
use hsof_store::AppEvent;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::{FirstPaintGate, StartedAt};

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

/// When the page reached each step of its start, in milliseconds since its navigation
/// began (the page's `performance` clock), and when that clock started.
#[derive(Debug, Deserialize, specta::Type)]
pub struct PageMarks {
    /// `performance.timeOrigin`: the navigation's start, in milliseconds since the Unix epoch.
    pub origin_epoch_ms: f64,
    /// The page's HTML received (navigation timing's `responseEnd`).
    pub html_ms: f64,
    /// The UI's script started running (its modules loaded and evaluated).
    pub script_ms: f64,
    /// The UI mounted (the first screen's DOM built).
    pub mounted_ms: f64,
    /// The second animation frame after mounting: the first paint is on screen.
    pub painted_ms: f64,
}

/// Called once by the UI after its first paint; recorded as an `app.first_paint` event,
/// with the page's own marks (when given) placed on the process's clock, so that a slow
/// start shows where its time went.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(
    ctx: State<'_, AppContext>,
    started: State<'_, StartedAt>,
    gate: State<'_, FirstPaintGate>,
    marks: Option<PageMarks>,
) -> FirstPaint {
    gate.open();
    let elapsed = started.0.elapsed();
    let ms = elapsed.as_secs_f64() * 1000.0;
    let steps = marks.map(|m| page_steps(&m, Utc::now().timestamp_micros() as f64 / 1000.0 - ms)).unwrap_or_default();
    tracing::info!(ms, steps, "first paint");
    ctx.record_event(Utc::now(), "app.first_paint", &format!("first paint {ms:.0} ms after launch{steps}"));
    FirstPaint { ms }
}

/// The page's marks as milliseconds after launch: ` (navigation 310, HTML 330, …)`.
fn page_steps(m: &PageMarks, launch_epoch_ms: f64) -> String {
    let origin = m.origin_epoch_ms - launch_epoch_ms;
    let at = |t: f64| (origin + t).round();
    format!(
        " (navigation {:.0}, HTML {:.0}, script {:.0}, mounted {:.0}, painted {:.0} ms)",
        origin.round(),
        at(m.html_ms),
        at(m.script_ms),
        at(m.mounted_ms),
        at(m.painted_ms)
    )
}

/// What the app did recently, newest first.
#[tauri::command]
#[specta::specta]
pub async fn recent_events(ctx: State<'_, AppContext>, limit: u32) -> Result<Vec<AppEvent>, IpcError> {
    Ok(ctx.store()?.recent_events(None, limit).map_err(hsof_core::Error::from)?)
}
