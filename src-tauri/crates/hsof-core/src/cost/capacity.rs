//! The capacity half: right-sizing from the Deployments' requests and 7 days of use,
//! the HPAs over the last week, weekly growth with a trend, daily and weekly patterns,
//! and regressions of a period against a baseline.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hsof_cost::autoscale::HpaInput;
use hsof_cost::regress::{Better, MetricWeeks};
use hsof_cost::rightsize::{ContainerUsage, CostResource};
use hsof_monitor::prom::PromClient;

use super::{quarters, sources, sum_series, CapacityView};
use crate::{AppContext, Error};

/// Weeks of history growth reads.
const GROWTH_WEEKS: i64 = 26;

fn cores(q: &str) -> Option<f64> {
    hsof_cluster::cpu_millicores(q).map(|m| m / 1000.0)
}

async fn instant(prom: &PromClient, q: &str, now: DateTime<Utc>) -> Result<Option<f64>, String> {
    prom.scalar(q, Some(now)).await.map_err(|e| e.to_string())
}

/// Weekly values of `q` from `start` to `end` (evaluated at each week's end).
async fn weekly(prom: &PromClient, q: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<f64>, String> {
    let first = start + TimeDelta::weeks(1);
    if first > end {
        return Ok(vec![]);
    }
    let p = sources::range_points(prom, q, first, end, Duration::from_secs(7 * 86_400)).await?;
    Ok(p.into_iter().map(|(_, v)| v).collect())
}

fn words(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

pub(super) async fn view(
    ctx: &AppContext,
    now: DateTime<Utc>,
    period: Option<super::Span>,
    baseline: Option<super::Span>,
) -> Result<CapacityView, Error> {
    let cfg = ctx.config().config;
    let tz = ctx.team_tz()?;
    let m = ctx.monitor();
    let prom = m.prom.clone().map_err(Error::Unavailable)?;
    let q = ctx.cost_queries();
    let mut problems = Vec::new();
    let objects = match ctx.cluster().await {
        Ok(c) => Some(c.capacity_objects(&cfg.cost.gpu_model_label).await),
        Err(e) => {
            problems.push(format!("the cluster could not be read ({e}): no right-sizing or autoscaling review"));
            None
        }
    };

    // Right-sizing: every Deployment's containers, each resource it requests or uses.
    // A GPU's price: the mean over the nodes the table prices.
    let gpu_price = objects.as_ref().and_then(|o| o.node_models.as_ref().ok()).and_then(|models| {
        let prices = sources::table_gpu_price_by_node(&cfg.cost, models);
        (!prices.is_empty()).then(|| prices.values().sum::<f64>() / prices.len() as f64)
    });
    let mut usage = Vec::new();
    match objects.as_ref().map(|o| &o.containers) {
        Some(Ok(containers)) => {
            for c in containers {
                let pods = format!("{}-[a-z0-9]+-[a-z0-9]+", regex_escape(&c.workload));
                let (cpu_q, mem_q) = (q.cpu_p95(&pods, &c.container), q.memory_p95(&pods, &c.container));
                let (cpu, mem) = futures_util::join!(instant(&prom, &cpu_q, now), instant(&prom, &mem_q, now));
                let price = |p: f64| (p > 0.0).then_some(p);
                let mut row =
                    |resource, req: Option<f64>, lim: Option<f64>, p95: Result<Option<f64>, String>, price| {
                        let p95 = p95.unwrap_or_else(|e| {
                            problems.push(format!("use of {}/{} could not be read: {e}", c.workload, c.container));
                            None
                        });
                        usage.push(ContainerUsage {
                            workload: c.workload.clone(),
                            container: c.container.clone(),
                            replicas: f64::from(c.replicas),
                            resource,
                            request: req,
                            limit: lim,
                            p95,
                            max: None,
                            price_per_unit_hour: price,
                        });
                    };
                row(
                    CostResource::Cpu,
                    c.requests.get("cpu").and_then(|v| cores(v)),
                    c.limits.get("cpu").and_then(|v| cores(v)),
                    cpu,
                    price(cfg.cost.vcpu_hour),
                );
                row(
                    CostResource::Memory,
                    c.requests.get("memory").and_then(|v| hsof_cluster::memory_bytes(v)),
                    c.limits.get("memory").and_then(|v| hsof_cluster::memory_bytes(v)),
                    mem,
                    price(cfg.cost.gib_hour),
                );
                let gpus = c.requests.get("nvidia.com/gpu").or_else(|| c.limits.get("nvidia.com/gpu"));
                if let Some(g) = gpus.and_then(|v| v.parse::<f64>().ok()) {
                    let p95 = instant(&prom, &q.gpu_p95(&pods), now).await;
                    row(CostResource::Gpu, Some(g), Some(g), p95, gpu_price);
                }
            }
        }
        Some(Err(e)) => problems.push(format!("the Deployments could not be read: {e}")),
        None => {}
    }
    let rightsizing = hsof_cost::rightsize::right_size(&usage, cfg.cost.headroom);

    // Autoscaling: each HPA's desired and current replicas over the last 7 days.
    let mut autoscaling = Vec::new();
    let mut replicas = Vec::new();
    match objects.as_ref().map(|o| &o.hpas) {
        Some(Ok(hpas)) => {
            let (start, end) = (now - TimeDelta::days(7), now);
            for h in hpas {
                let step = Duration::from_secs(300);
                let (cur_q, des_q) = (q.hpa_replicas(&h.name, "current"), q.hpa_replicas(&h.name, "desired"));
                let (cur, des) = futures_util::join!(
                    sources::range_points(&prom, &cur_q, start, end, step),
                    sources::range_points(&prom, &des_q, start, end, step)
                );
                let pts = |r: Result<Vec<(f64, f64)>, String>, problems: &mut Vec<String>| match r {
                    Ok(p) => p,
                    Err(e) => {
                        problems.push(format!("HPA {} replicas could not be read: {e}", h.name));
                        Vec::new()
                    }
                };
                let current = pts(cur, &mut problems);
                let desired = pts(des, &mut problems);
                let mut targets = vec![format!("scales {}", h.target)];
                targets.extend(h.metrics.iter().cloned());
                let input = HpaInput {
                    name: h.name.clone(),
                    min: Some(f64::from(h.min)),
                    max: Some(f64::from(h.max)),
                    targets,
                    current,
                    desired,
                    step_secs: 300.0,
                };
                autoscaling.push(hsof_cost::autoscale::review_hpa(&input));
                replicas.push(super::HpaReplicas {
                    name: input.name,
                    min: f64::from(h.min),
                    max: f64::from(h.max),
                    current: input.current,
                    desired: input.desired,
                });
            }
        }
        Some(Err(e)) => problems.push(format!("the HorizontalPodAutoscalers could not be read: {e}")),
        None => {}
    }

    // Growth: weekly datasets and requests over 26 weeks, GPUs allocated per week.
    let days = GROWTH_WEEKS * 7;
    let (dq, rq, gq, lq) = (q.datasets(), q.requests(), q.gpus_by_node(), q.latency_p95());
    let (datasets, requests, gpus, latency) = futures_util::join!(
        sources::hourly(&prom, &dq, now, days),
        sources::hourly(&prom, &rq, now, days),
        sources::hourly_by(&prom, &gq, &cfg.cost.node_label, now, days),
        sources::hourly(&prom, &lq, now, 28),
    );
    let mut read = |r: Result<Vec<(f64, f64)>, String>, what: &str| {
        r.unwrap_or_else(|e| {
            problems.push(format!("{what} could not be read: {e}"));
            Vec::new()
        })
    };
    let datasets = read(datasets, "datasets processed");
    let requests = read(requests, "requests");
    let latency = read(latency, "P95 latency");
    let gpus = gpus.map(|g| sum_series(g.values())).unwrap_or_else(|e| {
        problems.push(format!("GPU allocations could not be read: {e}"));
        Vec::new()
    });
    let current_gpus = gpus.iter().rev().find(|(_, v)| v.is_finite()).map(|(_, v)| *v);
    let dweeks = hsof_cost::forecast::weekly_totals(&datasets, &gpus, tz, now);
    let rweeks = hsof_cost::forecast::weekly_totals(&requests, &gpus, tz, now);
    let datasets_growth = hsof_cost::forecast::forecast(dweeks, current_gpus, 52);
    let requests_growth = hsof_cost::forecast::forecast(rweeks, current_gpus, 52);
    let recent: Vec<(f64, f64)> =
        datasets.iter().copied().filter(|(t, _)| *t >= (now - TimeDelta::days(28)).timestamp() as f64).collect();
    let latency_pattern = hsof_cost::forecast::pattern(&latency, tz);
    let throughput_pattern = hsof_cost::forecast::pattern(&recent, tz);

    // Regressions: weekly values of each metric, the period against the baseline.
    let (last_q, this_q) = quarters(tz, now);
    let (p_start, p_end) = period.unwrap_or((this_q, now));
    let (b_start, b_end) = baseline.unwrap_or((last_q, this_q));
    let mut rows = Vec::new();
    for (id, name, unit, higher, query) in q.weekly_metrics() {
        let (b, p) = futures_util::join!(weekly(&prom, &query, b_start, b_end), weekly(&prom, &query, p_start, p_end));
        let (b, p) = match (b, p) {
            (Ok(b), Ok(p)) => (b, p),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(format!("{name} could not be read for the regression check: {e}"));
                continue;
            }
        };
        rows.push(MetricWeeks {
            id: id.into(),
            name: name.into(),
            unit: unit.into(),
            better: if higher { Better::Higher } else { Better::Lower },
            baseline: b,
            period: p,
        });
    }
    let regressions = hsof_cost::regress::compare(&rows);
    Ok(CapacityView {
        cluster: ctx.current_cluster().name.clone(),
        currency: cfg.cost.currency.clone(),
        rightsizing,
        deployment: cfg.cluster.deployment.clone(),
        autoscaling,
        replicas,
        datasets_growth,
        requests_growth,
        latency_pattern,
        throughput_pattern,
        regression_period: format!("{} – {}", words(p_start, tz), words(p_end, tz)),
        regression_baseline: format!("{} – {}", words(b_start, tz), words(b_end, tz)),
        regressions,
        problems,
        source_url: format!("Prometheus {}", m.config.endpoints.prometheus_url),
        generated_at: crate::monitoring::rfc3339(now),
    })
}

/// A Deployment name is `[a-z0-9-.]`: only `.` needs escaping in a regex.
fn regex_escape(s: &str) -> String {
    s.replace('.', "\\\\.")
}
