//! Availability from stored poll results (pure).

/// One poll: when, and whether `/health` answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpSample {
    /// Unix seconds.
    pub ts: i64,
    /// `/health` answered.
    pub up: bool,
}

/// Seconds the service has been down at `now`: from the first failed poll of the current
/// run of failures. `None` when the last poll succeeded or there is none.
pub fn down_for_secs(samples: &[UpSample], now: i64) -> Option<i64> {
    let last_up = samples.iter().rposition(|s| s.up);
    let first_down = match last_up {
        Some(i) => samples.get(i + 1),
        None => samples.first(),
    }?;
    (!first_down.up).then(|| (now - first_down.ts).max(0))
}

/// Fraction of `[now - window, now]` the service was up, each poll standing for the time
/// until the next one (the last until `now`), capped at `max_gap` so a stretch where the
/// app was not running counts as unknown, not as up or down. `None` without data.
pub fn uptime(samples: &[UpSample], now: i64, window: i64, max_gap: i64) -> Option<f64> {
    let from = now - window;
    let (mut up, mut known) = (0_i64, 0_i64);
    for (i, s) in samples.iter().enumerate() {
        let next = samples.get(i + 1).map_or(now, |n| n.ts);
        let start = s.ts.max(from);
        let end = next.min(s.ts + max_gap).min(now);
        if end > start {
            known += end - start;
            if s.up {
                up += end - start;
            }
        }
    }
    (known > 0).then(|| up as f64 / known as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(ts: i64, up: bool) -> UpSample {
        UpSample { ts, up }
    }

    #[test]
    fn down_counts_from_the_first_failure_of_the_current_run() {
        let v = [s(0, true), s(10, false), s(20, true), s(30, false), s(40, false)];
        assert_eq!(down_for_secs(&v, 75), Some(45));
        assert_eq!(down_for_secs(&v[..3], 25), None);
        assert_eq!(down_for_secs(&[], 25), None);
        assert_eq!(down_for_secs(&[s(5, false)], 40), Some(35));
    }

    #[test]
    fn uptime_weights_by_time_and_ignores_gaps() {
        let v = [s(0, true), s(30, false), s(60, true)];
        assert_eq!(uptime(&v, 90, 1000, 60), Some(2.0 / 3.0));
        // A 10-minute hole while the app was closed counts neither way.
        let v = [s(0, true), s(30, true), s(630, false)];
        assert_eq!(uptime(&v, 660, 1000, 30), Some(60.0 / 90.0));
        assert_eq!(uptime(&[], 10, 100, 30), None);
    }

    proptest! {
        #[test]
        fn uptime_is_a_fraction(flags in proptest::collection::vec(any::<bool>(), 1..50), step in 1i64..100) {
            let v: Vec<_> = flags.iter().enumerate().map(|(i, up)| s(i as i64 * step, *up)).collect();
            let now = v.len() as i64 * step;
            if let Some(u) = uptime(&v, now, now, step) {
                prop_assert!((0.0..=1.0).contains(&u));
                prop_assert_eq!(u == 1.0, flags.iter().all(|f| *f));
            }
        }
    }
}
