//! `app_events`: a plain log of what the app did (started, saved config, ran a step).

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use crate::{Store, StoreError};

/// One recorded app event.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppEvent {
    /// Row id, increasing.
    #[specta(type = f64)]
    pub id: i64,
    /// When it happened (RFC 3339, UTC).
    pub ts: String,
    /// Short machine-readable kind, e.g. `app.start`, `config.saved`.
    pub kind: String,
    /// One line for people.
    pub message: String,
    /// Optional JSON detail.
    pub detail: Option<String>,
}

impl Store {
    /// Records an event that happened at `now`.
    pub fn record_event(
        &self,
        now: DateTime<Utc>,
        kind: &str,
        message: &str,
        detail: Option<&serde_json::Value>,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO app_events (ts, kind, message, detail) VALUES (?1, ?2, ?3, ?4)",
            params![crate::audit::ts(now), kind, message, detail.map(|d| d.to_string())],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// When the app started keeping records here: the first event's time.
    pub fn tracking_since(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT min(ts) FROM app_events", [], |r| r.get(0))?)
    }

    /// The most recent `limit` events, newest first, optionally of one kind.
    pub fn recent_events(&self, kind: Option<&str>, limit: u32) -> Result<Vec<AppEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts, kind, message, detail FROM app_events
             WHERE (?1 IS NULL OR kind = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![kind, limit], |r| {
            Ok(AppEvent { id: r.get(0)?, ts: r.get(1)?, kind: r.get(2)?, message: r.get(3)?, detail: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
