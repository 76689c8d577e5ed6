//! Autoscaling review: does a HorizontalPodAutoscaler scale, sit at a bound, or flap?

use crate::num;

/// A quick reversal: a scaling event in the opposite direction within this many seconds.
pub const REVERSAL_SECS: f64 = 30.0 * 60.0;

/// One HorizontalPodAutoscaler and its replica history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct HpaInput {
    /// HPA name.
    pub name: String,
    /// `minReplicas` (Kubernetes defaults it to 1).
    pub min: Option<f64>,
    /// `maxReplicas`.
    pub max: Option<f64>,
    /// Its metrics and targets in words, e.g. `cpu 70 % of request`.
    pub targets: Vec<String>,
    /// Current replicas: `(unix s, replicas)`, `NaN` = no data.
    pub current: Vec<(f64, f64)>,
    /// Desired replicas: `(unix s, replicas)`, `NaN` = no data.
    pub desired: Vec<(f64, f64)>,
    /// Seconds between samples.
    pub step_secs: f64,
}

/// What an autoscaler did over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ScalingVerdict {
    /// It scales, and not back and forth.
    Healthy,
    /// Desired replicas never changed although min < max.
    NeverScales,
    /// At its maximum at least half the window: it wants more than it may have.
    PinnedAtMax,
    /// At its minimum in at least 95 % of the samples although it scaled now and then
    /// (with no scaling at all it is "never scales").
    PinnedAtMin,
    /// It reverses direction often: up then down (or down then up) within 30 minutes.
    Flapping,
    /// No samples.
    NoData,
}

/// A change of the desired replica count.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct ScalingEvent {
    /// Unix seconds of the first sample with the new count.
    pub at: f64,
    /// Replicas before.
    pub from: f64,
    /// Replicas after.
    pub to: f64,
}

/// The review of one autoscaler.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct AutoscaleReview {
    /// HPA name.
    pub name: String,
    /// `minReplicas`.
    pub min: Option<f64>,
    /// `maxReplicas`.
    pub max: Option<f64>,
    /// Its metrics and targets in words.
    pub targets: Vec<String>,
    /// Share (0..1) of the samples at `max` (current replicas, or desired where there are
    /// no current samples).
    pub share_at_max: Option<f64>,
    /// Share (0..1) of the samples at `min` (min defaults to 1).
    pub share_at_min: Option<f64>,
    /// Every change of desired replicas, in time order.
    pub events: Vec<ScalingEvent>,
    /// Direction changes between consecutive events less than 30 minutes apart.
    pub reversals: u32,
    /// The verdict.
    pub verdict: ScalingVerdict,
    /// Why, in a plain sentence with the numbers.
    pub reason: String,
}

/// The samples that have a value.
fn present(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points.iter().copied().filter(|(t, v)| t.is_finite() && v.is_finite()).collect()
}

/// Reviews one autoscaler.
///
/// Events are the changes of desired replicas between consecutive samples; a reversal is
/// an event in the opposite direction to the previous one less than 30 minutes after it.
/// In order: no samples → no data; at max in at least half the samples → pinned at max;
/// at least 3 reversals a day on average over the window (a window shorter than a day
/// counts as one day) or 4 within any hour → flapping; no event while min < max → never
/// scales; at min in at least 95 % of the samples while min < max → pinned at min;
/// otherwise healthy.
pub fn review_hpa(h: &HpaInput) -> AutoscaleReview {
    let desired = present(&h.desired);
    let current = present(&h.current);
    let levels = if current.is_empty() { &desired } else { &current };
    let share = |bound: Option<f64>| {
        let b = bound.filter(|b| b.is_finite())?;
        (!levels.is_empty())
            .then(|| levels.iter().filter(|(_, v)| (v - b).abs() < 0.5).count() as f64 / levels.len() as f64)
    };
    let min = h.min.or(Some(1.0));
    let share_at_max = share(h.max);
    let share_at_min = share(min);

    let events: Vec<ScalingEvent> = desired
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .map(|w| ScalingEvent { at: w[1].0, from: w[0].1, to: w[1].1 })
        .collect();
    let reversal_times: Vec<f64> = events
        .windows(2)
        .filter(|w| {
            let (a, b) = (w[1].to - w[1].from, w[0].to - w[0].from);
            a.signum() != b.signum() && w[1].at - w[0].at < REVERSAL_SECS
        })
        .map(|w| w[1].at)
        .collect();
    let reversals = u32::try_from(reversal_times.len()).unwrap_or(u32::MAX);
    let max_in_hour = reversal_times
        .iter()
        .enumerate()
        .map(|(i, &t)| reversal_times[i..].iter().take_while(|&&u| u - t < 3600.0).count())
        .max()
        .unwrap_or(0);

    let all: Vec<f64> = desired.iter().chain(&current).map(|p| p.0).collect();
    let first = all.iter().copied().fold(f64::INFINITY, f64::min);
    let last = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let window = (last - first).max(0.0);
    let days = (window / 86_400.0).max(1.0);
    let per_day = f64::from(reversals) / days;
    let bounds_differ = matches!((min, h.max), (Some(a), Some(b)) if a < b);
    let span = describe(window, h.step_secs);

    let (verdict, reason) = if levels.is_empty() {
        (ScalingVerdict::NoData, "no replica samples in the window".to_string())
    } else if share_at_max.is_some_and(|s| s >= 0.5) {
        (
            ScalingVerdict::PinnedAtMax,
            format!(
                "at its maximum of {} replicas in {:.0} % of the samples over {span}: it wants more than it \
                 may have; raise maxReplicas or check the target",
                num(h.max.unwrap_or(0.0)),
                share_at_max.unwrap_or(0.0) * 100.0
            ),
        )
    } else if per_day >= 3.0 || max_in_hour >= 4 {
        (
            ScalingVerdict::Flapping,
            format!(
                "{reversals} quick reversals (up then down, or down then up, within 30 minutes) over {span}: \
                 {} a day on average, at most {max_in_hour} within one hour; a longer stabilisation window \
                 or a wider target would calm it",
                num(per_day)
            ),
        )
    } else if events.is_empty() && bounds_differ {
        let n = desired.first().or(levels.first()).map(|p| p.1).unwrap_or(0.0);
        let (lo, hi) = (num(min.unwrap_or(1.0)), num(h.max.unwrap_or(0.0)));
        let tail = if share_at_min.is_some_and(|s| s >= 0.95) {
            format!(
                ": that is its minimum; the load never passes the target, so it may scale between {lo} and \
                 {hi} but runs minReplicas throughout"
            )
        } else {
            format!(" although it may scale between {lo} and {hi}")
        };
        (ScalingVerdict::NeverScales, format!("desired stayed at {} for the whole window ({span}){tail}", num(n)))
    } else if bounds_differ && share_at_min.is_some_and(|s| s >= 0.95) {
        (
            ScalingVerdict::PinnedAtMin,
            format!(
                "at its minimum of {} replicas in {:.0} % of the samples over {span}, scaling {} times: it \
                 rarely needs more, so the replicas it keeps are mostly minReplicas",
                num(min.unwrap_or(1.0)),
                share_at_min.unwrap_or(0.0) * 100.0,
                events.len()
            ),
        )
    } else {
        let lo = desired.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = desired.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let range = if lo.is_finite() && hi.is_finite() {
            format!(" between {} and {} replicas", num(lo), num(hi))
        } else {
            String::new()
        };
        (
            ScalingVerdict::Healthy,
            format!("{} scaling events{range} over {span}, {reversals} quick reversals", events.len()),
        )
    };
    AutoscaleReview {
        name: h.name.clone(),
        min: h.min,
        max: h.max,
        targets: h.targets.clone(),
        share_at_max,
        share_at_min,
        events,
        reversals,
        verdict,
        reason,
    }
}

/// `3.5 days, sampled every 5 min`.
fn describe(window: f64, step: f64) -> String {
    let w = if window >= 86_400.0 {
        format!("{} days", num(window / 86_400.0))
    } else {
        format!("{} hours", num(window / 3600.0))
    };
    if step.is_finite() && step > 0.0 {
        if step >= 60.0 {
            format!("{w}, sampled every {} min", num(step / 60.0))
        } else {
            format!("{w}, sampled every {} s", num(step))
        }
    } else {
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(desired: &[f64], step: f64) -> HpaInput {
        let pts: Vec<(f64, f64)> = desired.iter().enumerate().map(|(i, &v)| (i as f64 * step, v)).collect();
        HpaInput {
            name: "engine".to_string(),
            min: Some(2.0),
            max: Some(10.0),
            targets: vec!["cpu 70 % of request".to_string()],
            current: pts.clone(),
            desired: pts,
            step_secs: step,
        }
    }

    #[test]
    fn no_samples_is_no_data() {
        let r = review_hpa(&hpa(&[f64::NAN, f64::NAN], 300.0));
        assert_eq!(r.verdict, ScalingVerdict::NoData);
    }

    #[test]
    fn pinned_at_max() {
        let mut v = vec![4.0; 10];
        v.extend(vec![10.0; 20]);
        let r = review_hpa(&hpa(&v, 300.0));
        assert_eq!(r.verdict, ScalingVerdict::PinnedAtMax);
        assert!((r.share_at_max.expect("max") - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(r.events.len(), 1);
        assert!(r.reason.contains("67 %"), "{}", r.reason);
    }

    #[test]
    fn flapping_within_an_hour() {
        // Up and down every 5 minutes for an hour, then quiet for ten days: 1.1 reversals a
        // day on average, but 11 within one hour.
        let mut v: Vec<f64> = (0..12).map(|i| if i % 2 == 0 { 3.0 } else { 5.0 }).collect();
        v.extend(vec![3.0; 2880]);
        let r = review_hpa(&hpa(&v, 300.0));
        assert_eq!(r.verdict, ScalingVerdict::Flapping, "{}", r.reason);
        assert_eq!(r.events.len(), 12);
        assert_eq!(r.reversals, 11);
    }

    #[test]
    fn slow_changes_are_healthy() {
        // One step up and one down each day (12 hours apart) for 3 days.
        let step = 3600.0;
        let v: Vec<f64> = (0..72).map(|i| if (i / 12) % 2 == 0 { 3.0 } else { 6.0 }).collect();
        let r = review_hpa(&hpa(&v, step));
        assert_eq!(r.verdict, ScalingVerdict::Healthy, "{}", r.reason);
        assert_eq!(r.reversals, 0);
        assert_eq!(r.events.len(), 5);
    }

    #[test]
    fn never_scales() {
        let r = review_hpa(&hpa(&[2.0; 100], 300.0));
        assert_eq!(r.verdict, ScalingVerdict::NeverScales);
        assert!(r.reason.starts_with("desired stayed at 2 for the whole window"), "{}", r.reason);
        assert!(r.reason.contains("that is its minimum"), "{}", r.reason);
        let mut rare = vec![2.0; 100];
        rare[40..50].fill(4.0);
        assert_eq!(review_hpa(&hpa(&rare, 300.0)).verdict, ScalingVerdict::Healthy);
        let mut rarer = vec![2.0; 200];
        rarer[50] = 4.0;
        let r = review_hpa(&hpa(&rarer, 300.0));
        assert_eq!(r.verdict, ScalingVerdict::PinnedAtMin, "{}", r.reason);
        let mut fixed = hpa(&[5.0; 100], 300.0);
        fixed.min = Some(5.0);
        fixed.max = Some(5.0);
        assert_eq!(review_hpa(&fixed).verdict, ScalingVerdict::PinnedAtMax);
    }
}
