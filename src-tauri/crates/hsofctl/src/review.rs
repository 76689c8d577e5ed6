//! `hsofctl review`: the weekly security review and the monthly assessment, their
//! records, the diff with the review before, and the sign-off.

use chrono::Utc;
use clap::Subcommand;
use hsof_core::security::ReviewRecord;
use hsof_core::{os_user, AppContext, Error};
use hsof_review::{FindingSeverity, ReviewArea};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum ReviewCmd {
    /// Run the security review of the cluster: who can do what, service accounts, network
    /// policies, backup security, image vulnerabilities, and what changed since the last
    /// review; exits 1 with warnings or something not read, 2 with a critical finding or a
    /// failed audit check
    Security {
        /// Compare with this review instead of the last one
        #[arg(long, value_name = "ID")]
        since: Option<i64>,
        /// Add the monthly assessment's audit-completeness check
        #[arg(long)]
        audit: bool,
    },
    /// Past reviews of the cluster, newest first
    List,
    /// One review
    Show {
        /// Review id
        id: i64,
    },
    /// Sign a review off as the one who went through it
    SignOff {
        /// Review id
        id: i64,
    },
}

fn verdict_word(v: &str) -> &str {
    match v {
        "pass" => "ok",
        "warn" => "WARN",
        "fail" => "FAIL",
        _ => "NOT READ",
    }
}

fn print_record(r: &ReviewRecord) {
    let rep = &r.report;
    println!(
        "Security review #{}  cluster {}  namespace {}  {} by {}  ({:.0} ms)",
        r.id, r.cluster, rep.namespace, rep.at, r.by, r.took_ms
    );
    match (&r.signed_off_by, &r.signed_off_at) {
        (Some(by), Some(at)) => println!("  signed off by {by} at {at}"),
        _ => println!("  not signed off (hsofctl review sign-off {})", r.id),
    }
    for area in ReviewArea::ALL {
        if area == ReviewArea::Audit && r.audit.is_none() {
            continue;
        }
        let (v, _) = r.step_verdict(area.id());
        println!("\n{:<18} {}", area.id(), verdict_word(v));
        for f in rep.findings.iter().filter(|f| f.area == area) {
            let mark = match f.severity {
                FindingSeverity::Critical => "!!",
                FindingSeverity::Warning => " !",
                FindingSeverity::Info => " ·",
            };
            println!("  {mark} {}\n       {}", f.title, f.evidence);
        }
        for u in rep.unread.iter().filter(|u| u.area == area) {
            println!("  ?? not read: {}: {}", u.what, u.why);
        }
    }
    if let Some(a) = &r.audit {
        println!("\naudit completeness\n  {}", a.evidence().replace('\n', "\n  "));
    }
    let people: Vec<_> = rep.access.subjects.iter().filter(|s| !s.system && !s.can.is_empty()).collect();
    if !people.is_empty() {
        println!("\nwho can do what ({} subjects; system identities left out)", people.len());
        for s in people {
            let can: Vec<&str> = s.can.iter().map(|g| g.check.as_str()).collect();
            println!("  {:<44} {}", s.subject.label(), can.join(", "));
        }
    }
    if let Some(c) = &rep.access.cross_check {
        match &c.skipped {
            Some(why) => println!("\ncross-check with the API server: not done ({why})"),
            None => println!(
                "\ncross-check with the API server: {} asked, {} disagreement(s)",
                c.asked,
                c.disagreements.len()
            ),
        }
    }
    println!("\nvulnerabilities: {}", rep.vulnerabilities.line);
    match &r.diff {
        None => println!("\nfirst review of this cluster: nothing to compare with"),
        Some(d) if d.is_empty() => println!("\nnothing changed since the review of {}", d.since),
        Some(d) => {
            println!("\nsince the review of {}:", d.since);
            for l in d.lines() {
                println!("  {l}");
            }
        }
    }
}

/// 2: a critical finding or a failed audit check; 1: a warning, or something not read;
/// 0: every check read what it looks at and found nothing above info.
fn exit_code(r: &ReviewRecord) -> u8 {
    let audit = r.audit.as_ref().map(hsof_core::security::AuditCompleteness::verdict);
    match r.report.findings.iter().map(|f| f.severity).min() {
        Some(FindingSeverity::Critical) => 2,
        _ if audit == Some("fail") => 2,
        Some(FindingSeverity::Warning) => 1,
        _ if !r.report.unread.is_empty() || audit == Some("unknown") => 1,
        _ => 0,
    }
}

/// Runs one `review` command.
pub async fn run(ctx: &AppContext, cmd: &ReviewCmd, out: &Out) -> Result<u8, Error> {
    match cmd {
        ReviewCmd::Security { since, audit } => {
            let rec = ctx.security_review(&os_user(), *since, *audit, Utc::now()).await?;
            if out.json {
                out.json_value(&rec);
            } else {
                print_record(&rec);
            }
            Ok(exit_code(&rec))
        }
        ReviewCmd::List => {
            let list = ctx.security_reviews(50)?;
            if out.json {
                out.json_value(&list);
            } else if list.is_empty() {
                println!("no security review of this cluster yet: hsofctl review security");
            } else {
                for r in &list {
                    let n = |s: FindingSeverity| r.report.findings.iter().filter(|f| f.severity == s).count();
                    println!(
                        "#{:<4} {}  by {:<12} {} critical, {} warning, {} not read  {}",
                        r.id,
                        r.report.at,
                        r.by,
                        n(FindingSeverity::Critical),
                        n(FindingSeverity::Warning),
                        r.report.unread.len(),
                        r.signed_off_by.as_ref().map_or("not signed off".to_string(), |b| format!("signed off by {b}"))
                    );
                }
            }
            Ok(0)
        }
        ReviewCmd::Show { id } => {
            let r = ctx.security_review_get(*id)?;
            if out.json {
                out.json_value(&r);
            } else {
                print_record(&r);
            }
            Ok(0)
        }
        ReviewCmd::SignOff { id } => {
            let r = ctx.security_review_sign_off(*id, &os_user(), Utc::now())?;
            out.line_or_json(
                &format!("security review #{} signed off by {}", r.id, r.signed_off_by.clone().unwrap_or_default()),
                &serde_json::json!({"id": r.id, "signed_off_by": r.signed_off_by, "signed_off_at": r.signed_off_at}),
            );
            Ok(0)
        }
    }
}
