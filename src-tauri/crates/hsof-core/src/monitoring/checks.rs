//! The runbook's Morning Health Check and Evening Status Review as checklists with
//! evidence. Steps whose feature has not landed say which one they wait for.

use chrono::{DateTime, Utc};
use hsof_monitor::Level;
use serde::Serialize;

use super::{AlertsView, HealthView, KeyMetricsView, SloReport};
use crate::{AppContext, Error};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum CheckOutcome {
    /// Meets the runbook.
    Pass,
    /// Needs a look.
    Warn,
    /// Fails the runbook.
    Fail,
    /// Could not be decided (source unreachable, no data).
    Unknown,
    /// Waits for a feature that has not landed, or is for a person to do.
    Manual,
}

/// One item of a checklist.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CheckItem {
    /// Step number and name from the runbook.
    pub title: String,
    /// Outcome.
    pub outcome: CheckOutcome,
    /// A failure here is critical (pages; `hsofctl check` exits non-zero).
    pub critical: bool,
    /// What was seen, with numbers.
    pub evidence: String,
}

/// A whole checklist run.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Checklist {
    /// `morning` or `evening`.
    pub name: String,
    /// When it ran.
    pub ran_at: String,
    /// Items in runbook order.
    pub items: Vec<CheckItem>,
    /// True when any critical item failed.
    pub critical_failed: bool,
}

fn item(title: &str, outcome: CheckOutcome, critical: bool, evidence: String) -> CheckItem {
    CheckItem { title: title.into(), outcome, critical: critical && outcome == CheckOutcome::Fail, evidence }
}

fn of_level(l: Level) -> CheckOutcome {
    match l {
        Level::Healthy => CheckOutcome::Pass,
        Level::Warning => CheckOutcome::Warn,
        Level::Critical => CheckOutcome::Fail,
        Level::Unknown => CheckOutcome::Unknown,
    }
}

fn metric_line(k: &KeyMetricsView, ids: &[&str]) -> (Level, String) {
    let mut worst = Level::Healthy;
    let mut parts = Vec::new();
    for m in k.metrics.iter().filter(|m| ids.contains(&m.id.as_str())) {
        worst = worst.max(m.level);
        parts.push(format!("{} {} (target {})", m.label, m.display_value(), m.target));
    }
    let stale = if k.freshness.stale { " [stale: Prometheus unreachable]" } else { "" };
    (worst, format!("{}{stale}", parts.join("; ")))
}

fn alerts_line(a: &AlertsView) -> (CheckOutcome, String) {
    if a.freshness.stale && a.freshness.fetched_at.is_none() {
        return (CheckOutcome::Unknown, a.freshness.error.clone().unwrap_or_default());
    }
    let (crit, warn) = (a.active_count("critical"), a.active_count("warning"));
    let silenced: usize = a.groups.iter().flat_map(|g| &g.alerts).filter(|x| x.status.state != "active").count();
    let outcome = if crit > 0 {
        CheckOutcome::Fail
    } else if warn > 0 {
        CheckOutcome::Warn
    } else {
        CheckOutcome::Pass
    };
    let names: Vec<String> = a
        .groups
        .iter()
        .flat_map(|g| &g.alerts)
        .filter(|x| x.status.state == "active")
        .map(|x| x.name().to_string())
        .collect();
    let stale = if a.freshness.stale { " [stale]" } else { "" };
    (
        outcome,
        format!(
            "{crit} critical, {warn} warning active, {silenced} silenced{}{stale}",
            if names.is_empty() { String::new() } else { format!(": {}", names.join(", ")) }
        ),
    )
}

fn top_line(top: &Result<Vec<hsof_cluster::TopRow>, Error>, cpu_max: f64, mem_max: f64) -> (CheckOutcome, String) {
    match top {
        Err(e) => (CheckOutcome::Unknown, e.to_string()),
        Ok(rows) => {
            let hot: Vec<String> = rows
                .iter()
                .filter(|r| r.cpu_pct.is_some_and(|c| c > cpu_max) || r.memory_pct.is_some_and(|m| m > mem_max))
                .map(|r| {
                    format!(
                        "{} CPU {:.0} % / memory {:.0} %",
                        r.name,
                        r.cpu_pct.unwrap_or(0.0),
                        r.memory_pct.unwrap_or(0.0)
                    )
                })
                .collect();
            let all: Vec<String> = rows
                .iter()
                .map(|r| {
                    format!(
                        "{} {:.0} % CPU, {:.0} % memory",
                        r.name,
                        r.cpu_pct.unwrap_or(0.0),
                        r.memory_pct.unwrap_or(0.0)
                    )
                })
                .collect();
            if hot.is_empty() {
                (CheckOutcome::Pass, format!("{} (targets: CPU < {cpu_max} %, memory < {mem_max} %)", all.join("; ")))
            } else {
                (CheckOutcome::Warn, format!("over target: {}", hot.join("; ")))
            }
        }
    }
}

fn pods_line(pods: Result<Vec<hsof_cluster::PodRow>, Error>) -> (CheckOutcome, String) {
    match pods {
        Err(e) => (CheckOutcome::Unknown, format!("kubectl get pods: {e}")),
        Ok(p) if p.is_empty() => (CheckOutcome::Fail, "no pods in the namespace".into()),
        Ok(p) => {
            let bad: Vec<String> = p
                .iter()
                .filter(|r| r.phase != "Running" || r.ready.split('/').next() != r.ready.split('/').nth(1))
                .map(|r| format!("{} {} {}", r.name, r.phase, r.ready))
                .collect();
            let restarts: u32 = p.iter().map(|r| r.restarts).sum();
            let outcome = if bad.is_empty() {
                CheckOutcome::Pass
            } else if bad.len() == p.len() {
                CheckOutcome::Fail
            } else {
                CheckOutcome::Warn
            };
            let detail = if bad.is_empty() { String::new() } else { format!("; not ready: {}", bad.join(", ")) };
            (
                outcome,
                format!("{} pods, {} running and ready, {restarts} restarts{detail}", p.len(), p.len() - bad.len()),
            )
        }
    }
}

fn health_line(h: &HealthView) -> (CheckOutcome, String) {
    if !h.report.reachable {
        let why = h.report.components.first().map(|c| c.reason.clone()).unwrap_or_default();
        let down = h.down_for_secs.map(|d| format!(", down for {d:.0} s")).unwrap_or_default();
        return (CheckOutcome::Fail, format!("{why}{down}"));
    }
    let comps: Vec<String> =
        h.report.components.iter().map(|c| format!("{} {:?}: {}", c.name, c.level, c.reason)).collect();
    let mut outcome = of_level(h.report.overall);
    if h.system_down {
        outcome = CheckOutcome::Fail;
    }
    let down = h.down_for_secs.map(|d| format!(" — down for {d:.0} s")).unwrap_or_default();
    (outcome, format!("{} {:?}{down}; {}", h.report.base_url, h.report.overall, comps.join("; ")))
}

/// Everything the morning check read, so one screen shows the checklist and its sources
/// from a single round of requests.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct MorningView {
    /// The checklist.
    pub checklist: Checklist,
    /// Health as read for it.
    pub health: HealthView,
    /// Alerts as read for it.
    pub alerts: AlertsView,
    /// Key metrics as read for it.
    pub metrics: KeyMetricsView,
}

impl AppContext {
    /// The runbook's Morning Health Check (09:00).
    pub async fn check_morning(&self, now: impl Fn() -> DateTime<Utc>) -> Result<Checklist, Error> {
        Ok(self.morning(now).await?.checklist)
    }

    /// The Morning Health Check with the health, alerts and metrics it was decided on.
    pub async fn morning(&self, now: impl Fn() -> DateTime<Utc>) -> Result<MorningView, Error> {
        let t = now();
        let cronjob = self.config().config.cluster.backup_cronjob;
        let kube = async {
            let c = self.cluster().await?;
            let (pods, backup, top) = futures_util::future::join3(c.pods(), c.backup(&cronjob), c.top_nodes()).await;
            Ok::<_, Error>((pods?, backup.ok(), top.map_err(Error::from)))
        };
        let (health, alerts, metrics, kube) =
            futures_util::future::join4(self.health_check(&now), self.alerts(t), self.key_metrics(t), kube).await;
        let (pods, backup, top) = match kube {
            Ok((p, b, t)) => (Ok(p), b, t),
            Err(e) => (Err(e.to_string()), None, Err(Error::Unavailable("the cluster could not be read".into()))),
        };
        let pods = pods.map_err(Error::Unavailable);
        let (health, alerts, metrics) = (health?, alerts?, metrics?);
        let (p_out, p_ev) = pods_line(pods);
        let (h_out, h_ev) = health_line(&health);
        let (a_out, a_ev) = alerts_line(&alerts);
        let (r_lvl, r_ev) = metric_line(&metrics, &["cpu_pct", "memory_pct", "storage_pct"]);
        let (b_lvl, b_ev) = metric_line(&metrics, &["backup_age_secs", "backup_failures_1d"]);
        let (k_lvl, k_ev) = metric_line(
            &metrics,
            &["gpu_utilization_pct", "error_rate_pct", "latency_p95_secs", "throughput_per_hour"],
        );
        let cronjob_failed = backup.as_ref().is_some_and(|b| b.last_run_failed);
        let backup_failed =
            cronjob_failed || metrics.metrics.iter().any(|m| m.id == "backup_failures_1d" && m.level >= Level::Warning);
        // `thresholds.critical.backup_failure`: a failed backup pages (critical) or is shown (warning).
        let backup_pages = self.config().config.thresholds.critical.backup_failure;
        let failed_level = if backup_pages { Level::Critical } else { Level::Warning };
        let (b_lvl, b_ev) = match &backup {
            Some(b) => (
                if cronjob_failed { b_lvl.max(failed_level) } else { b_lvl },
                format!(
                    "{b_ev}; CronJob {} last success {}, last scheduled {}{}",
                    b.name,
                    b.last_success.as_deref().unwrap_or("never"),
                    b.last_schedule.as_deref().unwrap_or("never"),
                    if cronjob_failed { " — the last run did not succeed" } else { "" }
                ),
            ),
            None => (b_lvl, b_ev),
        };
        let error_crit = metrics.metrics.iter().any(|m| m.id == "error_rate_pct" && m.level == Level::Critical);
        let items = vec![
            item("1. System status: HSOF health endpoint", h_out, true, h_ev),
            item("1. System status: pods in namespace", p_out, true, p_ev),
            item("2. Overnight alerts (AlertManager)", a_out, true, a_ev),
            item("3. Resource utilisation (CPU, memory, storage)", of_level(r_lvl), false, r_ev),
            {
                let (o, ev) = top_line(
                    &top,
                    self.config().config.thresholds.cpu_utilization_max_pct,
                    self.config().config.thresholds.memory_utilization_max_pct,
                );
                item("3. kubectl top nodes", o, false, ev)
            },
            item("4. Backup completion", of_level(b_lvl), backup_failed && backup_pages, b_ev),
            item(
                "5. Key metrics (GPU > 60 %, errors < 0.1 %, P95 < 30 s, > 100 datasets/h)",
                of_level(k_lvl),
                error_crit,
                k_ev,
            ),
        ];
        let view = MorningView { checklist: finish("morning", t, items), health, alerts, metrics };
        self.set_last_morning(&view);
        Ok(view)
    }

    /// The runbook's Evening Status Review (18:00).
    pub async fn check_evening(&self, now: impl Fn() -> DateTime<Utc>) -> Result<Checklist, Error> {
        let t = now();
        let prom = self.monitor().prom.ok();
        let skew = async {
            match &prom {
                Some(p) => p.clock_skew(t).await.ok().flatten(),
                None => None,
            }
        };
        let (slo, alerts, health, skew) =
            futures_util::future::join4(self.slo_report(t), self.alerts(t), self.health_check(&now), skew).await;
        let (slo, alerts, health) = (slo?, alerts?, health?);
        let maintenance = self.maintenance_item(t).await;
        let items = vec![
            slo_item(&slo),
            {
                let (o, ev) = alerts_line(&alerts);
                let up = health.uptime_24h.map(|u| format!("; uptime 24 h {:.3} %", u * 100.0)).unwrap_or_default();
                item("1. Incidents and degradations today", o, false, format!("{ev}{up}"))
            },
            maintenance,
            monitoring_item(&slo, &alerts, &health, skew),
            item(
                "3. On-call rotation verified",
                CheckOutcome::Manual,
                false,
                "confirm tonight's on-call engineer".into(),
            ),
        ];
        Ok(finish("evening", t, items))
    }
}

impl AppContext {
    /// Evening step 2: the maintenance windows of the next seven days from the calendar
    /// (a window within 48 h scheduled on short notice warns), and the backup CronJob's
    /// schedule and last runs (a failed last run warns; an unreadable cluster is unknown).
    async fn maintenance_item(&self, t: DateTime<Utc>) -> CheckItem {
        const TITLE: &str = "2. Scheduled maintenance and backup schedule";
        let tz = self.team_tz().unwrap_or(chrono_tz::UTC);
        let mut outcome = CheckOutcome::Pass;
        let mut parts = Vec::new();
        match self.windows() {
            Ok(ws) => {
                let soon: Vec<_> = ws
                    .iter()
                    .filter(|w| w.cancelled_at.is_none() && w.window.end > t)
                    .filter(|w| w.window.start <= t + chrono::Duration::days(7))
                    .collect();
                if soon.is_empty() {
                    parts.push("no maintenance window in the next 7 days".to_string());
                }
                for w in soon {
                    let short = !w.notice_ok && w.window.start <= t + chrono::Duration::hours(48);
                    if short {
                        outcome = CheckOutcome::Warn;
                    }
                    parts.push(format!(
                        "maintenance \"{}\" {} – {}{}",
                        w.window.title,
                        w.window.start.with_timezone(&tz).format("%a %d %b %H:%M"),
                        w.window.end.with_timezone(&tz).format("%H:%M %Z"),
                        if short { " (announced with less than 48 h notice)" } else { "" }
                    ));
                }
            }
            Err(e) => {
                outcome = CheckOutcome::Unknown;
                parts.push(format!("maintenance windows could not be read: {e}"));
            }
        }
        let cronjob = self.config().config.cluster.backup_cronjob;
        let backup = async { self.cluster().await?.backup(&cronjob).await.map_err(Error::from) };
        match tokio::time::timeout(std::time::Duration::from_secs(10), backup).await {
            Ok(Ok(b)) => {
                if b.last_run_failed || b.suspended {
                    outcome = worse(outcome, CheckOutcome::Warn);
                }
                parts.push(format!(
                    "backup CronJob {} `{}`{}, last success {}{}",
                    b.name,
                    b.schedule,
                    if b.suspended { " (suspended)" } else { "" },
                    b.last_success.as_deref().unwrap_or("never"),
                    if b.last_run_failed { " — the last run did not succeed" } else { "" }
                ));
            }
            Ok(Err(e)) => {
                outcome = worse(outcome, CheckOutcome::Unknown);
                parts.push(format!("backup CronJob {cronjob} could not be read: {e}"));
            }
            Err(_) => {
                outcome = worse(outcome, CheckOutcome::Unknown);
                parts.push(format!("backup CronJob {cronjob}: the cluster did not answer in 10 s"));
            }
        }
        item(TITLE, outcome, false, parts.join("; "))
    }
}

/// The worse of two outcomes: fail, then warn, then unknown, then pass.
fn worse(a: CheckOutcome, b: CheckOutcome) -> CheckOutcome {
    let rank = |o: CheckOutcome| match o {
        CheckOutcome::Pass | CheckOutcome::Manual => 0,
        CheckOutcome::Unknown => 1,
        CheckOutcome::Warn => 2,
        CheckOutcome::Fail => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn slo_item(slo: &SloReport) -> CheckItem {
    if slo.slos.is_empty() {
        return item(
            "1. SLO error budget consumption",
            CheckOutcome::Unknown,
            false,
            slo.freshness.error.clone().unwrap_or_default(),
        );
    }
    let worst = slo.slos.iter().map(|s| s.level).max().unwrap_or(Level::Unknown);
    let parts: Vec<String> = slo
        .slos
        .iter()
        .map(|s| {
            let b = s
                .budget_remaining
                .map(|b| format!("{:.1} % budget left", b * 100.0))
                .unwrap_or_else(|| "no data".into());
            let firing: Vec<String> = s
                .conditions
                .iter()
                .filter(|c| c.firing)
                .map(|c| format!("{}×{}+{}", c.condition.factor, c.condition.long, c.condition.short))
                .collect();
            format!(
                "{} {b}{}",
                s.name,
                if firing.is_empty() { String::new() } else { format!(", burning {}", firing.join(" ")) }
            )
        })
        .collect();
    item("1. SLO error budget consumption", of_level(worst), false, parts.join("; "))
}

/// Clock difference beyond which time-based figures (rates, windows, ages) mislead.
const MAX_SKEW_SECS: f64 = 30.0;

fn monitoring_item(slo: &SloReport, alerts: &AlertsView, health: &HealthView, skew: Option<f64>) -> CheckItem {
    let mut problems = Vec::new();
    if let Some(s) = skew.filter(|s| s.abs() > MAX_SKEW_SECS) {
        problems.push(format!(
            "Prometheus's clock is {:.0} s {} this machine's: ages and windows are off by that much",
            s.abs(),
            if s > 0.0 { "ahead of" } else { "behind" }
        ));
    }
    if slo.freshness.stale {
        problems.push(format!("Prometheus: {}", slo.freshness.error.clone().unwrap_or_default()));
    }
    if alerts.freshness.stale {
        problems.push(format!("AlertManager: {}", alerts.freshness.error.clone().unwrap_or_default()));
    }
    if !health.report.reachable {
        problems.push("HSOF health endpoint unreachable".into());
    }
    for r in &slo.broken_rules {
        problems.push(format!("rule failing: {r}"));
    }
    let outcome = if problems.is_empty() { CheckOutcome::Pass } else { CheckOutcome::Fail };
    let ev = if problems.is_empty() {
        "Prometheus, AlertManager and the health endpoint answer; every rule evaluates".to_string()
    } else {
        problems.join("; ")
    };
    item("3. Monitoring is active", outcome, false, ev)
}

fn finish(name: &str, t: DateTime<Utc>, items: Vec<CheckItem>) -> Checklist {
    let critical_failed = items.iter().any(|i| i.critical);
    Checklist { name: name.into(), ran_at: super::rfc3339(t), items, critical_failed }
}
