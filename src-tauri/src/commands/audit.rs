use hsof_core::{AppContext, AuditEntry, AuditVerification, IpcError};
use tauri::State;

/// Newest audit rows first.
#[tauri::command]
#[specta::specta]
pub async fn audit_list(ctx: State<'_, AppContext>, limit: u32) -> Result<Vec<AuditEntry>, IpcError> {
    Ok(ctx.audit_list(limit)?)
}

/// Walks the audit hash chain.
#[tauri::command]
#[specta::specta]
pub async fn audit_verify(ctx: State<'_, AppContext>) -> Result<AuditVerification, IpcError> {
    Ok(ctx.audit_verify()?)
}
