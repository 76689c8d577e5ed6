//! The runbook's thresholds for a local GPU, judged over stored samples.
//!
//! Pure: samples and `now` come in, states go out. A breach is a run of consecutive samples
//! on the wrong side of the limit, broken by a sample on the right side, a sample without
//! the figure, or a gap longer than [`GpuThresholds::max_gap_secs`] (the sampler stopped, so
//! nothing is known about the time in between). Without a recent sample no rule is active.

use serde::{Deserialize, Serialize};

/// The limits, with the runbook's values as defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GpuThresholds {
    /// Die temperature above this is critical, °C (runbook: 85).
    pub temperature_c: f64,
    /// Memory in use above this share is critical, percent (90).
    pub memory_pct: f64,
    /// Utilisation below this …, percent (20) …
    pub utilization_low_pct: f64,
    /// … for longer than this is a warning, seconds (600).
    #[specta(type = f64)]
    pub utilization_low_secs: i64,
    /// Samples further apart than this do not form one run, seconds (30; the sampler runs every 2 s).
    #[specta(type = f64)]
    pub max_gap_secs: i64,
}

impl Default for GpuThresholds {
    fn default() -> Self {
        Self {
            temperature_c: 85.0,
            memory_pct: 90.0,
            utilization_low_pct: 20.0,
            utilization_low_secs: 600,
            max_gap_secs: 30,
        }
    }
}

/// One stored sample of one device.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, specta::Type)]
pub struct GpuSample {
    /// Unix seconds.
    #[specta(type = f64)]
    pub ts: i64,
    /// GPU utilisation, percent.
    pub utilization_pct: Option<f64>,
    /// Memory in use, percent of total.
    pub memory_pct: Option<f64>,
    /// Die temperature, °C.
    pub temperature_c: Option<f64>,
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum GpuRule {
    /// Temperature above the limit.
    Temperature,
    /// Memory above the limit.
    Memory,
    /// Utilisation below the limit for too long.
    UtilizationLow,
}

impl GpuRule {
    /// Every rule, in the order they are reported.
    pub const ALL: [GpuRule; 3] = [GpuRule::Temperature, GpuRule::Memory, GpuRule::UtilizationLow];

    /// Stable id, e.g. `temperature`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Temperature => "temperature",
            Self::Memory => "memory",
            Self::UtilizationLow => "utilization_low",
        }
    }

    /// Critical or warning, as the runbook classes it.
    pub fn level(self) -> GpuLevel {
        match self {
            Self::Temperature | Self::Memory => GpuLevel::Critical,
            Self::UtilizationLow => GpuLevel::Warning,
        }
    }
}

/// How bad a breach is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum GpuLevel {
    /// Email / Slack.
    Warning,
    /// Page immediately.
    Critical,
}

/// The state of one rule on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GpuAlert {
    /// The rule.
    pub rule: GpuRule,
    /// Its level.
    pub level: GpuLevel,
    /// Breached now (for the whole duration, where the rule has one).
    pub active: bool,
    /// Unix seconds the current run on the wrong side began (also while a duration rule is
    /// still counting towards its limit).
    #[specta(type = Option<f64>)]
    pub since: Option<i64>,
    /// The latest value, when a recent sample has it.
    pub value: Option<f64>,
    /// The rule in words, e.g. `GPU temperature > 85 °C`.
    pub title: String,
}

/// Judges the samples of one device (oldest first) at `now`.
pub fn evaluate(samples: &[GpuSample], th: &GpuThresholds, now: i64) -> Vec<GpuAlert> {
    let recent: &[GpuSample] = {
        let upto = samples.partition_point(|s| s.ts <= now);
        let s = &samples[..upto];
        match s.last() {
            Some(last) if now - last.ts <= th.max_gap_secs => s,
            _ => &[],
        }
    };
    GpuRule::ALL
        .iter()
        .map(|&rule| {
            let value = recent.last().and_then(|s| figure(rule, s));
            let since =
                run_start(recent, |s| figure(rule, s).is_some_and(|v| wrong_side(rule, th, v)), th.max_gap_secs);
            let active = match (rule, since) {
                (GpuRule::UtilizationLow, Some(t)) => now - t > th.utilization_low_secs,
                (_, since) => since.is_some(),
            };
            GpuAlert { rule, level: rule.level(), active, since, value, title: title(rule, th) }
        })
        .collect()
}

/// The figure a rule judges.
fn figure(rule: GpuRule, s: &GpuSample) -> Option<f64> {
    match rule {
        GpuRule::Temperature => s.temperature_c,
        GpuRule::Memory => s.memory_pct,
        GpuRule::UtilizationLow => s.utilization_pct,
    }
}

/// Whether `v` is on the wrong side of the rule's limit.
fn wrong_side(rule: GpuRule, th: &GpuThresholds, v: f64) -> bool {
    match rule {
        GpuRule::Temperature => v > th.temperature_c,
        GpuRule::Memory => v > th.memory_pct,
        GpuRule::UtilizationLow => v < th.utilization_low_pct,
    }
}

fn title(rule: GpuRule, th: &GpuThresholds) -> String {
    match rule {
        GpuRule::Temperature => format!("GPU temperature > {} °C", th.temperature_c),
        GpuRule::Memory => format!("GPU memory > {} %", th.memory_pct),
        GpuRule::UtilizationLow => {
            format!("GPU utilisation < {} % for > {} min", th.utilization_low_pct, th.utilization_low_secs / 60)
        }
    }
}

/// Start of the run of samples matching `wrong` that ends at the last sample, if it does.
fn run_start(samples: &[GpuSample], wrong: impl Fn(&GpuSample) -> bool, max_gap: i64) -> Option<i64> {
    let mut start = None;
    let mut next_ts: Option<i64> = None;
    for s in samples.iter().rev() {
        if !wrong(s) || next_ts.is_some_and(|n| n - s.ts > max_gap) {
            break;
        }
        start = Some(s.ts);
        next_ts = Some(s.ts);
    }
    start
}

/// What to tell the user about one rule after a new evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// It just became active: notify once.
    Fire,
    /// It was notified and is over now.
    Resolve,
    /// Nothing new.
    Quiet,
}

/// Once per breach: fire on the first evaluation that finds the rule active and not yet
/// notified; resolve only what was notified.
pub fn notify_decision(was_notified: bool, active: bool) -> Notify {
    match (was_notified, active) {
        (false, true) => Notify::Fire,
        (true, false) => Notify::Resolve,
        _ => Notify::Quiet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_2s(from: i64, to: i64, f: impl Fn(i64) -> GpuSample) -> Vec<GpuSample> {
        (from..=to).step_by(2).map(|t| GpuSample { ts: t, ..f(t) }).collect()
    }

    fn state(alerts: &[GpuAlert], rule: GpuRule) -> &GpuAlert {
        alerts.iter().find(|a| a.rule == rule).expect("every rule is reported")
    }

    #[test]
    fn temperature_above_85_is_critical_at_once_and_clears_when_it_drops() {
        let th = GpuThresholds::default();
        let mut s = every_2s(0, 100, |_| GpuSample { temperature_c: Some(70.0), ..Default::default() });
        s.push(GpuSample { ts: 102, temperature_c: Some(86.0), ..Default::default() });
        let a = evaluate(&s, &th, 103);
        let t = state(&a, GpuRule::Temperature);
        assert!(t.active);
        assert_eq!((t.level, t.since, t.value), (GpuLevel::Critical, Some(102), Some(86.0)));
        // Exactly 85 is not above 85.
        s.push(GpuSample { ts: 104, temperature_c: Some(85.0), ..Default::default() });
        assert!(!state(&evaluate(&s, &th, 105), GpuRule::Temperature).active);
    }

    #[test]
    fn memory_above_90_pct_is_critical() {
        let th = GpuThresholds::default();
        let s = every_2s(0, 20, |t| GpuSample {
            memory_pct: Some(if t >= 10 { 93.5 } else { 50.0 }),
            ..Default::default()
        });
        let m = evaluate(&s, &th, 20);
        let m = state(&m, GpuRule::Memory);
        assert!(m.active);
        assert_eq!(m.since, Some(10));
    }

    #[test]
    fn low_utilisation_warns_only_after_ten_minutes() {
        let th = GpuThresholds::default();
        let s = every_2s(0, 1200, |t| GpuSample {
            utilization_pct: Some(if t >= 300 { 5.0 } else { 80.0 }),
            ..Default::default()
        });
        // 9 min 58 s below: still counting.
        let early = evaluate(&s[..=(898 / 2)], &th, 898);
        let u = state(&early, GpuRule::UtilizationLow);
        assert!(!u.active, "{u:?}");
        assert_eq!(u.since, Some(300));
        // 10 min 2 s below: warning.
        let late = evaluate(&s[..=(902 / 2)], &th, 902);
        let u = state(&late, GpuRule::UtilizationLow);
        assert!(u.active);
        assert_eq!(u.level, GpuLevel::Warning);
    }

    #[test]
    fn a_gap_in_sampling_restarts_the_low_utilisation_clock() {
        let th = GpuThresholds::default();
        let mut s = every_2s(0, 500, |_| GpuSample { utilization_pct: Some(3.0), ..Default::default() });
        // The app was closed for 10 minutes, then sampled again.
        s.extend(every_2s(1100, 1300, |_| GpuSample { utilization_pct: Some(3.0), ..Default::default() }));
        let u = evaluate(&s, &th, 1300);
        let u = state(&u, GpuRule::UtilizationLow);
        assert_eq!(u.since, Some(1100));
        assert!(!u.active);
    }

    #[test]
    fn stale_or_missing_samples_activate_nothing() {
        let th = GpuThresholds::default();
        let hot =
            vec![GpuSample { ts: 0, temperature_c: Some(99.0), memory_pct: Some(99.0), utilization_pct: Some(0.0) }];
        assert!(evaluate(&hot, &th, 31).iter().all(|a| !a.active && a.value.is_none()));
        assert!(evaluate(&[], &th, 0).iter().all(|a| !a.active));
        // A sample without the figure breaks the run.
        let s = vec![
            GpuSample { ts: 0, temperature_c: Some(90.0), ..Default::default() },
            GpuSample { ts: 2, temperature_c: None, ..Default::default() },
        ];
        assert!(!state(&evaluate(&s, &th, 2), GpuRule::Temperature).active);
        // Samples after `now` are ignored (time is an input).
        let future = vec![GpuSample { ts: 10, temperature_c: Some(90.0), ..Default::default() }];
        assert!(!state(&evaluate(&future, &th, 5), GpuRule::Temperature).active);
    }

    #[test]
    fn one_notification_per_breach() {
        let th = GpuThresholds::default();
        let mut notified = false;
        let mut fired = 0;
        let mut resolved = 0;
        let temps = [70.0, 90.0, 91.0, 92.0, 70.0, 70.0, 88.0];
        let mut s = Vec::new();
        for (i, t) in temps.iter().enumerate() {
            let ts = i as i64 * 2;
            s.push(GpuSample { ts, temperature_c: Some(*t), ..Default::default() });
            let active = state(&evaluate(&s, &th, ts), GpuRule::Temperature).active;
            match notify_decision(notified, active) {
                Notify::Fire => {
                    fired += 1;
                    notified = true;
                }
                Notify::Resolve => {
                    resolved += 1;
                    notified = false;
                }
                Notify::Quiet => {}
            }
        }
        assert_eq!((fired, resolved), (2, 1));
    }
}
