//! `hsofctl cost` and `hsofctl capacity`: the Monday cost and capacity review, the month's
//! budget, and the quarter against its baseline.

use chrono::{DateTime, Utc};
use hsof_core::cost::{capacity_evidence, cost_evidence, Span};
use hsof_core::time::Bound;
use hsof_core::{AppContext, Error};

use crate::output::Out;

fn money(v: Option<f64>, currency: &str) -> String {
    v.map_or("—".into(), |v| format!("{v:.2} {currency}"))
}

fn worst(verdicts: &[&str]) -> u8 {
    if verdicts.contains(&"fail") {
        2
    } else if verdicts.iter().all(|v| *v == "pass") {
        0
    } else {
        1
    }
}

/// `hsofctl cost`: exit 0 within budget and all read, 1 warning or something not read,
/// 2 projected over budget.
pub async fn cost(ctx: &AppContext, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    let v = ctx.cost_view(now).await?;
    let verdicts: Vec<&str> = ["spend", "per-dataset", "idle-gpu"].iter().map(|p| cost_evidence(&v, p).0).collect();
    if out.json {
        out.json_value(&v);
        return Ok(worst(&verdicts));
    }
    let c = &v.currency;
    println!("Cost of HSOF in cluster {} ({}, read {})", v.cluster, v.source_url, v.generated_at);
    println!("  source: {}", v.source.name);
    for p in &v.source.prices {
        println!("    {p}");
    }
    for g in &v.source.gaps {
        println!("    NOT PRICED {g}");
    }
    let b = &v.budget;
    println!(
        "\nbudget {}: month to date {}, projected {} of {} — {:?}, {} days left",
        b.month,
        money(Some(b.month_to_date), c),
        money(Some(b.projected), c),
        money(b.budget, c),
        b.status,
        b.days_left
    );
    println!("  projection: {}", b.method);
    if let Some(n) = &b.note {
        println!("  {n}");
    }
    println!("\ncost per dataset");
    for p in v.months.iter().chain(&v.weeks).chain(&v.days) {
        println!(
            "  {:<11} {:>14}  {:>9} datasets  {:>12} per dataset{}",
            p.label,
            money(p.cost, c),
            p.datasets.map_or("—".into(), |d| format!("{d:.0}")),
            money(p.per_dataset, c),
            p.note.as_ref().map(|n| format!("  ({n})")).unwrap_or_default()
        );
    }
    if let Some(w) = v.week_over_week {
        println!("  week over week: {:+.1} %", w * 100.0);
    }
    let i = &v.idle;
    println!(
        "\nidle GPUs, last 7 days: {:.1} of {:.1} GPU-hours idle, {} ({})",
        i.total_idle_gpu_hours,
        i.total_allocated_gpu_hours,
        money(i.total_idle_money, c),
        v.idle_source
    );
    for r in &i.rows {
        println!(
            "  {} {:<20} {:>6.1} of {:>6.1} GPU-hours idle  {}",
            r.day,
            r.node,
            r.idle_gpu_hours,
            r.allocated_gpu_hours,
            money(r.idle_money, c)
        );
    }
    for p in &v.problems {
        println!("  NOT READ {p}");
    }
    Ok(worst(&verdicts))
}

fn span(ctx: &AppContext, s: Option<&str>, what: &str, now: DateTime<Utc>) -> Result<Option<Span>, Error> {
    let Some(s) = s else { return Ok(None) };
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| Error::InvalidInput(format!("{what}: {s:?} is not FROM..TO (e.g. 2026-07-01..2026-10-01)")))?;
    let (a, b) = (ctx.parse_when(a, what, now, Bound::Start)?, ctx.parse_when(b, what, now, Bound::End)?);
    if b <= a {
        return Err(Error::InvalidInput(format!("{what}: {s:?} ends before it starts")));
    }
    Ok(Some((a, b)))
}

/// `hsofctl capacity`: exit 0 nothing to act on, 1 something to plan or not read,
/// 2 a regression beyond the noise.
pub async fn capacity(ctx: &AppContext, period: Option<&str>, baseline: Option<&str>, out: &Out) -> Result<u8, Error> {
    let now = Utc::now();
    let (period, baseline) = (span(ctx, period, "--period", now)?, span(ctx, baseline, "--baseline", now)?);
    let v = ctx.capacity_view(now, period, baseline).await?;
    let parts = ["rightsizing", "autoscaling", "growth", "patterns", "regressions"];
    let evidence: Vec<(&str, String)> = parts.iter().map(|p| capacity_evidence(&v, p, now)).collect();
    let code = worst(&evidence.iter().map(|(v, _)| *v).collect::<Vec<_>>());
    if out.json {
        out.json_value(&v);
        return Ok(code);
    }
    println!("Capacity of HSOF in cluster {} ({}, read {})", v.cluster, v.source_url, v.generated_at);
    for (part, (verdict, text)) in parts.iter().zip(&evidence) {
        println!("\n{part}: {}", verdict.to_uppercase());
        for line in text.lines().filter(|l| !l.starts_with("source: ")) {
            println!("  {line}");
        }
    }
    Ok(code)
}
