//! Cost and capacity arithmetic over Prometheus samples, pure: nothing here reads a clock,
//! a file or the network; the time ("now") and the time zone come in as arguments.
//!
//! - [`spend`]: cost per dataset by local day, week or month, and the month's spend
//!   projected against the budget from the weekday pattern of the last four weeks.
//! - [`idle`]: GPU-hours allocated to HSOF pods but not used, and what they cost.
//! - [`rightsize`]: requests against the 95th percentile of use, with a recommendation.
//! - [`autoscale`]: whether a HorizontalPodAutoscaler scales, is pinned or flaps.
//! - [`forecast`]: weekly demand, its linear trend with a ≈95 % band, and when it reaches
//!   the capacity seen so far; the hour-of-day and weekday pattern.
//! - [`regress`]: weekly metrics of a period against a baseline, with Welch's t.
//! - [`stats`]: the small statistics the above use.
//!
//! Time series arrive as [`Points`]: `(unix seconds, value)` in time order, `NaN` for "no
//! data". Hourly series carry at `t` the increase (or the mean) over the hour ending at `t`.

pub mod autoscale;
pub mod forecast;
pub mod idle;
pub mod regress;
pub mod rightsize;
pub mod spend;
pub mod stats;

mod hours;

/// A time series: `(unix seconds, value)` in time order; a `NaN` value means "no data"
/// for that point. In an hourly series the point at `t` carries the increase (or the mean)
/// over the hour ending at `t`.
pub type Points = [(f64, f64)];

/// How a cost figure stands against its limit. Ordered from best to "cannot tell".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum CostStatus {
    /// Within the limit.
    Ok,
    /// Near the limit (past the warning share).
    Warning,
    /// Past the limit.
    Critical,
    /// No limit to compare against, or no data.
    Unknown,
}

/// A number for a sentence: more digits for small magnitudes, none for large ones.
pub(crate) fn num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        format!("{v}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        trim(format!("{v:.1}"))
    } else if a >= 0.01 || a == 0.0 {
        trim(format!("{v:.2}"))
    } else {
        format!("{v:.2e}")
    }
}

/// `1.50` → `1.5`, `2.00` → `2`.
fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    /// A tiny deterministic PRNG (xorshift64*), for planted noise in tests.
    #[derive(Debug)]
    pub struct XorShift(pub u64);

    impl XorShift {
        /// The next value, uniform in [0, 1).
        pub fn next_f64(&mut self) -> f64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Uniform in [-1, 1).
        pub fn symmetric(&mut self) -> f64 {
            self.next_f64() * 2.0 - 1.0
        }
    }

    /// Unix seconds of a UTC date and hour.
    pub fn utc(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone;
        match chrono::Utc.with_ymd_and_hms(y, m, d, h, 0, 0) {
            chrono::LocalResult::Single(t) => t,
            _ => panic!("bad test date"),
        }
    }

    /// An hourly series from `start` (the end of the first hour) over `n` hours.
    pub fn hourly(start: i64, n: i64, f: impl Fn(i64) -> f64) -> Vec<(f64, f64)> {
        (0..n).map(|i| ((start + i * 3600) as f64, f(start + i * 3600))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1234.4), "1234");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(16.0), "16");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.001), "1.00e-3");
    }

    #[test]
    fn status_orders_best_first() {
        assert!(CostStatus::Ok < CostStatus::Warning);
        assert!(CostStatus::Warning < CostStatus::Critical);
        assert!(CostStatus::Critical < CostStatus::Unknown);
    }
}
