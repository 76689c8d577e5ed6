//! DR drills (`dr_drills`): the record as JSON, its state and clusters as columns.

use rusqlite::{params, OptionalExtension};

use crate::{Store, StoreError};

/// One drill as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillRow {
    /// Id.
    pub id: i64,
    /// `running`, `finished` or `rolled_back`.
    pub state: String,
    /// The record, JSON.
    pub record: String,
}

impl Store {
    /// Inserts a drill that is starting; returns its id.
    pub fn insert_drill(
        &self,
        started_at: &str,
        primary: &str,
        dr: &str,
        record_json: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO dr_drills (started_at, primary_cluster, dr_cluster, state, record, updated_at)
             VALUES (?1, ?2, ?3, 'running', ?4, ?1)",
            params![started_at, primary, dr, record_json],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Rewrites a drill's record and state.
    pub fn update_drill(&self, id: i64, state: &str, record_json: &str, at: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE dr_drills SET state = ?2, record = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, state, record_json, at],
        )?;
        if n == 0 {
            return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows));
        }
        Ok(())
    }

    /// One drill.
    pub fn drill(&self, id: i64) -> Result<Option<DrillRow>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT id, state, record FROM dr_drills WHERE id = ?1", [id], |r| {
                Ok(DrillRow { id: r.get(0)?, state: r.get(1)?, record: r.get(2)? })
            })
            .optional()?)
    }

    /// Drills newest first; only those still `running` with `running_only`.
    pub fn drills(&self, running_only: bool, limit: u32) -> Result<Vec<DrillRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, state, record FROM dr_drills WHERE (?1 = 0 OR state = 'running') ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![running_only, limit], |r| {
            Ok(DrillRow { id: r.get(0)?, state: r.get(1)?, record: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
