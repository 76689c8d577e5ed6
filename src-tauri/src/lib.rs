//! The desktop shell: builds the [`hsof_core::AppContext`], registers the typed commands,
//! the tray icon and the window. No application logic lives here.

pub mod active;
pub mod commands;
mod login_path;
mod poller;
mod tray;
pub mod webview;

use std::time::Instant;

use chrono::Utc;
use hsof_core::{AppContext, Options};
use tauri::Manager;
use tauri_specta::{collect_commands, collect_events, Builder};

/// When the process started, for the first-paint measurement.
#[derive(Debug, Clone, Copy)]
pub struct StartedAt(pub Instant);

/// Opened by the UI's first paint (`ui_ready`): the poller waits for it, so that on a small
/// machine the window's first frame does not share the CPU with the poller's first round,
/// the cluster watches, the GPU sampler and the tray.
#[derive(Debug, Clone, Default)]
pub struct FirstPaintGate(std::sync::Arc<Gate>);

#[derive(Debug, Default)]
struct Gate {
    painted: tokio::sync::Notify,
    opened: std::sync::atomic::AtomicBool,
}

impl FirstPaintGate {
    /// The first paint happened (a permit is kept when nobody waits yet). True the first
    /// time only: a reloaded page reports again.
    pub fn open(&self) -> bool {
        let first = !self.0.opened.swap(true, std::sync::atomic::Ordering::SeqCst);
        if first {
            self.0.painted.notify_one();
        }
        first
    }

    /// Waits for the first paint, or `at_most` if the page never reports it (a page that
    /// failed to load still gets its poller, tray and notifications).
    async fn wait(&self, at_most: std::time::Duration) {
        let _ = tokio::time::timeout(at_most, self.0.painted.notified()).await;
    }
}

/// How long the background work waits for a first paint that does not come.
const BACKGROUND_AFTER_PAINT_AT_MOST: std::time::Duration = std::time::Duration::from_secs(3);

/// What runs once the window is on screen: the tray icon (GTK: on the main thread), then the
/// poller with its watches and samplers, which colours the tray from its first round.
fn start_background(app: tauri::AppHandle) {
    let on_main = app.clone();
    let queued = on_main.run_on_main_thread(move || {
        if let Err(e) = tray::install(&app) {
            // No status-notifier host (a bare X server, some desktops): the window still works.
            tracing::warn!(error = %e, "tray icon unavailable");
        }
        poller::start(app);
    });
    if let Err(e) = queued {
        // The event loop is gone (the app is closing): nothing left to poll for.
        tracing::warn!(error = %e, "background work not started");
    }
}

/// The typed command set; also used by the bindings test to regenerate
/// `ui/src/lib/ipc/bindings.ts`.
pub fn specta_builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            commands::app::doctor,
            commands::app::ui_ready,
            commands::app::recent_events,
            commands::config::get_config,
            commands::config::default_config,
            commands::config::config_key_docs,
            commands::config::validate_config,
            commands::config::save_config,
            commands::connect::connect_status,
            commands::connect::connect_discover,
            commands::connect::connect_save,
            commands::fleet::clusters_list,
            commands::fleet::cluster_switch,
            commands::fleet::fleet_view,
            commands::fleet::fleet_diff,
            commands::fleet::dr_drills,
            commands::fleet::dr_drill_get,
            commands::fleet::dr_drill_start,
            commands::fleet::dr_rollback,
            commands::security::security_reviews,
            commands::security::security_review_get,
            commands::security::security_review_run,
            commands::security::security_review_sign_off,
            commands::upkeep::updates_view,
            commands::cost::cost_view,
            commands::cost::capacity_view,
            commands::upkeep::cleanup_preview,
            commands::upkeep::cleanup_apply,
            commands::demo::demo_shown,
            commands::demo::demo_enter,
            commands::demo::demo_leave,
            commands::demo::demo_scenario,
            commands::demo::demo_dismiss,
            commands::team::team_status,
            commands::team::team_overview,
            commands::team::team_sync_now,
            commands::team::team_upload,
            commands::audit::audit_list,
            commands::audit::audit_verify,
            commands::monitoring::health_check,
            commands::monitoring::key_metrics,
            commands::monitoring::open_grafana,
            commands::monitoring::alerts,
            commands::monitoring::ack_alert,
            commands::monitoring::expire_silence,
            commands::monitoring::link_alert,
            commands::monitoring::slo_report,
            commands::monitoring::chart,
            commands::monitoring::run_check,
            commands::monitoring::morning,
            commands::monitoring::last_morning,
            commands::monitoring::thresholds,
            commands::monitoring::snooze_threshold,
            commands::config::secret_present,
            commands::config::secret_set,
            commands::calendar::calendar_range,
            commands::calendar::occurrence_get,
            commands::calendar::occurrence_run_step,
            commands::calendar::occurrence_tick_step,
            commands::calendar::occurrence_complete,
            commands::calendar::occurrence_skip,
            commands::calendar::maintenance_schedule,
            commands::calendar::maintenance_cancel,
            commands::calendar::quality_gates,
            commands::calendar::calendar_export_ics,
            commands::calendar::calendar_overdue,
            commands::calendar::reports_list,
            commands::calendar::report_generate,
            commands::incidents::incidents_list,
            commands::incidents::incident_get,
            commands::incidents::incident_from_alert,
            commands::incidents::incident_declare,
            commands::incidents::drill_scenarios,
            commands::incidents::incident_drill,
            commands::incidents::incident_ack,
            commands::incidents::incident_snapshot,
            commands::incidents::incident_update_preview,
            commands::incidents::incident_update,
            commands::incidents::incident_resolve,
            commands::incidents::incident_summary,
            commands::incidents::incident_save_summary,
            commands::incidents::incident_stats,
            commands::incidents::slack_retry,
            commands::incidents::draft_save,
            commands::incidents::draft_get,
            commands::incidents::draft_delete,
            commands::followthrough::oncall_view,
            commands::followthrough::oncall_member_add,
            commands::followthrough::oncall_member_remove,
            commands::followthrough::oncall_rotation_set,
            commands::followthrough::oncall_override_add,
            commands::followthrough::oncall_override_cancel,
            commands::followthrough::oncall_export_ics,
            commands::followthrough::followups_list,
            commands::followthrough::followup_create,
            commands::followthrough::followup_state,
            commands::followthrough::followup_assign,
            commands::followthrough::followup_due,
            commands::followthrough::incident_role,
            commands::followthrough::incident_proposed_commander,
            commands::followthrough::incident_postmortem,
            commands::followthrough::incident_postmortem_edit,
            commands::followthrough::incident_postmortem_export,
            commands::followthrough::incident_stakeholder_preview,
            commands::followthrough::incident_stakeholder_render,
            commands::followthrough::incident_stakeholder_send,
            commands::followthrough::stakeholder_retry,
            commands::cluster::cluster_view,
            commands::cluster::cluster_df,
            commands::cluster::cluster_follow_logs,
            commands::cluster::cancel_operation,
            commands::cluster::cluster_pods,
            commands::cluster::cluster_deployments,
            commands::cluster::cluster_nodes,
            commands::cluster::cluster_history,
            commands::cluster::cluster_configmap,
            commands::cluster::cluster_top,
            commands::cluster::follow_rollout,
            commands::cluster::follow_job,
            commands::cluster::cluster_logs,
            commands::cluster::change_permissions,
            commands::cluster::change_preview,
            commands::cluster::change_apply,
            commands::experiments::experiment_preview,
            commands::experiments::experiment_run,
            commands::experiments::experiment_attach,
            commands::experiments::experiments_list,
            commands::experiments::experiment_get,
            commands::gpu::gpu_status,
            commands::gpu::gpu_history,
        ])
        .events(collect_events![
            poller::MonitorTick,
            poller::IncidentTick,
            commands::cluster::ClusterChanged,
            commands::gpu::GpuSampled
        ])
}

/// The TypeScript exporter settings shared by the app and the bindings test. Integer ids
/// cross as `number` through `#[specta(type = f64)]` on the Rust side (they stay far below 2^53).
pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated from the Rust commands by tauri-specta: do not edit.\n// Regenerate with `make bindings`; a test fails when this file is stale.\n")
}

/// Opens the context and runs the app until the last window closes.
pub fn run(opts: Options, started: Instant) -> Result<(), tauri::Error> {
    let paths = hsof_core::Paths::resolve(opts.config.clone(), opts.data_dir.clone());
    let _log = hsof_core::logging::init(&paths.log_dir(), "hsof-control-center.log", cfg!(debug_assertions));
    // The login shell's PATH (for kubeconfig exec plugins) can take a few hundred ms; the
    // window does not wait for it: hsof-cluster gets it when it comes (a connection with an
    // exec plugin waits for it, at most a few seconds, so it is asked now: the Overview's
    // first check may connect before the first paint). The store (migrations on a first
    // run) and the config are read on another thread while GTK starts; setup waits for them.
    hsof_cluster::exec_path_pending();
    std::thread::spawn(|| hsof_cluster::set_exec_path(login_path::ask()));
    let opening = std::thread::spawn(move || {
        let ctx = AppContext::open(&opts);
        tracing::info!(version = hsof_core::VERSION, config = %ctx.paths().config_file.display(), "starting");
        ctx.record_event(
            Utc::now(),
            "app.start",
            &format!("{} {} started", hsof_core::PRODUCT_NAME, hsof_core::VERSION),
        );
        ctx
    });

    let builder = specta_builder();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            // The main window first, created here rather than from the config so that its
            // web view is tuned before the UI loads: WebKit starts its processes while the
            // store is still opening. No command can run before setup returns (IPC and the
            // page's own assets are served by the main loop this runs on), so the context is
            // always managed before the UI can ask for it.
            let config = app.config().app.windows.iter().find(|w| w.label == "main").cloned();
            if let Some(config) = config {
                let window = tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?.build()?;
                webview::tune(&window);
            }
            let window_ms = started.elapsed().as_millis() as u64;
            let ctx = opening.join().map_err(|_| "opening the app's store and configuration panicked")?;
            tracing::info!(window_ms, store_ms = started.elapsed().as_millis() as u64, "window created, store open");
            builder.mount_events(app);
            app.manage(active::Active::new(ctx));
            app.manage(StartedAt(started));
            let painted = FirstPaintGate::default();
            app.manage(painted.clone());
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                painted.wait(BACKGROUND_AFTER_PAINT_AT_MOST).await;
                start_background(handle);
            });
            Ok(())
        })
        .build(tauri::generate_context!())?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                // A demo this window started ends with it (its server runs in a process
                // group of its own, which closing the window would not reach).
                if let Some(active) = app.try_state::<active::Active>() {
                    commands::demo::stop_on_exit(&active);
                }
            }
        });
    Ok(())
}
