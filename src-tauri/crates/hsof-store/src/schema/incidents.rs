//! Incident response: incidents, their append-only timeline, the Slack outbox (a post is
//! written here first and removed from the queue only when Slack accepted it), reminders
//! already sent, drafts saved as they are typed, and reviews scheduled for the calendar.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT NOT NULL CHECK (length(trim(title)) > 0),
    severity        TEXT NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    components      TEXT NOT NULL DEFAULT '[]',   -- JSON array of names
    description     TEXT NOT NULL DEFAULT '',
    declared_at     TEXT NOT NULL,
    declared_by     TEXT NOT NULL,
    acknowledged_at TEXT,
    escalated_at    TEXT,
    resolved_at     TEXT,
    last_update_at  TEXT,
    source_alert    TEXT,                         -- the alert it was declared from, JSON
    summary         TEXT                          -- the edited post-incident summary, Markdown
);
CREATE INDEX incidents_declared ON incidents(declared_at);

CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at          TEXT NOT NULL,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT 'null'      -- JSON: a snapshot, an audit id, a Slack error
);
CREATE INDEX incident_timeline_incident ON incident_timeline(incident_id, id);
CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline
BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;
CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline
BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;

CREATE TABLE slack_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER REFERENCES incidents(id),
    payload         TEXT NOT NULL,                -- the webhook body, JSON
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    posted_at       TEXT,
    gave_up         INTEGER NOT NULL DEFAULT 0    -- a permanent refusal (4xx): kept, shown, retried by hand
);
CREATE INDEX slack_outbox_pending ON slack_outbox(posted_at, next_attempt_at);

CREATE TABLE incident_reminders (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (incident_id, kind, due_at)
);

CREATE TABLE drafts (
    key         TEXT PRIMARY KEY,
    text        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE scheduled_reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,                    -- 'postmortem'
    title       TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    done_at     TEXT,
    UNIQUE (incident_id, kind)
);
"#,
    )]
}

/// Appended after every domain's first steps (steps are only ever added at the end): the
/// outbox lease. A flusher claims a message by setting `claimed_until` in one `UPDATE …
/// RETURNING`, so two processes (or the app's poller and a click) never post the same
/// message; a flusher that dies mid-post leaves a lease that expires, and the message is
/// retried, not lost.
pub(super) fn lease_steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
ALTER TABLE slack_outbox ADD COLUMN claimed_until TEXT;
ALTER TABLE slack_outbox ADD COLUMN claimed_by TEXT;
"#,
    )]
}

/// A drill (a rehearsal on the demo environment) is an incident whose `drill` names the
/// scenario; NULL for a real one.
pub(super) fn drill_steps() -> Vec<M<'static>> {
    vec![M::up("ALTER TABLE incidents ADD COLUMN drill TEXT;")]
}

/// Stakeholder updates (status page or stakeholder webhook) of incidents kept on this
/// desktop: an outbox like Slack's, sent in order per incident (a status page's incident
/// is created by the first update and changed by the next ones).
pub(super) fn stakeholder_steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE stakeholder_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER REFERENCES incidents(id) ON DELETE CASCADE,
    payload         TEXT NOT NULL,              -- hsof_ops StakeholderUpdate, JSON
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    posted_at       TEXT,
    gave_up         INTEGER NOT NULL DEFAULT 0,
    claimed_until   TEXT,
    claimed_by      TEXT
);
CREATE INDEX stakeholder_outbox_pending ON stakeholder_outbox(posted_at, next_attempt_at);
"#,
    )]
}
