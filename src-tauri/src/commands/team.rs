use crate::active::Ctx;
use hsof_core::IpcError;

/// Whether the team store (ops.hsof.io custom resources) is installed, of this app's
/// version, and readable and writable for this identity; with the one line to show.
#[tauri::command]
#[specta::specta]
pub async fn team_status(ctx: Ctx) -> Result<hsof_team::TeamStatus, IpcError> {
    Ok(ctx.team_status().await?)
}

/// The team store as this desktop sees it (no cluster call): sharing on, writes waiting,
/// the cache's age, the upload offer, records that cannot be read.
#[tauri::command]
#[specta::specta]
pub fn team_overview(ctx: Ctx) -> Result<hsof_core::team::TeamOverview, IpcError> {
    Ok(ctx.team_overview()?)
}

/// Sends the waiting writes and reads the shared incidents now.
#[tauri::command]
#[specta::specta]
pub async fn team_sync_now(ctx: Ctx) -> Result<hsof_core::team::TeamSync, IpcError> {
    ctx.team_connect_if_due(chrono::Utc::now()).await;
    Ok(ctx.team_sync(chrono::Utc::now()).await?)
}

/// Answers the offer to share the incidents kept here before the team store: `accept`
/// queues them (sent by the next sync); either way it is not offered again.
#[tauri::command]
#[specta::specta]
pub fn team_upload(ctx: Ctx, accept: bool) -> Result<u32, IpcError> {
    Ok(ctx.team_upload(accept)? as u32)
}
