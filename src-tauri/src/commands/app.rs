use chrono::Utc;
use hsof_core::{Doctor, IpcError};
use hsof_store::AppEvent;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::active::Ctx;

use crate::{FirstPaintGate, StartedAt};

/// The facts Overview shows.
#[tauri::command]
#[specta::specta]
pub async fn doctor(ctx: Ctx) -> Result<Doctor, IpcError> {
    Ok(ctx.doctor(Utc::now()))
}

/// How long the first paint took.
#[derive(Debug, Serialize, specta::Type)]
pub struct FirstPaint {
    /// Milliseconds from process start to the UI's first paint.
    pub ms: f64,
}

/// When the page reached each step of its start, in milliseconds since its navigation
/// began (the page's `performance` clock), and when that clock started. A mark the page
/// could not read is left out.
#[derive(Debug, Deserialize, specta::Type)]
pub struct PageMarks {
    /// `performance.timeOrigin`: the navigation's start, in milliseconds since the Unix epoch.
    pub origin_epoch_ms: Option<f64>,
    /// The page's HTML received (navigation timing's `responseEnd`).
    pub html_ms: Option<f64>,
    /// The UI's script started running (its modules loaded and evaluated).
    pub script_ms: Option<f64>,
    /// The UI mounted (the first screen's DOM built).
    pub mounted_ms: Option<f64>,
    /// The second animation frame after mounting: the first paint is on screen.
    pub painted_ms: Option<f64>,
}

/// Called by the UI after its first paint; the first call of the process is recorded as an
/// `app.first_paint` event, with the page's own marks (when given) placed on the process's
/// clock so that a slow start shows where its time went, and opens the gate the background
/// work waits behind. A reload of the page calls it again; that is not a launch.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(
    ctx: Ctx,
    started: State<'_, StartedAt>,
    gate: State<'_, FirstPaintGate>,
    marks: Option<PageMarks>,
) -> FirstPaint {
    let ms = started.0.elapsed().as_secs_f64() * 1000.0;
    if gate.open() {
        let now = Utc::now();
        let steps = marks.map(|m| page_steps(&m, now.timestamp_micros() as f64 / 1000.0 - ms)).unwrap_or_default();
        tracing::info!(ms, steps, "first paint");
        ctx.record_event(now, "app.first_paint", &format!("first paint {ms:.0} ms after launch{steps}"));
    }
    FirstPaint { ms }
}

/// The page's marks as milliseconds after launch: ` (navigation 310, HTML 330, …)`.
fn page_steps(m: &PageMarks, launch_epoch_ms: f64) -> String {
    let Some(origin) = m.origin_epoch_ms.map(|o| o - launch_epoch_ms) else { return String::new() };
    let at = |t: Option<f64>| t.map_or_else(|| "?".to_string(), |t| format!("{:.0}", origin + t));
    format!(
        " (navigation {:.0}, HTML {}, script {}, mounted {}, painted {} ms)",
        origin,
        at(m.html_ms),
        at(m.script_ms),
        at(m.mounted_ms),
        at(m.painted_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::{page_steps, PageMarks};

    #[test]
    fn page_marks_are_placed_on_the_launch_clock() {
        let marks = PageMarks {
            origin_epoch_ms: Some(1_000_250.0),
            html_ms: Some(12.4),
            script_ms: Some(20.0),
            mounted_ms: None,
            painted_ms: Some(100.0),
        };
        assert_eq!(
            page_steps(&marks, 1_000_000.0),
            " (navigation 250, HTML 262, script 270, mounted ?, painted 350 ms)"
        );
        let none =
            PageMarks { origin_epoch_ms: None, html_ms: None, script_ms: None, mounted_ms: None, painted_ms: None };
        assert_eq!(page_steps(&none, 0.0), "");
    }
}

/// What the app did recently, newest first.
#[tauri::command]
#[specta::specta]
pub async fn recent_events(ctx: Ctx, limit: u32) -> Result<Vec<AppEvent>, IpcError> {
    Ok(ctx.store()?.recent_events(None, limit).map_err(hsof_core::Error::from)?)
}
