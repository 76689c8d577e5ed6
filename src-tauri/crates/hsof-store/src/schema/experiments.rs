//! Feature-selection experiments: one row per run of the engine (hsof-select), from the app
//! or `hsofctl select`. A row is inserted `running` when the run starts and finished as
//! `ok`, `failed` or `cancelled`; the report JSON is kept whole so a past run can be opened
//! exactly as it was shown.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE experiments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   TEXT NOT NULL,                 -- RFC 3339 UTC
    finished_at  TEXT,
    input        TEXT NOT NULL,                 -- the CSV / Parquet / dataset YAML path
    target       TEXT NOT NULL DEFAULT '',      -- '' until a dataset YAML has named it
    request      TEXT NOT NULL DEFAULT 'null',  -- the options asked for, JSON
    status       TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'cancelled')),
    error_code   TEXT,
    error        TEXT,
    report       TEXT,                          -- the SelectionReport, JSON (ok runs only)
    out_path     TEXT,                          -- where the report JSON was written, if asked
    selected     INTEGER,                       -- features selected
    score        REAL,                          -- mean CV score
    score_std    REAL,
    metric       TEXT,                          -- accuracy | r2
    model        TEXT,
    backend      TEXT,
    seconds      REAL                           -- the engine's total time
);
CREATE INDEX experiments_started ON experiments(started_at);
"#,
    )]
}

/// Appended at the end of the steps: which process runs a `running` experiment (`pid:start
/// time`), so one whose process died is settled as failed instead of running forever.
pub(super) fn owner_steps() -> Vec<M<'static>> {
    vec![M::up("ALTER TABLE experiments ADD COLUMN owner TEXT;")]
}

/// Appended after the team store's steps: the Kubernetes Job a cluster run is (context,
/// namespace, name as JSON), so a restarted app or CLI reattaches to it.
pub(super) fn cluster_steps() -> Vec<M<'static>> {
    vec![M::up("ALTER TABLE experiments ADD COLUMN cluster_job TEXT;")]
}
