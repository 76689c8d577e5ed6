//! The demo environment: a simulated HSOF for trying the app, rehearsing on-call and
//! writing docs, in a profile of its own (config, data directory, kubeconfig), never the
//! user's.
//!
//! One process, the *demo server* ([`serve`]), runs the fake Kubernetes API seeded with
//! the HSOF deployment (pods that come and go, events, logs), the simulated HSOF exporter,
//! Debian's Prometheus loaded with the runbook rules and AlertManager, and a loopback
//! control endpoint through which [`set_scenario`] switches what the simulated HSOF does
//! and [`stop`] ends it. [`start`] runs it in the background and waits until it is ready;
//! its state (pid, URLs, scenario) is in `state.json` in the profile.

pub mod drill;
pub mod exporter;
pub mod history;
pub mod scenario;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use scenario::{Scenario, ALL as SCENARIOS};
pub use servers::{missing_packages, INSTALL_COMMAND};

/// Where the demo profile lives unless `--dir` says: `$HSOF_DEMO_DIR`, else the user's data
/// directory's `hsof-control-center-demo`.
pub const ENV_DEMO_DIR: &str = "HSOF_DEMO_DIR";

/// The runbook's alerting rules the demo's Prometheus evaluates, as the project ships them.
pub const RUNBOOK_RULES: &str = include_str!("../../../../monitoring/hsof-runbook-rules.yml");

/// The demo's files.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile directory.
    pub dir: PathBuf,
}

impl Profile {
    /// `dir`, else `$HSOF_DEMO_DIR`, else the platform data directory.
    pub fn resolve(dir: Option<PathBuf>) -> Result<Self, String> {
        let dir = dir
            .or_else(|| std::env::var_os(ENV_DEMO_DIR).filter(|v| !v.is_empty()).map(PathBuf::from))
            .or_else(|| {
                directories::ProjectDirs::from("com", "hsof", "hsof-control-center-demo")
                    .map(|d| d.data_dir().to_path_buf())
            })
            .ok_or_else(|| {
                format!("no home directory to keep the demo profile in: give --dir or set {ENV_DEMO_DIR}")
            })?;
        Ok(Self { dir })
    }
    /// The app's config file for the demo.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    /// The app's data directory for the demo.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }
    /// The kubeconfig pointing at the fake cluster.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }
    /// The demo server's state while it runs.
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    /// Logs of the demo server, Prometheus and AlertManager.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }
    /// The demo server's own log.
    pub fn server_log(&self) -> PathBuf {
        self.log_dir().join("demo-server.log")
    }

    /// The state file as written, if any (the server may have died since).
    pub fn read_state(&self) -> Option<State> {
        let text = std::fs::read_to_string(self.state_file()).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// A running demo, as `state.json` and `hsofctl demo status --json` give it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// The demo server's process id (leader of its process group).
    pub pid: u32,
    /// The profile directory.
    pub dir: String,
    /// Config file to point the app or `hsofctl --config` at.
    pub config: String,
    /// Data directory to go with it (`--data-dir`).
    pub data_dir: String,
    /// Kubeconfig of the fake cluster (context `hsof-demo`).
    pub kubeconfig: String,
    /// The fake Kubernetes API.
    pub kube_url: String,
    /// The simulated HSOF's health endpoints and `/metrics`.
    pub hsof_url: String,
    /// Prometheus.
    pub prometheus_url: String,
    /// AlertManager.
    pub alertmanager_url: String,
    /// The control endpoint (loopback).
    pub control_url: String,
    /// What the simulated HSOF does now.
    pub scenario: Scenario,
    /// Since when (RFC 3339).
    pub scenario_since: String,
    /// When the demo started (RFC 3339).
    pub started_at: String,
    /// With `--regions 2`: each region (the first is the one the fields above describe).
    #[serde(default)]
    pub regions: Vec<RegionState>,
}

/// One region of a multi-region demo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegionState {
    /// Its cluster name in the config (`prod-eu`, `dr-us`).
    pub name: String,
    /// `primary` or `dr`.
    pub role: String,
    /// Its kubeconfig.
    pub kubeconfig: String,
    /// The context in it.
    pub context: String,
    /// The fake Kubernetes API.
    pub kube_url: String,
    /// Its simulated HSOF.
    pub hsof_url: String,
    /// Its Prometheus.
    pub prometheus_url: String,
    /// Its AlertManager.
    pub alertmanager_url: String,
}

impl State {
    /// The app's context on this demo's profile: its config, its data directory and a
    /// secrets file of its own — never the user's config, store or desktop keyring.
    pub fn open_context(&self) -> hsof_core::AppContext {
        hsof_core::AppContext::open(&hsof_core::Options {
            config: Some(PathBuf::from(&self.config)),
            data_dir: Some(PathBuf::from(&self.data_dir)),
            secrets: hsof_core::BackendChoice::File,
        })
    }
}

/// Whether a demo runs in a profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Running and answering.
    Running(State),
    /// Not running.
    Stopped,
    /// A state file is left but its server does not answer (killed, machine restarted).
    Stale(State),
}

/// Whether the profile's demo runs.
pub fn status(profile: &Profile) -> Status {
    match profile.read_state() {
        None => Status::Stopped,
        Some(s) => match control(&s, "GET", "status") {
            Ok(body) => serde_json::from_str(&body).map(Status::Running).unwrap_or(Status::Stale(s)),
            Err(_) => Status::Stale(s),
        },
    }
}

fn control(s: &State, method: &str, path: &str) -> Result<String, String> {
    let url = format!("{}/{path}", s.control_url);
    match servers::probe::request(method, &url) {
        Ok((200, body)) => Ok(body),
        Ok((0, _)) => Err(format!("the demo server at {} did not answer", s.control_url)),
        Ok((_, body)) => Err(body.trim().to_string()),
        Err(e) => Err(format!("the demo server at {} did not answer: {e}", s.control_url)),
    }
}

/// Starts the demo server in the background with `daemon` (a command that runs [`serve`]
/// for this profile, e.g. `hsofctl demo serve --dir D`), in a process group of its own so
/// a terminal's Ctrl-C leaves it running, and waits until it is ready. An already running
/// demo is returned as it is; a stale state file is cleared first.
pub fn start(profile: &Profile, mut daemon: Command, timeout: Duration) -> Result<(State, bool), String> {
    match status(profile) {
        Status::Running(s) => return Ok((s, false)),
        Status::Stale(s) => {
            kill_group(s.pid);
            let _ = std::fs::remove_file(profile.state_file());
        }
        Status::Stopped => {}
    }
    // The demo profile is the app's own: private to its user, as the user's profile is.
    for d in [profile.dir.clone(), profile.log_dir()] {
        hsof_core::private::private_dir(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    use std::os::unix::fs::OpenOptionsExt as _;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(hsof_core::private::FILE_MODE)
        .open(profile.server_log())
        .map_err(|e| format!("cannot open {}: {e}", profile.server_log().display()))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    use std::os::unix::process::CommandExt;
    let mut child = daemon
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the demo server: {e}"))?;
    let begun = Instant::now();
    loop {
        if let Status::Running(s) = status(profile) {
            return Ok((s, true));
        }
        if let Ok(Some(code)) = child.try_wait() {
            return Err(format!("the demo server exited ({code}): {}", tail(&profile.server_log(), 6)));
        }
        if begun.elapsed() > timeout {
            kill_group(child.id());
            return Err(format!(
                "the demo server was not ready within {} s: {}",
                timeout.as_secs(),
                tail(&profile.server_log(), 6)
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The last `n` lines of a log, for an error message.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines[lines.len().saturating_sub(n)..].join(" | ");
    if last.is_empty() {
        format!("nothing in {}", path.display())
    } else {
        format!("{last} (log: {})", path.display())
    }
}

/// SIGTERM to the process group `pgid` (the demo server and the Prometheus and
/// AlertManager it started), through `kill(1)`: the workspace allows no unsafe code.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pgid}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| !r.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Stops the profile's demo (asks the server, then signals its process group if it does
/// not end in `timeout`); `Ok(false)` when none was running.
pub fn stop(profile: &Profile, timeout: Duration) -> Result<bool, String> {
    let s = match status(profile) {
        Status::Stopped => return Ok(false),
        Status::Stale(s) => {
            kill_group(s.pid);
            let _ = std::fs::remove_file(profile.state_file());
            return Ok(false);
        }
        Status::Running(s) => s,
    };
    let _ = control(&s, "POST", "stop");
    let begun = Instant::now();
    while alive(s.pid) && begun.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(100));
    }
    if alive(s.pid) {
        kill_group(s.pid);
    }
    let _ = std::fs::remove_file(profile.state_file());
    Ok(true)
}

/// Switches the running demo to `scenario`.
pub fn set_scenario(profile: &Profile, scenario: Scenario) -> Result<State, String> {
    let s = match status(profile) {
        Status::Running(s) => s,
        _ => return Err("no demo is running in this profile: start one with `hsofctl demo start`".into()),
    };
    let body = control(&s, "POST", &format!("scenario/{}", scenario.name()))?;
    serde_json::from_str(&body).map_err(|e| format!("the demo server answered {body:?}: {e}"))
}

mod serve;
pub use serve::serve;
