//! `hsofctl`: HSOF Control Center from the command line, for cron, CI and tests.
//! Every command prints for people by default and JSON with `--json`; failures exit with
//! the error code's status (see `ErrorCode::exit_status`) and, with `--json`, print
//! `{code, message, detail}` on stdout.

mod calendar;
mod cluster;
mod connect;
mod cost;
mod dataset;
mod demo;
mod dr;
mod fleet;
mod followthrough;
mod gpu;
mod incident;
mod monitoring;
mod output;
mod review;
mod select;
mod team;
mod upkeep;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};
use hsof_core::{config, AppContext, Error, IpcError, Options, SecretValue};

use crate::output::{print_audit, print_doctor, Out};

#[derive(Debug, Parser)]
#[command(name = "hsofctl", version, about = "HSOF Control Center from the command line")]
struct Cli {
    /// Configuration file [default: ~/.config/hsof-control-center/config.toml]
    #[arg(long, global = true, env = hsof_core::ENV_CONFIG, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Data directory [default: ~/.local/share/hsof-control-center]
    #[arg(long, global = true, env = hsof_core::ENV_DATA_DIR, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    /// Work on this cluster of the configuration's [[clusters]] (before the command:
    /// `hsofctl --cluster dr-us health`) [default: the primary]
    #[arg(long, env = "HSOF_CONTROL_CLUSTER", value_name = "NAME")]
    cluster: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The facts Overview shows: app, config, store, kubeconfig, GPUs, this machine
    Doctor,
    /// First run: find HSOF, Prometheus and AlertManager in a kubeconfig context, test each
    /// through the API server's service proxy, and with --save use them (audited); exits 1
    /// when a source answers neither as configured nor as found
    Connect(connect::ConnectArgs),
    /// The team store: incidents, procedure runs and maintenance windows shared through
    /// the cluster as custom resources; `install`, `status`, `manifests`
    Team {
        #[command(subcommand)]
        cmd: team::TeamCmd,
    },
    /// Show, locate or validate the configuration
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Read and verify the audit log
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Store secrets (Slack webhook URL, tokens) in the OS keyring or the 0600 file
    #[command(subcommand)]
    Secret(SecretCmd),
    /// HSOF's health endpoints, judged, with downtime and uptime
    Health,
    /// The runbook's key metrics from Prometheus against their targets
    Metrics,
    /// Active alerts and silences; `ack`, `expire`, `link`
    Alerts {
        #[command(subcommand)]
        cmd: Option<monitoring::AlertsCmd>,
    },
    /// SLOs: SLI, error budget, burn rates, multi-window conditions
    Slo,
    /// The runbook's threshold rules evaluated over the stored samples
    Thresholds,
    /// Run the runbook's morning or evening checklist; exits 1 when a critical check fails
    Check {
        /// morning or evening
        #[arg(value_parser = ["morning", "evening"])]
        which: String,
    },
    /// Read the cluster: contexts, pods, deployments, nodes, rollout history
    Cluster {
        #[command(subcommand)]
        cmd: cluster::ClusterCmd,
    },
    /// Change the main deployment: restart, scale, undo. Previews (server-side dry run)
    /// unless --yes; every applied change is audited
    Change {
        #[command(subcommand)]
        cmd: cluster::ChangeCmd,
        /// Only preview: server-side dry run, nothing changes
        #[arg(long, global = true)]
        dry_run: bool,
        /// Apply without asking
        #[arg(long, global = true)]
        yes: bool,
    },
    /// The operations calendar: occurrences in a range (default: this week) with their
    /// status; subcommands for checklists and the .ics export
    Calendar {
        #[command(subcommand)]
        cmd: Option<calendar::CalendarCmd>,
        /// From: a date (team time zone), RFC 3339, or -7d
        #[arg(long, allow_hyphen_values = true)]
        from: Option<String>,
        /// To: same forms (a bare date counts in whole)
        #[arg(long, allow_hyphen_values = true)]
        to: Option<String>,
    },
    /// A procedure of the catalog: show or run one occurrence's checklist
    Procedure {
        #[command(subcommand)]
        cmd: calendar::ProcedureCmd,
    },
    /// Maintenance windows: add (48 h notice, optional silence), list, cancel
    Maintenance {
        #[command(subcommand)]
        cmd: calendar::MaintenanceCmd,
    },
    /// The runbook's deployment and production quality gates; exits 1 when one fails
    Gates,
    /// The weekly performance summary or monthly review, as Markdown with SVG charts
    Report {
        #[command(subcommand)]
        cmd: calendar::ReportCmd,
    },
    /// Incident response: declare, ack, snapshot, update, resolve, list, show, summary
    Incident {
        #[command(subcommand)]
        cmd: incident::IncidentCmd,
    },
    /// Feature selection on a local CSV / Parquet file or dataset YAML (filter → search →
    /// evaluate); `select history` lists past runs. Ctrl-C cancels (exit 130, no file)
    Select(Box<select::SelectArgs>),
    /// The engine image's side of an upload to the cluster: receive a file on stdin
    /// (checked, atomic), or idle as the upload pod's main process
    Dataset {
        #[command(subcommand)]
        cmd: dataset::DatasetCmd,
    },
    /// A simulated HSOF to try the app on or rehearse with: start, status, stop, scenario
    Demo {
        #[command(subcommand)]
        cmd: demo::DemoCmd,
    },
    /// The local NVIDIA GPUs: utilisation, memory, temperature, power, clocks, throttling,
    /// processes; without a GPU, says why and exits 0
    Gpu(gpu::GpuArgs),
    /// The clusters the configuration names (`[[clusters]]`, or the one `[cluster]`), the
    /// current one starred
    Clusters,
    /// Every cluster at once: reachable, HSOF health, SLO budget left, alerts by severity,
    /// version and replicas, GPUs, last backup, drift from the primary; exits 1 when one
    /// needs a look, 2 when one is critical or unreachable. `fleet diff A B` compares two
    Fleet {
        #[command(subcommand)]
        cmd: Option<fleet::FleetCmd>,
    },
    /// The monthly DR drill: `dr drill [--dr NAME] --yes`, `dr list`, `dr show ID`,
    /// `dr rollback ID`
    Dr {
        #[command(subcommand)]
        cmd: dr::DrCmd,
    },
    /// The weekly security review and the monthly assessment: `review security [--audit]
    /// [--since ID]`, `review list`, `review show ID`, `review sign-off ID`
    Review {
        #[command(subcommand)]
        cmd: review::ReviewCmd,
    },
    /// Friday maintenance and the monthly technology updates: Kubernetes versions against
    /// the skew policy and end of support, objects at API versions the next release
    /// removes, the images running and their fixable vulnerabilities; exits 1 when
    /// something needs planning, 2 when unsupported
    Updates,
    /// The on-call rotation in the team store: `oncall now` (exits 2 when tonight has
    /// hours nobody covers), `week`, `ics`, `override add|cancel`, `member add|remove|list`,
    /// `rotation set|show`
    Oncall {
        #[command(subcommand)]
        cmd: Option<followthrough::OnCallCmd>,
    },
    /// Follow-up actions of incidents, shared through the team store: `followup list`
    /// (exits 1 when one is overdue), `add`, `show`, `start`, `done`, `wontdo`, `reopen`,
    /// `assign`, `due`
    Followup {
        #[command(subcommand)]
        cmd: followthrough::FollowUpCmd,
    },
    /// Cost of HSOF: the source and its prices, cost per dataset by day, week and month,
    /// the month's spend against the budget ([cost] monthly_budget) with its projection,
    /// idle GPU money; exits 1 on a warning or something not read, 2 over budget
    Cost,
    /// Capacity: right-sizing against the 7-day 95th percentile, the HPAs' verdicts,
    /// weekly growth with a trend and when today's GPUs run out, latency and throughput by
    /// hour and weekday, regressions against a baseline; exits 2 on a regression
    Capacity {
        /// The period compared, `FROM..TO` (dates or times in the team time zone);
        /// default: this quarter to date
        #[arg(long)]
        period: Option<String>,
        /// The baseline, `FROM..TO`; default: the last quarter
        #[arg(long)]
        baseline: Option<String>,
    },
    /// Resources left over (finished Jobs, old ReplicaSets, unused ConfigMaps, Secrets and
    /// claims): without --yes a server-side dry run of each deletion; with it, deleted and
    /// audited
    Cleanup {
        /// Only these leftovers (`job/NAME`, `configmap/NAME`, …); default: all
        objects: Vec<String>,
        /// Only preview (the default without --yes)
        #[arg(long, conflicts_with = "yes")]
        dry_run: bool,
        /// Delete them
        #[arg(long)]
        yes: bool,
    },
    /// What the app did (starts, first paint, saves), newest first
    Events {
        /// Only this kind, e.g. app.first_paint
        #[arg(long)]
        kind: Option<String>,
        /// How many
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print the configuration in effect (TOML, or JSON with --json)
    Show {
        /// Print the built-in defaults instead
        #[arg(long)]
        defaults: bool,
    },
    /// Print the configuration file's path
    Path,
    /// Check the file; exits 3 and names each bad key when it is invalid
    Validate,
}

#[derive(Debug, Subcommand)]
enum AuditCmd {
    /// Newest entries first
    List {
        /// How many
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Walk the hash chain; exits 1 at the first broken row
    Verify,
}

#[derive(Debug, Subcommand)]
enum SecretCmd {
    /// Read the value from standard input and store it under NAME
    Set {
        /// e.g. slack-webhook
        name: String,
    },
    /// Remove NAME
    Delete {
        /// e.g. slack-webhook
        name: String,
    },
    /// Say whether NAME is set (never prints the value)
    Check {
        /// e.g. slack-webhook
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    match run(&cli, &out) {
        Ok(code) => code,
        Err(e) => {
            let ipc = IpcError::from(&e);
            if out.json {
                out.json_value(&ipc);
            } else {
                eprintln!("hsofctl: {}", ipc.message);
            }
            ExitCode::from(u8::try_from(ipc.code.exit_status()).unwrap_or(1))
        }
    }
}

/// Says on stderr, once (the first start after an older version left them open), which of
/// the app's files were readable by other users and are now private.
pub(crate) fn say_tightened(ctx: &AppContext) {
    for line in ctx.tightened_lines() {
        eprintln!("hsofctl: {line}");
    }
}

fn run(cli: &Cli, out: &Out) -> Result<ExitCode, Error> {
    let opts =
        Options { config: cli.config.clone(), data_dir: cli.data_dir.clone(), secrets: hsof_core::backend_from_env() };
    // Paths only: no file is created for `config path`.
    if let Command::Config(ConfigCmd::Path) = cli.command {
        let paths = hsof_core::Paths::resolve(opts.config, opts.data_dir);
        out.line_or_json(&paths.config_file.display().to_string(), &serde_json::json!({ "path": paths.config_file }));
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Config(ConfigCmd::Validate) = cli.command {
        let paths = hsof_core::Paths::resolve(opts.config, opts.data_dir);
        let text = std::fs::read_to_string(&paths.config_file)
            .map_err(|e| config::ConfigError::Io { path: paths.config_file.clone(), message: e.to_string() })?;
        config::parse(&paths.config_file, &text)?;
        let msg = format!("{}: valid", paths.config_file.display());
        out.line_or_json(&msg, &serde_json::json!({ "path": paths.config_file, "valid": true }));
        return Ok(ExitCode::SUCCESS);
    }
    // The demo keeps a profile of its own; it never opens the user's.
    if let Command::Demo { cmd } = &cli.command {
        return Ok(ExitCode::from(demo::run(cmd, out)?));
    }
    // Inside the engine image: no configuration, no store.
    if let Command::Dataset { cmd } = &cli.command {
        return Ok(ExitCode::from(dataset::run(cmd, out)?));
    }
    // `select` opens the context itself: a dataset YAML may arrive through --config.
    if let Command::Select(args) = &cli.command {
        return select::run(args, cli.config.as_deref(), opts, cli.cluster.as_deref(), out);
    }
    let ctx = AppContext::open(&opts);
    crate::say_tightened(&ctx);
    let ctx = match &cli.cluster {
        Some(name) => ctx.on_cluster(name)?,
        None => ctx,
    };
    match &cli.command {
        Command::Clusters => fleet::clusters(&ctx, out),
        Command::Dr { cmd } => {
            dr::warn_pending(&ctx);
            return Ok(ExitCode::from(block_on(dr::run(&ctx, cmd, out))?));
        }
        Command::Review { cmd } => return Ok(ExitCode::from(block_on(review::run(&ctx, cmd, out))?)),
        Command::Updates => return Ok(ExitCode::from(block_on(upkeep::updates(&ctx, out))?)),
        Command::Cost => return Ok(ExitCode::from(block_on(cost::cost(&ctx, out))?)),
        Command::Oncall { cmd } => {
            let cmd = cmd.as_ref().unwrap_or(&followthrough::OnCallCmd::Now);
            return Ok(ExitCode::from(block_on(followthrough::oncall(&ctx, cmd, out))?));
        }
        Command::Followup { cmd } => return Ok(ExitCode::from(block_on(followthrough::followup(&ctx, cmd, out))?)),
        Command::Capacity { period, baseline } => {
            return Ok(ExitCode::from(block_on(cost::capacity(&ctx, period.as_deref(), baseline.as_deref(), out))?))
        }
        Command::Cleanup { objects, yes, .. } => {
            return Ok(ExitCode::from(block_on(upkeep::cleanup(&ctx, objects, *yes, out))?))
        }
        Command::Fleet { cmd: None } => {
            dr::warn_pending(&ctx);
            return Ok(ExitCode::from(block_on(fleet::fleet(&ctx, out))?));
        }
        Command::Fleet { cmd: Some(cmd) } => return Ok(ExitCode::from(block_on(fleet::diff(&ctx, cmd, out))?)),
        Command::Doctor => {
            let d = ctx.doctor(Utc::now());
            // Discovery and the service proxy path, when there is a context to look in.
            let sources = if d.kube.contexts.is_empty() {
                None
            } else {
                Some(block_on(ctx.discover_sources(None, Utc::now())).map_err(|e| e.to_string()))
            };
            if out.json {
                let mut v = serde_json::to_value(&d).unwrap_or_default();
                v["sources"] = match &sources {
                    Some(Ok(r)) => serde_json::to_value(r).unwrap_or_default(),
                    Some(Err(e)) => serde_json::json!({ "error": e }),
                    None => serde_json::Value::Null,
                };
                out.json_value(&v);
            } else {
                print_doctor(&d);
                println!("\nSources (discovery through the API server's service proxy)");
                match &sources {
                    Some(Ok(r)) => connect::print_report(r),
                    Some(Err(e)) => println!("  cannot discover: {e}"),
                    None => println!("  no kubeconfig context to discover in; endpoints are used as configured"),
                }
            }
        }
        Command::Connect(args) => return Ok(ExitCode::from(block_on(connect::run(&ctx, args, out))?)),
        Command::Team { cmd } => return Ok(ExitCode::from(block_on(team::run(&ctx, cmd, out))?)),
        Command::Config(ConfigCmd::Show { defaults }) => {
            let loaded = ctx.config();
            let cfg = if *defaults { config::Config::default() } else { loaded.config };
            if out.json {
                out.json_value(&cfg);
            } else {
                if let (false, Some(p)) = (*defaults, &loaded.problem) {
                    eprintln!("hsofctl: the file has a problem, showing the defaults in effect: {p}");
                }
                print!("{}", config::render(&cfg));
            }
        }
        Command::Config(_) | Command::Select(_) | Command::Demo { .. } | Command::Dataset { .. } => {
            unreachable!("handled above")
        }
        Command::Audit(AuditCmd::List { limit }) => {
            let rows = ctx.audit_list(*limit)?;
            if out.json {
                out.json_value(&rows);
            } else {
                print_audit(&rows);
            }
        }
        Command::Audit(AuditCmd::Verify) => {
            let v = ctx.audit_verify()?;
            let text = match (&v.broken_at, &v.reason) {
                (Some(id), Some(r)) => {
                    format!("audit log BROKEN at row {id}: {r} ({} rows read)", v.rows)
                }
                (None, Some(r)) if !v.intact => format!("audit log BROKEN: {r} ({} rows read)", v.rows),
                _ => format!("audit log intact: {} rows, head matches its anchor", v.rows),
            };
            out.line_or_json(&text, &v);
            if !v.intact {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Secret(cmd) => secret(&ctx, cmd, out)?,
        Command::Gpu(args) => gpu::run(&ctx, args, out)?,
        Command::Cluster { cmd } => block_on(cluster::read(&ctx, cmd, out))?,
        Command::Incident { cmd } => block_on(incident::run(&ctx, cmd, out))?,
        Command::Calendar { cmd, from, to } => {
            let cmd = match (cmd, from, to) {
                (Some(c), None, None) => c,
                (None, Some(f), Some(t)) => &calendar::CalendarCmd::List { from: f.clone(), to: t.clone() },
                (None, None, None) => &calendar::CalendarCmd::Week,
                _ => return Err(Error::InvalidInput("give both --from and --to (e.g. --from 2027-01-01 --to 2027-03-31, or --from -7d --to now), or a subcommand".into())),
            };
            let code = block_on(calendar::run(&ctx, cmd, out))?;
            return Ok(ExitCode::from(code));
        }
        Command::Procedure { cmd } => return Ok(ExitCode::from(block_on(calendar::procedure(&ctx, cmd, out))?)),
        Command::Maintenance { cmd } => return Ok(ExitCode::from(block_on(calendar::maintenance(&ctx, cmd, out))?)),
        Command::Gates => return Ok(ExitCode::from(block_on(calendar::gates(&ctx, out))?)),
        Command::Report { cmd } => return Ok(ExitCode::from(block_on(calendar::report(&ctx, cmd, out))?)),
        Command::Change { cmd, dry_run, yes } => {
            let code = block_on(cluster::change(&ctx, cmd, *dry_run, *yes, out))?;
            return Ok(ExitCode::from(code));
        }
        Command::Health
        | Command::Metrics
        | Command::Alerts { .. }
        | Command::Slo
        | Command::Thresholds
        | Command::Check { .. } => {
            return block_on(monitor(&ctx, &cli.command, out));
        }
        Command::Events { kind, limit } => {
            let rows = ctx.store()?.recent_events(kind.as_deref(), *limit).map_err(Error::from)?;
            if out.json {
                out.json_value(&rows);
            } else {
                for e in &rows {
                    println!("{}  {:<18} {}", e.ts, e.kind, e.message);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn block_on<T>(f: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Unavailable(format!("could not start the async runtime: {e}")))?
        .block_on(f)
}

async fn monitor(ctx: &AppContext, cmd: &Command, out: &Out) -> Result<ExitCode, Error> {
    match cmd {
        Command::Health => {
            let h = ctx.health_check(Utc::now).await?;
            if out.json {
                out.json_value(&h)
            } else {
                monitoring::print_health(&h)
            }
        }
        Command::Metrics => {
            let k = ctx.key_metrics(Utc::now()).await?;
            if out.json {
                out.json_value(&k)
            } else {
                monitoring::print_metrics(&k)
            }
        }
        Command::Alerts { cmd } => monitoring::alerts(ctx, cmd.as_ref(), out).await?,
        Command::Slo => {
            let r = ctx.slo_report(Utc::now()).await?;
            if out.json {
                out.json_value(&r)
            } else {
                monitoring::print_slo(&r)
            }
        }
        Command::Thresholds => {
            // The budget's series is kept by the app's poller; here it is brought up to date
            // first (hourly at most), so the budget threshold is judged as the app judges it.
            if let Err(e) = ctx.record_budget_share(Utc::now()).await {
                eprintln!("hsofctl: the budget projection could not be read: {e}");
            }
            let t = ctx.evaluate_thresholds(Utc::now())?;
            if out.json {
                out.json_value(&t);
            } else {
                for s in &t.states {
                    let state = if s.active {
                        "ACTIVE "
                    } else if s.pending {
                        "pending"
                    } else if s.no_data {
                        "no data"
                    } else {
                        "clear  "
                    };
                    println!(
                        "  {state} {:?} {}  (now {})",
                        s.rule.level,
                        s.rule.title,
                        s.value.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())
                    );
                }
            }
        }
        Command::Check { which } => {
            let c = if which == "morning" {
                ctx.check_morning(Utc::now).await?
            } else {
                ctx.check_evening(Utc::now).await?
            };
            if out.json {
                out.json_value(&c)
            } else {
                monitoring::print_check(&c)
            }
            if c.critical_failed {
                return Ok(ExitCode::from(1));
            }
        }
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn secret(ctx: &AppContext, cmd: &SecretCmd, out: &Out) -> Result<(), Error> {
    let store = ctx.secrets();
    match cmd {
        SecretCmd::Set { name } => {
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .map_err(|e| Error::InvalidInput(format!("could not read the value from standard input: {e}")))?;
            let value = value.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                return Err(Error::InvalidInput("the value on standard input is empty".into()));
            }
            store.set(name, &SecretValue::new(value))?;
            ctx.record_event(Utc::now(), "secret.set", &format!("secret `{name}` stored"));
            out.line_or_json(
                &format!("secret `{name}` stored ({:?})", store.backend()),
                &serde_json::json!({ "name": name, "stored": true, "backend": store.backend() }),
            );
        }
        SecretCmd::Delete { name } => {
            store.delete(name)?;
            out.line_or_json(
                &format!("secret `{name}` deleted"),
                &serde_json::json!({ "name": name, "deleted": true }),
            );
        }
        SecretCmd::Check { name } => {
            store.get(name)?;
            out.line_or_json(
                &format!("secret `{name}` is set"),
                &serde_json::json!({ "name": name, "set": true, "backend": store.backend() }),
            );
        }
    }
    Ok(())
}
