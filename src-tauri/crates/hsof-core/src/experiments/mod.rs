//! Feature-selection experiments: the engine (`hsof-select`) run on a local file, off the
//! caller's thread, recorded in the store's history whatever the outcome.
//!
//! A run is inserted as `running` before any work, then finished once as `ok`, `failed` or
//! `cancelled`. The report file, when asked for, is written atomically only after a
//! successful run, so a failed or cancelled run leaves no file behind.

use std::future::Future;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use hsof_select::{FinalSize, KeepCount, LoadOptions, SelectError, SelectOptions};
use hsof_store::{ExperimentFinish, ExperimentRecord, NewExperiment, Store};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use hsof_select::{
    BackendChoice, ClassWeight, ColumnKind, ColumnPreview, OuterValidation, Progress, SelectionReport, Stage,
};

use crate::{AppContext, Error};

mod cluster;
mod follow;

pub use cluster::{ClusterRun, JobRef, PVC_PREFIX};
pub use follow::EngineLine;
pub use shard::{run_stage1_shard, ShardWritten};

mod shard;

/// What to run: the file, the target and the engine's main knobs. Everything left out takes
/// the engine's default (k1 500, k2 50, k3 15, seed 42, all cores, backend auto).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ExperimentRequest {
    /// A `.csv` or `.parquet` file, or an HSOF dataset YAML (`.yaml` / `.yml`).
    pub input: String,
    /// The target column; required for CSV and Parquet, left out for a dataset YAML (it names its own).
    #[serde(default)]
    pub target: Option<String>,
    /// Columns that identify rows and are not features.
    #[serde(default)]
    pub id_columns: Vec<String>,
    /// A column naming each row's group (not a feature): no group is on both sides of a
    /// validation split. A dataset YAML's `group_column` when left out.
    #[serde(default)]
    pub group_column: Option<String>,
    /// A column giving each row's time (not a feature): held-out rows are later than the rows
    /// their selection saw. A dataset YAML's `time_column` when left out.
    #[serde(default)]
    pub time_column: Option<String>,
    /// Columns kept by stage 1 (filter).
    #[serde(default)]
    pub k1: Option<u32>,
    /// Columns kept by stage 2 (search).
    #[serde(default)]
    pub k2: Option<u32>,
    /// Features in the final subset (stage 3), fixed; left out, the size is chosen by the data
    /// up to `k3_max`.
    #[serde(default)]
    pub k3: Option<u32>,
    /// The largest final size the data may choose when `k3` is left out (the engine's default
    /// bound, 50, when this is left out too).
    #[serde(default)]
    pub k3_max: Option<u32>,
    /// Seed of every random choice; same seed, same result.
    #[serde(default)]
    #[specta(type = Option<f64>)]
    pub seed: Option<u64>,
    /// Worker threads; all cores when left out.
    #[serde(default)]
    pub threads: Option<u32>,
    /// Compute backend.
    #[serde(default)]
    pub backend: BackendChoice,
    /// Rows held out of the whole selection for the honest score; the engine's `auto` when
    /// left out (three outer folds below 1,000 rows, a 25 % holdout from there on).
    #[serde(default)]
    pub outer: Option<OuterValidation>,
    /// Wall-time bound of stage 2's search in seconds (the engine's 60 when left out).
    #[serde(default)]
    pub search_seconds: Option<f64>,
    /// Class weights of the boosted trees (`balanced` for imbalanced targets); none when left out.
    #[serde(default)]
    pub class_weight: Option<ClassWeight>,
    /// Where to write the report JSON; nothing is written when left out.
    #[serde(default)]
    pub out_path: Option<String>,
    /// Run on the cluster as a Kubernetes Job (`[experiments.cluster]`) instead of here;
    /// the input may then be `pvc:PATH`, a file already on the data claim.
    #[serde(default)]
    pub cluster: Option<ClusterRun>,
    /// Stage 1's per-column part was computed by shards (`hsofctl select --stage1-shards N
    /// --stage1-out DIR`): read it from there instead of computing it (the merging run of a
    /// sharded cluster run).
    #[serde(default)]
    pub stage1_from: Option<Stage1Shards>,
}

/// Where a sharded stage 1 left its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Stage1Shards {
    /// The folder with `stage1-shard-I-of-N.json`.
    pub dir: String,
    /// How many shards.
    pub shards: u32,
}

/// The kind of input file, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    /// Comma-separated values with a header row (any extension but the two below).
    Csv,
    /// `.parquet` / `.pq`.
    Parquet,
    /// An HSOF dataset YAML (`.yaml` / `.yml`) pointing at a SQLite table.
    DatasetYaml,
}

impl DatasetFormat {
    /// The format of `path`, by extension.
    pub fn of(path: &Path) -> Self {
        match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("parquet" | "pq") => Self::Parquet,
            Some("yaml" | "yml") => Self::DatasetYaml,
            _ => Self::Csv,
        }
    }
}

/// A look at a file before running: its columns from the first rows.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DatasetPreview {
    /// The file.
    pub path: String,
    /// Its format.
    pub format: DatasetFormat,
    /// Size on disk.
    pub size_bytes: f64,
    /// Last modified (RFC 3339), when the OS says.
    pub modified: Option<String>,
    /// When this preview was read (RFC 3339).
    pub read_at: String,
    /// Columns (empty for a dataset YAML, whose table, target and ids come from the file).
    pub columns: Vec<ColumnPreview>,
}

/// How a run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    /// Started and not finished: its process is still running it.
    Running,
    /// Finished with a result.
    Ok,
    /// Stopped by an error.
    Failed,
    /// Stopped by the user.
    Cancelled,
}

/// One run in the history.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ExperimentSummary {
    /// Id, increasing with start order.
    #[specta(type = f64)]
    pub id: i64,
    /// Started (RFC 3339).
    pub started_at: String,
    /// Finished (RFC 3339).
    pub finished_at: Option<String>,
    /// Input file.
    pub input: String,
    /// Target column ('' until a dataset YAML run has read it).
    pub target: String,
    /// Outcome.
    pub status: ExperimentStatus,
    /// Stable error code of a failed or cancelled run (`invalid_input`, `io`, `cancelled`, …).
    pub error_code: Option<String>,
    /// The error, in words.
    pub error: Option<String>,
    /// The report file written.
    pub out_path: Option<String>,
    /// Features selected.
    pub selected: Option<u32>,
    /// Mean cross-validated score.
    pub score: Option<f64>,
    /// Its standard deviation over folds.
    pub score_std: Option<f64>,
    /// `accuracy` or `r2`.
    pub metric: Option<String>,
    /// Best model family.
    pub model: Option<String>,
    /// Backend that ran the kernels.
    pub backend: Option<String>,
    /// The engine's total time, seconds.
    pub seconds: Option<f64>,
    /// A cluster run's Job, `namespace/name` (a running one can be attached to).
    pub cluster_job: Option<String>,
    /// The cluster of the configuration it ran against, when it lists several.
    pub cluster: Option<String>,
}

/// One run with everything it produced.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Experiment {
    /// The history row.
    pub summary: ExperimentSummary,
    /// What was asked.
    pub request: Option<ExperimentRequest>,
    /// The engine's report (ok runs).
    pub report: Option<SelectionReport>,
}

/// A request checked and resolved: where to read, what to run, where to write.
#[derive(Debug, Clone)]
struct Plan {
    input: PathBuf,
    format: DatasetFormat,
    target: String,
    id_columns: Vec<String>,
    group_column: Option<String>,
    time_column: Option<String>,
    options: SelectOptions,
    out: Option<PathBuf>,
    stage1_from: Option<Stage1Shards>,
}

impl ExperimentRequest {
    /// The engine options this request asks for.
    pub fn select_options(&self) -> SelectOptions {
        let mut o = SelectOptions::default();
        if let Some(seed) = self.seed {
            o.seed = seed;
        }
        o.backend = self.backend;
        o.threads = self.threads;
        if let Some(k) = self.k1 {
            o.filter.keep = KeepCount::Count(k);
        }
        if let Some(k) = self.k2 {
            o.search.keep = k;
        }
        match (self.k3, self.k3_max) {
            (Some(k), _) => o.evaluate.size = FinalSize::Fixed(k),
            (None, Some(max)) => o.evaluate.size = FinalSize::Auto { max },
            (None, None) => {}
        }
        if let Some(outer) = self.outer {
            o.evaluate.outer = outer;
        }
        if let Some(secs) = self.search_seconds {
            o.search.max_seconds = secs;
        }
        if let Some(w) = self.class_weight {
            o.evaluate.class_weight = w;
        }
        o
    }

    fn plan(&self) -> Result<Plan, Error> {
        let input = self.input.trim();
        if input.is_empty() {
            return Err(Error::InvalidInput("choose an input file (CSV, Parquet or dataset YAML)".into()));
        }
        // Absolute, so the history still says which file when read from another folder.
        let input = std::path::absolute(input).unwrap_or_else(|_| PathBuf::from(input));
        let format = DatasetFormat::of(&input);
        let target = self.target.as_deref().map(str::trim).unwrap_or_default().to_string();
        let id_columns: Vec<String> =
            self.id_columns.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
        match format {
            DatasetFormat::DatasetYaml if !target.is_empty() || !id_columns.is_empty() => {
                return Err(Error::InvalidInput(format!(
                    "{} is a dataset YAML: it names its own target_column and id_columns; leave the target and id columns out",
                    input.display()
                )));
            }
            DatasetFormat::Csv | DatasetFormat::Parquet if target.is_empty() => {
                return Err(Error::InvalidInput(format!("choose the target column of {}", input.display())));
            }
            _ => {}
        }
        if id_columns.contains(&target) {
            return Err(Error::InvalidInput(format!("`{target}` cannot be both the target and an id column")));
        }
        let options = self.select_options();
        options.validate()?;
        let out = match self.out_path.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => {
                let out = std::path::absolute(p).unwrap_or_else(|_| PathBuf::from(p));
                let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if !dir.is_dir() {
                    return Err(Error::InvalidInput(format!(
                        "cannot write the report to {}: folder {} does not exist",
                        out.display(),
                        dir.display()
                    )));
                }
                Some(out)
            }
        };
        let named = |c: &Option<String>| c.clone().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        let (group_column, time_column) = (named(&self.group_column), named(&self.time_column));
        if group_column.is_some() && time_column.is_some() {
            return Err(Error::InvalidInput("give a group column or a time column, not both".into()));
        }
        for c in group_column.iter().chain(&time_column) {
            if *c == target || id_columns.contains(c) {
                return Err(Error::InvalidInput(format!(
                    "`{c}` cannot be both the group / time column and the target or an id column"
                )));
            }
        }
        if let Some(s) = &self.stage1_from {
            if s.shards < 1 || !Path::new(&s.dir).is_dir() {
                return Err(Error::InvalidInput(format!(
                    "the stage-1 shards' folder {} does not exist (or no shard count was given)",
                    s.dir
                )));
            }
        }
        Ok(Plan {
            input,
            format,
            target,
            id_columns,
            group_column,
            time_column,
            options,
            out,
            stage1_from: self.stage1_from.clone(),
        })
    }
}

/// Memory the loader may use: 80 % of what the OS says is available now (read at this edge;
/// the engine never reads system memory), or the engine's default when the OS does not say.
pub fn memory_limit_bytes() -> u64 {
    let available = crate::facts::read_host().memory_available_bytes;
    if available > 0.0 {
        (available * 0.8) as u64
    } else {
        LoadOptions::default().memory_limit_bytes
    }
}

/// Loads the data, runs the three stages and writes the report file: the blocking part.
fn execute(
    plan: &Plan,
    memory_limit: u64,
    progress: &dyn Fn(Progress),
    cancel: &CancellationToken,
) -> Result<SelectionReport, SelectError> {
    let load = LoadOptions {
        memory_limit_bytes: memory_limit,
        group_column: plan.group_column.clone(),
        time_column: plan.time_column.clone(),
        ..LoadOptions::default()
    };
    let report = |fraction: f32, message: String| progress(Progress { stage: Stage::Load, fraction, message });
    report(0.0, format!("reading {}", plan.input.display()));
    let ids: Vec<&str> = plan.id_columns.iter().map(String::as_str).collect();
    let dataset = match plan.format {
        DatasetFormat::Csv => hsof_select::load_csv(&plan.input, &plan.target, &ids, &load)?,
        DatasetFormat::Parquet => hsof_select::load_parquet(&plan.input, &plan.target, &ids, &load)?,
        DatasetFormat::DatasetYaml => hsof_select::load_dataset_yaml(&plan.input, &load)?,
    };
    if cancel.is_cancelled() {
        return Err(SelectError::Cancelled);
    }
    report(1.0, format!("{} rows × {} features", dataset.n_rows(), dataset.n_features()));
    let facts = match &plan.stage1_from {
        Some(s) => {
            report(1.0, format!("reading {} stage-1 shards from {}", s.shards, s.dir));
            Some(hsof_select::stage1::shard::read_merged(Path::new(&s.dir), s.shards, plan.options.seed)?)
        }
        None => None,
    };
    let result = hsof_select::run_with_facts(&dataset, &plan.options, facts.as_deref(), progress, cancel)?;
    if let Some(out) = &plan.out {
        write_user_report(out, &result)?;
    }
    Ok(result)
}

/// Writes a run's report where the user asked (`--out`, the Run panel's output file). The
/// user's file at the user's path: it gets their umask, not the private one the desktop
/// app keeps for its own files.
pub(crate) fn write_user_report(
    out: &Path,
    report: &hsof_select::SelectionReport,
) -> Result<(), hsof_select::SelectError> {
    use std::os::unix::fs::PermissionsExt as _;
    hsof_select::write_report_json(out, report)?;
    let _ = std::fs::set_permissions(out, std::fs::Permissions::from_mode(crate::private::user_file_mode()));
    Ok(())
}

/// Runs `work` on its own thread so the caller's runtime (the app's IPC, the CLI's signal
/// handler) stays responsive; the thread is not a tokio blocking-pool slot held for minutes.
fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> impl Future<Output = Result<T, Error>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name("hsof-select".into()).spawn(move || {
        let _ = tx.send(work());
    });
    async move {
        spawned.map_err(|e| Error::Unavailable(format!("could not start a worker thread: {e}")))?;
        rx.await.map_err(|_| Error::Unavailable("the feature-selection worker stopped unexpectedly".into()))
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Finishes the history row however the run ends: a run whose caller went away (the
/// future was dropped) is recorded as cancelled rather than left `running`.
struct Pending<'a> {
    store: &'a Store,
    id: i64,
    finished: bool,
}

impl<'a> Pending<'a> {
    /// Records a run that starts now as `running`, owned by this process until it ends (or
    /// until a Job takes it over).
    fn begin(store: &'a Store, run: &NewExperiment<'_>) -> Result<Self, Error> {
        let id = store.insert_experiment(run)?;
        if let Some(owner) = process_identity(std::process::id()) {
            store.set_experiment_owner(id, &owner)?;
        }
        Ok(Self { store, id, finished: false })
    }

    fn ok(&mut self, report: &SelectionReport, backend: &str, finished: &str) -> Result<bool, Error> {
        self.finished = true;
        finish_ok(self.store, self.id, report, backend, finished)
    }

    fn stopped(&mut self, e: &Error, finished: &str) -> Result<&'static str, Error> {
        self.finished = true;
        let (status, code) = stop_of(e);
        finish_stopped(self.store, self.id, status, code.as_deref(), &e.to_string(), finished)?;
        Ok(status)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let at = rfc3339(Utc::now());
            let done = finish_stopped(
                self.store,
                self.id,
                "cancelled",
                Some("cancelled"),
                "the caller stopped waiting for the run",
                &at,
            );
            if let Err(e) = done {
                tracing::warn!(error = %e, id = self.id, "could not record an abandoned experiment");
            }
        }
    }
}

/// How an error ends a run: `cancelled` or `failed`, with its stable code.
fn stop_of(e: &Error) -> (&'static str, Option<String>) {
    let code = serde_json::to_value(e.code()).ok().and_then(|v| v.as_str().map(str::to_string));
    (if e.code() == crate::ErrorCode::Cancelled { "cancelled" } else { "failed" }, code)
}

/// Records run `id` as ok with `report`, run on `backend`; false when it was finished already
/// (another follower of a cluster run got there first).
fn finish_ok(store: &Store, id: i64, report: &SelectionReport, backend: &str, finished: &str) -> Result<bool, Error> {
    let json = serde_json::to_string(report).map_err(|e| Error::Unavailable(e.to_string()))?;
    let model = model_name(report);
    let fr = &report.final_results;
    Ok(store.finish_experiment(
        id,
        &ExperimentFinish {
            finished_at: finished,
            status: "ok",
            target: Some(&report.dataset_info.target),
            report: Some(&json),
            selected: u32::try_from(fr.selected_features.len()).ok(),
            score: Some(fr.score),
            score_std: Some(fr.score_std),
            metric: Some(&fr.metric),
            model: Some(&model),
            backend: Some(backend),
            seconds: Some(report.performance.total_seconds),
            ..Default::default()
        },
    )?)
}

/// Records run `id` as `status` (`failed` / `cancelled`) with `code` and `message`; false when
/// it was finished already.
fn finish_stopped(
    store: &Store,
    id: i64,
    status: &str,
    code: Option<&str>,
    message: &str,
    finished: &str,
) -> Result<bool, Error> {
    Ok(store.finish_experiment(
        id,
        &ExperimentFinish {
            finished_at: finished,
            status,
            error_code: code,
            error: Some(message),
            ..Default::default()
        },
    )?)
}

fn model_name(report: &SelectionReport) -> String {
    serde_json::to_value(report.final_results.model)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{:?}", report.final_results.model))
}

fn status_of(s: &str) -> ExperimentStatus {
    match s {
        "ok" => ExperimentStatus::Ok,
        "failed" => ExperimentStatus::Failed,
        "cancelled" => ExperimentStatus::Cancelled,
        _ => ExperimentStatus::Running,
    }
}

fn summary(r: &ExperimentRecord) -> ExperimentSummary {
    ExperimentSummary {
        id: r.id,
        started_at: r.started_at.clone(),
        finished_at: r.finished_at.clone(),
        input: r.input.clone(),
        target: r.target.clone(),
        status: status_of(&r.status),
        error_code: r.error_code.clone(),
        error: r.error.clone(),
        out_path: r.out_path.clone(),
        selected: r.selected,
        score: r.score,
        score_std: r.score_std,
        metric: r.metric.clone(),
        model: r.model.clone(),
        backend: r.backend.clone(),
        seconds: r.seconds,
        cluster_job: r
            .cluster_job
            .as_deref()
            .and_then(|j| serde_json::from_str::<JobRef>(j).ok())
            .map(|j| format!("{}/{}", j.namespace, j.job)),
        cluster: r.cluster.clone(),
    }
}

/// Reads the columns of `path` (first rows only) for the UI's preview. Runs off the caller's
/// thread: a large file never blocks the window.
pub async fn preview(path: &str, now: DateTime<Utc>) -> Result<DatasetPreview, Error> {
    let path = path.trim().to_string();
    if path.is_empty() {
        return Err(Error::InvalidInput("choose an input file (CSV, Parquet or dataset YAML)".into()));
    }
    off_thread(move || -> Result<DatasetPreview, Error> {
        let p = Path::new(&path);
        let meta = std::fs::metadata(p).map_err(|e| SelectError::Io { path: path.clone(), source: e })?;
        if meta.is_dir() {
            return Err(Error::InvalidInput(format!("{path} is a folder; choose a file")));
        }
        let format = DatasetFormat::of(p);
        let columns = match format {
            DatasetFormat::DatasetYaml => Vec::new(),
            _ => hsof_select::preview_columns(p)?,
        };
        Ok(DatasetPreview {
            path: path.clone(),
            format,
            size_bytes: meta.len() as f64,
            modified: meta.modified().ok().map(|m| rfc3339(DateTime::<Utc>::from(m))),
            read_at: rfc3339(now),
            columns,
        })
    })
    .await?
}

impl AppContext {
    /// Runs one experiment: records it as `running`, loads the data and runs the three stages
    /// on a worker thread (progress goes to `progress`, from that thread), writes the report
    /// file when asked, and records the outcome. A cancelled (`cancel`) or failed run is
    /// recorded as such, writes no file, and returns the error (`ErrorCode::Cancelled` for a
    /// cancellation). `now` stamps the start and the end. A request with `cluster` set runs as
    /// a Kubernetes Job instead (see `cluster.rs`), recorded and reported the same way.
    pub async fn run_experiment(
        &self,
        request: ExperimentRequest,
        progress: impl Fn(Progress) + Send + Sync + 'static,
        cancel: &CancellationToken,
        now: impl Fn() -> DateTime<Utc> + Send + Sync,
    ) -> Result<Experiment, Error> {
        if request.cluster.is_some() {
            return self.run_cluster_experiment(request, progress, cancel, now).await;
        }
        let plan = request.plan()?;
        let store = self.store()?;
        let started = rfc3339(now());
        let request_json = serde_json::to_string(&request).unwrap_or_else(|_| "null".into());
        let input = plan.input.display().to_string();
        let out_path = plan.out.as_ref().map(|p| p.display().to_string());
        let record_cluster = self.record_cluster();
        let mut pending = Pending::begin(
            store,
            &NewExperiment {
                started_at: &started,
                input: &input,
                target: &plan.target,
                request: &request_json,
                out_path: out_path.as_deref(),
                cluster: record_cluster.as_deref(),
            },
        )?;
        let id = pending.id;
        // If this future is dropped mid-run, stop the worker too.
        let stop = cancel.clone().drop_guard();
        let token = cancel.clone();
        let limit = memory_limit_bytes();
        let outcome = off_thread(move || execute(&plan, limit, &progress, &token)).await;
        let _ = stop.disarm();
        let finished = rfc3339(now());
        match outcome.and_then(|r| r.map_err(Error::from)) {
            Ok(report) => {
                pending.ok(&report, &report.pipeline_info.backend, &finished)?;
                let fr = &report.final_results;
                self.record_event(
                    now(),
                    "experiment.ok",
                    &format!(
                        "experiment #{id} on {input}: {} features, {} {:.3} ± {:.3} ({})",
                        fr.selected_features.len(),
                        fr.metric,
                        fr.score,
                        fr.score_std,
                        model_name(&report)
                    ),
                );
            }
            Err(e) => {
                let status = pending.stopped(&e, &finished)?;
                self.record_event(now(), &format!("experiment.{status}"), &format!("experiment #{id} on {input}: {e}"));
                return Err(e);
            }
        }
        self.experiment_get(id)
    }

    /// The newest `limit` runs, newest first. A run whose process died is settled first.
    pub fn experiments_list(&self, limit: u32) -> Result<Vec<ExperimentSummary>, Error> {
        self.settle_orphaned_experiments(Utc::now());
        Ok(self.store()?.experiments(limit)?.iter().map(summary).collect())
    }

    /// Marks `running` experiments whose process is gone (killed, crashed, the machine
    /// restarted) as failed with code `interrupted`, so the history never shows a run as
    /// running forever. Runs of live processes, this one's included, are left alone.
    pub fn settle_orphaned_experiments(&self, now: DateTime<Utc>) -> u32 {
        let Ok(store) = self.store() else { return 0 };
        let running = match store.running_experiments() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "running experiments could not be read");
                return 0;
            }
        };
        let mut settled = 0;
        for (id, owner) in running {
            let Some(owner) = owner else { continue };
            let Some(pid) = owner.split(':').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
            if process_identity(pid).as_deref() == Some(owner.as_str()) {
                continue;
            }
            let finished = rfc3339(now);
            let error = format!(
                "the process that ran it (pid {pid}) ended before the run finished: killed, crashed or shut down"
            );
            match finish_stopped(store, id, "failed", Some("interrupted"), &error, &finished) {
                Ok(true) => settled += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, id, "an interrupted experiment could not be settled"),
            }
        }
        settled
    }

    /// Run `id` with its request and report.
    pub fn experiment_get(&self, id: i64) -> Result<Experiment, Error> {
        self.settle_orphaned_experiments(Utc::now());
        let rec = self.store()?.experiment(id)?.ok_or_else(|| Error::NotFound(format!("no experiment #{id}")))?;
        let report = rec.report.as_deref().and_then(|j| match serde_json::from_str(j) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, id, "stored experiment report does not parse");
                None
            }
        });
        Ok(Experiment { summary: summary(&rec), request: serde_json::from_str(&rec.request).ok(), report })
    }
}

/// `pid:start time` of a live process, which tells it from a later one given the same pid;
/// `None` when no such process runs.
pub fn process_identity(pid: u32) -> Option<String> {
    let pid = sysinfo::Pid::from_u32(pid);
    let mut sys = sysinfo::System::new().ok()?;
    sys.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
    sys.process(pid).map(|p| format!("{pid}:{}", p.start_time()))
}
