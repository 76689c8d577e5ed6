//! `hsofctl incident …`: declare, acknowledge, snapshot, update, resolve, list, show,
//! summary. Slack posts go through the app's outbox: each command that queues one tries
//! to send it at once and says whether it went or waits (the app retries it).

use chrono::Utc;
use clap::Subcommand;
use hsof_core::incidents::{IncidentDetail, IncidentFilter, IncidentView};
use hsof_core::{os_user, AppContext, Error};
use hsof_ops::incidents::roles::Role;
use hsof_ops::incidents::{IncidentStatus, NewIncident, Severity, StatusUpdate};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Declare an incident (P0 system down … P3 cosmetic)
    Declare {
        /// P0, P1, P2 or P3
        #[arg(long)]
        severity: Option<String>,
        /// One line
        #[arg(long)]
        title: Option<String>,
        /// Affected components, comma-separated
        #[arg(long, value_delimiter = ',')]
        components: Vec<String>,
        /// What is known so far
        #[arg(long, default_value = "")]
        description: String,
        /// Fill the declaration from the active alert with this fingerprint
        #[arg(long)]
        from_alert: Option<String>,
        /// The incident commander [default: whoever is on call now]
        #[arg(long)]
        commander: Option<String>,
        /// Declare without a commander (not even the one on call)
        #[arg(long, conflicts_with = "commander")]
        no_commander: bool,
    },
    /// Start a drill (game day): switch the running demo to SCENARIO and declare an
    /// incident marked as a drill — timed like a real one, never posted to Slack, kept out
    /// of `incident stats`; `incident summary ID` ends with the drill's scorecard
    Drill {
        /// healthy, gpu-hot, error-burst, rollout-stuck, backup-failed, node-lost
        scenario: String,
        /// P0 … P3 [default: the runbook's severity for what the scenario does]
        #[arg(long)]
        severity: Option<String>,
        /// The demo profile directory [default: $HSOF_DEMO_DIR or the platform data dir]
        #[arg(long, value_name = "PATH")]
        demo_dir: Option<std::path::PathBuf>,
    },
    /// Acknowledge (stops the response timer)
    Ack {
        /// Incident id
        id: i64,
        /// Also silence the source alert for this many minutes
        #[arg(long)]
        silence_minutes: Option<u32>,
    },
    /// Attach an impact snapshot (pods, health, rollout history, alerts) to the timeline
    Snapshot {
        /// Incident id
        id: i64,
    },
    /// Post a status update (conditions / actions / needs) to the timeline and Slack
    Update {
        /// Incident id
        id: i64,
        /// What is happening
        #[arg(long, default_value = "")]
        conditions: String,
        /// What is being done
        #[arg(long, default_value = "")]
        actions: String,
        /// What help is needed
        #[arg(long, default_value = "")]
        needs: String,
        /// Print the Slack messages without posting
        #[arg(long)]
        preview: bool,
    },
    /// Resolve; schedules the post-mortem for P0/P1
    Resolve {
        /// Incident id
        id: i64,
        /// A closing note
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Incidents, open first
    List {
        /// Only unresolved ones
        #[arg(long)]
        open: bool,
        /// Only this severity
        #[arg(long)]
        severity: Option<String>,
        /// Only this status: open, acknowledged, resolved
        #[arg(long)]
        status: Option<String>,
        /// Declared at or after: a date (team time zone), RFC 3339, or -7d
        #[arg(long, allow_hyphen_values = true)]
        from: Option<String>,
        /// Declared before: same forms (a bare date counts in whole)
        #[arg(long, allow_hyphen_values = true)]
        to: Option<String>,
    },
    /// One incident with its timers, timeline and Slack posts
    Show {
        /// Incident id
        id: i64,
    },
    /// The post-incident summary in Markdown (`> file.md`)
    Summary {
        /// Incident id
        id: i64,
    },
    /// Assign a role (commander, communications, scribe) or hand it over; the time goes on
    /// the timeline
    Role {
        /// Incident id
        id: i64,
        /// commander (ic), communications (comms) or scribe
        role: String,
        /// Who takes it
        who: String,
    },
    /// The post-mortem, written from the incident, the audit log, the alerts, the cluster's
    /// events and rollouts and the SLO burn, with its impact computed (Markdown; `--out`)
    Postmortem {
        /// Incident id
        id: i64,
        /// Set the contributing factors (Markdown; `-` reads standard input)
        #[arg(long)]
        factors: Option<String>,
        /// Set the lessons learned (Markdown; `-` reads standard input)
        #[arg(long)]
        lessons: Option<String>,
        /// Write the Markdown to this file
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// A stakeholder update (status page or stakeholder webhook): previewed, or sent once
    /// per team
    Stakeholder {
        /// Incident id
        id: i64,
        /// What stakeholders read [default: written from the incident's state]
        #[arg(long, default_value = "")]
        body: String,
        /// investigating, identified, monitoring or resolved [default: from the incident]
        #[arg(long)]
        status: Option<String>,
        /// Show what would be sent (the exact request) without sending
        #[arg(long)]
        preview: bool,
    },
    /// MTTA and MTTR per severity over the last N days
    Stats {
        /// Days back from now
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Send what waits in the Slack outbox now
    Flush,
}

fn parse<T: std::str::FromStr>(s: &str) -> Result<T, Error>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| Error::InvalidInput(e.to_string()))
}

fn countdown(secs: i64) -> String {
    let (sign, s) = if secs < 0 { ("overdue by ", -secs) } else { ("in ", secs) };
    format!("{sign}{}:{:02}", s / 60, s % 60)
}

fn print_view(v: &IncidentView) {
    let i = &v.incident;
    let timers = v.timers.as_ref().map_or(String::new(), |t| {
        let mut parts = vec![];
        if i.acknowledged_at.is_none() {
            parts.push(format!("ack {}", countdown(t.seconds_to_ack)));
        }
        if i.escalated_at.is_none() {
            parts.push(format!("escalate {}", countdown(t.seconds_to_escalation)));
        }
        if let Some(u) = t.seconds_to_update {
            parts.push(format!("update {}", countdown(u)));
        }
        parts.join(" · ")
    });
    println!(
        "#{:<4} {}{}  {:<12} {}  {}{}",
        i.id,
        i.severity,
        if i.drill.is_some() { " DRILL" } else { "" },
        i.status.to_string(),
        i.declared_at.format("%Y-%m-%d %H:%M"),
        i.title,
        if timers.is_empty() { String::new() } else { format!("  [{timers}]") }
    );
}

fn print_detail(d: &IncidentDetail) {
    print_view(&d.view);
    for e in &d.timeline {
        println!("  {}  {:<13} {:<10} {}", e.at.format("%H:%M:%S"), e.kind.to_string(), e.author, e.text);
    }
    for p in &d.slack {
        let state = match (&p.posted_at, p.gave_up) {
            (Some(at), _) => format!("posted {at}"),
            (None, true) => format!("refused: {}", p.last_error.as_deref().unwrap_or("?")),
            (None, false) => match &p.last_error {
                Some(e) => format!("waiting (retry {}): {e}", p.next_attempt_at.as_deref().unwrap_or("soon")),
                None => "queued".to_string(),
            },
        };
        println!("  slack #{:<4} {state}", p.id);
    }
    for p in &d.stakeholder {
        let state = match (&p.posted_at, p.gave_up) {
            (Some(at), _) => format!("delivered {at}"),
            (None, true) => format!("refused: {}", p.last_error.as_deref().unwrap_or("?")),
            (None, false) => match &p.last_error {
                Some(e) => format!("waiting (retry {}): {e}", p.next_attempt_at.as_deref().unwrap_or("soon")),
                None => "queued".to_string(),
            },
        };
        println!("  stakeholders {state}: {}", p.body);
    }
    for r in &d.roles {
        println!("  {}: {} (since {})", r.role.title(), r.who, r.since.format("%H:%M:%S"));
    }
    if let Some(who) = &d.view.escalates_to {
        println!("  escalates to {who} (on call)");
    }
    for f in &d.followups {
        println!("  follow-up {} [{}] {} — {} due {}", f.name, f.state, f.title, f.owner, f.due);
    }
    if let Some(due) = &d.postmortem_due {
        println!("  post-mortem scheduled for {due}");
    }
}

/// Runs one incident command.
pub async fn run(ctx: &AppContext, cmd: &IncidentCmd, out: &Out) -> Result<(), Error> {
    let now = Utc::now();
    let actor = os_user();
    // A desktop where the team store was never found looks again (at most hourly), so a
    // declaration made here is shared once an administrator installed it.
    ctx.team_connect_if_due(now).await;
    // Reads show the team's records as the cluster has them now.
    let _ = ctx.team_sync(now).await;
    let detail = match cmd {
        IncidentCmd::Declare { severity, title, components, description, from_alert, commander, no_commander } => {
            let mut new = match from_alert {
                Some(fp) => ctx.incident_from_alert(fp, now).await?,
                None => NewIncident {
                    title: String::new(),
                    severity: Severity::P2,
                    components: vec![],
                    description: String::new(),
                    source_alert: None,
                    drill: None,
                },
            };
            if let Some(s) = severity {
                new.severity = parse(s)?;
            } else if from_alert.is_none() {
                return Err(Error::InvalidInput("--severity is required (P0, P1, P2 or P3)".into()));
            }
            if let Some(t) = title {
                new.title = t.clone();
            }
            if !components.is_empty() {
                new.components = components.clone();
            }
            if !description.is_empty() {
                new.description = description.clone();
            }
            let d = ctx.incident_declare(&new, &actor, now)?;
            let commander =
                if *no_commander { None } else { commander.clone().or_else(|| ctx.proposed_commander(now)) };
            match commander {
                Some(c) => ctx.incident_role(d.view.incident.id, Role::Commander, &c, &actor, now)?,
                None => d,
            }
        }
        IncidentCmd::Role { id, role, who } => ctx.incident_role(*id, parse::<Role>(role)?, who, &actor, now)?,
        IncidentCmd::Postmortem { id, factors, lessons, out: file } => {
            let read = |v: &Option<String>| -> Result<Option<String>, Error> {
                match v.as_deref() {
                    Some("-") => {
                        let mut s = String::new();
                        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                            .map_err(|e| Error::InvalidInput(format!("standard input: {e}")))?;
                        Ok(Some(s))
                    }
                    other => Ok(other.map(str::to_string)),
                }
            };
            let (f, l) = (read(factors)?, read(lessons)?);
            let pm = if f.is_some() || l.is_some() {
                let v = ctx.incident_postmortem_edit(*id, f.as_deref(), l.as_deref(), &actor, now).await?;
                if let Err(e) = ctx.team_sync(Utc::now()).await {
                    eprintln!("Team store: not shared yet ({e}); kept and sent by the next sync");
                }
                v
            } else {
                ctx.incident_postmortem(*id, now).await?
            };
            if let Some(path) = file {
                std::fs::write(path, &pm.markdown)
                    .map_err(|e| Error::InvalidInput(format!("cannot write {}: {e}", path.display())))?;
                eprintln!("wrote {}", path.display());
            }
            if out.json {
                out.json_value(&pm);
            } else if file.is_none() {
                print!("{}", pm.markdown);
            }
            return Ok(());
        }
        IncidentCmd::Stakeholder { id, body, status, preview } => {
            let mut p = ctx.incident_stakeholder_preview(*id, body, now)?;
            if let Some(s) = status {
                p.update.status = serde_json::from_value(serde_json::json!(s.to_ascii_lowercase())).map_err(|_| {
                    Error::InvalidInput(format!("--status {s:?}: investigating, identified, monitoring or resolved"))
                })?;
                // What is sent with the status given: the request rendered again.
                p = ctx.incident_stakeholder_render(*id, &p.update, now)?;
            }
            if *preview {
                if out.json {
                    out.json_value(&p);
                } else {
                    println!("target: {}", p.target);
                    if let Some(r) = &p.request {
                        println!(
                            "{} {}\n{}",
                            r.method,
                            r.path,
                            serde_json::to_string_pretty(&r.body).unwrap_or_default()
                        );
                    }
                    if let Some(b) = &p.webhook_body {
                        println!("{b}");
                    }
                    if let Some(b) = &p.blocked {
                        println!("would wait: {b}");
                    }
                }
                return Ok(());
            }
            ctx.incident_stakeholder_send(*id, &p.update, &actor, now)?;
            ctx.incident_detail(*id, now)?
        }
        IncidentCmd::Drill { scenario, severity, demo_dir } => {
            let severity = severity.as_deref().map(parse::<Severity>).transpose()?;
            let profile = hsof_demo::Profile::resolve(demo_dir.clone()).map_err(Error::Unavailable)?;
            hsof_demo::drill::start(ctx, &profile, scenario, severity, &actor, now)?
        }
        IncidentCmd::Ack { id, silence_minutes } => ctx.incident_ack(*id, *silence_minutes, &actor, now).await?,
        IncidentCmd::Snapshot { id } => ctx.incident_snapshot(*id, &actor, now).await?,
        IncidentCmd::Update { id, conditions, actions, needs, preview } => {
            let u = StatusUpdate { conditions: conditions.clone(), actions: actions.clone(), needs: needs.clone() };
            if *preview {
                let msgs = ctx.incident_update_preview(*id, &u, &actor, now)?;
                if out.json {
                    out.json_value(&msgs);
                } else {
                    for m in msgs {
                        println!("{}\n", m.text);
                    }
                }
                return Ok(());
            }
            ctx.incident_update(*id, &u, &actor, now)?
        }
        IncidentCmd::Resolve { id, note } => ctx.incident_resolve(*id, note, &actor, now)?,
        IncidentCmd::List { open, severity, status, from, to } => {
            let filter = IncidentFilter {
                severity: severity.as_deref().map(parse::<Severity>).transpose()?,
                status: status.as_deref().map(parse::<IncidentStatus>).transpose()?,
                open_only: *open,
                from: from.clone(),
                to: to.clone(),
            };
            let list = ctx.incidents(&filter, now)?;
            if out.json {
                out.json_value(&list);
            } else if list.is_empty() {
                println!("no incidents");
            } else {
                list.iter().for_each(print_view);
            }
            return Ok(());
        }
        IncidentCmd::Show { id } => ctx.incident_detail(*id, now)?,
        IncidentCmd::Summary { id } => {
            let md = ctx.incident_summary(*id)?;
            if out.json {
                out.json_value(&serde_json::json!({ "id": id, "markdown": md }));
            } else {
                print!("{md}");
            }
            return Ok(());
        }
        IncidentCmd::Stats { days } => {
            let stats = ctx.incident_stats(now - chrono::Duration::days(*days), now)?;
            if out.json {
                out.json_value(&stats);
            } else {
                println!("{:<4} {:>6} {:>10} {:>10}", "SEV", "COUNT", "MTTA", "MTTR");
                let m = |s: Option<f64>| s.map_or("—".to_string(), |s| format!("{:.0} min", s / 60.0));
                for s in stats {
                    println!(
                        "{:<4} {:>6} {:>10} {:>10}",
                        s.severity.to_string(),
                        s.count,
                        m(s.mtta_secs),
                        m(s.mttr_secs)
                    );
                }
            }
            return Ok(());
        }
        IncidentCmd::Flush => {
            let (posted, failed) = ctx.flush_slack(now).await?;
            out.line_or_json(
                &format!("{posted} posted, {failed} failed (kept and retried)"),
                &serde_json::json!({ "posted": posted, "failed": failed }),
            );
            return Ok(());
        }
    };
    // A shared incident's write goes to the team now if the cluster answers; otherwise it
    // waits in the outbox (the app, or `hsofctl team sync`, sends it later).
    if let Err(e) = ctx.team_sync(Utc::now()).await {
        eprintln!("Team store: not shared yet ({e}); kept and sent by the next sync");
    }
    // What this command queued for Slack goes now if it can; otherwise it waits in the
    // outbox and the app (or `hsofctl incident flush`) sends it later.
    let (_, failed) = ctx.flush_slack(Utc::now()).await?;
    let detail = ctx.incident_detail(detail.view.incident.id, Utc::now())?;
    if out.json {
        out.json_value(&detail);
    } else {
        print_detail(&detail);
        if failed > 0 {
            eprintln!("Slack: {failed} message(s) not posted yet; kept in the outbox and retried");
        }
    }
    Ok(())
}
