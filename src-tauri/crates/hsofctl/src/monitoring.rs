//! `hsofctl health | metrics | alerts | slo | check`: the monitoring commands.

use chrono::Utc;
use clap::Subcommand;
use hsof_core::monitoring::{CheckOutcome, Checklist, HealthView, KeyMetricsView, SloReport};
use hsof_core::{os_user, AppContext, Error};
use hsof_monitor::Level;

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum AlertsCmd {
    /// Silence exactly this alert's labels (acknowledge it)
    Ack {
        /// Fingerprint, as `hsofctl alerts` prints it
        fingerprint: String,
        /// How long, e.g. 30m, 2h, 1d
        #[arg(long = "for", default_value = "2h")]
        duration: String,
        /// Why (required)
        #[arg(long)]
        comment: String,
    },
    /// End a silence now
    Expire {
        /// Silence id
        id: String,
    },
    /// Hand an alert to the incidents feature
    Link {
        /// Fingerprint
        fingerprint: String,
    },
}

/// Parses `30m`, `2h`, `1d`.
pub fn parse_duration(s: &str) -> Result<chrono::Duration, Error> {
    let bad = || Error::InvalidInput(format!("`{s}` is not a duration: use e.g. 30m, 2h or 1d"));
    let (num, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(bad()),
    }
}

fn lvl(l: Level) -> &'static str {
    match l {
        Level::Healthy => "OK  ",
        Level::Unknown => "??  ",
        Level::Warning => "WARN",
        Level::Critical => "CRIT",
    }
}

fn stale(f: &hsof_core::monitoring::Freshness) -> String {
    match (f.stale, &f.fetched_at) {
        (true, Some(at)) => format!("  [STALE: last fetched {at}; {}]", f.error.clone().unwrap_or_default()),
        (true, None) => format!("  [NO DATA: {}]", f.error.clone().unwrap_or_default()),
        _ => format!("  [{} at {}]", f.source, f.fetched_at.clone().unwrap_or_default()),
    }
}

pub fn print_health(h: &HealthView) {
    println!("{} {}{}", lvl(h.report.overall), h.report.base_url, stale(&h.freshness));
    for c in &h.report.components {
        println!("  {} {:<9} {}", lvl(c.level), c.name, c.reason);
    }
    if let Some(d) = h.down_for_secs {
        println!("  DOWN for {d:.0} s{}", if h.system_down { " — over the runbook's limit (critical)" } else { "" });
    }
    let pct = |u: Option<f64>| u.map(|u| format!("{:.3} %", u * 100.0)).unwrap_or_else(|| "—".into());
    println!(
        "  uptime 24 h {}  7 d {}  30 d {}  (from this machine's polls)",
        pct(h.uptime_24h),
        pct(h.uptime_7d),
        pct(h.uptime_30d)
    );
}

pub fn print_metrics(k: &KeyMetricsView) {
    println!("Key metrics{}", stale(&k.freshness));
    for m in &k.metrics {
        let v = m.display_value();
        println!(
            "  {} {:<24} {:<22} target {}{}",
            lvl(m.level),
            m.label,
            v,
            m.target,
            m.error.as_ref().map(|e| format!("  ({e})")).unwrap_or_default()
        );
    }
    if k.metrics.iter().any(|m| m.grafana.is_some()) {
        println!("  Grafana Explore links for each metric: hsofctl metrics --json (field `grafana`)");
    }
}

pub fn print_slo(r: &SloReport) {
    println!("SLOs over {} days{}", r.window_days, stale(&r.freshness));
    for s in &r.slos {
        let pct = |v: Option<f64>| v.map(|v| format!("{:.3} %", v * 100.0)).unwrap_or_else(|| "—".into());
        println!(
            "  {} {:<12} objective {:.2} %  SLI {}  budget left {}",
            lvl(s.level),
            s.name,
            s.objective * 100.0,
            pct(s.sli),
            pct(s.budget_remaining)
        );
        let rates: Vec<String> = s
            .burn_rates
            .iter()
            .map(|w| format!("{} {}", w.window, w.rate.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "—".into())))
            .collect();
        println!("       burn {}", rates.join("  "));
        for c in s.conditions.iter().filter(|c| c.firing) {
            println!(
                "       FIRING {:?}: {}× over {} and {}",
                c.condition.severity, c.condition.factor, c.condition.long, c.condition.short
            );
        }
        if let Some(t) = s.exhaustion_secs {
            println!("       budget exhausted in {:.1} h at the 1 h rate", t / 3600.0);
        }
        if let Some(rr) = &s.recording_rule {
            println!("       cross-check: {} = {:.2}", rr.name, rr.value);
        }
        if let Some(e) = &s.error {
            println!("       error: {e}");
        }
    }
    for b in &r.broken_rules {
        println!("  ! Prometheus rule failing: {b}");
    }
}

pub fn print_check(c: &Checklist) {
    println!("{} check at {}", c.name, c.ran_at);
    for i in &c.items {
        let o = match i.outcome {
            CheckOutcome::Pass => "PASS",
            CheckOutcome::Warn => "WARN",
            CheckOutcome::Fail => "FAIL",
            CheckOutcome::Unknown => "????",
            CheckOutcome::Manual => "TODO",
        };
        println!("  {o}{} {}\n        {}", if i.critical { "!" } else { " " }, i.title, i.evidence);
    }
    if c.critical_failed {
        println!("A critical check failed.");
    }
}

pub async fn alerts(ctx: &AppContext, cmd: Option<&AlertsCmd>, out: &Out) -> Result<(), Error> {
    let now = Utc::now();
    match cmd {
        None => {
            let v = ctx.alerts(now).await?;
            if out.json {
                out.json_value(&v);
                return Ok(());
            }
            println!("Alerts{}", stale(&v.freshness));
            if v.groups.is_empty() {
                println!("  none firing");
            }
            for g in &v.groups {
                println!("  {} ({})", g.severity.to_uppercase(), g.alerts.len());
                for a in &g.alerts {
                    let summary = a.annotations.get("summary").cloned().unwrap_or_default();
                    println!(
                        "    {} {:<30} {}  since {}  [{}]",
                        a.fingerprint,
                        a.name(),
                        summary,
                        a.starts_at,
                        a.status.state
                    );
                    if let Some(u) = a.annotations.get("runbook_url") {
                        println!("      runbook {u}");
                    }
                }
            }
            for s in &v.silences {
                println!("  silence {} until {} by {}: {}", s.id, s.ends_at, s.created_by, s.comment);
            }
        }
        Some(AlertsCmd::Ack { fingerprint, duration, comment }) => {
            let id = ctx.ack_alert(fingerprint, parse_duration(duration)?, comment, &os_user(), now).await?;
            out.line_or_json(
                &format!("silenced {fingerprint} for {duration}: silence {id}"),
                &serde_json::json!({ "silence_id": id }),
            );
        }
        Some(AlertsCmd::Expire { id }) => {
            ctx.expire_silence(id, &os_user(), now).await?;
            out.line_or_json(&format!("silence {id} expired"), &serde_json::json!({ "expired": id }));
        }
        Some(AlertsCmd::Link { fingerprint }) => {
            let link = ctx.link_alert(fingerprint, &os_user(), now).await?;
            out.line_or_json(
                &format!("alert {fingerprint} handed to incidents (link {link})"),
                &serde_json::json!({ "link_id": link }),
            );
        }
    }
    Ok(())
}
