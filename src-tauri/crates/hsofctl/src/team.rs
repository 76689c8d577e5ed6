//! `hsofctl team`: the team store (incidents, procedure runs and maintenance windows as
//! custom resources in the cluster): install it, check it, print its manifests.

use chrono::Utc;
use clap::Subcommand;
use hsof_core::{os_user, AppContext, Error};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum TeamCmd {
    /// Apply the definitions (ops.hsof.io/v1) and the hsof-team-member / -viewer cluster
    /// roles with server-side apply (idempotent, audited); needs a cluster administrator
    Install {
        /// Have the API server check everything and write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Whether the store is installed, of this app's version, and readable and writable
    /// for this identity in the namespace; exits 1 when it cannot be used
    Status,
    /// Print the manifests (for `kubectl apply -f -` by an administrator)
    Manifests,
    /// Send this desktop's writes that wait (in the order they were made) and read every
    /// shared incident; exits 1 when writes still wait
    Sync,
    /// Share the incidents this desktop kept before the team store (offered once)
    Upload {
        /// Keep them on this desktop and stop offering
        #[arg(long)]
        decline: bool,
    },
}

pub async fn run(ctx: &AppContext, cmd: &TeamCmd, out: &Out) -> Result<u8, Error> {
    match cmd {
        TeamCmd::Manifests => {
            print!("{}", hsof_team::manifests_yaml());
            Ok(0)
        }
        TeamCmd::Install { dry_run } => {
            let applied = ctx.team_install(*dry_run, &os_user(), Utc::now()).await?;
            if out.json {
                out.json_value(&applied);
            } else {
                for a in &applied {
                    println!("{:<26} {:<34} {}", a.kind, a.name, a.outcome);
                }
                if !dry_run {
                    println!("Next: `hsofctl team status` with each teammate's identity.");
                }
            }
            Ok(0)
        }
        TeamCmd::Sync => {
            // Sharing turns on here once the store is found installed and writable.
            let status = ctx.team_connect().await?;
            let r = ctx.team_sync(Utc::now()).await?;
            if out.json {
                out.json_value(&r);
            } else if !r.enabled {
                println!("{}", status.summary);
            } else {
                println!(
                    "as {} · {} write(s) sent · {} waiting · {} shared incident(s) read, {} changed here",
                    r.identity.as_deref().unwrap_or("?"),
                    r.sent,
                    r.pending,
                    r.read,
                    r.changed
                );
                for e in &r.errors {
                    println!("  waiting: {e}");
                }
                if let Some(s) = r.clock_skew_secs {
                    let (n, way) = if s > 0 { (s, "behind") } else { (-s, "ahead of") };
                    println!(
                        "  this desktop's clock is {n} s {way} the API server's; shared timers run by the server's"
                    );
                }
                for (name, why) in &r.invalid {
                    println!("  invalid: {name}: {why} (fix it with `kubectl edit incident {name}`; this app does not write over it)");
                }
                let offer = ctx.team_upload_offer()?;
                if !offer.is_empty() {
                    println!(
                        "kept only on this desktop: {} incident(s), {} checklist run(s), {} maintenance window(s); `hsofctl team upload` shares them (`--decline` keeps them here)",
                        offer.incidents.len(),
                        offer.runs.len(),
                        offer.windows.len()
                    );
                }
            }
            Ok(if r.pending == 0 && r.enabled { 0 } else { 1 })
        }
        TeamCmd::Upload { decline } => {
            let n = ctx.team_upload(!decline)?;
            let sent = if *decline { None } else { ctx.team_sync(Utc::now()).await.ok() };
            let text = match (decline, &sent) {
                (true, _) => "kept on this desktop; not offered again".to_string(),
                (false, Some(r)) => format!("{n} incident(s) queued; {} write(s) sent, {} waiting", r.sent, r.pending),
                (false, None) => {
                    format!("{n} incident(s) queued; the cluster did not answer: they wait, not shared yet")
                }
            };
            out.line_or_json(&text, &serde_json::json!({"queued": n, "declined": decline}));
            Ok(0)
        }
        TeamCmd::Status => {
            let s = ctx.team_connect().await?;
            if out.json {
                out.json_value(&s);
            } else {
                println!(
                    "Context {} · namespace {} · you are {}",
                    s.context,
                    s.namespace,
                    s.identity.as_deref().unwrap_or("(the API server does not say: no SelfSubjectReview)")
                );
                for k in &s.kinds {
                    let version = k.version.as_deref().unwrap_or("not installed");
                    let access = match (k.readable, k.writable) {
                        (true, true) => "read + write",
                        (true, false) => "read only",
                        _ => "no access",
                    };
                    println!(
                        "  {:<18} {:<14} {:<12} {}",
                        k.kind,
                        version,
                        access,
                        k.problem.as_deref().unwrap_or("ok")
                    );
                }
                println!("{}", s.summary);
            }
            Ok(if s.installed && s.readable && s.writable { 0 } else { 1 })
        }
    }
}
