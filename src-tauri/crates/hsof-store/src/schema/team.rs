//! The team store's local side (hsof-team keeps the shared copy in the cluster): which
//! incidents are shared and under what name, a unique id per timeline entry (an entry is
//! appended to the shared record once), and the outbox of local writes not yet sent to the
//! cluster, in the order they were made.
//!
//! A shared incident's rows are a cache of the cluster's record: they are rewritten when
//! the record changes there, so its timeline rows may be replaced. A local-only
//! incident's timeline stays append-only.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
ALTER TABLE incidents ADD COLUMN team_name TEXT;        -- the Incident's name in the team store; NULL: local-only
CREATE UNIQUE INDEX incidents_team_name ON incidents(team_name) WHERE team_name IS NOT NULL;
ALTER TABLE incident_timeline ADD COLUMN uid TEXT;       -- unique per entry, across desktops
CREATE UNIQUE INDEX incident_timeline_uid ON incident_timeline(uid) WHERE uid IS NOT NULL;

DROP TRIGGER incident_timeline_no_delete;
CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline
WHEN (SELECT team_name FROM incidents WHERE id = old.incident_id) IS NULL
BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;

-- 'enabled': writes to shared incidents (and new incidents) go to the outbox;
-- 'upload': 'done' or 'declined' once the offer to upload older records was answered.
CREATE TABLE team_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE team_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order writes were made, and are sent
    kind       TEXT NOT NULL,                      -- 'incident'
    name       TEXT NOT NULL,                      -- the shared record's name
    op         TEXT NOT NULL,                      -- the write, JSON in local terms
    created_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX team_outbox_name ON team_outbox(kind, name, seq);

-- The last copy read from the cluster of each shared record, also the invalid ones (a
-- record edited by hand into a shape this app cannot read is shown, never overwritten).
CREATE TABLE team_cache (
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    object           TEXT NOT NULL,
    read_at          TEXT NOT NULL,
    invalid          TEXT,
    PRIMARY KEY (kind, name)
);
"#,
    )]
}

/// The operations calendar shared too: procedure runs are named after their occurrence (the
/// same on every desktop), maintenance windows like incidents; step results get unique ids.
pub(super) fn calendar_steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
ALTER TABLE procedure_runs ADD COLUMN team_name TEXT;
CREATE UNIQUE INDEX procedure_runs_team_name ON procedure_runs(team_name) WHERE team_name IS NOT NULL;
ALTER TABLE step_results ADD COLUMN uid TEXT;
CREATE UNIQUE INDEX step_results_uid ON step_results(uid) WHERE uid IS NOT NULL;
ALTER TABLE maintenance_windows ADD COLUMN team_name TEXT;
CREATE UNIQUE INDEX maintenance_windows_team_name ON maintenance_windows(team_name) WHERE team_name IS NOT NULL;
"#,
    )]
}
