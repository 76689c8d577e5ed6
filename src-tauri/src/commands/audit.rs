use crate::active::Ctx;
use hsof_core::{AuditEntry, AuditVerification, IpcError};

/// Newest audit rows first.
#[tauri::command]
#[specta::specta]
pub async fn audit_list(ctx: Ctx, limit: u32) -> Result<Vec<AuditEntry>, IpcError> {
    Ok(ctx.audit_list(limit)?)
}

/// Walks the audit hash chain.
#[tauri::command]
#[specta::specta]
pub async fn audit_verify(ctx: Ctx) -> Result<AuditVerification, IpcError> {
    Ok(ctx.audit_verify()?)
}
