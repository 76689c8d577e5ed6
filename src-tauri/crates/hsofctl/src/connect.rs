//! `hsofctl connect`: first-run onboarding from the command line. Discovers HSOF, Prometheus
//! and AlertManager in a kubeconfig context, tests each through the API server's service
//! proxy and, with `--save`, writes the choice to the configuration (audited). `hsofctl
//! doctor` prints the same report.

use chrono::Utc;
use clap::Args;
use hsof_core::cluster::{ConnectChoice, ConnectReport};
use hsof_core::{os_user, AppContext, Error};

use crate::output::Out;

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Kubeconfig context to look in [default: cluster.context, else the current context]
    #[arg(long)]
    pub context: Option<String>,
    /// Write what was found to the configuration (context and each source's service);
    /// an http(s) URL typed by hand that answers is kept
    #[arg(long)]
    pub save: bool,
}

fn probe_line(ok: bool, detail: &str, millis: u32) -> String {
    format!("{} {detail} ({millis} ms)", if ok { "ok  " } else { "FAIL" })
}

/// The report as text: what is configured and whether it answers, what was found, and the
/// service proxy path each discovered source is reached through.
pub fn print_report(r: &ConnectReport) {
    println!("Context   {}  ({})", r.context, r.server);
    println!(
        "Looked in {} : {} service(s) seen, reached through {}",
        r.discovery.namespaces.join(", "),
        r.discovery.services_seen,
        r.proxy_path
    );
    for n in &r.discovery.notes {
        println!("  ! {n}");
    }
    for s in &r.sources {
        println!("\n{}", s.label);
        println!("  configured  {}{}", s.configured, if s.typed_by_hand { "  (typed by hand)" } else { "" });
        println!(
            "              {}",
            probe_line(s.configured_probe.ok, &s.configured_probe.detail, s.configured_probe.millis)
        );
        match (&s.proposed, &s.proposed_probe) {
            (Some(svc), Some(p)) => {
                println!("  found       {svc}");
                println!("              {}", probe_line(p.ok, &p.detail, p.millis));
                println!("              via {}", p.path);
            }
            _ => println!("  found       nothing in {}", r.discovery.namespaces.join(", ")),
        }
        for c in s.candidates.iter().skip(1) {
            println!("  also        {}  ({})", c.service, c.reason);
        }
        let verdict = if s.decision == s.configured { "keep" } else { "use" };
        println!("  → {verdict} {}", s.decision);
    }
}

pub async fn run(ctx: &AppContext, args: &ConnectArgs, out: &Out) -> Result<u8, Error> {
    let report = ctx.discover_sources(args.context.as_deref(), Utc::now()).await?;
    let all_answer = |r: &ConnectReport| {
        r.sources.iter().all(|s| s.proposed_probe.as_ref().is_some_and(|p| p.ok) || s.configured_probe.ok)
    };
    if !args.save {
        if out.json {
            out.json_value(&report);
        } else {
            print_report(&report);
            println!("\nNothing saved: run again with --save to write this to the configuration.");
        }
        return Ok(if all_answer(&report) { 0 } else { 1 });
    }
    let choice = ConnectChoice::from(&report);
    let loaded = ctx.save_connection(&choice, &os_user(), Utc::now())?;
    if out.json {
        out.json_value(&serde_json::json!({"report": report, "saved": choice, "config": loaded.path}));
    } else {
        print_report(&report);
        println!("\nSaved to {} (context {}; audited).", loaded.path, choice.context);
    }
    Ok(if all_answer(&report) { 0 } else { 1 })
}
