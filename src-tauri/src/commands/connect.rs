use chrono::Utc;
use hsof_cluster::{Probe, SourceRole};
use hsof_core::cluster::{ConnectChoice, ConnectReport};
use hsof_core::config::LoadedConfig;
use hsof_core::{os_user, IpcError};
use serde::Serialize;
use tauri::State;

use crate::active::{Active, Ctx};

/// Whether onboarding is needed: what is configured for each source and whether it answers,
/// and the kubeconfig's contexts to pick from.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ConnectStatus {
    /// True when no configured source answers: onboarding is shown.
    pub needed: bool,
    /// Per source: the configured value's probe.
    pub sources: Vec<ConfiguredSource>,
    /// Contexts in the kubeconfig.
    pub contexts: Vec<String>,
    /// `cluster.context`, else the kubeconfig's current context.
    pub current_context: Option<String>,
    /// The demo, offered when nothing answers, no context exists and `ui.demo_offer` is on.
    pub demo: Option<super::demo::DemoOffer>,
}

/// One source as configured.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ConfiguredSource {
    /// Which.
    pub role: SourceRole,
    /// The configured value.
    pub configured: String,
    /// Whether it answered.
    pub probe: Probe,
}

/// Probes what is configured (HSOF health, Prometheus, AlertManager) and lists the contexts.
#[tauri::command]
#[specta::specta]
pub async fn connect_status(ctx: Ctx, active: State<'_, Active>) -> Result<ConnectStatus, IpcError> {
    let cfg = ctx.config().config;
    let probes = ctx.probe_configured().await;
    let (contexts, current) = ctx.connect_contexts();
    let needed = probes.iter().all(|(_, _, p)| !p.ok);
    Ok(ConnectStatus {
        needed,
        demo: super::demo::offer(needed, &contexts, cfg.ui.demo_offer, active.demo().is_some()),
        sources: probes
            .into_iter()
            .map(|(role, configured, probe)| ConfiguredSource { role, configured, probe })
            .collect(),
        contexts,
        current_context: Some(cfg.cluster.context.clone()).filter(|c| !c.is_empty()).or(current),
    })
}

/// Discovers HSOF, Prometheus and AlertManager in `context` and probes each through the
/// API server's service proxy.
#[tauri::command]
#[specta::specta]
pub async fn connect_discover(ctx: Ctx, context: String) -> Result<ConnectReport, IpcError> {
    Ok(ctx.discover_sources(Some(&context), Utc::now()).await?)
}

/// Saves the chosen context and services to the configuration (audited).
#[tauri::command]
#[specta::specta]
pub fn connect_save(ctx: Ctx, choice: ConnectChoice) -> Result<LoadedConfig, IpcError> {
    Ok(ctx.save_connection(&choice, &os_user(), Utc::now())?)
}
