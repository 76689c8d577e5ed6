//! Incidents, their append-only timeline, the Slack outbox, reminders sent, drafts and
//! scheduled reviews. Times are RFC 3339 UTC strings (sortable as text).

use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use serde_json::json;

use crate::{Store, StoreError};

/// A stored incident, as columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct IncidentRecord {
    /// Id (ignored on insert).
    pub id: i64,
    /// Title.
    pub title: String,
    /// `P0`…`P3`.
    pub severity: String,
    /// `open`, `acknowledged`, `resolved`.
    pub status: String,
    /// JSON array of component names.
    pub components: String,
    /// Description.
    pub description: String,
    /// Declared (RFC 3339).
    pub declared_at: String,
    /// By whom.
    pub declared_by: String,
    /// Acknowledged.
    pub acknowledged_at: Option<String>,
    /// Escalated.
    pub escalated_at: Option<String>,
    /// Resolved.
    pub resolved_at: Option<String>,
    /// Last status update.
    pub last_update_at: Option<String>,
    /// The source alert, JSON.
    pub source_alert: Option<String>,
    /// The saved post-incident summary (Markdown).
    pub summary: Option<String>,
    /// The demo scenario of a drill; `None` for a real incident.
    pub drill: Option<String>,
    /// Its name in the team store when shared (read only: set by the store).
    pub team_name: Option<String>,
    /// The cluster it was declared on, when the configuration lists several.
    pub cluster: Option<String>,
}

/// Columns an incident transition sets (the others stay).
#[derive(Debug, Clone, Default)]
pub struct IncidentChanges<'a> {
    /// New status.
    pub status: Option<&'a str>,
    /// Acknowledged at.
    pub acknowledged_at: Option<&'a str>,
    /// Escalated at.
    pub escalated_at: Option<&'a str>,
    /// Resolved at.
    pub resolved_at: Option<&'a str>,
    /// Last status update at.
    pub last_update_at: Option<&'a str>,
    /// Post-incident summary.
    pub summary: Option<&'a str>,
}

/// A timeline event about to be appended.
#[derive(Debug, Clone)]
pub struct NewTimelineEvent<'a> {
    /// When.
    pub at: &'a str,
    /// Who.
    pub author: &'a str,
    /// `declared`, `acknowledged`, `snapshot`, `update`, `change`, …
    pub kind: &'a str,
    /// What happened, in a line.
    pub text: &'a str,
    /// Attached data, JSON.
    pub data: &'a str,
}

/// A stored timeline event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRecord {
    /// Id (increasing in time order).
    pub id: i64,
    /// Incident.
    pub incident_id: i64,
    /// When.
    pub at: String,
    /// Who.
    pub author: String,
    /// Kind.
    pub kind: String,
    /// Text.
    pub text: String,
    /// Data, JSON.
    pub data: String,
    /// Unique across desktops (the team store appends an entry once); `None` for entries
    /// written before it existed.
    pub uid: Option<String>,
}

/// A message in the Slack outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRecord {
    /// Id.
    pub id: i64,
    /// Incident it belongs to.
    pub incident_id: Option<i64>,
    /// Webhook body, JSON.
    pub payload: String,
    /// Queued at.
    pub created_at: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Next attempt not before.
    pub next_attempt_at: String,
    /// Last error.
    pub last_error: Option<String>,
    /// Accepted by Slack at.
    pub posted_at: Option<String>,
    /// Refused for good (4xx); kept and shown, retried only by hand.
    pub gave_up: bool,
}

/// Where an incident's outgoing messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The engineers' Slack channel.
    Slack,
    /// Stakeholders: the status page or the stakeholder webhook.
    Stakeholders,
}

impl Channel {
    fn table(self) -> &'static str {
        match self {
            Channel::Slack => "slack_outbox",
            Channel::Stakeholders => "stakeholder_outbox",
        }
    }
}

/// A review scheduled for the calendar (a post-mortem).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewRecord {
    /// Id.
    pub id: i64,
    /// Incident.
    pub incident_id: i64,
    /// `postmortem`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Due.
    pub due_at: String,
    /// Done.
    pub done_at: Option<String>,
}

pub(crate) const INCIDENT_COLUMNS: &str =
    "id, title, severity, status, components, description, declared_at, declared_by, \
     acknowledged_at, escalated_at, resolved_at, last_update_at, source_alert, summary, drill, team_name, cluster";

pub(crate) fn incident_row(r: &Row<'_>) -> rusqlite::Result<IncidentRecord> {
    Ok(IncidentRecord {
        id: r.get(0)?,
        title: r.get(1)?,
        severity: r.get(2)?,
        status: r.get(3)?,
        components: r.get(4)?,
        description: r.get(5)?,
        declared_at: r.get(6)?,
        declared_by: r.get(7)?,
        acknowledged_at: r.get(8)?,
        escalated_at: r.get(9)?,
        resolved_at: r.get(10)?,
        last_update_at: r.get(11)?,
        source_alert: r.get(12)?,
        summary: r.get(13)?,
        drill: r.get(14)?,
        team_name: r.get(15)?,
        cluster: r.get(16)?,
    })
}

fn outbox_row(r: &Row<'_>) -> rusqlite::Result<OutboxRecord> {
    Ok(OutboxRecord {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        payload: r.get(2)?,
        created_at: r.get(3)?,
        attempts: r.get(4)?,
        next_attempt_at: r.get(5)?,
        last_error: r.get(6)?,
        posted_at: r.get(7)?,
        gave_up: r.get::<_, i64>(8)? != 0,
    })
}

const OUTBOX_COLUMNS: &str =
    "id, incident_id, payload, created_at, attempts, next_attempt_at, last_error, posted_at, gave_up";

/// Appends `e` with a new unique id; returns its row id and that uid.
fn append_row(
    tx: &rusqlite::Transaction<'_>,
    incident_id: i64,
    e: &NewTimelineEvent<'_>,
) -> Result<(i64, String), StoreError> {
    let uid = crate::team::new_uid(tx)?;
    tx.execute(
        "INSERT INTO incident_timeline (incident_id, at, author, kind, text, data, uid) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![incident_id, e.at, e.author, e.kind, e.text, e.data, uid],
    )?;
    Ok((tx.last_insert_rowid(), uid))
}

/// Appends `e`; a shared incident's outbox gets the entry.
fn append(tx: &rusqlite::Transaction<'_>, incident_id: i64, e: &NewTimelineEvent<'_>) -> Result<i64, StoreError> {
    let (id, uid) = append_row(tx, incident_id, e)?;
    crate::team::record_op(tx, incident_id, &json!({"op": "event", "event": crate::team::event_json(&uid, e)}))?;
    Ok(id)
}

impl Store {
    /// Stores a new incident and its first timeline event together; returns its id.
    pub fn insert_incident(&self, i: &IncidentRecord, first: &NewTimelineEvent<'_>) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO incidents (title, severity, status, components, description, declared_at, declared_by, \
             acknowledged_at, escalated_at, resolved_at, last_update_at, source_alert, summary, drill, cluster) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                i.title,
                i.severity,
                i.status,
                i.components,
                i.description,
                i.declared_at,
                i.declared_by,
                i.acknowledged_at,
                i.escalated_at,
                i.resolved_at,
                i.last_update_at,
                i.source_alert,
                i.summary,
                i.drill,
                i.cluster
            ],
        )?;
        let id = tx.last_insert_rowid();
        let (_, uid) = append_row(&tx, id, first)?;
        // While the team store is on, a new incident is shared: named, and its declaration
        // queued for the cluster in this same transaction.
        if crate::team::enabled(&tx)? {
            let name = crate::team::new_incident_name(&tx, &i.declared_at)?;
            tx.execute("UPDATE incidents SET team_name = ?2 WHERE id = ?1", params![id, name])?;
            let op = json!({"op": "declare", "incident": crate::team::incident_json(i),
                "event": crate::team::event_json(&uid, first)});
            crate::team::record_op(&tx, id, &op)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Sets `changes` on incident `id` and appends `event`, in one transaction; returns the
    /// event's id. `Ok(None)` when there is no such incident.
    pub fn update_incident(
        &self,
        id: i64,
        changes: &IncidentChanges<'_>,
        event: &NewTimelineEvent<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE incidents SET status = coalesce(?2, status), acknowledged_at = coalesce(?3, acknowledged_at), \
             escalated_at = coalesce(?4, escalated_at), resolved_at = coalesce(?5, resolved_at), \
             last_update_at = coalesce(?6, last_update_at), summary = coalesce(?7, summary) WHERE id = ?1",
            params![
                id,
                changes.status,
                changes.acknowledged_at,
                changes.escalated_at,
                changes.resolved_at,
                changes.last_update_at,
                changes.summary
            ],
        )?;
        if n == 0 {
            return Ok(None);
        }
        let (ev, uid) = append_row(&tx, id, event)?;
        let op = json!({"op": "update", "changes": {
            "status": changes.status, "acknowledged_at": changes.acknowledged_at,
            "escalated_at": changes.escalated_at, "resolved_at": changes.resolved_at,
            "last_update_at": changes.last_update_at, "summary": changes.summary,
        }, "event": crate::team::event_json(&uid, event)});
        crate::team::record_op(&tx, id, &op)?;
        tx.commit()?;
        Ok(Some(ev))
    }

    /// One incident.
    pub fn incident(&self, id: i64) -> Result<Option<IncidentRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"), [id], incident_row)
            .optional()?)
    }

    /// Every incident, newest first.
    pub fn incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY id DESC"))?;
        let rows = stmt.query_map([], incident_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Appends an event to an incident's timeline; returns its id.
    pub fn append_timeline(&self, incident_id: i64, e: &NewTimelineEvent<'_>) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = append(&tx, incident_id, e)?;
        tx.commit()?;
        Ok(id)
    }

    /// An incident's timeline, oldest first.
    pub fn timeline(&self, incident_id: i64) -> Result<Vec<TimelineRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, incident_id, at, author, kind, text, data, uid FROM incident_timeline \
             WHERE incident_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([incident_id], |r| {
            Ok(TimelineRecord {
                id: r.get(0)?,
                incident_id: r.get(1)?,
                at: r.get(2)?,
                author: r.get(3)?,
                kind: r.get(4)?,
                text: r.get(5)?,
                data: r.get(6)?,
                uid: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queues a Slack message; it stays until Slack accepts it. Returns its id.
    pub fn enqueue_slack(&self, incident_id: Option<i64>, payload: &str, now: &str) -> Result<i64, StoreError> {
        self.enqueue_message(Channel::Slack, incident_id, payload, now)
    }

    /// Queues a message on `channel`; it stays until its receiver accepts it. Returns its id.
    pub fn enqueue_message(
        &self,
        channel: Channel,
        incident_id: Option<i64>,
        payload: &str,
        now: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            &format!(
                "INSERT INTO {} (incident_id, payload, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?3)",
                channel.table()
            ),
            params![incident_id, payload, now],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Claims the oldest message due at `now` that no live lease holds, for `holder` until
    /// `lease_until`, in one statement (`UPDATE … RETURNING`): of two flushers racing for
    /// it, exactly one gets it. `None` when nothing is due.
    pub fn claim_slack(&self, now: &str, lease_until: &str, holder: &str) -> Result<Option<OutboxRecord>, StoreError> {
        self.claim_message(Channel::Slack, now, lease_until, holder)
    }

    /// [`Self::claim_slack`] on `channel`. Stakeholder updates go in order per incident: one
    /// waits while an earlier one of its incident is neither sent nor given up.
    pub fn claim_message(
        &self,
        channel: Channel,
        now: &str,
        lease_until: &str,
        holder: &str,
    ) -> Result<Option<OutboxRecord>, StoreError> {
        let conn = self.conn();
        let table = channel.table();
        let in_order = match channel {
            Channel::Slack => String::new(),
            Channel::Stakeholders => format!(
                "AND NOT EXISTS (SELECT 1 FROM {table} e WHERE e.incident_id = o.incident_id AND e.id < o.id \
                 AND e.posted_at IS NULL AND e.gave_up = 0)"
            ),
        };
        let mut stmt = conn.prepare(&format!(
            "UPDATE {table} SET claimed_until = ?2, claimed_by = ?3 WHERE id = ( \
               SELECT id FROM {table} o WHERE posted_at IS NULL AND gave_up = 0 AND next_attempt_at <= ?1 \
               AND (claimed_until IS NULL OR claimed_until <= ?1) {in_order} ORDER BY id LIMIT 1) \
             RETURNING {OUTBOX_COLUMNS}"
        ))?;
        let mut rows = stmt.query_map(params![now, lease_until, holder], outbox_row)?;
        Ok(rows.next().transpose()?)
    }

    /// Messages due for an attempt at `now`, oldest first.
    pub fn due_slack(&self, now: &str, limit: u32) -> Result<Vec<OutboxRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM slack_outbox WHERE posted_at IS NULL AND gave_up = 0 \
             AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now, limit], outbox_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An incident's messages (all of them when `incident_id` is `None`), oldest first.
    pub fn slack_outbox(&self, incident_id: Option<i64>) -> Result<Vec<OutboxRecord>, StoreError> {
        self.messages(Channel::Slack, incident_id)
    }

    /// An incident's messages on `channel` (all of them when `incident_id` is `None`).
    pub fn messages(&self, channel: Channel, incident_id: Option<i64>) -> Result<Vec<OutboxRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM {} WHERE ?1 IS NULL OR incident_id = ?1 ORDER BY id",
            channel.table()
        ))?;
        let rows = stmt.query_map([incident_id], outbox_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records that Slack accepted message `id`.
    pub fn slack_posted(&self, id: i64, at: &str) -> Result<(), StoreError> {
        self.message_posted(Channel::Slack, id, at)
    }

    /// Records that the receiver of `channel` accepted message `id`.
    pub fn message_posted(&self, channel: Channel, id: i64, at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "UPDATE {} SET posted_at = ?2, attempts = attempts + 1, last_error = NULL, \
                 claimed_until = NULL, claimed_by = NULL WHERE id = ?1",
                channel.table()
            ),
            params![id, at],
        )?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or given up (kept) when `None`.
    pub fn slack_failed(&self, id: i64, error: &str, retry_at: Option<&str>) -> Result<(), StoreError> {
        self.message_failed(Channel::Slack, id, error, retry_at)
    }

    /// [`Self::slack_failed`] on `channel`.
    pub fn message_failed(
        &self,
        channel: Channel,
        id: i64,
        error: &str,
        retry_at: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            &format!(
                "UPDATE {} SET attempts = attempts + 1, last_error = ?2, \
                 next_attempt_at = coalesce(?3, next_attempt_at), gave_up = (?3 IS NULL), \
                 claimed_until = NULL, claimed_by = NULL WHERE id = ?1",
                channel.table()
            ),
            params![id, error, retry_at],
        )?;
        Ok(())
    }

    /// Puts message `id` back in the queue now (a retry by hand).
    pub fn slack_retry_now(&self, id: i64, now: &str) -> Result<bool, StoreError> {
        self.message_retry_now(Channel::Slack, id, now)
    }

    /// [`Self::slack_retry_now`] on `channel`.
    pub fn message_retry_now(&self, channel: Channel, id: i64, now: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            &format!(
                "UPDATE {} SET gave_up = 0, next_attempt_at = ?2 WHERE id = ?1 AND posted_at IS NULL",
                channel.table()
            ),
            params![id, now],
        )? > 0)
    }

    /// Records that a reminder was shown; false when it already had been.
    pub fn mark_reminder(&self, incident_id: i64, kind: &str, due_at: &str, now: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "INSERT OR IGNORE INTO incident_reminders (incident_id, kind, due_at, sent_at) VALUES (?1, ?2, ?3, ?4)",
            params![incident_id, kind, due_at, now],
        )? > 0)
    }

    /// Saves a draft (the text of a form being typed) under `key`.
    pub fn save_draft(&self, key: &str, text: &str, now: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO drafts (key, text, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT(key) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
            params![key, text, now],
        )?;
        Ok(())
    }

    /// The draft under `key`: `(text, updated_at)`.
    pub fn draft(&self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT text, updated_at FROM drafts WHERE key = ?1", [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Removes the draft under `key` (its form was submitted).
    pub fn delete_draft(&self, key: &str) -> Result<(), StoreError> {
        self.conn().execute("DELETE FROM drafts WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Schedules a review for an incident (once per kind); returns whether it was new.
    pub fn schedule_review(
        &self,
        incident_id: i64,
        kind: &str,
        title: &str,
        due_at: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "INSERT OR IGNORE INTO scheduled_reviews (incident_id, kind, title, due_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![incident_id, kind, title, due_at, now],
        )? > 0)
    }

    /// Scheduled reviews, soonest first.
    pub fn reviews(&self) -> Result<Vec<ReviewRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, incident_id, kind, title, due_at, done_at FROM scheduled_reviews ORDER BY due_at")?;
        let rows = stmt.query_map([], |r| {
            Ok(ReviewRecord {
                id: r.get(0)?,
                incident_id: r.get(1)?,
                kind: r.get(2)?,
                title: r.get(3)?,
                due_at: r.get(4)?,
                done_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(&dir.path().join("s.sqlite3")).expect("open");
        (dir, s)
    }

    fn ev<'a>(kind: &'a str, text: &'a str) -> NewTimelineEvent<'a> {
        NewTimelineEvent { at: "2026-11-28T10:00:00.000Z", author: "ana", kind, text, data: "null" }
    }

    #[test]
    fn an_incident_and_its_timeline_survive_reopening_and_the_timeline_is_append_only() {
        let (dir, s) = store();
        let rec = IncidentRecord {
            title: "Stage 2 stalls".into(),
            severity: "P1".into(),
            status: "open".into(),
            components: "[\"stage2\"]".into(),
            declared_at: "2026-11-28T10:00:00.000Z".into(),
            declared_by: "ana".into(),
            ..Default::default()
        };
        let id = s.insert_incident(&rec, &ev("declared", "declared P1")).expect("insert");
        let changes = IncidentChanges {
            status: Some("acknowledged"),
            acknowledged_at: Some("2026-11-28T10:04:00.000Z"),
            ..Default::default()
        };
        assert!(s.update_incident(id, &changes, &ev("acknowledged", "ack")).expect("ack").is_some());
        assert!(s.update_incident(999, &changes, &ev("acknowledged", "ack")).expect("missing").is_none());
        drop(s);
        let s = Store::open(&dir.path().join("s.sqlite3")).expect("reopen");
        let got = s.incident(id).expect("read").expect("exists");
        assert_eq!(got.status, "acknowledged");
        assert_eq!(got.components, "[\"stage2\"]");
        assert_eq!(s.timeline(id).expect("timeline").len(), 2);
        let conn = s.conn();
        assert!(conn.execute("UPDATE incident_timeline SET text = 'x'", []).is_err());
        assert!(conn.execute("DELETE FROM incident_timeline", []).is_err());
        assert!(conn.execute("INSERT INTO incidents (title, severity, status, declared_at, declared_by) VALUES ('', 'P1', 'open', 'x', 'y')", []).is_err(), "a blank title is refused by the schema too");
        assert!(conn.execute("INSERT INTO incidents (title, severity, status, declared_at, declared_by) VALUES ('t', 'P9', 'open', 'x', 'y')", []).is_err());
    }

    #[test]
    fn the_outbox_keeps_a_message_until_it_is_posted_and_drafts_round_trip() {
        let (_dir, s) = store();
        let m = s.enqueue_slack(None, "{\"text\":\"hi\"}", "2026-11-28T10:00:00.000Z").expect("queue");
        assert_eq!(s.due_slack("2026-11-28T10:00:00.000Z", 10).expect("due").len(), 1);
        s.slack_failed(m, "503", Some("2026-11-28T10:00:10.000Z")).expect("fail");
        assert!(s.due_slack("2026-11-28T10:00:05.000Z", 10).expect("due").is_empty(), "backing off");
        assert_eq!(s.due_slack("2026-11-28T10:00:10.000Z", 10).expect("due").len(), 1);
        s.slack_failed(m, "400 invalid_payload", None).expect("give up");
        assert!(s.due_slack("2026-11-28T11:00:00.000Z", 10).expect("due").is_empty());
        let kept = &s.slack_outbox(None).expect("all")[0];
        assert!(kept.gave_up && kept.attempts == 2 && kept.posted_at.is_none());
        assert!(s.slack_retry_now(m, "2026-11-28T11:00:00.000Z").expect("retry"));
        s.slack_posted(m, "2026-11-28T11:00:01.000Z").expect("posted");
        assert!(s.due_slack("2026-11-28T12:00:00.000Z", 10).expect("due").is_empty());

        s.save_draft("incident-new", "half a title", "t1").expect("draft");
        s.save_draft("incident-new", "half a title, more", "t2").expect("draft");
        assert_eq!(s.draft("incident-new").expect("read"), Some(("half a title, more".into(), "t2".into())));
        s.delete_draft("incident-new").expect("delete");
        assert_eq!(s.draft("incident-new").expect("read"), None);
    }

    #[test]
    fn a_claimed_message_is_one_flushers_until_its_lease_runs_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sqlite3");
        let a = Store::open(&path).expect("a");
        let ids: Vec<i64> = (0..50)
            .map(|i| a.enqueue_slack(None, &format!("{{\"text\":\"{i}\"}}"), "2026-11-28T10:00:00.000Z").expect("q"))
            .collect();
        // Two connections (as two processes have), four threads each, claiming as fast as
        // they can: every message is claimed exactly once.
        let claimed = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for k in 0..8 {
                let (claimed, path) = (&claimed, &path);
                scope.spawn(move || {
                    let s = Store::open(path).expect("open");
                    while let Some(m) = s
                        .claim_slack("2026-11-28T10:00:01.000Z", "2026-11-28T10:00:31.000Z", &format!("flusher {k}"))
                        .expect("claim")
                    {
                        claimed.lock().expect("lock").push(m.id);
                    }
                });
            }
        });
        let mut claimed = claimed.into_inner().expect("claimed");
        claimed.sort_unstable();
        assert_eq!(claimed, ids, "each message claimed once");
        // Leased: not due for anyone else until the lease ends, then due again (the holder
        // died without an outcome).
        assert!(a.claim_slack("2026-11-28T10:00:30.000Z", "2026-11-28T10:01:00.000Z", "late").expect("c").is_none());
        let again = a.claim_slack("2026-11-28T10:00:31.000Z", "2026-11-28T10:01:01.000Z", "late").expect("c");
        assert_eq!(again.map(|m| m.id), Some(ids[0]));
        // An outcome ends the lease: a retry is due at its time, a posted message never.
        a.slack_failed(ids[0], "503", Some("2026-11-28T10:00:40.000Z")).expect("fail");
        let retry = a.claim_slack("2026-11-28T10:00:40.000Z", "2026-11-28T10:01:10.000Z", "late").expect("c");
        assert_eq!(retry.map(|m| m.id), Some(ids[0]));
        a.slack_posted(ids[0], "2026-11-28T10:00:41.000Z").expect("posted");
        let next = a.claim_slack("2026-11-28T12:00:00.000Z", "2026-11-28T12:00:30.000Z", "late").expect("c");
        assert_eq!(next.map(|m| m.id), Some(ids[1]), "the posted one is never claimed again");
    }
}
