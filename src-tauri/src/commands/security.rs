//! The Security screen: run the weekly review (and the monthly audit check), past reviews,
//! the sign-off.

use chrono::Utc;
use hsof_core::security::ReviewRecord;
use hsof_core::IpcError;

use crate::active::Ctx;

/// Reviews of the window's cluster, newest first.
#[tauri::command]
#[specta::specta]
pub fn security_reviews(ctx: Ctx) -> Result<Vec<ReviewRecord>, IpcError> {
    Ok(ctx.security_reviews(30)?)
}

/// One review.
#[tauri::command]
#[specta::specta]
pub fn security_review_get(ctx: Ctx, id: f64) -> Result<ReviewRecord, IpcError> {
    Ok(ctx.security_review_get(id as i64)?)
}

/// Runs a review now (with the audit-completeness check when `audit`), compared with
/// review `since` or the last one.
#[tauri::command]
#[specta::specta]
pub async fn security_review_run(ctx: Ctx, audit: bool, since: Option<f64>) -> Result<ReviewRecord, IpcError> {
    Ok(ctx.security_review(&hsof_core::os_user(), since.map(|s| s as i64), audit, Utc::now()).await?)
}

/// Signs a review off as this user.
#[tauri::command]
#[specta::specta]
pub fn security_review_sign_off(ctx: Ctx, id: f64) -> Result<ReviewRecord, IpcError> {
    Ok(ctx.security_review_sign_off(id as i64, &hsof_core::os_user(), Utc::now())?)
}
