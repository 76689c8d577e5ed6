//! `hsofctl oncall …` and `hsofctl followup …`: the team's on-call rotation and the
//! follow-up actions of its incidents, both shared through the team store (written here
//! first, sent with the next sync; kept on this machine while the cluster is away).

use chrono::{DateTime, Utc};
use clap::Subcommand;
use hsof_core::followthrough::{FollowUpFilter, FollowUpView, NewFollowUp, OnCallView, OverrideInput};
use hsof_core::{os_user, AppContext, Error};
use hsof_ops::incidents::followups::{Due, FollowUpState};
use hsof_ops::oncall::{Rotation, ShiftSource};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum OnCallCmd {
    /// Who is on call now, tonight and next (exits 2 when tonight has hours nobody covers)
    Now,
    /// The next seven days, shift by shift, with the gaps
    Week,
    /// The rotation's shifts as an iCalendar file (`> oncall.ics`)
    Ics {
        /// How many weeks ahead
        #[arg(long, default_value_t = 12)]
        weeks: u32,
    },
    /// Overrides: someone on call instead of the rotation for a while (a swap is two)
    Override {
        #[command(subcommand)]
        cmd: OverrideCmd,
    },
    /// The team's members
    Member {
        #[command(subcommand)]
        cmd: MemberCmd,
    },
    /// The rotation
    Rotation {
        #[command(subcommand)]
        cmd: RotationCmd,
    },
}

#[derive(Debug, Subcommand)]
pub enum OverrideCmd {
    /// WHO on call from START to END (team time `2026-12-24T18:00`, or RFC 3339)
    Add {
        /// A member
        who: String,
        /// Start
        #[arg(long)]
        start: String,
        /// End
        #[arg(long)]
        end: String,
        /// Why (a swap, a holiday)
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Cancel an override by its id (`hsofctl oncall week` shows them)
    Cancel {
        /// The override's id
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Members, removed ones marked
    List,
    /// Add a member (or update their user and contact)
    Add {
        /// The name the rotation and follow-ups use
        name: String,
        /// Their Kubernetes user (what `kubectl auth whoami` says on their desktop)
        #[arg(long)]
        user: Option<String>,
        /// How to reach them (phone, Slack handle)
        #[arg(long)]
        contact: Option<String>,
    },
    /// Remove a member: their open follow-ups are listed, to reassign
    Remove {
        /// The member
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RotationCmd {
    /// Set the rotation: members in turn order, hand-over by an RRULE at a local time
    Set {
        /// Members in turn order, comma-separated
        #[arg(long, value_delimiter = ',', required = true)]
        members: Vec<String>,
        /// Hand-over rule: weekly (on the weekday of --start), daily, or an RRULE body such as
        /// FREQ=WEEKLY;BYDAY=FR
        #[arg(long, default_value = "weekly")]
        every: String,
        /// First hand-over, team time `2026-12-07T09:00` (the first member takes over then)
        #[arg(long)]
        start: String,
        /// Hand over on team holidays too (by default a hand-over on a `[team] holidays` date
        /// moves to the next business day)
        #[arg(long)]
        keep_holidays: bool,
    },
    /// Show the rotation
    Show,
}

#[derive(Debug, Subcommand)]
pub enum FollowUpCmd {
    /// Follow-ups, overdue first (exits 1 when one is overdue)
    List {
        /// Open and in progress ones only
        #[arg(long)]
        open: bool,
        /// Overdue ones only
        #[arg(long)]
        overdue: bool,
        /// This owner's only
        #[arg(long)]
        owner: Option<String>,
        /// Mine only
        #[arg(long)]
        mine: bool,
        /// This incident's only
        #[arg(long)]
        incident: Option<i64>,
    },
    /// Create one: TITLE owned by --owner, due --due (YYYY-MM-DD, +3d, +2w)
    Add {
        /// What to do
        title: String,
        /// Who does it (a member)
        #[arg(long)]
        owner: String,
        /// Due date
        #[arg(long, default_value = "+1w")]
        due: String,
        /// The incident it comes from
        #[arg(long)]
        incident: Option<i64>,
        /// It comes from the incident's post-mortem
        #[arg(long)]
        postmortem: bool,
    },
    /// One follow-up with its history
    Show {
        /// Its name (fu-…)
        name: String,
    },
    /// Someone is on it
    Start {
        /// Its name
        name: String,
    },
    /// Done
    Done {
        /// Its name
        name: String,
        /// What was done
        #[arg(long)]
        note: Option<String>,
    },
    /// Won't do, and why
    Wontdo {
        /// Its name
        name: String,
        /// Why it is not worth doing
        #[arg(long)]
        reason: String,
    },
    /// Open again
    Reopen {
        /// Its name
        name: String,
    },
    /// Give it to another member
    Assign {
        /// Its name
        name: String,
        /// The new owner
        owner: String,
    },
    /// Move its due date
    Due {
        /// Its name
        name: String,
        /// YYYY-MM-DD, +3d, +2w
        due: String,
    },
}

fn local(t: DateTime<Utc>, tz: &str) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M").to_string()
}

fn print_oncall(v: &OnCallView) {
    let tz = v.timezone.as_str();
    match &v.now {
        Some(s) => println!("On call now: {} (until {})", s.who, local(s.end, tz)),
        None => println!("On call now: NOBODY"),
    }
    if let Some(n) = &v.next {
        println!("Next:        {} from {}", n.who, local(n.start, tz));
    }
    println!("Tonight {} → {} ({tz}):", local(v.tonight.0, tz), local(v.tonight.1, tz));
    for s in &v.tonight_shifts {
        println!("  {} → {}  {}", local(s.start, tz), local(s.end, tz), s.who);
    }
    for g in &v.tonight_gaps {
        println!("  GAP {g}");
    }
    for p in &v.problems {
        println!("  ! {p}");
    }
    if v.pending > 0 {
        println!("({} change(s) not shared with the team yet)", v.pending);
    }
}

fn print_followup(f: &FollowUpView) {
    let due = match f.due_state {
        Due::Overdue { days } => format!("OVERDUE {days}d"),
        Due::Today => "due today".into(),
        Due::Later { days } => format!("in {days}d"),
        Due::Closed => f.state.to_string(),
    };
    println!(
        "{:<22} {:<11} {:<12} {:<10} {:<12} {}{}",
        f.name,
        f.state.to_string(),
        f.owner,
        f.due,
        due,
        f.title,
        f.incident.as_ref().map(|i| format!("  [{i}]")).unwrap_or_default()
    );
    for p in &f.problems {
        println!("    ! {p}");
    }
}

/// Runs one on-call command; the exit code.
pub async fn oncall(ctx: &AppContext, cmd: &OnCallCmd, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    ctx.team_connect_if_due(now).await;
    let _ = ctx.team_sync(now).await;
    let mut code = 0;
    match cmd {
        OnCallCmd::Now => {
            let v = ctx.oncall(now)?;
            if out.json {
                out.json_value(&v);
            } else {
                print_oncall(&v);
            }
            if !v.tonight_gaps.is_empty() {
                code = 2;
            }
        }
        OnCallCmd::Week => {
            let v = ctx.oncall(now)?;
            if out.json {
                out.json_value(&v.week);
            } else {
                let tz = v.timezone.as_str();
                for s in &v.week.shifts {
                    let why = match &s.source {
                        ShiftSource::Override { id, reason, by } => format!("  override {id} by {by}: {reason}"),
                        ShiftSource::Rotation => String::new(),
                    };
                    println!("{} → {}  {}{why}", local(s.start, tz), local(s.end, tz), s.who);
                }
                for g in &v.week.gaps {
                    println!("GAP {} → {}: {}", local(g.start, tz), local(g.end, tz), g.why);
                }
            }
            if !v.week.gaps.is_empty() {
                code = 2;
            }
        }
        OnCallCmd::Ics { weeks } => print!("{}", ctx.oncall_ics(*weeks, now)?),
        OnCallCmd::Override { cmd: OverrideCmd::Add { who, start, end, reason } } => {
            let input =
                OverrideInput { start: start.clone(), end: end.clone(), who: who.clone(), reason: reason.clone() };
            let v = ctx.oncall_override_add(&input, &os_user(), now)?;
            done(ctx, out, &v).await;
        }
        OnCallCmd::Override { cmd: OverrideCmd::Cancel { id } } => {
            let v = ctx.oncall_override_cancel(id, now)?;
            done(ctx, out, &v).await;
        }
        OnCallCmd::Member { cmd } => {
            match cmd {
                MemberCmd::List => {}
                MemberCmd::Add { name, user, contact } => {
                    ctx.oncall_member_add(name, user.as_deref(), contact.as_deref(), now)?;
                }
                MemberCmd::Remove { name } => {
                    let orphaned = ctx.oncall_member_remove(name, now)?;
                    if !orphaned.is_empty() {
                        eprintln!(
                            "{name} owns {} open follow-up(s); reassign them (hsofctl followup assign NAME OWNER):",
                            orphaned.len()
                        );
                        for f in &orphaned {
                            eprintln!("  {} {}", f.name, f.title);
                        }
                    }
                }
            }
            sync(ctx).await;
            let members = ctx.members()?;
            if out.json {
                out.json_value(&members);
            } else {
                for m in members {
                    println!(
                        "{:<16} {:<28} {}{}",
                        m.name,
                        m.user.unwrap_or_default(),
                        m.contact.unwrap_or_default(),
                        m.removed_at.map(|r| format!("  (removed {r})")).unwrap_or_default()
                    );
                }
            }
        }
        OnCallCmd::Rotation { cmd: RotationCmd::Show } => {
            let v = ctx.oncall(now)?;
            if out.json {
                out.json_value(&v.rotation);
            } else if let Some(r) = &v.rotation {
                println!(
                    "members {}\nrule {}\nfirst hand-over {} {}\nholidays skipped {}",
                    r.members.join(", "),
                    r.rrule,
                    r.start,
                    r.timezone,
                    r.skip_holidays
                );
                if let Some((by, at)) = &v.rotation_set {
                    println!("set by {by} at {at}");
                }
            } else {
                println!("no rotation set (hsofctl oncall rotation set --members A,B --start 2026-12-07T09:00)");
                code = 2;
            }
        }
        OnCallCmd::Rotation { cmd: RotationCmd::Set { members, every, start, keep_holidays } } => {
            let rrule = match every.to_ascii_lowercase().as_str() {
                "weekly" => "FREQ=WEEKLY".to_string(),
                "daily" => "FREQ=DAILY".to_string(),
                other if other.starts_with("freq=") => every.clone(),
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "--every {every:?}: weekly, daily or an RRULE body (FREQ=WEEKLY;BYDAY=MO)"
                    )))
                }
            };
            let r = Rotation {
                members: members.iter().map(|m| m.trim().to_string()).collect(),
                rrule,
                start: start.trim().replace(' ', "T"),
                timezone: ctx.config().config.team.timezone,
                skip_holidays: !keep_holidays,
            };
            let v = ctx.oncall_rotation_set(&r, now)?;
            done(ctx, out, &v).await;
        }
    }
    Ok(code)
}

async fn sync(ctx: &AppContext) {
    if let Err(e) = ctx.team_sync(Utc::now()).await {
        eprintln!("Team store: not shared yet ({e}); kept and sent by the next sync");
    }
}

async fn done(ctx: &AppContext, out: &Out, _: &OnCallView) {
    sync(ctx).await;
    match ctx.oncall(Utc::now()) {
        Ok(v) if out.json => out.json_value(&v),
        Ok(v) => print_oncall(&v),
        Err(e) => eprintln!("{e}"),
    }
}

/// Runs one follow-up command; the exit code.
pub async fn followup(ctx: &AppContext, cmd: &FollowUpCmd, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    let actor = os_user();
    ctx.team_connect_if_due(now).await;
    let _ = ctx.team_sync(now).await;
    let name = match cmd {
        FollowUpCmd::List { open, overdue, owner, mine, incident } => {
            let filter = FollowUpFilter {
                open_only: *open,
                overdue_only: *overdue,
                owner: owner.clone(),
                incident_id: *incident,
                mine: *mine,
            };
            let list = ctx.followups(&filter, now)?;
            if out.json {
                out.json_value(&list);
            } else if list.is_empty() {
                println!("no follow-ups");
            } else {
                list.iter().for_each(print_followup);
            }
            return Ok(u8::from(list.iter().any(|f| matches!(f.due_state, Due::Overdue { .. }))));
        }
        FollowUpCmd::Add { title, owner, due, incident, postmortem } => {
            let new = NewFollowUp {
                title: title.clone(),
                owner: owner.clone(),
                due: due.clone(),
                incident_id: *incident,
                source: postmortem.then(|| "postmortem".to_string()),
            };
            ctx.followup_create(&new, &actor, now)?.name
        }
        FollowUpCmd::Show { name } => name.clone(),
        FollowUpCmd::Start { name } => ctx.followup_state(name, FollowUpState::InProgress, None, &actor, now)?.name,
        FollowUpCmd::Done { name, note } => {
            ctx.followup_state(name, FollowUpState::Done, note.as_deref(), &actor, now)?.name
        }
        FollowUpCmd::Wontdo { name, reason } => {
            ctx.followup_state(name, FollowUpState::WontDo, Some(reason), &actor, now)?.name
        }
        FollowUpCmd::Reopen { name } => ctx.followup_state(name, FollowUpState::Open, None, &actor, now)?.name,
        FollowUpCmd::Assign { name, owner } => ctx.followup_assign(name, owner, &actor, now)?.name,
        FollowUpCmd::Due { name, due } => ctx.followup_due(name, due, &actor, now)?.name,
    };
    if !matches!(cmd, FollowUpCmd::Show { .. }) {
        sync(ctx).await;
    }
    let f = ctx.followup(&name, Utc::now())?;
    if out.json {
        out.json_value(&f);
    } else {
        print_followup(&f);
        for (at, by, text) in &f.history {
            println!("    {at}  {by}: {text}");
        }
        if f.pending > 0 {
            println!("    ({} change(s) not shared with the team yet)", f.pending);
        }
    }
    Ok(0)
}
