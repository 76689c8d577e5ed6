//! Repositories of the monitoring tables.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{Store, StoreError};

/// One downsampled bucket of a series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct Bucket {
    /// Bucket start, unix seconds.
    pub ts: f64,
    /// Mean.
    pub avg: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

/// Saved state of one threshold rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThresholdRecord {
    /// Breaching for its whole duration.
    pub active: bool,
    /// Unix seconds the breach began.
    pub since: Option<i64>,
    /// When this activation was notified.
    pub notified_at: Option<i64>,
    /// No notification before this time.
    pub snoozed_until: Option<i64>,
}

impl Store {
    /// Records one health poll of `cluster` (the scope of its history: empty for a
    /// configuration's single implicit cluster).
    pub fn insert_health(
        &self,
        cluster: &str,
        ts: i64,
        up: bool,
        overall: &str,
        report_json: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO health_samples (cluster, ts, up, overall, report) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![cluster, ts, up, overall, report_json],
        )?;
        Ok(())
    }

    /// `(ts, up)` of every poll of `cluster` since `since`, oldest first.
    pub fn health_up_since(&self, cluster: &str, since: i64) -> Result<Vec<(i64, bool)>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT ts, up FROM health_samples WHERE cluster = ?1 AND ts >= ?2 ORDER BY ts")?;
        let rows = stmt.query_map(params![cluster, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The last poll of `cluster`: `(ts, report JSON)`.
    pub fn last_health(&self, cluster: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT ts, report FROM health_samples WHERE cluster = ?1 ORDER BY ts DESC LIMIT 1",
                [cluster],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Moves the monitoring history kept without a cluster (a configuration's single
    /// implicit cluster) to `scope`, the cluster it belongs to now that the file lists its
    /// clusters: health polls, metric series, last known values and threshold states (the
    /// local GPU's are the machine's and stay). Keys a scoped cluster already has are left.
    /// Returns how many rows moved; one transaction.
    pub fn adopt_unscoped(&self, scope: &str) -> Result<usize, StoreError> {
        if scope.is_empty() {
            return Ok(0);
        }
        let prefix = format!("@{scope}/");
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut moved = tx.execute("UPDATE health_samples SET cluster = ?1 WHERE cluster = ''", [scope])?;
        moved += tx.execute("UPDATE OR IGNORE series SET name = ?1 || name WHERE name NOT LIKE '@%'", [&prefix])?;
        moved += tx.execute("UPDATE OR IGNORE last_known SET key = ?1 || key WHERE key NOT LIKE '@%'", [&prefix])?;
        moved += tx.execute(
            "UPDATE OR IGNORE threshold_state SET rule_id = ?1 || rule_id WHERE rule_id NOT LIKE '@%' AND rule_id NOT LIKE 'gpu.%'",
            [&prefix],
        )?;
        tx.commit()?;
        Ok(moved)
    }

    /// The id of series `name`, created on first use.
    pub fn series_id(&self, name: &str) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute("INSERT OR IGNORE INTO series (name) VALUES (?1)", [name])?;
        Ok(conn.query_row("SELECT id FROM series WHERE name = ?1", [name], |r| r.get(0))?)
    }

    /// Stores points of one series in one transaction; a point at an existing time replaces it.
    pub fn insert_samples(&self, series_id: i64, points: &[(i64, f64)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR REPLACE INTO samples (series_id, ts, value) VALUES (?1, ?2, ?3)")?;
            for (ts, v) in points.iter().filter(|(_, v)| v.is_finite()) {
                stmt.execute(params![series_id, ts, v])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Raw points of a series in `[from, to]`, oldest first.
    pub fn samples(&self, series_id: i64, from: i64, to: i64) -> Result<Vec<(i64, f64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT ts, value FROM samples WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3 ORDER BY ts",
        )?;
        let rows = stmt.query_map(params![series_id, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A series in `[from, to]` averaged into buckets of `bucket_secs`, computed in SQL so a
    /// 30-day chart reads a few hundred rows, not hundreds of thousands.
    pub fn downsample(&self, series_id: i64, from: i64, to: i64, bucket_secs: i64) -> Result<Vec<Bucket>, StoreError> {
        let b = bucket_secs.max(1);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT (ts / ?4) * ?4 AS bucket, avg(value), min(value), max(value)
             FROM samples WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3
             GROUP BY bucket ORDER BY bucket",
        )?;
        let rows = stmt.query_map(params![series_id, from, to, b], |r| {
            Ok(Bucket { ts: r.get::<_, i64>(0)? as f64, avg: r.get(1)?, min: r.get(2)?, max: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Saves the last good answer for `key` (JSON) with when it was fetched.
    pub fn put_last_known(&self, key: &str, value_json: &str, fetched_at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO last_known (key, value, fetched_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at",
            params![key, value_json, fetched_at],
        )?;
        Ok(())
    }

    /// The last good answer for `key`: `(JSON, fetched_at)`.
    pub fn last_known(&self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT value, fetched_at FROM last_known WHERE key = ?1", [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Records that `alert` (JSON) should become an incident; returns the link id.
    pub fn link_alert(
        &self,
        fingerprint: &str,
        alertname: &str,
        alert_json: &str,
        created_at: &str,
        created_by: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO alert_links (fingerprint, alertname, alert, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![fingerprint, alertname, alert_json, created_at, created_by],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Links not yet picked up by an incident: `(id, fingerprint, alertname, created_at)`.
    pub fn open_alert_links(&self) -> Result<Vec<(i64, String, String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, fingerprint, alertname, created_at FROM alert_links WHERE incident_id IS NULL ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Saved state of a threshold rule.
    pub fn threshold_state(&self, rule_id: &str) -> Result<Option<ThresholdRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT active, since, notified_at, snoozed_until FROM threshold_state WHERE rule_id = ?1",
                [rule_id],
                |r| {
                    Ok(ThresholdRecord {
                        active: r.get(0)?,
                        since: r.get(1)?,
                        notified_at: r.get(2)?,
                        snoozed_until: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Saves threshold rule state.
    pub fn set_threshold_state(&self, rule_id: &str, rec: &ThresholdRecord) -> Result<(), StoreError> {
        let ThresholdRecord { active, since, notified_at, snoozed_until } = *rec;
        self.conn().execute(
            "INSERT INTO threshold_state (rule_id, active, since, notified_at, snoozed_until) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(rule_id) DO UPDATE SET active = excluded.active, since = excluded.since,
               notified_at = excluded.notified_at, snoozed_until = excluded.snoozed_until",
            params![rule_id, active, since, notified_at, snoozed_until],
        )?;
        Ok(())
    }
}
