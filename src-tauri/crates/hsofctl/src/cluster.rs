//! `hsofctl cluster …` (reads) and `hsofctl change …` (audited changes).

use chrono::Utc;
use clap::Subcommand;
use hsof_core::cluster::ChangeRequest;
use hsof_core::{os_user, AppContext, Error};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Contexts in the kubeconfig
    Contexts,
    /// Pods in the namespace (kubectl get pods)
    Pods {
        /// Keep watching: print the table again on every change (a JSON line each with
        /// --json) until interrupted (kubectl get pods -w)
        #[arg(short, long)]
        watch: bool,
    },
    /// Deployments and their rollout state
    Deployments,
    /// Nodes with GPU capacity
    Nodes,
    /// Rollout history of the main deployment (kubectl rollout history)
    History,
    /// CPU and memory from metrics-server (kubectl top pods / nodes)
    Top {
        /// pods or nodes
        #[arg(value_parser = ["pods", "nodes"])]
        what: String,
        /// Sort by cpu or memory, highest first
        #[arg(long, value_parser = ["cpu", "memory"])]
        sort_by: Option<String>,
    },
    /// Follow the main deployment's rollout until complete, failed or timed out
    /// (kubectl rollout status); exits 5 unless complete
    RolloutStatus {
        /// Give up after this many seconds
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Events in the namespace, newest first
    Events,
    /// The backup CronJob: schedule, last run, last success
    Backup,
    /// Images in use and how many pods run each (the Friday update review)
    Images,
    /// The last lines of a pod's log; with --follow, new lines as they come, resuming
    /// after a dropped connection without repeats (kubectl logs -f)
    Logs {
        /// Pod name
        pod: String,
        /// How many lines
        #[arg(long, default_value_t = 50)]
        tail: i64,
        /// Keep following until interrupted
        #[arg(short, long)]
        follow: bool,
    },
    /// Storage in a running pod of the main deployment: `df -h` through exec
    /// (kubectl exec deployment/hsof-main -- df -h)
    Df,
}

#[derive(Debug, Subcommand)]
pub enum ChangeCmd {
    /// kubectl rollout restart deployment/<deployment>
    Restart,
    /// kubectl scale deployment <deployment> --replicas=N (0–50)
    Scale {
        /// Desired replicas
        #[arg(allow_negative_numbers = true)]
        replicas: i32,
    },
    /// kubectl rollout undo deployment/<deployment> [--to-revision=N]
    Undo {
        /// Revision to return to (default: the previous one)
        #[arg(long)]
        to_revision: Option<u32>,
    },
    /// Create one of the runbook's Jobs and follow it to completion with its log
    /// (exits 1 when the Job fails)
    RunJob {
        /// vulnerability-scan, backup-restore-test, integration-tests or load-tests
        #[arg(value_enum)]
        job: JobArg,
        /// Stop following after this many seconds
        #[arg(long, default_value_t = 1800)]
        timeout: u64,
    },
    /// kubectl patch configmap <configmap> with KEY=VALUE pairs
    PatchConfig {
        /// KEY=VALUE
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// kubectl patch deployment: set a container's requests / limits (vertical scaling)
    SetResources {
        /// Container (default: the first, `hsof`)
        #[arg(long, default_value = "hsof")]
        container: String,
        /// CPU request, e.g. 4 or 500m
        #[arg(long)]
        cpu_request: Option<String>,
        /// CPU limit
        #[arg(long)]
        cpu_limit: Option<String>,
        /// Memory request, e.g. 16Gi
        #[arg(long)]
        memory_request: Option<String>,
        /// Memory limit
        #[arg(long)]
        memory_limit: Option<String>,
        /// nvidia.com/gpu per pod
        #[arg(long)]
        gpus: Option<u32>,
    },
}

/// The runbook's Jobs, as the CLI names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum JobArg {
    /// vulnerability-scan
    VulnerabilityScan,
    /// backup-restore-test
    BackupRestoreTest,
    /// hsof-integration-tests
    IntegrationTests,
    /// hsof-load-tests
    LoadTests,
}

impl From<JobArg> for hsof_core::cluster::RunbookJob {
    fn from(j: JobArg) -> Self {
        match j {
            JobArg::VulnerabilityScan => Self::VulnerabilityScan,
            JobArg::BackupRestoreTest => Self::BackupRestoreTest,
            JobArg::IntegrationTests => Self::IntegrationTests,
            JobArg::LoadTests => Self::LoadTests,
        }
    }
}

pub async fn read(ctx: &AppContext, cmd: &ClusterCmd, out: &Out) -> Result<(), Error> {
    if let ClusterCmd::Contexts = cmd {
        let d = ctx.doctor(Utc::now());
        if out.json {
            out.json_value(&d.kube);
        } else {
            for c in &d.kube.contexts {
                let cur = if d.kube.current_context.as_deref() == Some(&c.name) { "*" } else { " " };
                println!("{cur} {:<28} cluster={} ns={}", c.name, c.cluster, c.namespace.as_deref().unwrap_or("-"));
            }
            if let Some(h) = &d.kube.hint {
                println!("{h}");
            }
        }
        return Ok(());
    }
    let c = ctx.cluster().await?;
    let now = Utc::now();
    match cmd {
        ClusterCmd::Pods { watch: false } => {
            let pods = c.pods().await?;
            if out.json {
                out.json_value(&pods);
                return Ok(());
            }
            print_pods(&pods, now);
        }
        ClusterCmd::Pods { watch: true } => {
            let live = hsof_cluster::Live::start(&c);
            let mut changes = live.subscribe();
            let mut shown = None;
            loop {
                if let Some(pods) = live.pods() {
                    if shown.as_ref() != Some(&pods) {
                        if out.json {
                            println!("{}", serde_json::to_string(&pods).unwrap_or_default());
                        } else {
                            println!("--- {} ---", Utc::now().format("%H:%M:%S"));
                            print_pods(&pods, Utc::now());
                        }
                        shown = Some(pods);
                    }
                }
                for st in live.states().iter().filter(|s| s.error.is_some()) {
                    eprintln!("watch {}: reconnecting: {}", st.resource, st.error.as_deref().unwrap_or_default());
                }
                if changes.changed().await.is_err() {
                    return Ok(());
                }
                // Coalesce a burst of changes into one table.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                changes.borrow_and_update();
            }
        }
        ClusterCmd::Deployments => {
            let d = c.deployments().await?;
            if out.json {
                out.json_value(&d);
                return Ok(());
            }
            println!("{:<24} {:<7} {:<10} {:<9} IMAGES", "NAME", "READY", "UP-TO-DATE", "REVISION");
            for r in d {
                println!(
                    "{:<24} {:<7} {:<10} {:<9} {}",
                    r.name,
                    format!("{}/{}", r.ready, r.replicas),
                    r.updated,
                    r.revision,
                    r.images.join(",")
                );
            }
        }
        ClusterCmd::Nodes => {
            let n = c.nodes().await?;
            if out.json {
                out.json_value(&n);
                return Ok(());
            }
            println!("{:<24} {:<6} {:>8} {:>8} {:>6} MEMORY", "NAME", "READY", "GPU CAP", "GPU ALLOC", "CPU");
            for r in n {
                println!(
                    "{:<24} {:<6} {:>8} {:>8} {:>6} {}",
                    r.name, r.ready, r.gpu_capacity, r.gpu_allocatable, r.cpu, r.memory
                );
            }
        }
        ClusterCmd::History => {
            let h = c.history(&ctx.config().config.cluster.deployment).await?;
            if out.json {
                out.json_value(&h);
                return Ok(());
            }
            println!("REVISION  CHANGE-CAUSE");
            for r in h {
                println!(
                    "{:<9} {}{}",
                    r.revision,
                    r.change_cause.unwrap_or_else(|| "<none>".into()),
                    if r.current { "   (current)" } else { "" }
                );
            }
        }
        ClusterCmd::Top { what, sort_by } => {
            let mut rows = if what == "pods" { c.top_pods().await? } else { c.top_nodes().await? };
            match sort_by.as_deref() {
                Some("cpu") => rows.sort_by(|a, b| b.cpu_millicores.total_cmp(&a.cpu_millicores)),
                Some("memory") => rows.sort_by(|a, b| b.memory_bytes.total_cmp(&a.memory_bytes)),
                _ => {}
            }
            if out.json {
                out.json_value(&rows);
                return Ok(());
            }
            println!("{:<40} {:>11} {:>5} {:>14} {:>7}", "NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%");
            let pct = |p: Option<f64>| p.map(|v| format!("{v:.0}%")).unwrap_or_default();
            for r in rows {
                println!(
                    "{:<40} {:>10.0}m {:>5} {:>12.0}Mi {:>7}",
                    r.name,
                    r.cpu_millicores,
                    pct(r.cpu_pct),
                    r.memory_bytes / 1_048_576.0,
                    pct(r.memory_pct)
                );
            }
        }
        ClusterCmd::RolloutStatus { timeout } => {
            let deployment = ctx.config().config.cluster.deployment;
            let json = out.json;
            let s = c
                .rollout_status(
                    &deployment,
                    std::time::Duration::from_secs(*timeout),
                    std::time::Duration::from_secs(2),
                    |s| {
                        if !json {
                            println!("{}", s.message);
                        }
                    },
                )
                .await?;
            if json {
                out.json_value(&s);
            }
            if s.state != "complete" {
                return Err(Error::Unavailable(format!("rollout {}: {}", s.state, s.message)));
            }
        }
        ClusterCmd::Events => {
            let ev = c.events().await?;
            if out.json {
                out.json_value(&ev);
                return Ok(());
            }
            for e in ev {
                println!(
                    "{:<22} {:<8} {:<22} {:<36} {}",
                    e.last_seen.unwrap_or_default(),
                    e.kind,
                    e.reason,
                    e.object,
                    e.message
                );
            }
        }
        ClusterCmd::Backup => {
            let b = c.backup(&ctx.config().config.cluster.backup_cronjob).await?;
            if out.json {
                out.json_value(&b);
                return Ok(());
            }
            println!("{} schedule \"{}\"{}", b.name, b.schedule, if b.suspended { " (SUSPENDED)" } else { "" });
            println!("  last scheduled  {}", b.last_schedule.as_deref().unwrap_or("never"));
            println!("  last success    {}", b.last_success.as_deref().unwrap_or("never"));
            if b.last_run_failed {
                println!("  the last scheduled run has not succeeded");
            }
        }
        ClusterCmd::Images => {
            let i = c.images().await?;
            if out.json {
                out.json_value(&i);
                return Ok(());
            }
            for u in i {
                println!("{:>5} pods  {}", u.pods, u.image);
            }
        }
        ClusterCmd::Logs { pod, tail, follow: false } => {
            let text = c.logs(pod, *tail).await?;
            if out.json {
                out.json_value(&serde_json::json!({ "pod": pod, "lines": text.lines().collect::<Vec<_>>() }));
            } else {
                print!("{text}");
            }
        }
        ClusterCmd::Logs { pod, tail, follow: true } => {
            let json = out.json;
            let never = tokio_util::sync::CancellationToken::new();
            c.follow_logs(pod, None, *tail, &never, |ev| match ev {
                hsof_cluster::FollowEvent::Line(l) if json => {
                    println!("{}", serde_json::to_string(&l).unwrap_or_default());
                }
                hsof_cluster::FollowEvent::Line(l) => println!("{}", l.text),
                hsof_cluster::FollowEvent::Reconnecting { error, retry_ms, .. } => {
                    eprintln!("log stream interrupted ({error}); resuming in {retry_ms} ms");
                }
                hsof_cluster::FollowEvent::Connected => {}
            })
            .await?;
        }
        ClusterCmd::Df => {
            let deployment = ctx.config().config.cluster.deployment;
            let r = c.df(&deployment).await?;
            if out.json {
                out.json_value(&r);
                return Ok(());
            }
            println!("pod {}", r.pod);
            println!("{:<24} {:>6} {:>6} {:>6} {:>5}  MOUNTED ON", "FILESYSTEM", "SIZE", "USED", "AVAIL", "USE%");
            for d in r.rows {
                println!(
                    "{:<24} {:>6} {:>6} {:>6} {:>4}%  {}",
                    d.filesystem, d.size, d.used, d.avail, d.use_percent, d.mounted_on
                );
            }
        }
        ClusterCmd::Contexts => {}
    }
    Ok(())
}

/// Exit status when a change needs `--yes`.
pub const NEEDS_CONFIRMATION: u8 = 10;

pub async fn change(ctx: &AppContext, cmd: &ChangeCmd, dry_run: bool, yes: bool, out: &Out) -> Result<u8, Error> {
    let request = match cmd {
        ChangeCmd::Restart => ChangeRequest::Restart,
        ChangeCmd::Scale { replicas } => ChangeRequest::Scale { replicas: *replicas },
        ChangeCmd::Undo { to_revision } => ChangeRequest::Undo { to_revision: *to_revision },
        ChangeCmd::RunJob { job, .. } => ChangeRequest::RunJob { job: (*job).into() },
        ChangeCmd::PatchConfig { pairs } => {
            let mut set = std::collections::BTreeMap::new();
            for p in pairs {
                let (k, v) = p.split_once('=').ok_or_else(|| Error::InvalidInput(format!("`{p}` is not KEY=VALUE")))?;
                set.insert(k.to_string(), v.to_string());
            }
            ChangeRequest::PatchConfig { set }
        }
        ChangeCmd::SetResources { container, cpu_request, cpu_limit, memory_request, memory_limit, gpus } => {
            ChangeRequest::SetResources {
                container: container.clone(),
                resources: hsof_cluster::Resources {
                    cpu_request: cpu_request.clone(),
                    cpu_limit: cpu_limit.clone(),
                    memory_request: memory_request.clone(),
                    memory_limit: memory_limit.clone(),
                    gpus: *gpus,
                },
            }
        }
    };
    // Without --yes the change is only previewed (server-side dry run).
    let preview_only = dry_run || !yes;
    // A change an earlier process applied without recording its outcome is settled first.
    match ctx.reconcile_changes(Utc::now()).await {
        Ok(0) => {}
        Ok(n) => eprintln!("audit: {n} earlier change(s) without a recorded outcome checked against the cluster"),
        Err(e) => eprintln!("audit: earlier changes without a recorded outcome stay unchecked: {e}"),
    }
    let outcome = ctx.change(&request, preview_only, &os_user(), Utc::now()).await?;
    if out.json {
        out.json_value(&outcome);
    } else {
        println!("{}\n  before: {}\n  after:  {}", outcome.message, outcome.before, outcome.after);
        if !dry_run && !yes {
            println!("Nothing was changed. Re-run with --yes to apply, or --dry-run to only preview.");
        }
    }
    if let (ChangeCmd::RunJob { timeout, .. }, false, false) = (cmd, dry_run, !yes) {
        // Follow the Job like `kubectl logs job/<name> -f`.
        let name = outcome.target.trim_start_matches("job/").to_string();
        let job = match cmd {
            ChangeCmd::RunJob { job, .. } => Some(hsof_core::cluster::RunbookJob::from(*job)),
            _ => None,
        };
        let done = ctx.follow_runbook_job(job, &name, std::time::Duration::from_secs(*timeout), Utc::now).await?;
        if out.json {
            out.json_value(&done);
        } else {
            println!("job/{} {}\n{}", done.name, done.state, done.logs);
        }
        return Ok(if done.state == "succeeded" { 0 } else { 1 });
    }
    Ok(if !dry_run && !yes { NEEDS_CONFIRMATION } else { 0 })
}

fn print_pods(pods: &[hsof_cluster::PodRow], now: chrono::DateTime<Utc>) {
    println!(
        "{:<40} {:<6} {:<10} {:>8} {:>5} {:>4}  {:<14} IMAGES",
        "NAME", "READY", "STATUS", "RESTARTS", "AGE", "GPU", "NODE"
    );
    for p in pods {
        println!(
            "{:<40} {:<6} {:<10} {:>8} {:>5} {:>4}  {:<14} {}",
            p.name,
            p.ready,
            p.phase,
            p.restarts,
            hsof_cluster::age(p.created.as_deref(), now),
            p.gpus,
            p.node,
            p.images.join(",")
        );
    }
}
