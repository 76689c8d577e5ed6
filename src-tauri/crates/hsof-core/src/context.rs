//! [`AppContext`]: the one object the desktop shell and `hsofctl` hold. It owns the
//! resolved paths, the configuration, the store (or why it is unavailable) and the
//! secret store, and exposes the application's operations.

use std::path::PathBuf;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use hsof_store::{AuditEntry, AuditVerification, NewAuditEntry, Store, StoreFacts};
use serde::Serialize;

use crate::config::{self, Config, LoadedConfig};
use crate::facts::{read_gpus, read_host, read_kubeconfig, GpuFacts, HostFacts, KubeFacts};
use crate::monitoring::Monitor;
use crate::secrets::{BackendChoice, SecretBackend, SecretStore};
use crate::{Error, Paths};

/// How to open the context.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--config` / `HSOF_CONTROL_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--data-dir` / `HSOF_CONTROL_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// Secret backend preference.
    pub secrets: BackendChoice,
}

enum StoreState {
    Ready(Store),
    Degraded(String),
}

/// The application: shared by every window, command and CLI call. A view on one
/// cluster: what is the app's (paths, configuration file, store, secrets, operations, the
/// local GPU) is shared by every view; what is the cluster's (its monitor, connection,
/// watches, permission answers, team store state, last morning check) is the
/// [`ClusterSlot`] the view points at. [`AppContext::on_cluster`] gives the view on another
/// cluster of the file, sharing everything else.
#[derive(Clone)]
pub struct AppContext {
    shared: std::sync::Arc<Shared>,
    slot: std::sync::Arc<ClusterSlot>,
}

struct Shared {
    paths: Paths,
    /// The file as written (or the defaults while it has a problem).
    config: RwLock<LoadedConfig>,
    store: StoreState,
    secrets: SecretStore,
    operations: crate::operations::Operations,
    gpu: hsof_gpu::GpuReader,
    /// What opening the data directory made private (said once, by this process).
    tightened: Vec<hsof_store::private::Tightened>,
    /// One slot per cluster a view was asked for, kept for the next view on it.
    slots: std::sync::Mutex<std::collections::BTreeMap<String, std::sync::Arc<ClusterSlot>>>,
}

/// One cluster's state: held once per cluster, however many views share it.
pub(crate) struct ClusterSlot {
    cluster: config::ClusterRef,
    monitor: RwLock<Monitor>,
    /// The last morning check, as the poller or a user last ran it.
    last_morning: RwLock<Option<crate::monitoring::MorningView>>,
    state: crate::cluster::ClusterState,
    team: crate::team::TeamState,
}

impl ClusterSlot {
    fn new(cluster: config::ClusterRef, config: &Config) -> Self {
        let state = crate::cluster::ClusterState::default();
        let monitor = RwLock::new(build_monitor(&state, config));
        Self { cluster, monitor, last_morning: RwLock::new(None), state, team: crate::team::TeamState::default() }
    }
}

impl std::fmt::Debug for AppContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("paths", &self.shared.paths)
            .field("cluster", &self.slot.cluster.name)
            .finish_non_exhaustive()
    }
}

/// Everything Overview and `hsofctl doctor` show.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Doctor {
    /// When these facts were read (RFC 3339, UTC).
    pub generated_at: String,
    /// `ok`, or `degraded` when something below needs attention.
    pub status: String,
    /// One line per thing that needs attention.
    pub attention: Vec<String>,
    /// The app itself.
    pub app: AppFacts,
    /// The configuration file.
    pub config: ConfigFacts,
    /// The SQLite store.
    pub store: StoreStatus,
    /// Whether the data directory's own files are readable only by this user.
    pub files: hsof_store::private::Privacy,
    /// Where secrets are kept.
    pub secrets: SecretBackend,
    /// Kubeconfig contexts.
    pub kube: KubeFacts,
    /// NVIDIA driver and GPUs.
    pub gpu: GpuFacts,
    /// CPU, memory, OS.
    pub host: HostFacts,
}

/// Name, version and directories.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppFacts {
    /// Product name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Data directory.
    pub data_dir: String,
    /// Log directory.
    pub log_dir: String,
}

/// The configuration file's state.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ConfigFacts {
    /// Path.
    pub path: String,
    /// True when the file loaded and validated.
    pub ok: bool,
    /// What is wrong with it.
    pub problem: Option<String>,
    /// True when this start created it.
    pub created: bool,
}

/// The store's state.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct StoreStatus {
    /// True when open.
    pub ok: bool,
    /// Facts when open.
    pub facts: Option<StoreFacts>,
    /// Why it is not open.
    pub error: Option<String>,
}

/// The OS user, as the actor of audit entries: `$USER` / `$LOGNAME` / `$USERNAME`, else
/// (a process started without a login environment, e.g. from a desktop launcher or a
/// WebDriver) the name `/etc/passwd` gives the process's uid.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(passwd_name)
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(unix)]
fn passwd_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    })
}

#[cfg(not(unix))]
fn passwd_name() -> Option<String> {
    None
}

impl AppContext {
    /// Opens everything; never fails. A broken config runs on defaults, an unusable store
    /// runs degraded, and both are reported by [`AppContext::doctor`].
    pub fn open(opts: &Options) -> Self {
        let paths = Paths::resolve(opts.config.clone(), opts.data_dir.clone());
        let loaded = config::load_or_create(&paths.config_file);
        if let Some(p) = &loaded.problem {
            tracing::warn!(problem = %p, "configuration has a problem; running on defaults");
        }
        // An older profile (0755 folder, 0644 store) is made private before the store opens.
        let tightened = hsof_store::private::secure_data_dir(&paths.data_dir).tightened;
        let store = match Store::open(&paths.store_file()) {
            Ok(s) => StoreState::Ready(s),
            Err(e) => {
                tracing::error!(error = %e, "store unavailable; degraded mode");
                StoreState::Degraded(e.to_string())
            }
        };
        let secrets = SecretStore::new(opts.secrets, paths.secrets_file());
        let first = loaded.config.default_cluster();
        let view = loaded.config.for_cluster(&first.name).unwrap_or_else(|| loaded.config.clone());
        let slot = std::sync::Arc::new(ClusterSlot::new(first.clone(), &view));
        let shared = Shared {
            paths,
            config: RwLock::new(loaded),
            store,
            secrets,
            operations: crate::operations::Operations::default(),
            gpu: hsof_gpu::GpuReader::new(),
            tightened,
            slots: std::sync::Mutex::new([(first.name, slot.clone())].into()),
        };
        Self { shared: std::sync::Arc::new(shared), slot }.said_once()
    }

    /// The cluster this view is on.
    pub fn current_cluster(&self) -> &config::ClusterRef {
        &self.slot.cluster
    }

    /// `key` in this view's cluster's part of the store (series, last known values,
    /// threshold states): as it is for a file's single implicit cluster, `@NAME/key` for a
    /// listed one.
    pub(crate) fn scoped(&self, key: &str) -> String {
        match self.slot.cluster.scope() {
            "" => key.to_string(),
            scope => format!("@{scope}/{key}"),
        }
    }

    /// The cluster a record made in this view names: its name when the configuration lists
    /// clusters, none for a file's single implicit cluster.
    pub fn record_cluster(&self) -> Option<String> {
        (!self.slot.cluster.implicit).then(|| self.slot.cluster.name.clone())
    }

    /// The actor of an audit row for a change made on this view's cluster: the local user
    /// with the cluster (when the configuration lists several) and the kubeconfig context.
    pub(crate) fn audit_actor(&self, actor: &str, context: &str) -> String {
        match self.record_cluster() {
            Some(name) => format!("{actor} (cluster {name}, context {context})"),
            None => format!("{actor} (context {context})"),
        }
    }

    /// The clusters the configuration names, in file order.
    pub fn clusters(&self) -> Vec<config::ClusterRef> {
        self.file_config().config.cluster_refs()
    }

    /// The view on the cluster named `name` (sharing the store, secrets and everything
    /// else that is the app's); its state is made on first use and kept.
    pub fn on_cluster(&self, name: &str) -> Result<AppContext, Error> {
        let file = self.file_config().config;
        let cluster = file.cluster_ref(name).map_err(Error::NotFound)?;
        let mut slots = self.shared.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = match slots.get(name).filter(|s| s.cluster == cluster) {
            Some(s) => s.clone(),
            None => {
                let view = file.for_cluster(name).unwrap_or_else(|| file.clone());
                let s = std::sync::Arc::new(ClusterSlot::new(cluster, &view));
                slots.insert(name.to_string(), s.clone());
                s
            }
        };
        Ok(Self { shared: self.shared.clone(), slot })
    }

    /// The view on this view's cluster as the file has it now, or on the file's default
    /// cluster when this one is no longer listed (renamed or removed in a save).
    pub fn current_or_default(&self) -> AppContext {
        self.on_cluster(&self.slot.cluster.name)
            .or_else(|_| self.on_cluster(&self.file_config().config.default_cluster().name))
            .unwrap_or_else(|_| self.clone())
    }

    /// A view on every cluster of the configuration, in file order.
    pub fn fleet_views(&self) -> Vec<AppContext> {
        self.clusters().iter().filter_map(|c| self.on_cluster(&c.name).ok()).collect()
    }

    /// What opening this context made private (empty on every later start), one line each,
    /// for a command-line tool to say on stderr.
    pub fn tightened_lines(&self) -> Vec<String> {
        self.shared.tightened.iter().map(hsof_store::private::Tightened::line).collect()
    }

    /// When the file lists its clusters and the store still has the history of the
    /// single cluster it described before, that history becomes the primary's (the
    /// cluster the single one was), recorded once as `clusters.adopted`.
    fn adopt_single_cluster_history(&self, now: DateTime<Utc>) {
        let file = self.file_config().config;
        if file.clusters.is_empty() {
            return;
        }
        let primary = file.default_cluster();
        match self.store().map(|s| s.adopt_unscoped(primary.scope())) {
            Ok(Ok(0)) | Err(_) => {}
            Ok(Ok(n)) => self.record_event(
                now,
                "clusters.adopted",
                &format!(
                    "the configuration now lists its clusters: the monitoring history of the single cluster ({n} rows) belongs to {} ({})",
                    primary.name,
                    primary.role.as_str()
                ),
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "single cluster's history not moved"),
        }
    }

    /// Records, once, what opening made private.
    fn said_once(self) -> Self {
        self.adopt_single_cluster_history(Utc::now());
        if !self.shared.tightened.is_empty() {
            let list: Vec<String> =
                self.shared.tightened.iter().map(|t| format!("{} {} → {}", t.path, t.was, t.now)).collect();
            self.record_event(
                Utc::now(),
                "files.tightened",
                &format!("the app's files were readable by other users and are now private: {}", list.join(", ")),
            );
        }
        self
    }

    /// The cluster connection cache, live watches and permission answers.
    pub(crate) fn team_state(&self) -> &crate::team::TeamState {
        &self.slot.team
    }

    pub(crate) fn cluster_state(&self) -> &crate::cluster::ClusterState {
        &self.slot.state
    }

    /// Cancellable operations in flight.
    pub(crate) fn operations(&self) -> &crate::operations::Operations {
        &self.shared.operations
    }

    /// The local GPU reader (NVML, started on first use and kept).
    pub(crate) fn gpu_reader(&self) -> &hsof_gpu::GpuReader {
        &self.shared.gpu
    }

    /// Resolved paths.
    pub fn paths(&self) -> &Paths {
        &self.shared.paths
    }

    /// The store, or why it is unavailable.
    pub fn store(&self) -> Result<&Store, Error> {
        match &self.shared.store {
            StoreState::Ready(s) => Ok(s),
            StoreState::Degraded(why) => Err(Error::StoreUnavailable(why.clone())),
        }
    }

    /// The secret store.
    pub fn secrets(&self) -> &SecretStore {
        &self.shared.secrets
    }

    /// The configuration in effect for this view's cluster (its `[[clusters]]` entry's
    /// kubeconfig, context, namespace and endpoints in `[cluster]` / `[endpoints]`), with
    /// the file's problem if any.
    pub fn config(&self) -> LoadedConfig {
        let mut loaded = self.file_config();
        if let Some(view) = loaded.config.for_cluster(&self.slot.cluster.name) {
            loaded.config = view;
        }
        loaded
    }

    /// The configuration as the file has it (every cluster): what Settings edits and
    /// [`save_config`](Self::save_config) takes.
    pub fn file_config(&self) -> LoadedConfig {
        self.shared.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Validates and saves `new`, audits the change, and puts it in effect.
    pub fn save_config(&self, new: Config, actor: &str, now: DateTime<Utc>) -> Result<LoadedConfig, Error> {
        let path = self.shared.paths.config_file.clone();
        let before = serde_json::to_string(&self.file_config().config).ok();
        let after = serde_json::to_string(&new).ok();
        let outcome = config::save(&path, &new);
        if !matches!(outcome, Err(config::ConfigError::Invalid { .. })) {
            let result = match &outcome {
                Ok(()) => "ok".to_string(),
                Err(e) => format!("error: {e}"),
            };
            self.audit_entry(
                &NewAuditEntry {
                    actor,
                    action: "config.save",
                    target: &path.display().to_string(),
                    before: before.as_deref(),
                    after: after.as_deref(),
                    result: &result,
                },
                now,
            );
        }
        outcome?;
        let mut guard = self.shared.config.write().unwrap_or_else(|p| p.into_inner());
        *guard = LoadedConfig {
            path: path.display().to_string(),
            config: new,
            problem: None,
            problems: vec![],
            created: false,
        };
        let loaded = guard.clone();
        drop(guard);
        // Every cluster's monitor follows the file; a cluster the file no longer names
        // keeps its last monitor for views still held on it.
        let slots: Vec<_> = self.shared.slots.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        for slot in slots {
            if let Some(view) = loaded.config.for_cluster(&slot.cluster.name) {
                *slot.monitor.write().unwrap_or_else(|p| p.into_inner()) = build_monitor(&slot.state, &view);
            }
        }
        self.record_event(now, "config.saved", &format!("configuration saved to {}", path.display()));
        self.adopt_single_cluster_history(now);
        Ok(loaded)
    }

    /// Records an app event; a degraded store only logs it.
    pub fn record_event(&self, now: DateTime<Utc>, kind: &str, message: &str) {
        match self.store() {
            Ok(s) => {
                if let Err(e) = s.record_event(now, kind, message, None) {
                    tracing::warn!(error = %e, kind, "could not record app event");
                }
            }
            Err(_) => tracing::info!(kind, message, "app event (store unavailable)"),
        }
    }

    /// The last morning check run in this process, if any (no I/O).
    pub fn last_morning(&self) -> Option<crate::monitoring::MorningView> {
        self.slot.last_morning.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_last_morning(&self, view: &crate::monitoring::MorningView) {
        *self.slot.last_morning.write().unwrap_or_else(|p| p.into_inner()) = Some(view.clone());
    }

    /// Clients and limits for monitoring, built from the configuration in effect. A clone,
    /// so no lock is held across the awaits that follow.
    pub fn monitor(&self) -> Monitor {
        self.slot.monitor.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Appends an audit entry; a failure to write it is logged (the change itself happened).
    pub(crate) fn audit_entry(&self, entry: &NewAuditEntry<'_>, now: DateTime<Utc>) -> Option<AuditEntry> {
        match self.store().and_then(|s| s.append_audit(entry, now).map_err(Error::from)) {
            Ok(a) => {
                self.advance_audit_anchor();
                Some(a)
            }
            Err(e) => {
                tracing::error!(error = %e, action = entry.action, "audit entry could not be written");
                None
            }
        }
    }

    /// Newest audit rows first.
    pub fn audit_list(&self, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        Ok(self.store()?.list_audit(limit)?)
    }

    /// Walks the audit hash chain, then checks its head against the anchor kept outside
    /// the store (rows deleted from the end, a chain rewritten whole).
    pub fn audit_verify(&self) -> Result<AuditVerification, Error> {
        let chain = self.store()?.verify_audit()?;
        self.check_audit_anchor(chain)
    }

    /// Reads every fact Overview shows. Blocking (file and NVML reads): call it off the UI thread.
    pub fn doctor(&self, now: DateTime<Utc>) -> Doctor {
        let loaded = self.config();
        let store = match self.store().and_then(|s| s.facts().map_err(Error::from)) {
            Ok(f) => StoreStatus { ok: true, facts: Some(f), error: None },
            Err(e) => StoreStatus { ok: false, facts: None, error: Some(e.to_string()) },
        };
        let explicit = Some(loaded.config.cluster.kubeconfig.as_str()).filter(|s| !s.is_empty()).map(PathBuf::from);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let kube = read_kubeconfig(explicit.as_deref(), std::env::var("KUBECONFIG").ok().as_deref(), home.as_deref());
        let mut attention = Vec::new();
        if let Some(p) = &loaded.problem {
            attention.push(format!("Config: {p}"));
        }
        if let Some(e) = &store.error {
            attention.push(format!("Store: {e}"));
        }
        if let Some(e) = &kube.error {
            attention.push(format!("Kubeconfig: {e}"));
        }
        let mut files = hsof_store::private::inspect_data_dir(&self.shared.paths.data_dir);
        files.tightened = self.shared.tightened.clone();
        // What others can read is a risk; what was tightened is done (said, not degraded).
        attention.extend(files.exposures.iter().map(hsof_store::private::Exposure::line));
        let status = if attention.is_empty() { "ok" } else { "degraded" };
        attention.extend(self.tightened_lines());
        Doctor {
            generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            status: status.into(),
            attention,
            app: AppFacts {
                name: crate::PRODUCT_NAME.into(),
                version: crate::VERSION.into(),
                data_dir: self.shared.paths.data_dir.display().to_string(),
                log_dir: self.shared.paths.log_dir().display().to_string(),
            },
            config: ConfigFacts {
                path: loaded.path,
                ok: loaded.problem.is_none(),
                problem: loaded.problem,
                created: loaded.created,
            },
            store,
            files,
            secrets: self.shared.secrets.backend().clone(),
            kube,
            gpu: read_gpus(),
            host: read_host(),
        }
    }
}

/// The monitor for `config`, with service references resolved through the cluster's
/// forwarder (started only when an endpoint is one).
fn build_monitor(cluster: &crate::cluster::ClusterState, config: &crate::config::Config) -> Monitor {
    Monitor::from_config_with(config, &|u: &str| crate::cluster::resolve(u, &|| cluster.proxies.for_config(config)))
}
