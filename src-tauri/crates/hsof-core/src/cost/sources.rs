//! Hourly series from Prometheus, and the hourly cost of HSOF from the first source that
//! has it: HSOF's own cost counter, else OpenCost's allocations times its node prices, else
//! the local price table applied to the larger of request and use.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use hsof_monitor::cost::CostQueries;
use hsof_monitor::prom::PromClient;
use serde::{Deserialize, Serialize};

use crate::config::CostConfig;

/// Hourly points `(unix s, value)`; `NaN` where Prometheus had no value.
pub(crate) type Hourly = Vec<(f64, f64)>;

/// The hour boundaries a range of `days` ending at `now` covers.
pub(crate) fn hours(now: DateTime<Utc>, days: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    (end - TimeDelta::days(days), end)
}

/// The points of a query that yields one series (a `sum(...)` or `max(...)`), from `start`
/// to `end` every `step`; empty when Prometheus has none.
pub(crate) async fn range_points(
    prom: &PromClient,
    q: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step: Duration,
) -> Result<Hourly, String> {
    let series = prom.range(q, start, end, step).await.map_err(|e| e.to_string())?;
    Ok(series.into_iter().next().map(|s| s.points).unwrap_or_default())
}

/// One hourly series (a `sum(...)` query); empty when Prometheus has none.
pub(crate) async fn hourly(prom: &PromClient, q: &str, now: DateTime<Utc>, days: i64) -> Result<Hourly, String> {
    let (start, end) = hours(now, days);
    range_points(prom, q, start + TimeDelta::hours(1), end, Duration::from_secs(3600)).await
}

/// Each node's price per GPU-hour from the `[cost]` table, by its GPU model; nodes whose
/// model the table lacks are left out.
pub(crate) fn table_gpu_price_by_node(cfg: &CostConfig, models: &BTreeMap<String, String>) -> BTreeMap<String, f64> {
    let table = cfg.gpu_prices();
    models.iter().filter_map(|(n, m)| table.iter().find(|(tm, _)| tm == m).map(|(_, p)| (n.clone(), *p))).collect()
}

/// Hourly series by the value of `label` (`""` where a series lacks it).
pub(crate) async fn hourly_by(
    prom: &PromClient,
    q: &str,
    label: &str,
    now: DateTime<Utc>,
    days: i64,
) -> Result<BTreeMap<String, Hourly>, String> {
    let (start, end) = hours(now, days);
    let series =
        prom.range(q, start + TimeDelta::hours(1), end, Duration::from_secs(3600)).await.map_err(|e| e.to_string())?;
    Ok(series.into_iter().map(|s| (s.labels.get(label).cloned().unwrap_or_default(), s.points)).collect())
}

/// Which source priced the hours, in words, with the prices that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CostSource {
    /// `hsof`, `opencost`, `price_table` or `none`.
    pub kind: String,
    /// The source in words: the metric or the table.
    pub name: String,
    /// The prices used (OpenCost's per node, or the table's).
    pub prices: Vec<String>,
    /// What the source lacked: nodes without a price, GPU models missing from the table.
    pub gaps: Vec<String>,
}

/// The hourly cost series and its source.
pub(crate) struct HourlyCost {
    pub source: CostSource,
    pub cost: Hourly,
    /// Node → price per GPU-hour, where known (for idle GPU money).
    pub gpu_price_by_node: BTreeMap<String, f64>,
}

/// Adds `b` into `a` point by point (same timestamps: one range's steps); a point missing
/// on either side stays missing.
fn add_into(a: &mut BTreeMap<i64, f64>, b: &[(f64, f64)], scale: f64) {
    for (t, v) in b {
        let k = *t as i64;
        let e = a.entry(k).or_insert(0.0);
        *e += v * scale;
    }
}

fn points(m: BTreeMap<i64, f64>) -> Hourly {
    m.into_iter().map(|(t, v)| (t as f64, v)).collect()
}

fn money(v: f64, currency: &str) -> String {
    format!("{v:.4} {currency}")
}

pub(crate) async fn hourly_cost(
    prom: &PromClient,
    q: &CostQueries,
    cfg: &CostConfig,
    node_models: &Result<BTreeMap<String, String>, String>,
    now: DateTime<Utc>,
    days: i64,
) -> Result<HourlyCost, String> {
    let table_prices = cfg.gpu_prices();
    let table_gpu_by_node = |models: &BTreeMap<String, String>| table_gpu_price_by_node(cfg, models);
    // 1. HSOF's own counter.
    if prom.scalar(&q.hsof_cost_present(), Some(now)).await.map_err(|e| e.to_string())?.unwrap_or(0.0) > 0.0 {
        let cost = hourly(prom, &q.hsof_cost(), now, days).await?;
        return Ok(HourlyCost {
            source: CostSource {
                kind: "hsof".into(),
                name: format!("HSOF's own {} (increase per hour)", hsof_monitor::cost::HSOF_COST_METRIC),
                prices: vec!["as HSOF prices its compute".into()],
                gaps: vec![],
            },
            cost,
            gpu_price_by_node: node_models.as_ref().map(table_gpu_by_node).unwrap_or_default(),
        });
    }
    // 2. OpenCost: allocation × node price, per resource and node.
    if prom.scalar(&q.opencost_present(), Some(now)).await.map_err(|e| e.to_string())?.unwrap_or(0.0) > 0.0 {
        let node = cfg.node_label.as_str();
        let mut total = BTreeMap::new();
        let mut prices = Vec::new();
        let mut gaps = Vec::new();
        let mut gpu_price_by_node = BTreeMap::new();
        for (res, unit, scale) in [("cpu", "core", 1.0), ("gpu", "GPU", 1.0), ("memory", "GiB", 1.0 / 1_073_741_824.0)]
        {
            let (aq, pq) = (q.opencost_allocation(res), q.opencost_price(res));
            let (alloc, price) =
                futures_util::join!(hourly_by(prom, &aq, node, now, days), hourly_by(prom, &pq, node, now, days));
            let (alloc, price) = (alloc?, price?);
            for (n, a) in &alloc {
                let Some(p) = price.get(n) else {
                    if a.iter().any(|(_, v)| *v > 0.0) {
                        gaps.push(format!("OpenCost has no {res} price for node {n}: its {res} is not counted"));
                    }
                    continue;
                };
                let by_t: BTreeMap<i64, f64> = p.iter().map(|(t, v)| (*t as i64, *v)).collect();
                let priced: Vec<(f64, f64)> =
                    a.iter().map(|(t, v)| (*t, by_t.get(&(*t as i64)).map_or(f64::NAN, |p| v * scale * p))).collect();
                add_into(&mut total, &priced, 1.0);
                if let Some(last) = p.iter().rev().find(|(_, v)| v.is_finite()) {
                    prices.push(format!("{n}: {} per {unit}-hour (OpenCost)", money(last.1, &cfg.currency)));
                    if res == "gpu" {
                        gpu_price_by_node.insert(n.clone(), last.1);
                    }
                }
            }
        }
        return Ok(HourlyCost {
            source: CostSource {
                kind: "opencost".into(),
                name: "OpenCost: container allocations × node_*_hourly_cost, joined on the node".into(),
                prices,
                gaps,
            },
            cost: points(total),
            gpu_price_by_node,
        });
    }
    // 3. The local price table.
    if cfg.has_price_table() {
        let mut total = BTreeMap::new();
        let mut prices = Vec::new();
        let mut gaps = Vec::new();
        let (cq, mq, gq) = (q.cpu_billed(), q.memory_billed(), q.gpus_by_node());
        let (cpu, mem, gpus) = futures_util::join!(
            hourly(prom, &cq, now, days),
            hourly(prom, &mq, now, days),
            hourly_by(prom, &gq, &cfg.node_label, now, days)
        );
        if cfg.vcpu_hour > 0.0 {
            add_into(&mut total, &cpu?, cfg.vcpu_hour);
            prices.push(format!("{} per vCPU-hour", money(cfg.vcpu_hour, &cfg.currency)));
        } else {
            gaps.push("CPU is not priced ([cost] vcpu_hour is 0)".into());
        }
        if cfg.gib_hour > 0.0 {
            add_into(&mut total, &mem?, cfg.gib_hour);
            prices.push(format!("{} per GiB-hour", money(cfg.gib_hour, &cfg.currency)));
        } else {
            gaps.push("memory is not priced ([cost] gib_hour is 0)".into());
        }
        let gpus = gpus?;
        let by_node = match node_models {
            Ok(models) => table_gpu_by_node(models),
            Err(e) => {
                gaps.push(format!("the nodes' GPU models could not be read ({e}): GPUs are not priced"));
                BTreeMap::new()
            }
        };
        for (n, g) in &gpus {
            if !g.iter().any(|(_, v)| *v > 0.0) {
                continue;
            }
            match by_node.get(n) {
                Some(p) => add_into(&mut total, g, *p),
                None => {
                    let model = node_models.as_ref().ok().and_then(|m| m.get(n).cloned());
                    gaps.push(match model {
                        Some(m) => {
                            format!("GPU model {m} (node {n}) is not in [cost] gpu_hour: its GPUs are not priced")
                        }
                        None if n.is_empty() => {
                            format!("the GPU requests carry no {} label: GPUs are not priced", cfg.node_label)
                        }
                        None => format!("node {n} has no {} label: its GPUs are not priced", cfg.gpu_model_label),
                    });
                }
            }
        }
        for (m, p) in &table_prices {
            prices.push(format!("{} per GPU-hour for {m}", money(*p, &cfg.currency)));
        }
        return Ok(HourlyCost {
            source: CostSource {
                kind: "price_table".into(),
                name: "the local price table ([cost]) applied to the larger of request and use (kube-state-metrics, cAdvisor)".into(),
                prices,
                gaps,
            },
            cost: points(total),
            gpu_price_by_node: by_node,
        });
    }
    Ok(HourlyCost {
        source: CostSource {
            kind: "none".into(),
            name: "no cost source".into(),
            prices: vec![],
            gaps: vec![format!(
                "Prometheus has neither HSOF's {} nor OpenCost's node_*_hourly_cost, and [cost] has no prices: set [cost] gpu_hour, vcpu_hour and gib_hour (hsofctl config edit), or deploy OpenCost",
                hsof_monitor::cost::HSOF_COST_METRIC
            )],
        },
        cost: vec![],
        gpu_price_by_node: node_models.as_ref().map(table_gpu_by_node).unwrap_or_default(),
    })
}
