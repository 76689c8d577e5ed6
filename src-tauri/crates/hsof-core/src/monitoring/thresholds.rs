//! The runbook's alerting thresholds, evaluated by the app over its stored samples.

use chrono::{DateTime, Utc};
use hsof_monitor::thresholds::{evaluate, notify_decision, Cmp, Notify, Rule, RuleState};
use hsof_monitor::Level;
use hsof_store::ThresholdRecord;
use serde::Serialize;

use super::Monitor;
use crate::{AppContext, Error};

/// Threshold states plus what to notify about now.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ThresholdView {
    /// Every rule, worst first.
    pub states: Vec<RuleState>,
    /// Worst active level (`HEALTHY` when none is active).
    pub worst: Level,
    /// Notifications due now (each rule once per activation, none while snoozed).
    pub notify: Vec<Notification>,
}

/// A notification the shell shows on the desktop.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Notification {
    /// Rule id.
    pub rule_id: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Level.
    pub level: Level,
}

/// The runbook's critical and warning thresholds as rules over key-metric series.
pub(crate) fn rules(m: &Monitor) -> Vec<Rule> {
    let t = &m.config.thresholds;
    let r = |id: &str, title: String, level, metric: &str, cmp, threshold, for_secs: i64| Rule {
        id: id.into(),
        title,
        level,
        metric: metric.into(),
        cmp,
        threshold,
        for_secs,
    };
    let mut rules = vec![
        r(
            "gpu_temperature_critical",
            format!("GPU temperature > {} °C", t.critical.gpu_temperature_c),
            Level::Critical,
            "gpu_temperature_c",
            Cmp::Above,
            t.critical.gpu_temperature_c,
            0,
        ),
        r(
            "error_rate_critical",
            format!("Error rate > {} %", t.critical.error_rate_pct),
            Level::Critical,
            "error_rate_pct",
            Cmp::Above,
            t.critical.error_rate_pct,
            0,
        ),
        r(
            "backup_failure",
            "Backup failure".into(),
            // `thresholds.critical.backup_failure = false`: a failed backup is shown, not paged.
            if t.critical.backup_failure { Level::Critical } else { Level::Warning },
            "backup_failures_1d",
            Cmp::Above,
            0.0,
            0,
        ),
        r(
            "gpu_utilization_low",
            format!(
                "GPU utilisation < {} % for > {} min",
                t.warning.gpu_utilization_low_pct, t.warning.gpu_utilization_low_minutes
            ),
            Level::Warning,
            "gpu_utilization_pct",
            Cmp::Below,
            t.warning.gpu_utilization_low_pct,
            i64::from(t.warning.gpu_utilization_low_minutes) * 60,
        ),
        r(
            "memory_high",
            format!("Memory > {} % for > {} min", t.warning.memory_pct, t.warning.memory_minutes),
            Level::Warning,
            "memory_pct",
            Cmp::Above,
            t.warning.memory_pct,
            i64::from(t.warning.memory_minutes) * 60,
        ),
        r(
            "disk_high",
            format!("Disk > {} % used", t.warning.disk_pct),
            Level::Warning,
            "storage_pct",
            Cmp::Above,
            t.warning.disk_pct,
            0,
        ),
        r(
            "latency_p95_warning",
            format!("Latency P95 > {} s", t.warning.latency_p95_secs),
            Level::Warning,
            "latency_p95_secs",
            Cmp::Above,
            t.warning.latency_p95_secs,
            0,
        ),
    ];
    // Cost: the month's projected spend against `[cost] monthly_budget`
    // (`AppContext::record_budget_share` keeps the series), only when there is a budget.
    if m.config.cost.monthly_budget.is_some_and(|b| b > 0.0) {
        rules.push(r(
            "budget_projection_warning",
            format!("Projected month-end spend > {:.0} % of the budget", m.config.cost.budget_warn_share * 100.0),
            Level::Warning,
            "budget_share",
            Cmp::Above,
            m.config.cost.budget_warn_share,
            0,
        ));
        rules.push(r(
            "budget_projection_critical",
            "Projected month-end spend > the budget".into(),
            Level::Critical,
            "budget_share",
            Cmp::Above,
            1.0,
            0,
        ));
    }
    rules
}

impl AppContext {
    /// Evaluates every threshold rule over the stored key-metric samples and the health
    /// polls ("system down > 30 s"), records state, and returns what to notify.
    pub fn evaluate_thresholds(&self, now: DateTime<Utc>) -> Result<ThresholdView, Error> {
        let m = self.monitor();
        let store = self.store()?;
        let ts = now.timestamp();
        let poll = i64::from(m.config.endpoints.poll_interval_secs.max(5));
        let mut states = Vec::new();
        for rule in rules(&m) {
            let lookback = rule.for_secs + 3 * poll;
            let id = store.series_id(&self.scoped(&format!("metric.{}", rule.metric)))?;
            let samples = store.samples(id, ts - lookback - poll, ts)?;
            states.push(evaluate(&rule, &samples, ts, 3 * poll));
        }
        // System down: the health polls, as 1 (down) / 0 (up) samples.
        let down_rule = Rule {
            id: "system_down".into(),
            title: format!("System down > {} s", m.config.thresholds.critical.system_down_secs),
            level: Level::Critical,
            metric: "health".into(),
            cmp: Cmp::Above,
            threshold: 0.5,
            for_secs: i64::from(m.config.thresholds.critical.system_down_secs),
        };
        let polls: Vec<(i64, f64)> = store
            .health_up_since(self.current_cluster().scope(), ts - 3600)?
            .into_iter()
            .map(|(t, up)| (t, if up { 0.0 } else { 1.0 }))
            .collect();
        states.push(evaluate(&down_rule, &polls, ts, 3 * poll));

        let mut notify = Vec::new();
        for s in &states {
            let prev = store.threshold_state(&self.scoped(&s.rule.id))?.unwrap_or_default();
            let (was_active, notified_at, snoozed) = (prev.active, prev.notified_at, prev.snoozed_until);
            let already = was_active && notified_at.is_some();
            let decision = notify_decision(was_active, already, s, snoozed, ts);
            let value = s.value.map(|v| format!("{v:.2}")).unwrap_or_else(|| "no data".into());
            let notified = match decision {
                Notify::Fire => {
                    notify.push(Notification {
                        rule_id: s.rule.id.clone(),
                        title: s.rule.title.clone(),
                        body: format!("now {value}"),
                        level: s.rule.level,
                    });
                    Some(ts)
                }
                Notify::Resolve => {
                    notify.push(Notification {
                        rule_id: s.rule.id.clone(),
                        title: format!("Resolved: {}", s.rule.title),
                        body: format!("now {value}"),
                        level: Level::Healthy,
                    });
                    None
                }
                Notify::Quiet if s.active => notified_at,
                Notify::Quiet => None,
            };
            let rec =
                ThresholdRecord { active: s.active, since: s.since, notified_at: notified, snoozed_until: snoozed };
            store.set_threshold_state(&self.scoped(&s.rule.id), &rec)?;
        }
        states.sort_by_key(|s| std::cmp::Reverse((s.active, s.rule.level)));
        let mut worst = states.iter().filter(|s| s.active).map(|s| s.rule.level).max().unwrap_or(Level::Healthy);
        // No rule has current data: the sources are down, so "healthy" would be a guess.
        if states.iter().all(|s| s.no_data) {
            worst = worst.max(Level::Unknown);
        }
        Ok(ThresholdView { states, worst, notify })
    }

    /// Silences desktop notifications of one rule until `until`.
    pub fn snooze_threshold(&self, rule_id: &str, until: DateTime<Utc>) -> Result<(), Error> {
        let store = self.store()?;
        let key = self.scoped(rule_id);
        let rec = store.threshold_state(&key)?.unwrap_or_default();
        store.set_threshold_state(&key, &ThresholdRecord { snoozed_until: Some(until.timestamp()), ..rec })?;
        Ok(())
    }
}
