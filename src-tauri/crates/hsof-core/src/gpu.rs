//! Local GPUs: live readings (hsof-gpu, NVML), samples every 2 s in the store, the runbook's
//! GPU thresholds with one notification per breach, and history for a range, downsampled.
//!
//! Without a driver every call still answers: the reading is `no_gpu` with the reason, and
//! nothing is stored.

use chrono::{DateTime, Utc};
use hsof_gpu::{notify_decision, GpuSample, GpuThresholds, Notify};
use hsof_store::{GpuSampleRow, ThresholdRecord};
use serde::{Deserialize, Serialize};

pub use hsof_gpu::{
    DeviceReading, EccErrors, GpuAlert, GpuLevel, GpuProcess, GpuReader, GpuReading, GpuRule, GpuState,
};
pub use hsof_store::GpuBucket;

use crate::{AppContext, Error};

/// How often the app samples, seconds.
pub const SAMPLE_INTERVAL_SECS: u64 = 2;
/// How long samples are kept, seconds (30 days).
pub const RETENTION_SECS: i64 = 30 * 86_400;

/// A reading with each device's threshold states.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct GpuView {
    /// The devices now, or why there are none.
    pub reading: GpuReading,
    /// Threshold states per device (empty without a GPU).
    pub devices: Vec<DeviceAlerts>,
    /// The limits in effect.
    pub thresholds: GpuThresholds,
}

/// The threshold states of one device.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct DeviceAlerts {
    /// Device UUID.
    pub uuid: String,
    /// NVML index.
    pub index: u32,
    /// Product name.
    pub name: String,
    /// One per rule, in [`GpuRule::ALL`] order.
    pub alerts: Vec<GpuAlert>,
}

/// A desktop notification due now: a breach began, or a notified one ended.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GpuNotification {
    /// Title, e.g. `GPU 0 (NVIDIA H100): GPU temperature > 85 °C`.
    pub title: String,
    /// Body, e.g. `now 87`.
    pub body: String,
    /// The level of the rule (a resolution carries its rule's level).
    pub level: GpuLevel,
    /// True when the breach is over.
    pub resolved: bool,
}

/// What one sampling round did.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GpuTick {
    /// The reading and the threshold states.
    pub view: GpuView,
    /// Notifications due now.
    pub notify: Vec<GpuNotification>,
}

/// A history range of the GPU screen and `gpu_history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum GpuRange {
    /// The last 15 minutes (3-second buckets).
    #[serde(rename = "15m")]
    Minutes15,
    /// The last hour.
    #[serde(rename = "1h")]
    Hour1,
    /// The last 6 hours.
    #[serde(rename = "6h")]
    Hours6,
    /// The last 24 hours.
    #[serde(rename = "24h")]
    Hours24,
    /// The last 7 days.
    #[serde(rename = "7d")]
    Days7,
    /// The last 30 days (everything kept).
    #[serde(rename = "30d")]
    Days30,
}

impl GpuRange {
    /// Length of the range, seconds.
    pub fn secs(self) -> i64 {
        match self {
            Self::Minutes15 => 900,
            Self::Hour1 => 3600,
            Self::Hours6 => 6 * 3600,
            Self::Hours24 => 86_400,
            Self::Days7 => 7 * 86_400,
            Self::Days30 => 30 * 86_400,
        }
    }

    /// Bucket width: about 300 points per range, never finer than the sampling interval.
    pub fn bucket_secs(self) -> i64 {
        (self.secs() / 300).max(SAMPLE_INTERVAL_SECS as i64)
    }
}

/// One device's history over a range.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GpuHistory {
    /// Device UUID.
    pub uuid: String,
    /// The range asked for.
    pub range: GpuRange,
    /// Start, unix seconds.
    pub from: f64,
    /// End, unix seconds.
    pub to: f64,
    /// Bucket width, seconds.
    pub bucket_secs: f64,
    /// Buckets with at least one sample, oldest first.
    pub buckets: Vec<GpuBucket>,
}

fn row_of(ts: i64, d: &DeviceReading) -> GpuSampleRow {
    GpuSampleRow {
        uuid: d.uuid.clone(),
        ts,
        utilization_pct: d.utilization_pct,
        memory_util_pct: d.memory_utilization_pct,
        memory_used: d.memory_used_bytes.map(|b| b as f64),
        memory_total: d.memory_total_bytes.map(|b| b as f64),
        temperature_c: d.temperature_c,
        power_w: d.power_draw_w,
        power_limit_w: d.power_limit_w,
        sm_clock_mhz: d.sm_clock_mhz.map(f64::from),
        memory_clock_mhz: d.memory_clock_mhz.map(f64::from),
    }
}

fn sample_of(r: &GpuSampleRow) -> GpuSample {
    let memory_pct = match (r.memory_used, r.memory_total) {
        (Some(u), Some(t)) if t > 0.0 => Some(u * 100.0 / t),
        _ => None,
    };
    GpuSample { ts: r.ts, utilization_pct: r.utilization_pct, memory_pct, temperature_c: r.temperature_c }
}

/// The store key of one rule on one device in `threshold_state`.
fn rule_key(uuid: &str, rule: GpuRule) -> String {
    format!("gpu.{uuid}.{}", rule.id())
}

impl AppContext {
    /// The runbook's GPU limits from the config (temperature and low utilisation are
    /// `[thresholds]` keys; GPU memory > 90 % is the runbook's fixed critical line).
    pub fn gpu_thresholds(&self) -> GpuThresholds {
        let t = &self.config().config.thresholds;
        GpuThresholds {
            temperature_c: t.critical.gpu_temperature_c,
            utilization_low_pct: t.warning.gpu_utilization_low_pct,
            utilization_low_secs: i64::from(t.warning.gpu_utilization_low_minutes) * 60,
            ..GpuThresholds::default()
        }
    }

    /// Reads the GPUs now and judges each device over its stored samples (nothing is
    /// written). Never fails: without a driver the reading says why; without a store the
    /// alerts are judged on this reading alone.
    pub fn gpu_status(&self, now: DateTime<Utc>) -> GpuView {
        let reading = self.gpu_reader().read(now);
        let thresholds = self.gpu_thresholds();
        let devices = self.judge(&reading, &thresholds, now.timestamp());
        GpuView { reading, devices, thresholds }
    }

    /// One sampling round: read, store a sample per device, judge the thresholds and say
    /// which desktop notifications are due (each breach once, and its end once).
    pub fn gpu_sample(&self, now: DateTime<Utc>) -> Result<GpuTick, Error> {
        self.gpu_record(self.gpu_reader().read(now))
    }

    /// Stores `reading` (taken at `reading.ts`), judges the thresholds and says which
    /// notifications are due: [`AppContext::gpu_sample`] without the NVML read, so tests can
    /// feed synthetic readings.
    pub fn gpu_record(&self, reading: GpuReading) -> Result<GpuTick, Error> {
        let thresholds = self.gpu_thresholds();
        let ts = reading.ts;
        let store = self.store()?;
        if !reading.devices().is_empty() {
            let rows: Vec<GpuSampleRow> = reading.devices().iter().map(|d| row_of(ts, d)).collect();
            let names: Vec<(String, String, u32)> =
                reading.devices().iter().map(|d| (d.uuid.clone(), d.name.clone(), d.index)).collect();
            store.insert_gpu_samples(&rows, &names)?;
            if ts % 3600 < SAMPLE_INTERVAL_SECS as i64 {
                let gone = store.prune_gpu_samples(ts - RETENTION_SECS)?;
                tracing::debug!(gone, "pruned old GPU samples");
            }
        }
        let devices = self.judge(&reading, &thresholds, ts);
        let mut notify = Vec::new();
        for d in &devices {
            for a in &d.alerts {
                let key = rule_key(&d.uuid, a.rule);
                let prev = store.threshold_state(&key)?.unwrap_or_default();
                let was_notified = prev.active && prev.notified_at.is_some();
                let snoozed = prev.snoozed_until.is_some_and(|u| u > ts);
                let value = a.value.map(|v| format!("now {v:.0}")).unwrap_or_else(|| "no recent sample".into());
                let device = format!("GPU {} ({})", d.index, d.name);
                let notified_at = match notify_decision(was_notified, a.active) {
                    Notify::Fire if !snoozed => {
                        notify.push(GpuNotification {
                            title: format!("{device}: {}", a.title),
                            body: value,
                            level: a.level,
                            resolved: false,
                        });
                        Some(ts)
                    }
                    Notify::Fire => None,
                    Notify::Resolve => {
                        notify.push(GpuNotification {
                            title: format!("Resolved — {device}: {}", a.title),
                            body: value,
                            level: a.level,
                            resolved: true,
                        });
                        None
                    }
                    Notify::Quiet if a.active => prev.notified_at,
                    Notify::Quiet => None,
                };
                let rec = ThresholdRecord { active: a.active, since: a.since, notified_at, ..prev };
                if rec != prev {
                    store.set_threshold_state(&key, &rec)?;
                }
            }
        }
        Ok(GpuTick { view: GpuView { reading, devices, thresholds }, notify })
    }

    /// One device's history over `range` ending at `now`, averaged into about 300 buckets.
    pub fn gpu_history(&self, uuid: &str, range: GpuRange, now: DateTime<Utc>) -> Result<GpuHistory, Error> {
        let to = now.timestamp();
        let from = to - range.secs();
        let bucket = range.bucket_secs();
        let buckets = self.store()?.gpu_history(uuid, from, to, bucket)?;
        Ok(GpuHistory {
            uuid: uuid.to_string(),
            range,
            from: from as f64,
            to: to as f64,
            bucket_secs: bucket as f64,
            buckets,
        })
    }

    fn judge(&self, reading: &GpuReading, th: &GpuThresholds, ts: i64) -> Vec<DeviceAlerts> {
        let lookback = th.utilization_low_secs + 2 * th.max_gap_secs;
        reading
            .devices()
            .iter()
            .map(|d| {
                let mut samples: Vec<GpuSample> = match self.store() {
                    Ok(store) => match store.gpu_samples(&d.uuid, ts - lookback, ts) {
                        Ok(rows) => rows.iter().map(sample_of).collect(),
                        Err(e) => {
                            tracing::warn!(error = %e, uuid = d.uuid, "GPU samples could not be read");
                            Vec::new()
                        }
                    },
                    Err(_) => Vec::new(),
                };
                // The reading itself is the newest sample (it may not be stored yet, or at all).
                let now_sample = sample_of(&row_of(ts, d));
                samples.retain(|s| s.ts < ts);
                samples.push(now_sample);
                DeviceAlerts {
                    uuid: d.uuid.clone(),
                    index: d.index,
                    name: d.name.clone(),
                    alerts: hsof_gpu::evaluate(&samples, th, ts),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_give_about_300_buckets_and_never_finer_than_the_sampler() {
        assert_eq!(GpuRange::Minutes15.bucket_secs(), 3);
        assert_eq!(GpuRange::Hour1.bucket_secs(), 12);
        assert_eq!(GpuRange::Days30.bucket_secs(), 8640);
        assert_eq!(serde_json::to_string(&GpuRange::Hours24).expect("json"), "\"24h\"");
    }

    #[test]
    fn stored_rows_become_samples_with_memory_share() {
        let r = GpuSampleRow { ts: 5, memory_used: Some(45.0), memory_total: Some(50.0), ..Default::default() };
        assert_eq!(sample_of(&r).memory_pct, Some(90.0));
        assert_eq!(sample_of(&GpuSampleRow::default()).memory_pct, None);
    }
}
