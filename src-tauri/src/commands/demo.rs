//! The demo tried from the window: Overview offers it when nothing is configured, the
//! shell starts the simulated HSOF in its own profile and shows it; leaving stops what it
//! started and shows the user's profile again, untouched.

use std::time::Duration;

use chrono::Utc;
use hsof_core::{os_user, Error, IpcError};
use serde::Serialize;
use tauri::State;

use crate::active::{Active, Ctx};

/// How long the demo server may take to be ready (Prometheus and AlertManager start).
const START_AT_MOST: Duration = Duration::from_secs(90);
/// How long leaving waits for the demo server to stop before signalling its group.
const STOP_AT_MOST: Duration = Duration::from_secs(15);

/// Overview's offer of the demo (shown in the Connect panel).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DemoOffer {
    /// Debian packages the demo needs and this machine lacks (the offer cannot start then).
    pub missing_packages: Vec<String>,
    /// The one command that installs them.
    pub install_command: String,
    /// Where the demo keeps its own config, store and secrets.
    pub profile_dir: String,
}

/// When the offer is made: nothing configured answers, no kubeconfig context exists, the
/// user has not turned it off, and the window does not show the demo already.
pub fn offer(needed: bool, contexts: &[String], enabled: bool, in_demo: bool) -> Option<DemoOffer> {
    if !needed || !contexts.is_empty() || !enabled || in_demo {
        return None;
    }
    let profile_dir = hsof_demo::Profile::resolve(None).map(|p| p.dir.display().to_string()).unwrap_or_default();
    Some(DemoOffer {
        missing_packages: hsof_demo::missing_packages().into_iter().map(String::from).collect(),
        install_command: hsof_demo::INSTALL_COMMAND.to_string(),
        profile_dir,
    })
}

/// The demo the window shows, for its banner.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DemoShown {
    /// The demo's profile directory.
    pub dir: String,
    /// What the simulated HSOF does now.
    pub scenario: String,
    /// Since when (RFC 3339).
    pub scenario_since: String,
    /// When the window switched to it (RFC 3339).
    pub since: String,
    /// True when this app started it (leaving stops it); false when it was already running.
    pub started_here: bool,
    /// Every scenario: name and what it does.
    pub scenarios: Vec<(String, String)>,
}

fn shown(active: &Active) -> Option<DemoShown> {
    let (profile, started, since) = active.demo()?;
    let state = profile.read_state();
    Some(DemoShown {
        dir: profile.dir.display().to_string(),
        scenario: state.as_ref().map(|s| s.scenario.name().to_string()).unwrap_or_default(),
        scenario_since: state.map(|s| s.scenario_since).unwrap_or_default(),
        since: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        started_here: started,
        scenarios: hsof_demo::SCENARIOS.iter().map(|s| (s.name().to_string(), s.description().to_string())).collect(),
    })
}

fn unavailable(message: String) -> IpcError {
    IpcError::from(&Error::Unavailable(message))
}

/// The demo the window shows, or null when it shows the user's own profile.
#[tauri::command]
#[specta::specta]
pub fn demo_shown(active: State<'_, Active>) -> Option<DemoShown> {
    shown(&active)
}

/// Starts the demo (or uses the one running in the demo profile) and switches the window to
/// it. The user's config, store and keyring are not touched; the page reloads after.
#[tauri::command]
#[specta::specta]
pub async fn demo_enter(active: State<'_, Active>) -> Result<DemoShown, IpcError> {
    let _switching = active.lock_switch().await;
    if let Some(s) = shown(&active) {
        return Ok(s);
    }
    let missing = hsof_demo::missing_packages();
    if !missing.is_empty() {
        return Err(unavailable(format!(
            "the demo needs {} (its Prometheus with the runbook's rules and its AlertManager): install with `{}`",
            missing.join(" and "),
            hsof_demo::INSTALL_COMMAND
        )));
    }
    let profile = hsof_demo::Profile::resolve(None).map_err(unavailable)?;
    let exe = std::env::current_exe().map_err(|e| unavailable(format!("cannot find the app's own binary: {e}")))?;
    let mut daemon = std::process::Command::new(exe);
    daemon.arg("--demo-serve").arg(&profile.dir);
    let p = profile.clone();
    let (state, started, ctx) = tauri::async_runtime::spawn_blocking(move || {
        let (state, started) = hsof_demo::start(&p, daemon, START_AT_MOST)?;
        let ctx = state.open_context();
        Ok::<_, String>((state, started, ctx))
    })
    .await
    .map_err(|e| unavailable(format!("starting the demo failed: {e}")))?
    .map_err(unavailable)?;
    let now = Utc::now();
    ctx.record_event(
        now,
        "demo.entered",
        &format!(
            "the window shows the demo ({}, scenario {}) {}",
            state.dir,
            state.scenario,
            if started { "started by the app" } else { "already running" }
        ),
    );
    tracing::info!(dir = %state.dir, started, "window switched to the demo");
    active.enter_demo(ctx, profile, started, now);
    shown(&active).ok_or_else(|| unavailable("the demo ended while the window switched to it".into()))
}

/// Shows the user's own profile again and stops the demo if this app started it. Leaving
/// when the demo is not shown does nothing.
#[tauri::command]
#[specta::specta]
pub async fn demo_leave(active: State<'_, Active>) -> Result<bool, IpcError> {
    let _switching = active.lock_switch().await;
    let Some((demo_ctx, session)) = active.leave_demo() else { return Ok(false) };
    demo_ctx.record_event(Utc::now(), "demo.left", "the window shows the user's own profile again");
    tracing::info!(dir = %session.profile.dir.display(), stop = session.started, "window left the demo");
    // The demo's context (its watches, its forwarders) ends with its last user.
    drop(demo_ctx);
    if session.started {
        let profile = session.profile;
        tauri::async_runtime::spawn_blocking(move || hsof_demo::stop(&profile, STOP_AT_MOST))
            .await
            .map_err(|e| unavailable(format!("stopping the demo failed: {e}")))?
            .map_err(unavailable)?;
    }
    Ok(true)
}

/// Stops the demo this app started, if the window shows it (the app is closing).
pub fn stop_on_exit(active: &Active) {
    if let Some((_, session)) = active.leave_demo() {
        if session.started {
            if let Err(e) = hsof_demo::stop(&session.profile, STOP_AT_MOST) {
                tracing::warn!(error = %e, "the demo did not stop with the app");
            }
        }
    }
}

/// Switches what the simulated HSOF does.
#[tauri::command]
#[specta::specta]
pub async fn demo_scenario(active: State<'_, Active>, name: String) -> Result<DemoShown, IpcError> {
    let (profile, _, _) = active.demo().ok_or_else(|| unavailable("the window does not show the demo".into()))?;
    let scenario: hsof_demo::Scenario = name.parse().map_err(|e: String| IpcError::from(&Error::InvalidInput(e)))?;
    tauri::async_runtime::spawn_blocking(move || hsof_demo::set_scenario(&profile, scenario))
        .await
        .map_err(|e| unavailable(format!("switching the scenario failed: {e}")))?
        .map_err(unavailable)?;
    shown(&active).ok_or_else(|| unavailable("the window left the demo".into()))
}

/// Turns the offer off for good (`ui.demo_offer = false`, audited like every config change).
#[tauri::command]
#[specta::specta]
pub fn demo_dismiss(ctx: Ctx) -> Result<hsof_core::config::LoadedConfig, IpcError> {
    let loaded = ctx.file_config();
    if let Some(problem) = loaded.problem {
        // A broken file is never overwritten by a side effect.
        return Err(IpcError::from(&Error::InvalidInput(format!(
            "the configuration file has a problem, so the offer is hidden this time only: {problem}"
        ))));
    }
    let mut next = loaded.config;
    next.ui.demo_offer = false;
    Ok(ctx.save_config(next, &os_user(), Utc::now())?)
}

#[cfg(test)]
mod tests {
    use super::offer;

    #[test]
    fn the_offer_needs_nothing_answering_no_context_and_no_opt_out() {
        let none: Vec<String> = vec![];
        assert!(offer(true, &none, true, false).is_some());
        assert!(offer(false, &none, true, false).is_none(), "a source answers");
        assert!(offer(true, &["prod".to_string()], true, false).is_none(), "a context to connect to");
        assert!(offer(true, &none, false, false).is_none(), "turned off");
        assert!(offer(true, &none, true, true).is_none(), "the demo is shown already");
        let o = offer(true, &none, true, false).expect("offer");
        assert_eq!(o.install_command, "sudo apt-get install prometheus prometheus-alertmanager");
    }
}
