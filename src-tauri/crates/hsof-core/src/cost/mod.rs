//! Cost and capacity, composed: the hourly series from Prometheus (`hsof-monitor`'s
//! queries), the objects from the cluster, the arithmetic from `hsof-cost`.
//! [`AppContext::cost_view`] answers the Monday cost questions and the month's budget,
//! [`AppContext::capacity_view`] right-sizing, autoscaling, growth and regressions.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// A span of time `[start, end)`: a regression period or its baseline.
pub type Span = (DateTime<Utc>, DateTime<Utc>);
use hsof_cost::autoscale::AutoscaleReview;
use hsof_cost::forecast::{CapacityPattern, GrowthForecast};
use hsof_cost::idle::{IdleGpuReport, NodeGpuInput};
use hsof_cost::regress::RegressionRow;
use hsof_cost::rightsize::RightSizing;
use hsof_cost::spend::{BudgetProjection, CostGrain, CostPeriod};
use hsof_monitor::cost::CostQueries;
use serde::{Deserialize, Serialize};

use crate::monitoring::rfc3339;
use crate::{AppContext, Error};

mod capacity;
mod sources;
mod steps;

pub use sources::CostSource;
pub use steps::{capacity_evidence, cost_evidence, COST_STEP_PARTS};

/// How many days of hourly history the cost view reads.
const COST_DAYS: i64 = 35;

/// What `hsofctl cost` and the Cost & Capacity screen's cost half show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CostView {
    /// The cluster.
    pub cluster: String,
    /// The currency of every figure.
    pub currency: String,
    /// Which source priced the hours, with its prices and gaps.
    pub source: CostSource,
    /// Cost per dataset by local day (the last 14), week (5) and month (2).
    pub days: Vec<CostPeriod>,
    /// By week.
    pub weeks: Vec<CostPeriod>,
    /// By month.
    pub months: Vec<CostPeriod>,
    /// Week over week change of the cost per dataset (last complete week against the one
    /// before), when both are known.
    pub week_over_week: Option<f64>,
    /// Month to date, projected month end, budget.
    pub budget: BudgetProjection,
    /// GPUs allocated to HSOF pods but idle, per node and day, with the money where priced.
    pub idle: IdleGpuReport,
    /// Where the idle figures come from.
    pub idle_source: String,
    /// Hourly cost over the window (for the chart).
    pub hourly_cost: Vec<(f64, f64)>,
    /// Hourly datasets processed over the window.
    pub hourly_datasets: Vec<(f64, f64)>,
    /// What could not be read (never reported as zero).
    pub problems: Vec<String>,
    /// `Prometheus http://…`.
    pub source_url: String,
    /// When (RFC 3339).
    pub generated_at: String,
}

/// One HPA's replicas over time (kube-state-metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct HpaReplicas {
    /// The HPA.
    pub name: String,
    /// Its minimum replicas.
    pub min: f64,
    /// Its maximum replicas.
    pub max: f64,
    /// `(unix s, replicas)`.
    pub current: Vec<(f64, f64)>,
    /// `(unix s, replicas)`.
    pub desired: Vec<(f64, f64)>,
}

/// What `hsofctl capacity` and the screen's capacity half show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CapacityView {
    /// The cluster.
    pub cluster: String,
    /// The currency of the savings.
    pub currency: String,
    /// Per container and resource: request and limit against the 7-day 95th percentile.
    pub rightsizing: Vec<RightSizing>,
    /// The Deployment *Set resources* changes (the configured one's containers).
    pub deployment: String,
    /// Each HPA over the window.
    pub autoscaling: Vec<AutoscaleReview>,
    /// Each HPA's current and desired replicas over the last 7 days (5-minute steps), with
    /// its min and max: what the verdicts were judged on.
    pub replicas: Vec<HpaReplicas>,
    /// Weekly datasets processed with a trend and the week today's GPUs run out.
    pub datasets_growth: GrowthForecast,
    /// Weekly requests with a trend.
    pub requests_growth: GrowthForecast,
    /// P95 latency by local hour and weekday.
    pub latency_pattern: CapacityPattern,
    /// Datasets per hour by local hour and weekday.
    pub throughput_pattern: CapacityPattern,
    /// The period compared and the baseline, in words.
    pub regression_period: String,
    /// The baseline.
    pub regression_baseline: String,
    /// Each metric against the baseline.
    pub regressions: Vec<RegressionRow>,
    /// What could not be read.
    pub problems: Vec<String>,
    /// `Prometheus http://…`.
    pub source_url: String,
    /// When (RFC 3339).
    pub generated_at: String,
}

fn last<T: Clone>(v: Vec<T>, n: usize) -> Vec<T> {
    let skip = v.len().saturating_sub(n);
    v.into_iter().skip(skip).collect()
}

/// `(t, v)` by hour, from several node series summed.
fn sum_series<'a>(all: impl Iterator<Item = &'a Vec<(f64, f64)>>) -> Vec<(f64, f64)> {
    let mut m: BTreeMap<i64, f64> = BTreeMap::new();
    for s in all {
        for (t, v) in s {
            if v.is_finite() {
                *m.entry(*t as i64).or_insert(0.0) += v;
            }
        }
    }
    m.into_iter().map(|(t, v)| (t as f64, v)).collect()
}

impl AppContext {
    fn cost_queries(&self) -> CostQueries {
        let cfg = self.config().config;
        CostQueries::new(&cfg.cluster.namespace, &cfg.cost.node_label)
    }

    /// Cost per dataset, the month's spend against the budget and idle GPU money.
    pub async fn cost_view(&self, now: DateTime<Utc>) -> Result<CostView, Error> {
        let cfg = self.config().config;
        let tz = self.team_tz()?;
        let m = self.monitor();
        let prom = m.prom.clone().map_err(Error::Unavailable)?;
        let q = self.cost_queries();
        let mut problems = Vec::new();
        let node_models = match self.cluster().await {
            Ok(c) => c.node_gpu_models(&cfg.cost.gpu_model_label).await,
            Err(e) => Err(e.to_string()),
        };
        let priced = sources::hourly_cost(&prom, &q, &cfg.cost, &node_models, now, COST_DAYS)
            .await
            .map_err(|e| Error::Unavailable(format!("Prometheus: {e}")))?;
        let datasets = match sources::hourly(&prom, &q.datasets(), now, COST_DAYS).await {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("datasets processed could not be read: {e}"));
                Vec::new()
            }
        };
        if datasets.is_empty() {
            problems.push("Prometheus has no hsof_datasets_processed_total in the window: no cost per dataset".into());
        }
        let per = |grain| hsof_cost::spend::cost_per_dataset(&priced.cost, &datasets, grain, tz, now);
        let weeks = per(CostGrain::Week);
        let week_over_week = {
            let done: Vec<&CostPeriod> = weeks.iter().filter(|w| w.end <= now).collect();
            match done.as_slice() {
                [.., a, b] => match (a.per_dataset, b.per_dataset) {
                    (Some(a), Some(b)) if a > 0.0 => Some(b / a - 1.0),
                    _ => None,
                },
                _ => None,
            }
        };
        let budget = hsof_cost::spend::project_month(
            &priced.cost,
            tz,
            now,
            cfg.cost.monthly_budget,
            &cfg.cost.currency,
            cfg.cost.budget_warn_share,
        );
        let (idle, idle_source) = self.idle_gpus(&prom, &q, &priced, tz, now, &mut problems).await;
        Ok(CostView {
            cluster: self.current_cluster().name.clone(),
            currency: cfg.cost.currency.clone(),
            days: last(per(CostGrain::Day), 14),
            weeks: last(weeks, 5),
            months: last(per(CostGrain::Month), 2),
            week_over_week,
            budget,
            idle,
            idle_source,
            hourly_cost: priced.cost.clone(),
            hourly_datasets: datasets,
            source: priced.source,
            problems,
            source_url: format!("Prometheus {}", m.config.endpoints.prometheus_url),
            generated_at: rfc3339(now),
        })
    }

    async fn idle_gpus(
        &self,
        prom: &hsof_monitor::prom::PromClient,
        q: &CostQueries,
        priced: &sources::HourlyCost,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
        problems: &mut Vec<String>,
    ) -> (IdleGpuReport, String) {
        let label = self.config().config.cost.node_label;
        let alloc_q = if priced.source.kind == "opencost" { q.opencost_allocation("gpu") } else { q.gpus_by_node() };
        let (hq, dq) = (q.gpu_util_by_node(), q.dcgm_util_by_node());
        let (alloc, hsof_util, dcgm_util) = futures_util::join!(
            sources::hourly_by(prom, &alloc_q, &label, now, 7),
            sources::hourly_by(prom, &hq, &label, now, 7),
            sources::hourly_by(prom, &dq, &label, now, 7),
        );
        let alloc = alloc.unwrap_or_else(|e| {
            problems.push(format!("GPU allocations could not be read: {e}"));
            BTreeMap::new()
        });
        let (util, util_name) = match (hsof_util, dcgm_util) {
            (Ok(u), _) if !u.is_empty() => (u, "hsof_gpu_utilization_percent"),
            (_, Ok(u)) if !u.is_empty() => (u, "DCGM_FI_DEV_GPU_UTIL"),
            (Err(e), _) => {
                problems.push(format!("GPU utilisation could not be read: {e}"));
                (BTreeMap::new(), "no utilisation")
            }
            _ => (BTreeMap::new(), "no utilisation"),
        };
        // Utilisation without a node label is the namespace's mean, applied to every node.
        let shared = util.get("").cloned();
        if shared.is_some() && util.len() == 1 {
            problems.push(format!(
                "{util_name} carries no {label} label: the namespace's mean utilisation is applied to every node"
            ));
        }
        let nodes: Vec<NodeGpuInput> = alloc
            .iter()
            .filter(|(_, a)| a.iter().any(|(_, v)| *v > 0.0))
            .map(|(n, a)| NodeGpuInput {
                node: if n.is_empty() { "(no node label)".into() } else { n.clone() },
                model: None,
                price_per_gpu_hour: priced.gpu_price_by_node.get(n).copied(),
                allocated: a.clone(),
                utilization_pct: util.get(n).cloned().or_else(|| shared.clone()).unwrap_or_default(),
            })
            .collect();
        let report = hsof_cost::idle::idle_gpu(&nodes, tz);
        let alloc_name = if priced.source.kind == "opencost" {
            "OpenCost's container_gpu_allocation"
        } else {
            "kube-state-metrics' GPU requests"
        };
        (report, format!("{alloc_name} × (1 − {util_name} / 100), the last 7 days"))
    }

    /// Keeps the budget threshold's series (`budget_share`: the projected month end as a
    /// share of `[cost] monthly_budget`), which the thresholds judge like the runbook's
    /// others: the projection is recomputed at most hourly (it reads weeks of history) and
    /// its last value written at every poll in between. Nothing is written without a
    /// budget or a cost source, so the threshold then has no data rather than a guess.
    pub async fn record_budget_share(&self, now: DateTime<Utc>) -> Result<(), Error> {
        let cfg = self.config().config;
        let Some(budget) = cfg.cost.monthly_budget.filter(|b| *b > 0.0) else { return Ok(()) };
        let store = self.store()?;
        let ts = now.timestamp();
        // Each attempt is recorded (the projected spend, so a budget edited meanwhile is
        // used at once), one that could not be made as `NONE`, so a missing cost source or
        // an unreachable Prometheus is asked again hourly, not at every poll.
        const NONE: f64 = -1.0;
        let computed = store.series_id(&self.scoped("cost.projected_spend"))?;
        let projected = match store.samples(computed, ts - 3600, ts)?.last() {
            Some((_, v)) => *v,
            None => {
                let projected = match self.cost_view(now).await {
                    Ok(v) if v.source.kind != "none" && v.budget.month_to_date > 0.0 => v.budget.projected,
                    Ok(_) => NONE,
                    Err(e) => {
                        store.insert_samples(computed, &[(ts, NONE)])?;
                        return Err(e);
                    }
                };
                store.insert_samples(computed, &[(ts, projected)])?;
                projected
            }
        };
        if projected < 0.0 {
            return Ok(());
        }
        let share = projected / budget;
        let id = store.series_id(&self.scoped("metric.budget_share"))?;
        store.insert_samples(id, &[(ts, share)])?;
        Ok(())
    }

    /// Right-sizing, autoscaling, growth and patterns, and regressions of `period` against
    /// `baseline` (`(start, end)`; default: this quarter to date against the last quarter).
    pub async fn capacity_view(
        &self,
        now: DateTime<Utc>,
        period: Option<Span>,
        baseline: Option<Span>,
    ) -> Result<CapacityView, Error> {
        capacity::view(self, now, period, baseline).await
    }
}

/// The start of the local quarter holding `now`, and of the one before.
pub(crate) fn quarters(tz: chrono_tz::Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = now.with_timezone(&tz);
    let q0 = (local.month0() / 3) * 3 + 1;
    let start =
        |y: i32, m: u32| tz.with_ymd_and_hms(y, m, 1, 0, 0, 0).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now);
    let this = start(local.year(), q0);
    let prev = if q0 == 1 { start(local.year() - 1, 10) } else { start(local.year(), q0 - 3) };
    (prev, this)
}
