//! Tables every feature writes to: `app_events` and the append-only `audit_log`.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE app_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL,
    detail    TEXT
);
CREATE INDEX app_events_ts ON app_events(ts);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ts         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    before     TEXT,
    after      TEXT,
    result     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
-- Append-only: the app never edits or removes an audit row. A change made behind the
-- app's back (with the triggers dropped) is still caught by the hash chain.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"#,
    )]
}

/// Appended at the end of the steps: changes whose intent is recorded. The intent is an
/// audit row written before the change is applied; its outcome is a second audit row.
/// An intent with no outcome (the process died between the two) is settled at the next
/// start against the cluster.
pub(super) fn intent_steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE change_intents (
    audit_id         INTEGER PRIMARY KEY REFERENCES audit_log(id),
    request          TEXT NOT NULL,                -- the change request, JSON
    outcome_audit_id INTEGER REFERENCES audit_log(id)
);
CREATE INDEX change_intents_pending ON change_intents(outcome_audit_id);
"#,
    )]
}
