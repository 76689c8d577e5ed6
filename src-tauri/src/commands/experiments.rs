//! Feature-selection experiments: preview a file, run (progress through a channel,
//! cancellable by id with `cancel_operation`), and the history of runs.

use crate::active::Ctx;
use chrono::Utc;
use hsof_core::experiments::{DatasetPreview, Experiment, ExperimentRequest, ExperimentSummary, Progress};
use hsof_core::IpcError;

/// The columns of a CSV or Parquet file (first rows), its size and age.
#[tauri::command]
#[specta::specta]
pub async fn experiment_preview(path: String) -> Result<DatasetPreview, IpcError> {
    Ok(hsof_core::experiments::preview(&path, Utc::now()).await?)
}

/// Runs an experiment off the UI thread; progress per stage arrives through `on_progress`,
/// and `cancel_operation(id)` stops it (recorded as cancelled, no report file).
#[tauri::command]
#[specta::specta]
pub async fn experiment_run(
    ctx: Ctx,
    id: String,
    request: ExperimentRequest,
    on_progress: tauri::ipc::Channel<Progress>,
) -> Result<Experiment, IpcError> {
    let op = ctx.begin_operation(&id)?;
    Ok(ctx
        .run_experiment(
            request,
            move |p| {
                // A closed webview only loses the progress; the run and its record go on.
                let _ = on_progress.send(p);
            },
            &op.token,
            Utc::now,
        )
        .await?)
}

/// Follows a cluster run still running (its Job) to its end, as `experiment_run` does;
/// `cancel_operation(id)` cancels it (deletes the Job).
#[tauri::command]
#[specta::specta]
pub async fn experiment_attach(
    ctx: Ctx,
    id: String,
    experiment: f64,
    on_progress: tauri::ipc::Channel<Progress>,
) -> Result<Experiment, IpcError> {
    let op = ctx.begin_operation(&id)?;
    Ok(ctx
        .experiment_attach(
            experiment as i64,
            move |p| {
                let _ = on_progress.send(p);
            },
            &op.token,
            Utc::now,
        )
        .await?)
}

/// Past runs, newest first.
#[tauri::command]
#[specta::specta]
pub fn experiments_list(ctx: Ctx, limit: u32) -> Result<Vec<ExperimentSummary>, IpcError> {
    Ok(ctx.experiments_list(limit)?)
}

/// One past run with its request and report.
#[tauri::command]
#[specta::specta]
pub fn experiment_get(ctx: Ctx, id: f64) -> Result<Experiment, IpcError> {
    Ok(ctx.experiment_get(id as i64)?)
}
