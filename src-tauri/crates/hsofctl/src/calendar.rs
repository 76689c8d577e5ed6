//! `hsofctl calendar …`: the operations calendar from a shell or cron — what is due,
//! run an occurrence's automated steps, tick, complete, skip, the quality gates,
//! maintenance windows and the .ics export (rewritten on a schedule with --every).

use chrono::{DateTime, Duration, Utc};
use clap::Subcommand;
use hsof_core::calendar::{CalendarView, NewWindow, OccurrenceDetail};
use hsof_core::{os_user, AppContext, Error};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum CalendarCmd {
    /// Occurrences of today (team time zone) with their status
    Today,
    /// Occurrences of the next 7 days
    Week,
    /// Occurrences starting in a range: dates (team time zone, the end day included), RFC 3339, or -7d / +2w
    List {
        /// From
        #[arg(long, allow_hyphen_values = true)]
        from: String,
        /// To
        #[arg(long, allow_hyphen_values = true)]
        to: String,
    },
    /// One occurrence's checklist with each step's newest result
    Show {
        /// Occurrence key, e.g. morning-health-check@2026-11-30T09:00
        key: String,
    },
    /// Run an automated step (or every automated step with --all) and record the results
    Run {
        /// Occurrence key
        key: String,
        /// Step id
        step: Option<String>,
        /// Every automated step of the occurrence
        #[arg(long)]
        all: bool,
    },
    /// Tick a manual step as done
    Tick {
        /// Occurrence key
        key: String,
        /// Step id
        step: String,
        /// A note
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Complete an occurrence (steps without a result make it partial)
    Complete {
        /// Occurrence key
        key: String,
        /// A note
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Skip an occurrence, saying why
    Skip {
        /// Occurrence key
        key: String,
        /// Why
        #[arg(long)]
        reason: String,
    },
    /// Write the .ics of every procedure and maintenance window
    Export {
        /// Output file
        #[arg(long)]
        ics: std::path::PathBuf,
        /// Rewrite it every N seconds (for a calendar subscription path) until interrupted
        #[arg(long)]
        every: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceCmd {
    /// Windows, soonest first, with their announcement
    List,
    /// Schedule one (the runbook asks for 48 hours' notice; shorter is allowed and said so)
    #[command(alias = "schedule")]
    Add {
        /// Title
        #[arg(long)]
        title: String,
        /// Start: YYYY-MM-DD HH:MM (team time zone), RFC 3339, or +2d
        #[arg(long, allow_hyphen_values = true)]
        start: String,
        /// End: same forms (a bare date means the end of that day)
        #[arg(long, allow_hyphen_values = true)]
        end: String,
        /// What will be done
        #[arg(long, default_value = "")]
        description: String,
        /// Expected impact
        #[arg(long, default_value = "")]
        impact: String,
        /// Silence the alerts in AlertManager for the window
        #[arg(long)]
        silence: bool,
    },
    /// Cancel one (and expire its silence)
    Cancel {
        /// Window id
        id: i64,
    },
}

use hsof_core::time::Bound;

fn print_view(ctx: &AppContext, v: &CalendarView) -> Result<(), Error> {
    let tz = ctx.team_tz()?;
    if let Some(p) = &v.catalog_problem {
        eprintln!("catalog: {p}");
    }
    for o in &v.occurrences {
        println!(
            "{}  {:<9} {:>2}/{:<2} {:<36} {}",
            o.occurrence.start.with_timezone(&tz).format("%a %d %b %H:%M"),
            format!("{:?}", o.status).to_lowercase(),
            o.steps_done,
            o.steps_total,
            o.occurrence.title,
            o.occurrence.key
        );
    }
    for w in &v.windows {
        println!("maintenance #{} {} → {}  {}", w.window.id, w.window.start, w.window.end, w.window.title);
    }
    Ok(())
}

fn print_detail(d: &OccurrenceDetail) {
    println!("{} ({:?}) — {}", d.view.occurrence.title, d.view.status, d.section);
    for s in &d.steps {
        let mark = match &s.result {
            Some(r) => format!("[{}]", r.verdict),
            None => "[ ]".into(),
        };
        let kind = if s.step.action.is_some() { "auto" } else { "manual" };
        println!("  {mark:<9} {:<28} {kind:<6} {}", s.step.id, s.step.text);
        if let Some(r) = &s.result {
            for line in r.output.lines().take(6) {
                println!("            {line}");
            }
        }
    }
}

/// Runs one calendar command; the exit code is 1 when gates fail or a run step fails.
/// With the team store on, the shared runs and windows are read first and what this
/// command wrote is sent after (or waits in the outbox when the cluster does not answer).
pub async fn run(ctx: &AppContext, cmd: &CalendarCmd, out: &Out) -> Result<u8, Error> {
    ctx.team_connect_if_due(Utc::now()).await;
    let _ = ctx.team_sync(Utc::now()).await;
    let code = run_here(ctx, cmd, out).await?;
    if ctx.team_overview().is_ok_and(|o| o.pending > 0) {
        if let Err(e) = ctx.team_sync(Utc::now()).await {
            eprintln!("Team store: not shared yet ({e}); kept and sent by the next sync");
        }
    }
    Ok(code)
}

async fn run_here(ctx: &AppContext, cmd: &CalendarCmd, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    let actor = os_user();
    let range = |from: DateTime<Utc>, to: DateTime<Utc>| -> Result<u8, Error> {
        let v = ctx.calendar(from, to, now)?;
        if out.json {
            out.json_value(&v);
        } else {
            print_view(ctx, &v)?;
        }
        Ok(0)
    };
    match cmd {
        CalendarCmd::Today => {
            let tz = ctx.team_tz()?;
            let local = now.with_timezone(&tz).date_naive();
            let start = local
                .and_hms_opt(0, 0, 0)
                .and_then(|d| d.and_local_timezone(tz).earliest())
                .map_or(now, |d| d.with_timezone(&Utc));
            range(start, start + Duration::days(1))
        }
        CalendarCmd::Week => range(now - Duration::hours(12), now + Duration::days(7)),
        CalendarCmd::List { from, to } => {
            range(ctx.parse_when(from, "from", now, Bound::Start)?, ctx.parse_when(to, "to", now, Bound::End)?)
        }
        CalendarCmd::Show { key } => {
            let d = ctx.occurrence(key, now)?;
            if out.json {
                out.json_value(&d);
            } else {
                print_detail(&d);
            }
            Ok(0)
        }
        CalendarCmd::Run { key, step, all } => {
            let steps: Vec<String> = match (step, all) {
                (Some(s), false) => vec![s.clone()],
                (None, true) => ctx
                    .occurrence(key, now)?
                    .steps
                    .iter()
                    .filter(|s| s.step.action.is_some())
                    .map(|s| s.step.id.clone())
                    .collect(),
                _ => return Err(Error::InvalidInput("name one step, or pass --all".into())),
            };
            let mut detail = None;
            for s in &steps {
                detail = Some(ctx.run_step(key, s, &actor, Utc::now()).await?);
            }
            let d = match detail {
                Some(d) => d,
                None => ctx.occurrence(key, now)?,
            };
            let failed = d
                .steps
                .iter()
                .any(|s| steps.contains(&s.step.id) && s.result.as_ref().is_some_and(|r| r.verdict == "fail"));
            if out.json {
                out.json_value(&d);
            } else {
                print_detail(&d);
            }
            Ok(u8::from(failed))
        }
        CalendarCmd::Tick { key, step, note } => {
            let d = ctx.tick_step(key, step, note, &actor, now)?;
            if out.json {
                out.json_value(&d)
            } else {
                print_detail(&d)
            }
            Ok(0)
        }
        CalendarCmd::Complete { key, note } => {
            let d = ctx.complete_occurrence(key, note, &actor, now)?;
            if out.json {
                out.json_value(&d)
            } else {
                print_detail(&d)
            }
            Ok(0)
        }
        CalendarCmd::Skip { key, reason } => {
            let d = ctx.skip_occurrence(key, reason, &actor, now)?;
            if out.json {
                out.json_value(&d)
            } else {
                print_detail(&d)
            }
            Ok(0)
        }
        CalendarCmd::Export { ics: path, every } => loop {
            let ics = ctx.calendar_ics(chrono::Utc::now())?;
            hsof_core::calendar::write_atomically(path, &ics)?;
            out.line_or_json(
                &format!("wrote {} ({} bytes)", path.display(), ics.len()),
                &serde_json::json!({ "path": path, "bytes": ics.len() }),
            );
            match every {
                Some(secs) => tokio::time::sleep(std::time::Duration::from_secs((*secs).max(10))).await,
                None => return Ok(0),
            }
        },
    }
}

/// `hsofctl gates`: both gate sets with evidence; exit 1 when one fails.
pub async fn gates(ctx: &AppContext, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    let g = ctx.gates(now).await?;
    if out.json {
        out.json_value(&g);
    } else {
        for (name, list, verdict) in
            [("deployment", &g.deployment, g.deployment_verdict), ("production", &g.production, g.production_verdict)]
        {
            println!("{name} gates: {verdict:?}");
            for r in list {
                println!("  {:<8} {:<40} {}", format!("{:?}", r.verdict), r.title, r.evidence);
            }
        }
    }
    let fail = hsof_ops::calendar::Verdict::Fail;
    Ok(u8::from(g.deployment_verdict == fail || g.production_verdict == fail))
}

/// `hsofctl maintenance …`.
pub async fn maintenance(ctx: &AppContext, cmd: &MaintenanceCmd, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    let actor = os_user();
    match cmd {
        MaintenanceCmd::List => {
            let w = ctx.windows()?;
            if out.json {
                out.json_value(&w);
            } else {
                for v in w {
                    println!(
                        "#{} {} → {} {}{}",
                        v.window.id,
                        v.window.start,
                        v.window.end,
                        v.window.title,
                        if v.cancelled_at.is_some() { " (cancelled)" } else { "" }
                    );
                    println!("  announce by {}{}", v.notice_due, if v.notice_ok { "" } else { " (short notice)" });
                }
            }
            Ok(0)
        }
        MaintenanceCmd::Add { title, start, end, description, impact, silence } => {
            let w = NewWindow {
                title: title.clone(),
                start: start.clone(),
                end: end.clone(),
                description: description.clone(),
                impact: impact.clone(),
                silence: *silence,
            };
            let (v, warnings) = ctx.schedule_window(&w, &actor, now).await?;
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            if out.json {
                out.json_value(&serde_json::json!({ "window": v, "warnings": warnings }));
            } else {
                println!("maintenance #{} scheduled; announce by {}\n\n{}", v.window.id, v.notice_due, v.announcement);
            }
            Ok(0)
        }
        MaintenanceCmd::Cancel { id } => {
            ctx.cancel_window(*id, &actor, now).await?;
            out.line_or_json(&format!("maintenance #{id} cancelled"), &serde_json::json!({ "cancelled": id }));
            Ok(0)
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ProcedureCmd {
    /// A procedure's checklist for one occurrence (default: the latest that has started)
    Show {
        /// Procedure id, e.g. morning-health-check (see `hsofctl calendar`)
        id: String,
        /// The occurrence's day (YYYY-MM-DD, team time zone, or yesterday / -1d) or time (RFC 3339)
        #[arg(long, allow_hyphen_values = true)]
        occurrence: Option<String>,
    },
    /// Run the automated steps of one occurrence (or one step) and record the results;
    /// exits 1 when a step fails
    Run {
        /// Procedure id
        id: String,
        /// The occurrence's day (YYYY-MM-DD, team time zone, or yesterday / -1d) or time (RFC 3339)
        #[arg(long, allow_hyphen_values = true)]
        occurrence: Option<String>,
        /// Only this step
        #[arg(long)]
        step: Option<String>,
    },
}

/// `hsofctl procedure show|run`.
pub async fn procedure(ctx: &AppContext, cmd: &ProcedureCmd, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    match cmd {
        ProcedureCmd::Show { id, occurrence } => {
            let key = ctx.find_occurrence(id, occurrence.as_deref(), now)?;
            run(ctx, &CalendarCmd::Show { key }, out).await
        }
        ProcedureCmd::Run { id, occurrence, step } => {
            let key = ctx.find_occurrence(id, occurrence.as_deref(), now)?;
            run(ctx, &CalendarCmd::Run { key, all: step.is_none(), step: step.clone() }, out).await
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Generate the weekly performance summary (last 7 days)
    Weekly,
    /// Generate the monthly review (last 30 days)
    Monthly,
    /// Saved reports, newest first
    List,
}

/// `hsofctl report weekly|monthly|list`.
pub async fn report(ctx: &AppContext, cmd: &ReportCmd, out: &Out) -> Result<u8, Error> {
    use hsof_core::reports::ReportKind;
    let kind = match cmd {
        ReportCmd::Weekly => ReportKind::Weekly,
        ReportCmd::Monthly => ReportKind::Monthly,
        ReportCmd::List => {
            let list = ctx.reports()?;
            if out.json {
                out.json_value(&list.iter().map(|r| serde_json::json!({"name": r.name, "title": r.title, "path": r.path, "written_at": r.written_at})).collect::<Vec<_>>());
            } else {
                for r in list {
                    println!("{}  {}  {}", r.written_at, r.name, r.title);
                }
            }
            return Ok(0);
        }
    };
    let r = ctx.generate_report(kind, Utc::now()).await?;
    if out.json {
        out.json_value(&r);
    } else {
        println!(
            "{}
",
            r.markdown
        );
        println!("saved to {} ({} charts beside it)", r.path, r.charts.len());
    }
    Ok(0)
}
