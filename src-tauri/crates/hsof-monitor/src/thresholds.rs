//! The runbook's alerting thresholds, evaluated locally over stored samples (pure):
//! a rule is active when every sample over its duration breaches and the samples cover
//! that duration, so "GPU utilisation < 20 % for > 10 min" means ten minutes of evidence.

use serde::Serialize;

use crate::Level;

/// Which side of the threshold breaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Cmp {
    /// Value above the threshold breaches.
    Above,
    /// Value below the threshold breaches.
    Below,
}

/// One threshold rule.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Rule {
    /// Stable id, e.g. `gpu_temperature_critical`.
    pub id: String,
    /// What people read.
    pub title: String,
    /// `CRITICAL` pages, `WARNING` goes to email / Slack.
    pub level: Level,
    /// Key metric id it watches, e.g. `gpu_temperature_c`.
    pub metric: String,
    /// Breaching side.
    pub cmp: Cmp,
    /// Threshold value.
    pub threshold: f64,
    /// How long the breach must last, seconds (0: at once).
    #[specta(type = f64)]
    pub for_secs: i64,
}

impl Rule {
    fn breaches(&self, v: f64) -> bool {
        match self.cmp {
            Cmp::Above => v > self.threshold,
            Cmp::Below => v < self.threshold,
        }
    }
}

/// A rule's state at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct RuleState {
    /// The rule.
    pub rule: Rule,
    /// Breaching for at least its duration.
    pub active: bool,
    /// Breaching now, but not yet for long enough.
    pub pending: bool,
    /// Unix seconds the current breach began.
    #[specta(type = Option<f64>)]
    pub since: Option<i64>,
    /// The newest sample's value.
    pub value: Option<f64>,
    /// True when there are no samples newer than `stale_after` seconds.
    pub no_data: bool,
}

/// Evaluates `rule` over `samples` (`(ts, value)`, oldest first) at `now`. Samples older
/// than `stale_after` seconds do not count as current.
pub fn evaluate(rule: &Rule, samples: &[(i64, f64)], now: i64, stale_after: i64) -> RuleState {
    let last = samples.last().filter(|(ts, _)| now - ts <= stale_after);
    let Some(&(_, value)) = last else {
        return RuleState {
            rule: rule.clone(),
            active: false,
            pending: false,
            since: None,
            value: None,
            no_data: true,
        };
    };
    if !rule.breaches(value) {
        return RuleState {
            rule: rule.clone(),
            active: false,
            pending: false,
            since: None,
            value: Some(value),
            no_data: false,
        };
    }
    // Walk back over the current run of breaching samples.
    let start = samples.iter().rposition(|(_, v)| !rule.breaches(*v)).map_or(0, |i| i + 1);
    let since = samples[start].0;
    let active = now - since >= rule.for_secs;
    RuleState { rule: rule.clone(), active, pending: !active, since: Some(since), value: Some(value), no_data: false }
}

/// What to tell people after an evaluation, given what was already said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Newly active and not snoozed: notify.
    Fire,
    /// Was active, now clear: say it resolved.
    Resolve,
    /// Nothing new (already notified, snoozed, or still clear).
    Quiet,
}

/// De-duplicates notifications: one per activation, none while snoozed.
pub fn notify_decision(
    was_active: bool,
    already_notified: bool,
    state: &RuleState,
    snoozed_until: Option<i64>,
    now: i64,
) -> Notify {
    let snoozed = snoozed_until.is_some_and(|u| u > now);
    match (was_active, state.active) {
        (_, true) if !already_notified && !snoozed => Notify::Fire,
        (true, false) => Notify::Resolve,
        _ => Notify::Quiet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(cmp: Cmp, threshold: f64, for_secs: i64) -> Rule {
        Rule { id: "r".into(), title: "r".into(), level: Level::Warning, metric: "m".into(), cmp, threshold, for_secs }
    }

    #[test]
    fn duration_needs_evidence_for_the_whole_span() {
        let r = rule(Cmp::Below, 20.0, 600);
        let low: Vec<(i64, f64)> = (0..=40).map(|i| (i * 15, 10.0)).collect(); // 10 min of 10 %
        let s = evaluate(&r, &low, 600, 60);
        assert!(s.active && s.since == Some(0));
        let s = evaluate(&r, &low[..20], 285, 60);
        assert!(s.pending && !s.active, "under 10 minutes is pending");
        let mut blip = low.clone();
        blip[30].1 = 50.0; // one good sample resets the run
        let s = evaluate(&r, &blip, 600, 60);
        assert_eq!((s.active, s.since), (false, Some(465)));
    }

    #[test]
    fn stale_samples_are_no_data_not_clear() {
        let r = rule(Cmp::Above, 85.0, 0);
        let s = evaluate(&r, &[(0, 95.0)], 1000, 60);
        assert!(s.no_data && !s.active);
        assert!(evaluate(&r, &[(990, 95.0)], 1000, 60).active);
    }

    #[test]
    fn notifications_fire_once_and_respect_snooze() {
        let r = rule(Cmp::Above, 1.0, 0);
        let active = evaluate(&r, &[(100, 2.0)], 100, 60);
        assert_eq!(notify_decision(false, false, &active, None, 100), Notify::Fire);
        assert_eq!(notify_decision(true, true, &active, None, 130), Notify::Quiet);
        assert_eq!(notify_decision(false, false, &active, Some(200), 130), Notify::Quiet);
        let clear = evaluate(&r, &[(160, 0.5)], 160, 60);
        assert_eq!(notify_decision(true, true, &clear, None, 160), Notify::Resolve);
    }
}
