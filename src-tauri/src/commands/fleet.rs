//! Several clusters: the list and the switcher, the fleet rows, two clusters compared.

use chrono::Utc;
use hsof_core::config::ClusterRef;
use hsof_core::fleet::{FleetDiff, FleetView};
use hsof_core::IpcError;
use serde::Serialize;
use tauri::State;

use crate::active::{Active, Ctx};

/// The clusters the configuration names and the one the window shows.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ClustersView {
    /// In file order.
    pub clusters: Vec<ClusterRef>,
    /// The window's cluster.
    pub current: String,
}

/// The clusters and the current one (the header's switcher).
#[tauri::command]
#[specta::specta]
pub fn clusters_list(ctx: Ctx) -> ClustersView {
    ClustersView { clusters: ctx.clusters(), current: ctx.current_cluster().name.clone() }
}

/// Shows cluster `name` in the window (every screen, the poller, the tray); the page
/// reloads after, so no screen holds the previous cluster's data.
#[tauri::command]
#[specta::specta]
pub async fn cluster_switch(active: State<'_, Active>, name: String) -> Result<ClustersView, IpcError> {
    let _switching = active.lock_switch().await;
    let previous = active.get();
    let next = previous.on_cluster(&name)?;
    next.record_event(Utc::now(), "cluster.switched", &format!("the window shows cluster {name}"));
    active.replace(next);
    // The cluster no longer shown keeps no watches running.
    if previous.current_cluster().name != name {
        previous.stop_live();
    }
    let ctx = active.get();
    Ok(ClustersView { clusters: ctx.clusters(), current: ctx.current_cluster().name.clone() })
}

/// Every cluster at once.
#[tauri::command]
#[specta::specta]
pub async fn fleet_view(ctx: Ctx) -> Result<FleetView, IpcError> {
    Ok(ctx.fleet(Utc::now()).await?)
}

/// Two clusters compared.
#[tauri::command]
#[specta::specta]
pub async fn fleet_diff(ctx: Ctx, a: String, b: String) -> Result<FleetDiff, IpcError> {
    Ok(ctx.fleet_diff(&a, &b, Utc::now()).await?)
}

/// DR drills, newest first (`pending`: only those that left their DR cluster changed).
#[tauri::command]
#[specta::specta]
pub fn dr_drills(ctx: Ctx, pending: bool) -> Result<Vec<hsof_fleet::drill::DrillRecord>, IpcError> {
    Ok(ctx.dr_drills(pending, 20)?)
}

/// One drill, as far as it has got.
#[tauri::command]
#[specta::specta]
pub fn dr_drill_get(ctx: Ctx, id: f64) -> Result<hsof_fleet::drill::DrillRecord, IpcError> {
    Ok(ctx.dr_drill_get(id as i64)?)
}

/// Starts a DR drill to `dr` (none: the first cluster with role `dr`) in the background and
/// answers with its id once it is recorded; the screen follows it with `dr_drill_get`.
#[tauri::command]
#[specta::specta]
pub async fn dr_drill_start(ctx: Ctx, dr: Option<String>) -> Result<f64, IpcError> {
    // Refusals (no DR cluster, a drill left half-done) answer at once.
    ctx.dr_pair(dr.as_deref())?;
    let (tx, rx) = tokio::sync::oneshot::channel::<i64>();
    let run = ctx.0.clone();
    let done = tauri::async_runtime::spawn(async move {
        let result = run
            .dr_drill(dr.as_deref(), &hsof_core::os_user(), move |id| {
                let _ = tx.send(id);
            })
            .await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "DR drill did not run");
        }
        result
    });
    match rx.await {
        Ok(id) => Ok(id as f64),
        // It ended before it was recorded: its error says why.
        Err(_) => match done.await {
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(r)) => Ok(r.id as f64),
            Err(e) => Err(hsof_core::Error::Unavailable(format!("the DR drill stopped: {e}")).into()),
        },
    }
}

/// Puts a half-done drill's DR cluster back as it was before (audited).
#[tauri::command]
#[specta::specta]
pub async fn dr_rollback(ctx: Ctx, id: f64, force: bool) -> Result<hsof_fleet::drill::DrillRecord, IpcError> {
    Ok(ctx.dr_rollback(id as i64, &hsof_core::os_user(), force).await?)
}
