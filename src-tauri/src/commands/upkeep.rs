//! The Maintenance screen: versions, removed APIs, images and their fixable
//! vulnerabilities; leftovers and their cleanup (a dry run first, then on confirmation).

use chrono::Utc;
use hsof_core::upkeep::{CleanupView, UpdatesView};
use hsof_core::IpcError;

use crate::active::Ctx;

/// Versions, removed APIs, images and fixable vulnerabilities of the window's cluster.
#[tauri::command]
#[specta::specta]
pub async fn updates_view(ctx: Ctx) -> Result<UpdatesView, IpcError> {
    Ok(ctx.updates(Utc::now()).await?)
}

/// The leftovers and a server-side dry run of deleting them (`only`: those named, else all).
#[tauri::command]
#[specta::specta]
pub async fn cleanup_preview(ctx: Ctx, only: Vec<String>) -> Result<CleanupView, IpcError> {
    Ok(ctx.cleanup(&only, true, &hsof_core::os_user(), Utc::now()).await?)
}

/// Deletes the leftovers named in `only` (each audited; a refusal is named and the rest go on).
#[tauri::command]
#[specta::specta]
pub async fn cleanup_apply(ctx: Ctx, only: Vec<String>) -> Result<CleanupView, IpcError> {
    if only.is_empty() {
        return Err(
            hsof_core::Error::InvalidInput("name the leftovers to delete: the preview lists them".into()).into()
        );
    }
    Ok(ctx.cleanup(&only, false, &hsof_core::os_user(), Utc::now()).await?)
}
