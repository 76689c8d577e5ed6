//! `hsofctl cost` and `hsofctl capacity`: the Monday cost and capacity review, the month's
//! budget, and the quarter against its baseline.

use chrono::{DateTime, Utc};
use hsof_core::cost::{capacity_evidence, cost_evidence, Span};
use hsof_core::time::Bound;
use hsof_core::{AppContext, Error};

use crate::output::Out;

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
    let v = ctx.cost_view(Utc::now()).await?;
    let parts = ["spend", "per-dataset", "idle-gpu"];
    let evidence: Vec<(&str, String)> = parts.iter().map(|p| cost_evidence(&v, p)).collect();
    let code = worst(&evidence.iter().map(|(v, _)| *v).collect::<Vec<_>>());
    if out.json {
        out.json_value(&v);
        return Ok(code);
    }
    println!("Cost of HSOF in cluster {} ({}, read {}), in {}", v.cluster, v.source_url, v.generated_at, v.currency);
    print_parts(&parts, &evidence);
    Ok(code)
}

/// Each part's verdict, then its evidence indented.
fn print_parts(parts: &[&str], evidence: &[(&str, String)]) {
    for (part, (verdict, text)) in parts.iter().zip(evidence) {
        println!("\n{part}: {}", verdict.to_uppercase());
        for line in text.lines() {
            println!("  {line}");
        }
    }
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
    print_parts(&parts, &evidence);
    Ok(code)
}
