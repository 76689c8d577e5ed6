//! `hsofctl dr`: the monthly DR drill between the primary and a DR cluster, its records,
//! and the roll-back of a drill that ended half-way.

use clap::Subcommand;
use hsof_core::{os_user, AppContext, Error};
use hsof_fleet::drill::{human, DrillRecord};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum DrCmd {
    /// Run the drill: preflight, backup restore test (RPO), failover to the DR cluster
    /// (RTO) and back, a test Slack message, the escalation policy. Without --yes, says
    /// what it would do; exits 1 when the drill does not pass
    Drill {
        /// The DR cluster [default: the first with role = "dr"]
        #[arg(long, value_name = "NAME")]
        dr: Option<String>,
        /// Run it (it scales HSOF in the DR cluster up and back, and creates a Job)
        #[arg(long)]
        yes: bool,
    },
    /// Past drills, newest first
    List {
        /// Only drills that left their DR cluster changed
        #[arg(long)]
        pending: bool,
    },
    /// One drill: steps, evidence, scorecard (Markdown with --markdown)
    Show {
        /// Drill id
        id: i64,
        /// Print the Markdown report
        #[arg(long)]
        markdown: bool,
    },
    /// Put a half-done drill's DR cluster back as it was before (audited)
    Rollback {
        /// Drill id
        id: i64,
        /// Even when the DR cluster's replicas changed since the drill scaled it
        #[arg(long)]
        force: bool,
    },
}

fn print_record(d: &DrillRecord) {
    let card = d.scorecard();
    println!("DR drill #{}  {} → {}  {:?}  started {} by {}", d.id, d.primary, d.dr, d.state, d.started_at, d.by);
    println!(
        "  {}: {} of {} steps passed · RTO {} (target {}) · RPO {} (target {})",
        if card.passed { "PASSED" } else { "NOT PASSED" },
        card.steps_passed,
        card.steps_total,
        d.rto_secs.map_or("not measured".into(), human),
        human(d.targets.rto_secs),
        d.rpo_secs.map_or("not measured".into(), human),
        human(d.targets.rpo_secs),
    );
    for s in &d.steps {
        println!("  {:<8} {}", format!("{:?}", s.verdict).to_uppercase(), s.title);
    }
    for f in &card.findings {
        println!("  ! {f}");
    }
    if d.needs_rollback() {
        println!("  ! {} was left changed: `hsofctl dr rollback {}`", d.dr, d.id);
    }
}

/// Says on stderr which drills left their DR cluster changed.
pub fn warn_pending(ctx: &AppContext) {
    for d in ctx.dr_drills(true, 20).unwrap_or_default() {
        eprintln!(
            "hsofctl: DR drill #{} ended half-way and left {} changed: `hsofctl dr rollback {}` puts it back",
            d.id, d.dr, d.id
        );
    }
}

pub async fn run(ctx: &AppContext, cmd: &DrCmd, out: &Out) -> Result<u8, Error> {
    match cmd {
        DrCmd::Drill { dr, yes } => {
            let (p, d) = ctx.dr_pair(dr.as_deref())?;
            if !yes {
                let cfg = p.config().config;
                let msg = format!(
                    "DR drill {} → {} (not run: add --yes)\n  1. preflight: read-only, permissions, both reachable\n  2. backup restore test on {} ({}), RPO target {}\n  3. failover: scale {} in {} to {} and wait until ready and healthy, RTO target {}; keep it serving {}\n  4. fail back to the replicas it had before\n  5. a [TEST] message to {}\n  6. the escalation policy checked",
                    p.current_cluster().name,
                    d.current_cluster().name,
                    p.current_cluster().name,
                    if cfg.jobs.manifests_dir.is_empty() && cfg.jobs.manifests_configmap.is_empty() {
                        "job backup-restore-test from [jobs]".to_string()
                    } else {
                        "job backup-restore-test from the team's manifest when [jobs] holds one".to_string()
                    },
                    human(cfg.dr.rpo_target_hours * 3600.0),
                    cfg.cluster.deployment,
                    d.current_cluster().name,
                    if cfg.dr.dr_replicas == 0 { "the primary's replicas".to_string() } else { cfg.dr.dr_replicas.to_string() },
                    human(cfg.dr.rto_target_minutes * 60.0),
                    human(f64::from(cfg.dr.failover_hold_secs)),
                    cfg.slack.channel,
                );
                out.line_or_json(&msg, &serde_json::json!({"run": false, "primary": p.current_cluster().name, "dr": d.current_cluster().name}));
                return Ok(0);
            }
            let json = out.json;
            let rec = ctx
                .dr_drill(dr.as_deref(), &os_user(), |id| {
                    if !json {
                        eprintln!("hsofctl: DR drill #{id} started");
                    }
                })
                .await?;
            if out.json {
                out.json_value(&serde_json::json!({"drill": rec, "scorecard": rec.scorecard()}));
            } else {
                print_record(&rec);
            }
            Ok(u8::from(!rec.scorecard().passed))
        }
        DrCmd::List { pending } => {
            let list = ctx.dr_drills(*pending, 50)?;
            if out.json {
                out.json_value(&list);
            } else if list.is_empty() {
                println!("{}", if *pending { "no drill left a DR cluster changed" } else { "no DR drill yet" });
            } else {
                for d in &list {
                    print_record(d);
                }
            }
            Ok(0)
        }
        DrCmd::Show { id, markdown } => {
            let d = ctx.dr_drill_get(*id)?;
            if *markdown {
                print!("{}", d.markdown());
            } else if out.json {
                out.json_value(&serde_json::json!({"drill": d, "scorecard": d.scorecard()}));
            } else {
                print_record(&d);
            }
            Ok(0)
        }
        DrCmd::Rollback { id, force } => {
            let d = ctx.dr_rollback(*id, &os_user(), *force).await?;
            if out.json {
                out.json_value(&d);
            } else {
                println!("DR drill #{}: {} put back", d.id, d.dr);
            }
            Ok(0)
        }
    }
}
