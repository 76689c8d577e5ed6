//! SQLite store of HSOF Control Center.
//!
//! One file in the user's data directory, opened in WAL mode and brought up to date by
//! versioned migrations. Every domain owns a schema module under [`schema`]; this crate
//! also owns the two tables every feature writes to: `app_events` (what the app did) and
//! `audit_log` (who changed what, hash-chained so that tampering is detectable).
//!
//! The store never repairs, replaces or deletes a file it cannot open: it returns a
//! [`StoreError`] and the caller starts in degraded mode.

mod audit;
mod calendar;
mod dr;
mod error;
mod events;
mod experiments;
mod gpu;
mod incidents;
mod monitor;
pub mod private;
pub mod schema;
mod security;
mod team;
mod team_calendar;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use audit::{AuditEntry, AuditVerification, NewAuditEntry, PendingIntent};
pub use calendar::{JobRecord, NewStepResult, RunRecord, StepRecord, WindowRecord};
pub use dr::DrillRow;
pub use error::StoreError;
pub use events::AppEvent;
pub use experiments::{ExperimentFinish, ExperimentRecord, NewExperiment};
pub use gpu::{GpuBucket, GpuDeviceRow, GpuSampleRow};
pub use incidents::{
    Channel, IncidentChanges, IncidentRecord, NewTimelineEvent, OutboxRecord, ReviewRecord, TimelineRecord,
};
pub use monitor::{Bucket, ThresholdRecord};
pub use security::ReviewRow;
pub use team::{run_name, CachedRecord, Mirrored, SharedEntry, TeamOpRecord};
pub use team_calendar::SharedStep;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "hsof-control-center.sqlite3";

/// An open, migrated store. Internally synchronised: share it behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// What the UI and `hsofctl doctor` show about the store.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct StoreFacts {
    /// Path of the SQLite file.
    pub path: String,
    /// Bytes on disk: the database plus its WAL file.
    pub size_bytes: f64,
    /// Schema version the file is at.
    pub schema_version: u32,
    /// Schema version this build knows.
    pub latest_version: u32,
    /// SQLite journal mode in effect (`wal` expected).
    pub journal_mode: String,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    ///
    /// Refuses, without touching the file, one that is not a SQLite database, one that
    /// a newer version of the app has migrated, and one in a directory it cannot write.
    /// A new store is private: its folder is created `0700` and the file `0600` before
    /// SQLite opens it (SQLite gives the WAL and shared-memory files the database's mode).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private::create_dir_all(dir).map_err(|source| StoreError::DataDir { path: dir.to_path_buf(), source })?;
        }
        // Where the file cannot be created (a folder this user cannot write), SQLite's own
        // open below says so in its words.
        let _ = private::create_file(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::open(path, e))?;
        // A corrupt or foreign file fails here, before any write is attempted.
        let version: u32 =
            conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| StoreError::open(path, e))?;
        let latest = schema::latest_version();
        if version > latest {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found: version, supported: latest });
        }
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| StoreError::open(path, e))?;
        let mode: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| StoreError::open(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "SQLite refused WAL mode");
        }
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| StoreError::open(path, e))?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration { path: path.to_path_buf(), message: e.to_string() })?;
        Ok(Self { path: path.to_path_buf(), conn: Mutex::new(conn) })
    }

    /// Path of the SQLite file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size, versions and journal mode of the open store.
    pub fn facts(&self) -> Result<StoreFacts, StoreError> {
        let conn = self.conn();
        let schema_version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let journal_mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        drop(conn);
        let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        Ok(StoreFacts {
            path: self.path.display().to_string(),
            size_bytes: (size(self.path.clone()) + size(PathBuf::from(wal))) as f64,
            schema_version,
            latest_version: schema::latest_version(),
            journal_mode,
        })
    }

    /// The connection. A poisoned lock only means another thread panicked mid-call;
    /// SQLite's own transactions keep the file consistent, so the connection is reused.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
