//! `hsofctl select …`: feature selection on a local file (the Experiments screen's engine),
//! and the history of runs. Progress goes to stderr (a bar per stage on a terminal, plain
//! lines otherwise) so `--json` keeps stdout clean; Ctrl-C cancels and writes no file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};
use hsof_core::experiments::{
    BackendChoice, ClassWeight, ClusterRun, Experiment, ExperimentRequest, ExperimentSummary, OuterValidation,
    Progress, Stage, Stage1Shards,
};
use hsof_core::{AppContext, Error, Options};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::output::Out;

/// `hsofctl select`: run (the flags) or read the history (a subcommand).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SelectArgs {
    #[command(subcommand)]
    cmd: Option<SelectCmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum SelectCmd {
    /// Past runs, newest first
    History {
        /// How many
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One past run with its ranked features
    Show {
        /// The run's id (from `select history`)
        id: i64,
    },
    /// Follow a cluster run that is still running (after a restart) to its end; Ctrl-C
    /// cancels it (deletes its Job)
    Attach {
        /// The run's id (from `select history`)
        id: i64,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// A CSV or Parquet file (by extension)
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// An HSOF dataset YAML (SQLite table, target and id columns named inside). `--config
    /// FILE.yaml` says the same: a .yaml/.yml given to --config with `select` is the dataset
    #[arg(long, value_name = "FILE", conflicts_with_all = ["input", "target", "id_cols"])]
    dataset: Option<PathBuf>,
    /// The target column
    #[arg(long, value_name = "COL")]
    target: Option<String>,
    /// Columns that identify rows and are not features, comma separated
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    id_cols: Vec<String>,
    /// A column naming each row's group (a patient, a machine): validation never splits a
    /// group; not a feature [default: the dataset YAML's group_column]
    #[arg(long, value_name = "COL", conflicts_with = "time_col")]
    group_col: Option<String>,
    /// A column giving each row's time (numbers, dates or RFC 3339): held-out rows are later
    /// than the rows their selection saw; not a feature [default: the dataset YAML's time_column]
    #[arg(long, value_name = "COL")]
    time_col: Option<String>,
    /// Columns kept by stage 1, the filter [default: 500]
    #[arg(long)]
    k1: Option<u32>,
    /// Columns kept by stage 2, the tree search [default: 50]
    #[arg(long)]
    k2: Option<u32>,
    /// Features in the final subset, stage 3, fixed [default: chosen by the data, up to --k3-max]
    #[arg(long, conflicts_with = "k3_max")]
    k3: Option<u32>,
    /// The largest final size the data may choose: stage 3 cross-validates a grid of sizes up
    /// to it and keeps the smallest within half a standard error of the best; the report says
    /// how [default: 50]
    #[arg(long, value_name = "N")]
    k3_max: Option<u32>,
    /// Seed of every random choice; same seed, same result [default: 42]
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]
    #[arg(long)]
    threads: Option<u32>,
    /// Rows held out of the whole selection for the honest score: `auto` (3 outer folds below
    /// 1,000 rows, a 25 % holdout from there on), `folds:K` (nested, K + 1 selections) or
    /// `holdout:F` (a fraction 0.05..0.5) [default: auto]
    #[arg(long, value_name = "SCHEME", value_parser = parse_outer)]
    outer: Option<OuterValidation>,
    /// Stop stage 2's search after this many seconds (a stopped search depends on the machine's
    /// speed; the report says when it stopped) [default: 60]
    #[arg(long, value_name = "SECS")]
    search_seconds: Option<f64>,
    /// Class weights of the boosted trees: `balanced` weighs each class by n / (k · n_class),
    /// for imbalanced targets [default: none]
    #[arg(long, value_enum)]
    class_weight: Option<ClassWeightArg>,
    /// Compute backend
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Write the report JSON here (atomically, only when the run succeeds)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Run on the cluster as a Kubernetes Job of the engine image ([experiments.cluster]):
    /// the file is uploaded to the data claim first (or give --input pvc:PATH for one
    /// already there); progress, cancel and the report work as for a local run
    #[arg(long)]
    cluster: bool,
    /// GPUs per pod on the cluster [default: experiments.cluster.gpus]
    #[arg(long, requires = "cluster")]
    gpus: Option<u32>,
    /// Shard stage 1 over N pods on the cluster: an Indexed Job whose pod i computes the
    /// stage-1 statistics of column block i, then one Job that merges them and runs stages
    /// 2 and 3 (same kept columns and features as one process) [default: 1]
    #[arg(long, requires = "cluster", value_name = "N")]
    shards: Option<u32>,
    /// Compute one shard of stage 1 (what a shard pod runs): the column block of index
    /// --shard-index (or $JOB_COMPLETION_INDEX) of N, written to --stage1-out
    #[arg(long, value_name = "N", requires = "stage1_out", conflicts_with_all = ["cluster", "stage1_from"])]
    stage1_shards: Option<u32>,
    /// The shard's index, from 0 [default: $JOB_COMPLETION_INDEX]
    #[arg(long, value_name = "I", requires = "stage1_shards")]
    shard_index: Option<u32>,
    /// Where the stage-1 shards write their files
    #[arg(long, value_name = "DIR")]
    stage1_out: Option<PathBuf>,
    /// Run stages 2 and 3 on the stage-1 statistics N shards left in DIR (with --shard-count N)
    #[arg(long, value_name = "DIR", requires = "shard_count", conflicts_with = "cluster")]
    stage1_from: Option<PathBuf>,
    /// How many shard files --stage1-from holds
    #[arg(long, value_name = "N")]
    shard_count: Option<u32>,
    /// How progress is shown: bars on a terminal, plain lines otherwise, or `jsonl` (one
    /// JSON object per line on stdout, then the report as one line: what the cluster's
    /// Job prints for the app to follow)
    #[arg(long, value_enum)]
    progress: Option<ProgressArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProgressArg {
    /// A bar per stage (a terminal)
    Bars,
    /// A line per stage and every 10 %
    Lines,
    /// JSON lines on stdout: {"event":"progress",…}, then {"event":"report",…} or
    /// {"event":"error",…}; --out's folder is created (a Job's results folder on the claim)
    Jsonl,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClassWeightArg {
    /// Every row counts once
    None,
    /// Each class counts as much in total
    Balanced,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    /// The GPU when the CUDA backend can start here, else the CPU (the reason is logged)
    Auto,
    /// The CPU (rayon)
    Cpu,
    /// CUDA on the local NVIDIA GPU; exit 5 naming what is missing when it cannot start
    Gpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => Self::Auto,
            BackendArg::Cpu => Self::Cpu,
            BackendArg::Gpu => Self::Gpu,
        }
    }
}

fn parse_outer(s: &str) -> Result<OuterValidation, String> {
    let s = s.trim().to_ascii_lowercase();
    let bad = || format!("`{s}`: use auto, folds:K (K in 2..=20) or holdout:F (F in 0.05..=0.5)");
    match s.split_once(':') {
        None if s == "auto" => Ok(OuterValidation::Auto),
        Some(("folds", k)) => match k.parse::<u32>() {
            Ok(k) if (2..=20).contains(&k) => Ok(OuterValidation::Folds(k)),
            _ => Err(bad()),
        },
        Some(("holdout", f)) => match f.parse::<f64>() {
            Ok(f) if (0.05..=0.5).contains(&f) => Ok(OuterValidation::Holdout(f)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(), Some("yaml" | "yml"))
}

/// Runs `hsofctl select`. `global_config` is the global `--config`: a YAML there is the
/// dataset, and the app's own config then comes from the environment or the default.
pub fn run(
    args: &SelectArgs,
    global_config: Option<&Path>,
    mut opts: Options,
    on: Option<&str>,
    out: &Out,
) -> Result<ExitCode, Error> {
    let mut dataset = args.run.dataset.clone();
    if let Some(p) = global_config.filter(|p| is_yaml(p)) {
        if dataset.is_some() {
            return Err(Error::InvalidInput("give the dataset YAML once: --dataset or --config".into()));
        }
        dataset = Some(p.to_path_buf());
        opts.config = std::env::var_os(hsof_core::ENV_CONFIG).map(PathBuf::from).filter(|p| !is_yaml(p));
    }
    let ctx = AppContext::open(&opts);
    let ctx = match on {
        Some(name) => ctx.on_cluster(name)?,
        None => ctx,
    };
    crate::say_tightened(&ctx);
    match &args.cmd {
        Some(SelectCmd::History { limit }) => {
            let rows = ctx.experiments_list(*limit)?;
            if out.json {
                out.json_value(&rows);
            } else {
                print_history(&rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(SelectCmd::Show { id }) => {
            let exp = ctx.experiment_get(*id)?;
            if out.json {
                out.json_value(&exp);
            } else {
                print_experiment(&exp);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(SelectCmd::Attach { id }) => {
            let exp = crate::block_on(attach_with_ctrl_c(&ctx, *id, out.json))?;
            if out.json {
                out.json_value(&exp);
            } else {
                print_experiment(&exp);
            }
            Ok(ExitCode::SUCCESS)
        }
        None if args.run.stage1_shards.is_some() => {
            let n = args.run.stage1_shards.unwrap_or(1);
            let index = match args.run.shard_index {
                Some(i) => i,
                None => std::env::var("JOB_COMPLETION_INDEX").ok().and_then(|v| v.parse().ok()).ok_or_else(|| {
                    Error::InvalidInput(
                        "give --shard-index I (or run as an Indexed Job's pod, with $JOB_COMPLETION_INDEX)".into(),
                    )
                })?,
            };
            let dir = args.run.stage1_out.clone().unwrap_or_default();
            let request = request(&args.run, dataset)?;
            let mode = Mode::of(args.run.progress, out.json);
            let written = crate::block_on(with_progress(mode, |sink, token| async move {
                hsof_core::experiments::run_stage1_shard(request, index, n, &dir, move |p| sink.update(&p), &token)
                    .await
            }))?;
            if mode == Mode::Jsonl {
                let mut line = serde_json::to_value(&written).unwrap_or_default();
                line["event"] = serde_json::json!("shard");
                println!("{line}");
            } else {
                out.line_or_json(
                    &format!(
                        "shard {} of {}: {} columns, {} passes → {}",
                        written.shard, written.shards, written.columns, written.passes, written.path
                    ),
                    &written,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        None if args.run.progress == Some(ProgressArg::Jsonl) => {
            // The machine mode a Job runs: its results folder on the claim may be new.
            if let Some(dir) = args.run.out.as_deref().and_then(Path::parent).filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::InvalidInput(format!("cannot create {}: {e}", dir.display())))?;
            }
            let request = request(&args.run, dataset)?;
            let result = crate::block_on(run_with_ctrl_c(&ctx, request, Mode::Jsonl));
            let line = match &result {
                Ok(exp) => serde_json::json!({"event": "report", "experiment": exp.summary.id, "report": exp.report}),
                Err(e) => {
                    let ipc = hsof_core::IpcError::from(e);
                    serde_json::json!({"event": "error", "code": ipc.code, "message": ipc.message})
                }
            };
            println!("{line}");
            result.map(|_| ExitCode::SUCCESS)
        }
        None => {
            let request = request(&args.run, dataset)?;
            let exp = crate::block_on(run_with_ctrl_c(&ctx, request, Mode::of(args.run.progress, out.json)))?;
            if out.json {
                out.json_value(&exp);
            } else {
                print_experiment(&exp);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn request(a: &RunArgs, dataset: Option<PathBuf>) -> Result<ExperimentRequest, Error> {
    let input = match (dataset, &a.input) {
        (Some(d), _) => d,
        (None, Some(i)) => i.clone(),
        (None, None) => {
            return Err(Error::InvalidInput(
                "give --input FILE --target COL (CSV or Parquet), or --config dataset.yaml; `select history` lists past runs"
                    .into(),
            ))
        }
    };
    Ok(ExperimentRequest {
        input: input.display().to_string(),
        target: a.target.clone(),
        id_columns: a.id_cols.clone(),
        group_column: a.group_col.clone(),
        time_column: a.time_col.clone(),
        k1: a.k1,
        k2: a.k2,
        k3: a.k3,
        k3_max: a.k3_max,
        outer: a.outer,
        search_seconds: a.search_seconds,
        class_weight: a.class_weight.map(|w| match w {
            ClassWeightArg::None => ClassWeight::None,
            ClassWeightArg::Balanced => ClassWeight::Balanced,
        }),
        seed: a.seed,
        threads: a.threads,
        backend: a.backend.into(),
        out_path: a.out.as_ref().map(|p| p.display().to_string()),
        cluster: a.cluster.then_some(ClusterRun { gpus: a.gpus, shards: a.shards }),
        stage1_from: a
            .stage1_from
            .as_ref()
            .map(|d| Stage1Shards { dir: d.display().to_string(), shards: a.shard_count.unwrap_or(1) }),
    })
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Bars on a terminal, else lines (none under --json).
    Auto {
        json: bool,
    },
    Bars,
    Lines,
    Jsonl,
}

impl Mode {
    /// The mode `--progress` asks for; bars or lines by the terminal when left out.
    fn of(progress: Option<ProgressArg>, json: bool) -> Self {
        match progress {
            Some(ProgressArg::Jsonl) => Self::Jsonl,
            Some(ProgressArg::Lines) => Self::Lines,
            Some(ProgressArg::Bars) => Self::Bars,
            None => Self::Auto { json },
        }
    }
}

/// Cancels `token` on Ctrl-C (and SIGTERM, as Kubernetes stops a pod).
fn cancel_on_signal(token: &CancellationToken) -> tokio::task::JoinHandle<()> {
    let on_signal = token.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            r = tokio::signal::ctrl_c() => if r.is_err() { return },
            () = term => {}
        }
        eprintln!("hsofctl: cancelling…");
        on_signal.cancel();
    })
}

/// Runs `work` with a progress display in `mode` and a token that Ctrl-C or SIGTERM cancels.
async fn with_progress<T, F>(mode: Mode, work: impl FnOnce(ProgressDisplay, CancellationToken) -> F) -> Result<T, Error>
where
    F: std::future::Future<Output = Result<T, Error>>,
{
    let token = CancellationToken::new();
    let signal = cancel_on_signal(&token);
    let display = ProgressDisplay::new(mode);
    let result = work(display.clone(), token).await;
    display.finish();
    signal.abort();
    result
}

async fn run_with_ctrl_c(ctx: &AppContext, request: ExperimentRequest, mode: Mode) -> Result<Experiment, Error> {
    with_progress(mode, |sink, token| async move {
        ctx.run_experiment(request, move |p| sink.update(&p), &token, Utc::now).await
    })
    .await
}

async fn attach_with_ctrl_c(ctx: &AppContext, id: i64, json: bool) -> Result<Experiment, Error> {
    with_progress(Mode::Auto { json }, |sink, token| async move {
        ctx.experiment_attach(id, move |p| sink.update(&p), &token, Utc::now).await
    })
    .await
}

const STAGES: [Stage; 4] = [Stage::Load, Stage::Filter, Stage::Search, Stage::Evaluate];

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::Load => "load",
        Stage::Filter => "filter",
        Stage::Search => "search",
        Stage::Evaluate => "evaluate",
    }
}

/// The stage, fraction and time of the last JSON progress line.
type LastJsonl = Arc<Mutex<(Option<Stage>, f32, std::time::Instant)>>;

/// The stage and fraction last printed as a plain line.
type LastLine = Arc<Mutex<(Option<Stage>, f32)>>;

/// A bar per stage on a terminal; otherwise a line when a stage starts, every 10 %, and
/// when it ends (plain lines are left out under --json on a pipe, to keep logs short).
#[derive(Clone)]
struct ProgressDisplay {
    bars: Option<Arc<Vec<ProgressBar>>>,
    lines: Option<LastLine>,
    /// JSON lines on stdout: the last (stage, fraction, when) printed.
    jsonl: Option<LastJsonl>,
}

impl ProgressDisplay {
    fn new(mode: Mode) -> Self {
        let none = Self { bars: None, lines: None, jsonl: None };
        let json = match mode {
            Mode::Jsonl => {
                return Self { jsonl: Some(Arc::new(Mutex::new((None, 0.0, std::time::Instant::now())))), ..none }
            }
            Mode::Lines => return Self { lines: Some(Arc::new(Mutex::new((None, 0.0)))), ..none },
            Mode::Bars => false,
            Mode::Auto { json } => json,
        };
        if mode == Mode::Bars || std::io::stderr().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>9} [{bar:32.cyan/blue}] {percent:>3}% {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let bars = STAGES
                .iter()
                .map(|s| {
                    let b = multi.add(ProgressBar::new(1000).with_style(style.clone()));
                    b.set_prefix(stage_name(*s));
                    b.enable_steady_tick(Duration::from_millis(200));
                    b
                })
                .collect();
            Self { bars: Some(Arc::new(bars)), ..none }
        } else if json {
            none
        } else {
            Self { lines: Some(Arc::new(Mutex::new((None, 0.0)))), ..none }
        }
    }

    fn update(&self, p: &Progress) {
        if let Some(state) = &self.jsonl {
            // A line per stage change, per whole percent or per second, whichever is less
            // often: a pod log stays small and the follower still moves.
            let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = s.0 != Some(p.stage)
                || p.fraction - s.1 >= 0.01
                || (p.fraction >= 1.0 && s.1 < 1.0)
                || s.2.elapsed() >= Duration::from_secs(1);
            if due {
                *s = (Some(p.stage), p.fraction, std::time::Instant::now());
                let mut line = serde_json::to_value(p).unwrap_or_default();
                line["event"] = serde_json::json!("progress");
                println!("{line}");
            }
        }
        let i = STAGES.iter().position(|s| *s == p.stage).unwrap_or(0);
        if let Some(bars) = &self.bars {
            for done in &bars[..i] {
                if !done.is_finished() {
                    done.set_position(1000);
                    done.finish();
                }
            }
            bars[i].set_position((p.fraction.clamp(0.0, 1.0) * 1000.0) as u64);
            bars[i].set_message(p.message.clone());
        }
        if let Some(state) = &self.lines {
            let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let new_stage = s.0 != Some(p.stage);
            if new_stage || p.fraction - s.1 >= 0.1 || (p.fraction >= 1.0 && s.1 < 1.0) {
                *s = (Some(p.stage), p.fraction);
                eprintln!("[{}] {:>3.0}% {}", stage_name(p.stage), p.fraction * 100.0, p.message);
            }
        }
    }

    fn finish(&self) {
        if let Some(bars) = &self.bars {
            for b in bars.iter() {
                if !b.is_finished() {
                    b.abandon();
                }
            }
        }
    }
}

fn print_history(rows: &[ExperimentSummary]) {
    if rows.is_empty() {
        println!("no experiments yet: run `hsofctl select --input FILE --target COL`");
        return;
    }
    println!(
        "{:>4}  {:<24}  {:<9}  {:<16}  {:>8}  {:<20}  input",
        "id", "started (UTC)", "status", "target", "features", "score"
    );
    for r in rows {
        let score = match (r.score, r.score_std, &r.metric) {
            (Some(s), Some(sd), Some(m)) => format!("{m} {s:.3} ± {sd:.3}"),
            _ => r.error_code.clone().unwrap_or_default(),
        };
        println!(
            "{:>4}  {:<24}  {:<9}  {:<16}  {:>8}  {:<20}  {}",
            r.id,
            r.started_at,
            format!("{:?}", r.status).to_lowercase(),
            r.target,
            r.selected.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
            score,
            r.input
        );
    }
}

fn print_experiment(e: &Experiment) {
    let s = &e.summary;
    println!("experiment #{}  {}  {}", s.id, format!("{:?}", s.status).to_lowercase(), s.input);
    if let Some(err) = &s.error {
        println!("  {err}");
    }
    let Some(r) = &e.report else { return };
    let d = &r.dataset_info;
    let f = &r.final_results;
    let problem = serde_json::to_value(d.problem_type).ok().and_then(|v| v.as_str().map(str::to_string));
    println!(
        "target {} ({}, {} rows × {} features)",
        d.target,
        problem.unwrap_or_default().replace('_', " "),
        d.rows,
        d.features
    );
    let v = &f.validation;
    let per_fold: Vec<String> = v.fold_scores.iter().map(|x| format!("{x:.3}")).collect();
    let scheme = match v.scheme.as_str() {
        "nested_folds" => format!("{} outer folds: {}", v.fold_scores.len(), per_fold.join(" ")),
        "holdout" => format!("holdout of {} rows", v.held_out_rows.first().copied().unwrap_or(0)),
        "" => format!("{}-fold CV", f.folds),
        other => other.replace('_', " "),
    };
    println!(
        "{} {:.3} ± {:.3} held out ({scheme}; {})  backend {}, {} threads, {:.2} s",
        f.metric,
        f.score,
        f.score_std,
        s.model.as_deref().unwrap_or("?"),
        r.pipeline_info.backend,
        r.pipeline_info.threads,
        r.performance.total_seconds
    );
    if !v.metrics.is_empty() {
        let m: Vec<String> = v.metrics.iter().map(|d| format!("{} {:.3}", d.name, d.value)).collect();
        println!("  held-out metrics: {}", m.join(" · "));
    }
    if !v.scheme.is_empty() {
        println!(
            "  inner {}-fold CV of the chosen subset: {:.3} ± {:.3} (optimistic: it chose the subset)",
            f.folds, v.inner_score, v.inner_score_std
        );
    }
    if !f.size_choice.rule.is_empty() {
        println!("  size: {}", f.size_choice.description);
        if f.size_choice.curve.len() > 1 {
            let curve: Vec<String> = f
                .size_choice
                .curve
                .iter()
                .map(|p| {
                    let mark = if p.size == f.size_choice.chosen { "*" } else { "" };
                    format!("{}{mark} {:.3}", p.size, p.score)
                })
                .collect();
            println!("  inner score by size (* chosen): {}", curve.join(" · "));
        }
    }
    let stages: Vec<String> = r
        .stages
        .iter()
        .map(|st| {
            format!("{} {} → {} ({:.2} s)", stage_name(st.stage), st.input_features, st.output_features, st.seconds)
        })
        .collect();
    println!("stages  {}", stages.join("   "));
    for c in &r.clamps {
        let why = match c.option.as_str() {
            "evaluate.outer" => "too few rows of the smallest class to hold out",
            o if o.ends_with("folds") => "the data has fewer rows",
            _ => "the data has fewer columns",
        };
        println!("  note: {} asked {}, used {} ({why})", c.option, c.requested, c.used);
    }
    println!("\n{:>4}  {:<32}  {:>10}  {:>10}  {:>9}", "rank", "feature", "importance", "relevance", "stability");
    for (i, feat) in f.selected_features.iter().enumerate() {
        let stability = feat.stability.map(|x| format!("{:.0} %", x * 100.0)).unwrap_or_else(|| "—".into());
        println!(
            "{:>4}  {:<32}  {:>10.4}  {:>10.4}  {:>9}",
            i + 1,
            feat.name,
            feat.importance,
            feat.relevance,
            stability
        );
    }
    if let Some(p) = &s.out_path {
        println!("\nreport written to {p}");
    }
}
