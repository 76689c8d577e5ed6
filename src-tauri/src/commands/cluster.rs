use crate::active::Ctx;
use chrono::Utc;
use hsof_cluster::{ChangeOutcome, DeploymentRow, NodeRow, PodRow, Revision};
use hsof_core::cluster::{ChangeRequest, ClusterView};
use hsof_core::{os_user, Error, IpcError};
use serde::Serialize;

/// Sent (at most every 300 ms) when the live watches see a change.
#[derive(Debug, Clone, Serialize, serde::Deserialize, specta::Type, tauri_specta::Event)]
pub struct ClusterChanged {
    /// The watches' generation counter.
    pub generation: f64,
}

/// Pods, deployments, nodes and events from the live watches (started on first use and
/// kept running; their changes arrive as `ClusterChanged` events). With `pods_since` (the
/// last view's `pods_seq`) only the pods changed since come back, for an incremental redraw.
#[tauri::command]
#[specta::specta]
pub async fn cluster_view(app: tauri::AppHandle, ctx: Ctx, pods_since: Option<f64>) -> Result<ClusterView, IpcError> {
    let since = pods_since.filter(|s| s.is_finite() && *s >= 0.0).map(|s| s as u64);
    let (view, started) = ctx.cluster_view(std::time::Duration::from_secs(5), Utc::now(), since).await?;
    if let Some(mut rx) = started {
        tauri::async_runtime::spawn(async move {
            use tauri_specta::Event;
            while rx.changed().await.is_ok() {
                // Coalesce bursts (a rollout touches many pods) into one redraw.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let generation = *rx.borrow_and_update() as f64;
                if (ClusterChanged { generation }).emit(&app).is_err() {
                    return;
                }
            }
        });
    }
    Ok(view)
}

/// `df -h` in a running pod of the main deployment, parsed.
#[tauri::command]
#[specta::specta]
pub async fn cluster_df(ctx: Ctx) -> Result<hsof_cluster::DfReport, IpcError> {
    let deployment = ctx.config().config.cluster.deployment;
    Ok(ctx.cluster().await?.df(&deployment).await.map_err(Error::from)?)
}

/// Follows a pod's log (starting with its last `tail` lines) until `cancel_operation(id)`
/// or the pod is gone; lines and reconnects arrive through `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn cluster_follow_logs(
    ctx: Ctx,
    id: String,
    pod: String,
    tail: u32,
    on_event: tauri::ipc::Channel<hsof_cluster::FollowEvent>,
) -> Result<(), IpcError> {
    let op = ctx.begin_operation(&id)?;
    let cluster = ctx.cluster().await?;
    let token = op.token.clone();
    cluster
        .follow_logs(&pod, None, i64::from(tail), &op.token, |ev| {
            // A closed webview (reload, window gone) ends the follow.
            if on_event.send(ev).is_err() {
                token.cancel();
            }
        })
        .await
        .map_err(Error::from)?;
    Ok(())
}

/// Cancels a running operation (a log follow); false when none runs with that id.
#[tauri::command]
#[specta::specta]
pub fn cancel_operation(ctx: Ctx, id: String) -> bool {
    ctx.cancel_operation(&id)
}

/// Pods in the namespace.
#[tauri::command]
#[specta::specta]
pub async fn cluster_pods(ctx: Ctx) -> Result<Vec<PodRow>, IpcError> {
    Ok(ctx.cluster().await?.pods().await.map_err(Error::from)?)
}

/// Deployments in the namespace.
#[tauri::command]
#[specta::specta]
pub async fn cluster_deployments(ctx: Ctx) -> Result<Vec<DeploymentRow>, IpcError> {
    Ok(ctx.cluster().await?.deployments().await.map_err(Error::from)?)
}

/// Nodes with GPU capacity.
#[tauri::command]
#[specta::specta]
pub async fn cluster_nodes(ctx: Ctx) -> Result<Vec<NodeRow>, IpcError> {
    Ok(ctx.cluster().await?.nodes().await.map_err(Error::from)?)
}

/// Rollout history of the configured deployment.
#[tauri::command]
#[specta::specta]
pub async fn cluster_history(ctx: Ctx) -> Result<Vec<Revision>, IpcError> {
    let deployment = ctx.config().config.cluster.deployment;
    Ok(ctx.cluster().await?.history(&deployment).await.map_err(Error::from)?)
}

/// The last `tail` lines of a pod's log (`kubectl logs --tail`).
#[tauri::command]
#[specta::specta]
pub async fn cluster_logs(ctx: Ctx, pod: String, tail: u32) -> Result<String, IpcError> {
    Ok(ctx.cluster().await?.logs(&pod, i64::from(tail)).await.map_err(Error::from)?)
}

/// `kubectl top pods` and `kubectl top nodes` (metrics-server).
#[derive(Debug, Serialize, specta::Type)]
pub struct Top {
    /// Pods' usage.
    pub pods: Vec<hsof_cluster::TopRow>,
    /// Nodes' usage with shares of allocatable.
    pub nodes: Vec<hsof_cluster::TopRow>,
}

/// Usage of pods and nodes.
#[tauri::command]
#[specta::specta]
pub async fn cluster_top(ctx: Ctx) -> Result<Top, IpcError> {
    let c = ctx.cluster().await?;
    let (pods, nodes) = futures_util::future::join(c.top_pods(), c.top_nodes()).await;
    Ok(Top { pods: pods.map_err(Error::from)?, nodes: nodes.map_err(Error::from)? })
}

/// The HSOF ConfigMap's data (`cluster.configmap`).
#[tauri::command]
#[specta::specta]
pub async fn cluster_configmap(ctx: Ctx) -> Result<std::collections::BTreeMap<String, String>, IpcError> {
    let name = ctx.config().config.cluster.configmap;
    Ok(ctx.cluster().await?.configmap(&name).await.map_err(Error::from)?)
}

/// Whether each change is allowed now, and why not.
#[derive(Debug, Serialize, specta::Type)]
pub struct Permission {
    /// `restart`, `scale`, `undo`.
    pub action: String,
    /// Allowed.
    pub allowed: bool,
    /// Why not (read-only mode, RBAC).
    pub reason: Option<String>,
}

/// Asks the API (SelfSubjectAccessReview) whether each change may be made.
#[tauri::command]
#[specta::specta]
pub async fn change_permissions(ctx: Ctx) -> Result<Vec<Permission>, IpcError> {
    let cluster = ctx.cluster().await?;
    let mut out = Vec::new();
    for (action, req) in [
        ("restart", ChangeRequest::Restart),
        ("scale", ChangeRequest::Scale { replicas: 1 }),
        ("undo", ChangeRequest::Undo { to_revision: None }),
        ("config", ChangeRequest::PatchConfig { set: Default::default() }),
        ("jobs", ChangeRequest::RunJob { job: hsof_core::cluster::RunbookJob::VulnerabilityScan }),
    ] {
        let r = ctx.change_allowed(&cluster, &req).await;
        out.push(Permission { action: action.into(), allowed: r.is_ok(), reason: r.err().map(|e| e.to_string()) });
    }
    Ok(out)
}

/// Follows the main deployment's rollout (kubectl rollout status) for up to 5 minutes,
/// sending each new state through `on_progress`; returns the final one.
#[tauri::command]
#[specta::specta]
pub async fn follow_rollout(
    ctx: Ctx,
    on_progress: tauri::ipc::Channel<hsof_cluster::RolloutStatus>,
) -> Result<hsof_cluster::RolloutStatus, IpcError> {
    let deployment = ctx.config().config.cluster.deployment;
    let c = ctx.cluster().await?;
    let s = c
        .rollout_status(&deployment, std::time::Duration::from_secs(300), std::time::Duration::from_secs(2), |s| {
            let _ = on_progress.send(s.clone());
        })
        .await
        .map_err(Error::from)?;
    Ok(s)
}

/// Waits for Job `name` to finish (up to 30 minutes) and returns its state and log.
#[tauri::command]
#[specta::specta]
pub async fn follow_job(ctx: Ctx, name: String) -> Result<hsof_cluster::JobOutcome, IpcError> {
    Ok(ctx.follow_runbook_job(None, &name, std::time::Duration::from_secs(1800), Utc::now).await?)
}

/// Previews a change with a server-side dry run; nothing changes.
#[tauri::command]
#[specta::specta]
pub async fn change_preview(ctx: Ctx, request: ChangeRequest) -> Result<ChangeOutcome, IpcError> {
    Ok(ctx.change(&request, true, &os_user(), Utc::now()).await?)
}

/// Makes a change (dry run first), audited.
#[tauri::command]
#[specta::specta]
pub async fn change_apply(ctx: Ctx, request: ChangeRequest) -> Result<ChangeOutcome, IpcError> {
    Ok(ctx.change(&request, false, &os_user(), Utc::now()).await?)
}
