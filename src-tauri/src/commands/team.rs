use hsof_core::{AppContext, IpcError};
use tauri::State;

/// Whether the team store (ops.hsof.io custom resources) is installed, of this app's
/// version, and readable and writable for this identity; with the one line to show.
#[tauri::command]
#[specta::specta]
pub async fn team_status(ctx: State<'_, AppContext>) -> Result<hsof_team::TeamStatus, IpcError> {
    Ok(ctx.team_status().await?)
}
