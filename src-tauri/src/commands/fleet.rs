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
    let next = active.get().on_cluster(&name)?;
    next.record_event(Utc::now(), "cluster.switched", &format!("the window shows cluster {name}"));
    active.replace(next);
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
