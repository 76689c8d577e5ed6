//! Background polling: every `endpoints.poll_interval_secs`, the morning check runs (health,
//! key metrics, alerts, pods: read and stored, and kept for Overview), thresholds evaluated, desktop notifications shown (once per
//! activation, none while snoozed), the tray icon coloured by the worst state, and a
//! `MonitorTick` event sent to the UI.

use std::time::Duration;

use chrono::Utc;
use hsof_core::AppContext;

use crate::active::Active;
use hsof_monitor::Level;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

/// Sent to the UI after each poll.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct MonitorTick {
    /// When the poll finished (RFC 3339).
    pub at: String,
    /// Worst of health and active thresholds.
    pub worst: Level,
    /// Titles of the active threshold rules.
    pub active: Vec<String>,
    /// With several clusters: the other clusters that need a look (`dr-us: warning`), from
    /// the last fleet read; `worst` includes them.
    pub fleet: Vec<String>,
}

/// How often the poller reads every cluster when the configuration names several.
const FLEET_EVERY: Duration = Duration::from_secs(60);

/// The other clusters' states for the tray and the header pill: read at most every
/// [`FLEET_EVERY`], kept in between.
#[derive(Default, Clone)]
struct FleetPass {
    at: Option<std::time::Instant>,
    generation: u64,
    worst: Option<Level>,
    attention: Vec<String>,
}

impl FleetPass {
    async fn refresh(&mut self, ctx: &AppContext, generation: u64) {
        if ctx.clusters().len() < 2 {
            *self = Self::default();
            return;
        }
        let due = self.generation != generation || self.at.is_none_or(|t| t.elapsed() >= FLEET_EVERY);
        if !due {
            return;
        }
        match ctx.fleet(Utc::now()).await {
            Ok(view) => {
                self.worst = Some(match view.worst {
                    hsof_fleet::RowLevel::Ok => Level::Healthy,
                    hsof_fleet::RowLevel::Unknown => Level::Unknown,
                    hsof_fleet::RowLevel::Warning => Level::Warning,
                    hsof_fleet::RowLevel::Critical => Level::Critical,
                });
                self.attention = view
                    .rows
                    .iter()
                    .filter(|r| r.level != hsof_fleet::RowLevel::Ok && r.name != view.current)
                    .map(|r| format!("{}: {:?}", r.name, r.level).to_lowercase())
                    .collect();
            }
            Err(e) => tracing::warn!(error = %e, "fleet not read"),
        }
        self.at = Some(std::time::Instant::now());
        self.generation = generation;
    }
}

/// Sent when the incident clock fired reminders or Slack posts changed state.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct IncidentTick {
    /// When (RFC 3339).
    pub at: String,
}

/// The incident clock: every 5 s, reminders and escalations that came due (each shown
/// once as a desktop notification) and the Slack outbox.
fn start_incident_clock(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        // Changes a killed process applied without recording their outcome are checked
        // against the cluster once it answers.
        // (Once per profile shown: the demo's store has intents of its own.)
        let mut reconciled: Option<u64> = None;
        loop {
            let active = app.state::<Active>();
            let generation = active.generation();
            let ctx = active.get();
            if ctx.store().is_ok() {
                let now = Utc::now();
                let mut changed = false;
                if reconciled != Some(generation) {
                    match ctx.reconcile_changes(now).await {
                        Ok(n) => {
                            reconciled = Some(generation);
                            if n > 0 {
                                tracing::info!(settled = n, "change intents checked against the cluster at start");
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "change intents not checked yet"),
                    }
                }
                match ctx.incidents_tick(now) {
                    Ok(reminders) => {
                        for r in &reminders {
                            changed = true;
                            let shown = app.notification().builder().title(&r.title).body(&r.body).show();
                            if let Err(e) = shown {
                                tracing::warn!(error = %e, incident = r.incident_id, "desktop notification failed");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "incident clock failed"),
                }
                match ctx.calendar_tick(now) {
                    Ok(notices) => {
                        for n in &notices {
                            changed = true;
                            if let Err(e) = app.notification().builder().title(&n.title).body(&n.body).show() {
                                tracing::warn!(error = %e, "desktop notification failed");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "calendar clock failed"),
                }
                match ctx.flush_slack(now).await {
                    Ok((posted, failed)) => changed |= posted + failed > 0,
                    Err(e) => tracing::warn!(error = %e, "Slack outbox flush failed"),
                }
                if changed {
                    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    if let Err(e) = (IncidentTick { at }).emit(&app) {
                        tracing::warn!(error = %e, "could not send the incident tick");
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
}

/// The GPU sampler: every 2 s while an NVIDIA GPU is present, a sample per device into the
/// store, the runbook's GPU thresholds with a desktop notification once per breach (and once
/// when it ends), and a `GpuSampled` event for the GPU screen. Without a GPU it only looks
/// again every minute (a driver may be installed or loaded meanwhile).
fn start_gpu_sampler(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            let handle = app.clone();
            // NVML calls block for a few milliseconds: keep them off the async workers.
            let tick = tauri::async_runtime::spawn_blocking(move || Active::of(&handle).gpu_sample(Utc::now())).await;
            let present = match tick {
                Ok(Ok(t)) => {
                    for n in &t.notify {
                        let shown =
                            app.notification().builder().title(format!("HSOF: {}", n.title)).body(&n.body).show();
                        if let Err(e) = shown {
                            tracing::warn!(error = %e, "desktop notification failed");
                        }
                    }
                    let present = !t.view.reading.devices().is_empty();
                    if present {
                        if let Err(e) = (crate::commands::gpu::GpuSampled { view: t.view }).emit(&app) {
                            tracing::warn!(error = %e, "could not send the GPU sample");
                        }
                    }
                    present
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "GPU sampling failed");
                    false
                }
                Err(e) => {
                    tracing::warn!(error = %e, "GPU sampler task failed");
                    false
                }
            };
            let wait = if present { hsof_core::gpu::SAMPLE_INTERVAL_SECS } else { 60 };
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    });
}

fn notify(app: &AppHandle, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "desktop notification failed");
    }
}

pub(crate) fn incident_tick(app: &AppHandle) {
    let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Err(e) = (IncidentTick { at }).emit(app) {
        tracing::warn!(error = %e, "could not send the incident tick");
    }
}

/// The team store: every 5 s this desktop's waiting writes go to the cluster (in order)
/// and the shared incidents are read back; a teammate's declaration and the reminders
/// this app claimed are shown as desktop notifications. Beside it, the watch mirrors a
/// teammate's change as it happens (the screens hear an `IncidentTick`).
fn start_team_sync(app: AppHandle) {
    let watcher = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            // Subscribed before the context is read: a switch in between ends the watch at once.
            let mut switched = watcher.state::<Active>().changes();
            switched.mark_unchanged();
            let ctx = Active::of(&watcher);
            if ctx.store().is_ok_and(|s| s.team_enabled().unwrap_or(false)) {
                let handle = watcher.clone();
                // The watch mirrors into this profile's store; a switch of profile ends it.
                let watch = ctx.team_watch(move |change| {
                    if let Some(n) = &change.notice {
                        notify(&handle, &n.title, &n.body);
                    }
                    incident_tick(&handle);
                });
                tokio::select! {
                    result = watch => if let Err(e) = result {
                        tracing::debug!(error = %e, "team store watch not running");
                    },
                    _ = switched.changed() => tracing::debug!("team store watch ended: the window switched profile"),
                }
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });
    tauri::async_runtime::spawn(async move {
        loop {
            let ctx = Active::of(&app);
            if ctx.store().is_ok() {
                let now = Utc::now();
                if ctx.team_connect_if_due(now).await {
                    // Sharing just turned on: the Incidents screen says so without a reload.
                    incident_tick(&app);
                }
                match ctx.team_sync(now).await {
                    Ok(r) => {
                        for n in r.notices.iter().chain(&r.reminders) {
                            notify(&app, &n.title, &n.body);
                        }
                        if r.sent + r.changed > 0 {
                            incident_tick(&app);
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "team store sync waits for the cluster"),
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
}

/// Starts the loops; they run until the app exits.
/// Cluster runs the history shows as running (their Jobs ran on while the app was closed)
/// are followed again in the background to their end, with a desktop notification then;
/// the Experiments screen, when opened, follows them with their progress too.
fn start_cluster_runs(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let ctx = Active::of(&app);
        let ids = match ctx.cluster_runs_running() {
            Ok(ids) => ids,
            Err(e) => {
                tracing::debug!(error = %e, "running cluster experiments not read");
                return;
            }
        };
        for id in ids {
            let app = app.clone();
            let ctx = ctx.clone();
            tauri::async_runtime::spawn(async move {
                let Ok(op) = ctx.begin_operation(&format!("experiment-follow-{id}")) else { return };
                let (title, body) = match ctx.experiment_attach(id, |_| {}, &op.token, Utc::now).await {
                    Ok(e) => (
                        format!("Experiment #{id} finished on the cluster"),
                        format!(
                            "{} features selected",
                            e.report.map_or(0, |r| r.final_results.selected_features.len())
                        ),
                    ),
                    Err(e) => (format!("Experiment #{id} on the cluster ended"), e.to_string()),
                };
                if let Err(e) = app.notification().builder().title(&title).body(&body).show() {
                    tracing::warn!(error = %e, id, "desktop notification failed");
                }
            });
        }
    });
}

pub fn start(app: AppHandle) {
    start_cluster_runs(app.clone());
    start_incident_clock(app.clone());
    start_team_sync(app.clone());
    start_gpu_sampler(app.clone());
    // The other clusters are read on a task of their own: an unreachable one (connection
    // timeouts) never delays the current cluster's round.
    let fleet = std::sync::Arc::new(std::sync::Mutex::new(FleetPass::default()));
    {
        let (app, fleet) = (app.clone(), fleet.clone());
        tauri::async_runtime::spawn(async move {
            loop {
                let active = app.state::<Active>();
                let generation = active.generation();
                let ctx = active.get();
                let mut pass = fleet.lock().map(|f| f.clone()).unwrap_or_default();
                pass.refresh(&ctx, generation).await;
                if let Ok(mut f) = fleet.lock() {
                    *f = pass;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }
    tauri::async_runtime::spawn(async move {
        loop {
            let active = app.state::<Active>();
            let generation = active.generation();
            let ctx = active.get();
            let interval = ctx.config().config.endpoints.poll_interval_secs.max(5);
            if ctx.store().is_ok() {
                let mut tick = poll_once(&app, &ctx).await;
                // The tray and the header pill take the worst of every cluster (the last
                // fleet read of this profile and cluster).
                let pass = fleet.lock().map(|f| f.clone()).unwrap_or_default();
                if pass.generation == generation {
                    if let Some(w) = pass.worst {
                        tick.worst = tick.worst.max(w);
                    }
                    tick.fleet = pass.attention;
                }
                if app.state::<Active>().generation() != generation {
                    // The window switched profile while this round ran: its colour and
                    // tick belong to the profile no longer shown.
                    continue;
                }
                set_tray(&app, tick.worst);
                if let Err(e) = tick.emit(&app) {
                    tracing::warn!(error = %e, "could not send the monitor tick");
                }
            }
            tokio::time::sleep(Duration::from_secs(u64::from(interval))).await;
        }
    });
}

async fn poll_once(app: &AppHandle, ctx: &AppContext) -> MonitorTick {
    // One round of reads serves everything: the morning check polls health and key metrics
    // (storing their samples for the thresholds) and is kept for Overview to show.
    let health = match ctx.morning(Utc::now).await {
        Ok(m) => m.health.report.overall,
        Err(e) => {
            tracing::warn!(error = %e, "monitoring poll failed");
            Level::Unknown
        }
    };
    // The month's spend against the budget, for its threshold (recomputed hourly).
    if let Err(e) = ctx.record_budget_share(Utc::now()).await {
        tracing::info!(error = %e, "budget projection not recorded");
    }
    let (worst, active) = match ctx.evaluate_thresholds(Utc::now()) {
        Ok(t) => {
            for n in &t.notify {
                let shown = app.notification().builder().title(format!("HSOF: {}", n.title)).body(&n.body).show();
                if let Err(e) = shown {
                    tracing::warn!(error = %e, rule = n.rule_id, "desktop notification failed");
                }
            }
            (t.worst, t.states.iter().filter(|s| s.active).map(|s| s.rule.title.clone()).collect())
        }
        Err(e) => {
            tracing::warn!(error = %e, "threshold evaluation failed");
            (Level::Unknown, vec![])
        }
    };
    MonitorTick {
        at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        worst: worst.max(health),
        active,
        fleet: vec![],
    }
}

/// A 32×32 dot in the level's colour, for the tray.
fn dot(level: Level) -> tauri::image::Image<'static> {
    let (r, g, b) = match level {
        Level::Healthy => (0x3f, 0xb2, 0x7f),
        Level::Warning => (0xe8, 0xb9, 0x3f),
        Level::Critical => (0xf0, 0x62, 0x5d),
        Level::Unknown => (0x8b, 0x9a, 0xab),
    };
    let mut rgba = Vec::with_capacity(32 * 32 * 4);
    for y in 0..32 {
        for x in 0..32 {
            let (dx, dy) = (x as f32 - 15.5, y as f32 - 15.5);
            let inside = dx * dx + dy * dy <= 14.0 * 14.0;
            rgba.extend_from_slice(&[r, g, b, if inside { 255 } else { 0 }]);
        }
    }
    tauri::image::Image::new_owned(rgba, 32, 32)
}

fn set_tray(app: &AppHandle, level: Level) {
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_icon(Some(dot(level)));
        let _ = tray.set_tooltip(Some(format!("HSOF Control Center — {level:?}")));
    }
}
