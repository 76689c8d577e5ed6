//! The operations calendar: occurrences for a range, checklists, automated steps,
//! completion, maintenance windows, quality gates and the .ics export.

use crate::active::Ctx;
use chrono::Utc;
use hsof_core::calendar::{CalendarView, GatesView, MaintenanceView, NewWindow, OccurrenceDetail};
use hsof_core::time::parse_time as parse;
use hsof_core::{os_user, IpcError};

/// Occurrences starting in `[from, to)` with their status, and maintenance windows.
#[tauri::command]
#[specta::specta]
pub fn calendar_range(ctx: Ctx, from: String, to: String) -> Result<CalendarView, IpcError> {
    Ok(ctx.calendar(parse(&from, "from")?, parse(&to, "to")?, Utc::now())?)
}

/// An occurrence's checklist.
#[tauri::command]
#[specta::specta]
pub fn occurrence_get(ctx: Ctx, key: String) -> Result<OccurrenceDetail, IpcError> {
    Ok(ctx.occurrence(&key, Utc::now())?)
}

/// Runs an automated step and records its output and verdict.
#[tauri::command]
#[specta::specta]
pub async fn occurrence_run_step(ctx: Ctx, key: String, step: String) -> Result<OccurrenceDetail, IpcError> {
    Ok(ctx.run_step(&key, &step, &os_user(), Utc::now()).await?)
}

/// Ticks a step by hand, with an optional note.
#[tauri::command]
#[specta::specta]
pub fn occurrence_tick_step(ctx: Ctx, key: String, step: String, note: String) -> Result<OccurrenceDetail, IpcError> {
    Ok(ctx.tick_step(&key, &step, &note, &os_user(), Utc::now())?)
}

/// Completes an occurrence (steps without a result make it partial).
#[tauri::command]
#[specta::specta]
pub fn occurrence_complete(ctx: Ctx, key: String, note: String) -> Result<OccurrenceDetail, IpcError> {
    Ok(ctx.complete_occurrence(&key, &note, &os_user(), Utc::now())?)
}

/// Skips an occurrence; the reason is required.
#[tauri::command]
#[specta::specta]
pub fn occurrence_skip(ctx: Ctx, key: String, reason: String) -> Result<OccurrenceDetail, IpcError> {
    Ok(ctx.skip_occurrence(&key, &reason, &os_user(), Utc::now())?)
}

/// Schedules a maintenance window; returns it with warnings (short notice, no silence).
#[tauri::command]
#[specta::specta]
pub async fn maintenance_schedule(ctx: Ctx, window: NewWindow) -> Result<(MaintenanceView, Vec<String>), IpcError> {
    Ok(ctx.schedule_window(&window, &os_user(), Utc::now()).await?)
}

/// Cancels a maintenance window (and expires its silence).
#[tauri::command]
#[specta::specta]
pub async fn maintenance_cancel(ctx: Ctx, id: f64) -> Result<(), IpcError> {
    Ok(ctx.cancel_window(id as i64, &os_user(), Utc::now()).await?)
}

/// The quality gates evaluated from live data.
#[tauri::command]
#[specta::specta]
pub async fn quality_gates(ctx: Ctx) -> Result<GatesView, IpcError> {
    Ok(ctx.gates(Utc::now()).await?)
}

/// Writes the .ics of procedures and maintenance windows to `path`.
#[tauri::command]
#[specta::specta]
pub fn calendar_export_ics(ctx: Ctx, path: String) -> Result<String, IpcError> {
    let ics = ctx.calendar_ics(chrono::Utc::now())?;
    hsof_core::calendar::write_atomically(std::path::Path::new(&path), &ics)?;
    Ok(path)
}

/// Occurrences overdue now (the sidebar badge).
#[tauri::command]
#[specta::specta]
pub fn calendar_overdue(ctx: Ctx) -> Result<u32, IpcError> {
    Ok(ctx.overdue_count(Utc::now())?)
}

/// Saved reports, newest first.
#[tauri::command]
#[specta::specta]
pub fn reports_list(ctx: Ctx) -> Result<Vec<hsof_core::reports::Report>, IpcError> {
    Ok(ctx.reports()?)
}

/// Generates the weekly summary or the monthly review now and saves it.
#[tauri::command]
#[specta::specta]
pub async fn report_generate(
    ctx: Ctx,
    kind: hsof_core::reports::ReportKind,
) -> Result<hsof_core::reports::Report, IpcError> {
    Ok(ctx.generate_report(kind, Utc::now()).await?)
}
