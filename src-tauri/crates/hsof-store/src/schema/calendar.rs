//! The operations calendar: what was done for each occurrence of a procedure (step
//! results are appended, the newest per step counts), maintenance windows, the runbook
//! Jobs' outcomes (evidence for the quality gates), and notices already shown.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE procedure_runs (
    occurrence_key TEXT PRIMARY KEY,              -- "<procedure id>@<local start>"
    procedure_id   TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    completed_at   TEXT,
    completed_by   TEXT,
    skipped        INTEGER NOT NULL DEFAULT 0,
    note           TEXT
);
CREATE INDEX procedure_runs_start ON procedure_runs(starts_at);

CREATE TABLE step_results (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    occurrence_key TEXT NOT NULL,
    step_id        TEXT NOT NULL,
    at             TEXT NOT NULL,
    by_user        TEXT NOT NULL,
    automated      INTEGER NOT NULL,
    verdict        TEXT NOT NULL CHECK (verdict IN ('pass', 'warn', 'fail', 'done', 'unknown')),
    output         TEXT NOT NULL,
    note           TEXT
);
CREATE INDEX step_results_occurrence ON step_results(occurrence_key, step_id, id);

CREATE TABLE maintenance_windows (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL CHECK (length(trim(title)) > 0),
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    impact       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    silence_id   TEXT,
    cancelled_at TEXT
);

CREATE TABLE job_results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,                    -- vulnerability-scan, integration-tests, ...
    name        TEXT NOT NULL,                    -- the Kubernetes Job
    finished_at TEXT NOT NULL,
    succeeded   INTEGER NOT NULL,
    summary     TEXT NOT NULL
);
CREATE INDEX job_results_job ON job_results(job, id);

CREATE TABLE calendar_notices (
    key     TEXT PRIMARY KEY,                     -- "overdue:<occurrence>", "notice:<window id>"
    sent_at TEXT NOT NULL
);
"#,
    )]
}
