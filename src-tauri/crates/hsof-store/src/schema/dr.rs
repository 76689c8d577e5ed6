//! DR drills: one row per drill, the whole record (steps, evidence, the DR cluster's state
//! before) kept as JSON and rewritten as each step ends, so a drill whose process died
//! half-way is found at the next start with what it changed.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE dr_drills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,                  -- RFC 3339 UTC
    primary_cluster TEXT NOT NULL,
    dr_cluster  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'finished', 'rolled_back')),
    record      TEXT NOT NULL,                  -- hsof_fleet::drill::DrillRecord, JSON
    updated_at  TEXT NOT NULL
);
CREATE INDEX dr_drills_state ON dr_drills(state);
"#,
    )]
}
