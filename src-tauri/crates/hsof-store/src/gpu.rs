//! Repository of local GPU samples.

use rusqlite::params;
use serde::Serialize;

use crate::{Store, StoreError};

/// One stored sample of one device. Figures the device does not report are `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GpuSampleRow {
    /// Device UUID.
    pub uuid: String,
    /// Unix seconds.
    pub ts: i64,
    /// GPU utilisation, percent.
    pub utilization_pct: Option<f64>,
    /// Memory-controller utilisation, percent.
    pub memory_util_pct: Option<f64>,
    /// Memory in use, bytes.
    pub memory_used: Option<f64>,
    /// Memory in all, bytes.
    pub memory_total: Option<f64>,
    /// Temperature, °C.
    pub temperature_c: Option<f64>,
    /// Power draw, W.
    pub power_w: Option<f64>,
    /// Power limit, W.
    pub power_limit_w: Option<f64>,
    /// SM clock, MHz.
    pub sm_clock_mhz: Option<f64>,
    /// Memory clock, MHz.
    pub memory_clock_mhz: Option<f64>,
}

/// A device that has been sampled.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuDeviceRow {
    /// UUID.
    pub uuid: String,
    /// Product name.
    pub name: String,
    /// NVML index when last seen.
    pub index: u32,
    /// Memory in all, bytes.
    pub memory_total: Option<f64>,
    /// First sample, unix seconds.
    pub first_seen: i64,
    /// Last sample, unix seconds.
    pub last_seen: i64,
}

/// One bucket of a device's history: the mean of each figure over the bucket (`None` where no
/// sample in it had the figure), plus the hottest temperature and the most memory in use.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct GpuBucket {
    /// Bucket start, unix seconds.
    pub ts: f64,
    /// Samples in the bucket.
    pub samples: u32,
    /// Mean GPU utilisation, percent.
    pub utilization_pct: Option<f64>,
    /// Mean memory-controller utilisation, percent.
    pub memory_util_pct: Option<f64>,
    /// Mean memory in use, bytes.
    pub memory_used: Option<f64>,
    /// Most memory in use, bytes.
    pub memory_used_max: Option<f64>,
    /// Memory in all, bytes.
    pub memory_total: Option<f64>,
    /// Mean temperature, °C.
    pub temperature_c: Option<f64>,
    /// Highest temperature, °C.
    pub temperature_max_c: Option<f64>,
    /// Mean power draw, W.
    pub power_w: Option<f64>,
    /// Power limit, W.
    pub power_limit_w: Option<f64>,
    /// Mean SM clock, MHz.
    pub sm_clock_mhz: Option<f64>,
    /// Mean memory clock, MHz.
    pub memory_clock_mhz: Option<f64>,
}

impl Store {
    /// Stores one reading: a sample per device (a second sample of a device at the same second
    /// replaces the first) and the device list, in one transaction.
    pub fn insert_gpu_samples(&self, rows: &[GpuSampleRow], names: &[(String, String, u32)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR REPLACE INTO gpu_samples (uuid, ts, utilization_pct, memory_util_pct, memory_used,
                   memory_total, temperature_c, power_w, power_limit_w, sm_clock_mhz, memory_clock_mhz)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut dev = tx.prepare_cached(
                "INSERT INTO gpu_devices (uuid, name, idx, memory_total, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT(uuid) DO UPDATE SET name = excluded.name, idx = excluded.idx,
                   memory_total = coalesce(excluded.memory_total, memory_total), last_seen = excluded.last_seen",
            )?;
            for r in rows {
                ins.execute(params![
                    r.uuid,
                    r.ts,
                    r.utilization_pct,
                    r.memory_util_pct,
                    r.memory_used,
                    r.memory_total,
                    r.temperature_c,
                    r.power_w,
                    r.power_limit_w,
                    r.sm_clock_mhz,
                    r.memory_clock_mhz
                ])?;
                if let Some((_, name, idx)) = names.iter().find(|(u, _, _)| *u == r.uuid) {
                    dev.execute(params![r.uuid, name, idx, r.memory_total, r.ts])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Raw samples of one device in `[from, to]`, oldest first.
    pub fn gpu_samples(&self, uuid: &str, from: i64, to: i64) -> Result<Vec<GpuSampleRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT uuid, ts, utilization_pct, memory_util_pct, memory_used, memory_total, temperature_c,
               power_w, power_limit_w, sm_clock_mhz, memory_clock_mhz
             FROM gpu_samples WHERE uuid = ?1 AND ts BETWEEN ?2 AND ?3 ORDER BY ts",
        )?;
        let rows = stmt.query_map(params![uuid, from, to], |r| {
            Ok(GpuSampleRow {
                uuid: r.get(0)?,
                ts: r.get(1)?,
                utilization_pct: r.get(2)?,
                memory_util_pct: r.get(3)?,
                memory_used: r.get(4)?,
                memory_total: r.get(5)?,
                temperature_c: r.get(6)?,
                power_w: r.get(7)?,
                power_limit_w: r.get(8)?,
                sm_clock_mhz: r.get(9)?,
                memory_clock_mhz: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One device's history in `[from, to]` averaged into buckets of `bucket_secs`, in SQL, so a
    /// 30-day chart reads a few hundred rows instead of 1.3 million.
    pub fn gpu_history(&self, uuid: &str, from: i64, to: i64, bucket_secs: i64) -> Result<Vec<GpuBucket>, StoreError> {
        let b = bucket_secs.max(1);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT (ts / ?4) * ?4 AS bucket, count(*), avg(utilization_pct), avg(memory_util_pct), avg(memory_used),
               max(memory_used), max(memory_total), avg(temperature_c), max(temperature_c), avg(power_w),
               max(power_limit_w), avg(sm_clock_mhz), avg(memory_clock_mhz)
             FROM gpu_samples WHERE uuid = ?1 AND ts BETWEEN ?2 AND ?3
             GROUP BY bucket ORDER BY bucket",
        )?;
        let rows = stmt.query_map(params![uuid, from, to, b], |r| {
            Ok(GpuBucket {
                ts: r.get::<_, i64>(0)? as f64,
                samples: r.get(1)?,
                utilization_pct: r.get(2)?,
                memory_util_pct: r.get(3)?,
                memory_used: r.get(4)?,
                memory_used_max: r.get(5)?,
                memory_total: r.get(6)?,
                temperature_c: r.get(7)?,
                temperature_max_c: r.get(8)?,
                power_w: r.get(9)?,
                power_limit_w: r.get(10)?,
                sm_clock_mhz: r.get(11)?,
                memory_clock_mhz: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every device ever sampled, most recently seen first.
    pub fn gpu_devices(&self) -> Result<Vec<GpuDeviceRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT uuid, name, idx, memory_total, first_seen, last_seen FROM gpu_devices ORDER BY last_seen DESC, idx",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(GpuDeviceRow {
                uuid: r.get(0)?,
                name: r.get(1)?,
                index: r.get(2)?,
                memory_total: r.get(3)?,
                first_seen: r.get(4)?,
                last_seen: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes samples older than `before` (unix seconds); returns how many went.
    pub fn prune_gpu_samples(&self, before: i64) -> Result<usize, StoreError> {
        Ok(self.conn().execute("DELETE FROM gpu_samples WHERE ts < ?1", [before])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(uuid: &str, ts: i64, util: f64, temp: Option<f64>) -> GpuSampleRow {
        GpuSampleRow {
            uuid: uuid.into(),
            ts,
            utilization_pct: Some(util),
            memory_used: Some(1e9),
            memory_total: Some(8e10),
            temperature_c: temp,
            ..Default::default()
        }
    }

    #[test]
    fn samples_round_trip_downsample_and_prune_per_device() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("s.sqlite3")).expect("opens");
        let names = vec![("GPU-a".to_string(), "H100".to_string(), 0), ("GPU-b".to_string(), "H100".to_string(), 1)];
        for ts in (0..120).step_by(2) {
            let rows = vec![row("GPU-a", ts, ts as f64, Some(60.0 + (ts % 10) as f64)), row("GPU-b", ts, 50.0, None)];
            store.insert_gpu_samples(&rows, &names).expect("inserts");
        }
        assert_eq!(store.gpu_samples("GPU-a", 10, 19).expect("reads").len(), 5);
        let h = store.gpu_history("GPU-a", 0, 119, 60).expect("history");
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].samples, 30);
        assert_eq!(h[0].utilization_pct, Some(29.0)); // mean of 0, 2, …, 58
        assert_eq!(h[0].temperature_max_c, Some(68.0));
        // A figure no sample had stays unknown rather than becoming zero.
        let b = store.gpu_history("GPU-b", 0, 119, 60).expect("history");
        assert_eq!(b[0].temperature_c, None);
        let devs = store.gpu_devices().expect("devices");
        assert_eq!(devs.len(), 2);
        assert_eq!((devs[0].first_seen, devs[0].last_seen), (0, 118));
        assert_eq!(store.prune_gpu_samples(60).expect("prunes"), 60);
        assert_eq!(store.gpu_samples("GPU-a", 0, 200).expect("reads").first().map(|r| r.ts), Some(60));
    }
}
