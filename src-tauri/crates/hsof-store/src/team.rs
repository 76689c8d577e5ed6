//! The team store's local side: the outbox of writes to shared incidents not yet sent to
//! the cluster (written in the same transaction as the write itself, so a crash loses
//! neither), the cache of the shared records as last read, and the mirror that rewrites a
//! shared incident's rows from the cluster's copy. The shared format and the sync itself
//! live in hsof-team and hsof-core; this module only speaks in local terms.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use serde_json::{json, Value};

use crate::{IncidentRecord, NewTimelineEvent, Store, StoreError};

/// A write waiting to be sent to the team store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamOpRecord {
    /// Order of the write (and of sending).
    pub seq: i64,
    /// `incident`.
    pub kind: String,
    /// The shared record's name.
    pub name: String,
    /// The write, JSON: `{"op": "declare" | "update" | "event", …}`.
    pub op: String,
    /// Made at.
    pub created_at: String,
    /// Failed attempts to send it.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A shared record as last read from the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedRecord {
    /// Its resourceVersion then.
    pub resource_version: String,
    /// The object, JSON.
    pub object: String,
    /// Read at.
    pub read_at: String,
    /// Why this app cannot read it (edited by hand into another shape), if so.
    pub invalid: Option<String>,
}

/// A timeline entry of a shared incident, as the mirror writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedEntry {
    /// Unique id.
    pub uid: String,
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
}

/// What mirroring a shared incident did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirrored {
    /// A local write to it was made after the copy was computed: nothing written (the
    /// next round mirrors it with that write).
    Stale,
    /// Written.
    Written {
        /// Its local id.
        id: i64,
        /// It was not here before.
        created: bool,
        /// Something in it changed.
        changed: bool,
    },
}

pub(crate) fn new_uid(tx: &Transaction<'_>) -> Result<String, StoreError> {
    Ok(tx.query_row("SELECT lower(hex(randomblob(8)))", [], |r| r.get(0))?)
}

pub(crate) fn enabled(tx: &Transaction<'_>) -> Result<bool, StoreError> {
    let v: Option<String> =
        tx.query_row("SELECT value FROM team_meta WHERE key = 'enabled'", [], |r| r.get(0)).optional()?;
    Ok(v.as_deref() == Some("true"))
}

/// `inc-YYYYMMDD-HHMM-xxxxxx`: sorts by declaration, readable in `kubectl get`, unique
/// across desktops by its random tail.
pub(crate) fn new_incident_name(tx: &Transaction<'_>, declared_at: &str) -> Result<String, StoreError> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let date = digits(declared_at.get(0..10).unwrap_or_default());
    let time = digits(declared_at.get(11..16).unwrap_or_default());
    let tail: String = tx.query_row("SELECT lower(hex(randomblob(3)))", [], |r| r.get(0))?;
    Ok(format!("inc-{date}-{time}-{tail}"))
}

pub(crate) fn incident_json(i: &IncidentRecord) -> Value {
    json!({
        "title": i.title, "severity": i.severity, "description": i.description,
        "components": serde_json::from_str::<Value>(&i.components).unwrap_or(json!([])),
        "declared_at": i.declared_at, "declared_by": i.declared_by,
        "source_alert": i.source_alert.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
        "drill": i.drill,
        "cluster": i.cluster,
    })
}

pub(crate) fn event_json(uid: &str, e: &NewTimelineEvent<'_>) -> Value {
    json!({"uid": uid, "at": e.at, "author": e.author, "kind": e.kind, "text": e.text, "data": e.data})
}

/// Queues `op` for the shared record `kind`/`name`.
pub(crate) fn queue(tx: &Transaction<'_>, kind: &str, name: &str, op: &Value) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO team_outbox (kind, name, op, created_at) \
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        params![kind, name, op.to_string()],
    )?;
    Ok(())
}

/// The shared name of an occurrence's run: readable, DNS-safe, the same on every desktop.
pub fn run_name(occurrence_key: &str) -> String {
    use sha2::Digest as _;
    let mut slug = String::new();
    for c in occurrence_key.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(40).collect();
    let hash = hex::encode(&sha2::Sha256::digest(occurrence_key.as_bytes())[..4]);
    format!("run-{}-{hash}", slug.trim_end_matches('-'))
}

/// Queues `op` when incident `incident_id` is shared.
pub(crate) fn record_op(tx: &Transaction<'_>, incident_id: i64, op: &Value) -> Result<(), StoreError> {
    let name: Option<String> = tx
        .query_row("SELECT team_name FROM incidents WHERE id = ?1", [incident_id], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(name) = name {
        queue(tx, "incident", &name, op)?;
    }
    Ok(())
}

fn timeline_of(tx: &Transaction<'_>, id: i64) -> Result<Vec<SharedEntry>, StoreError> {
    let mut stmt = tx.prepare(
        "SELECT coalesce(uid, ''), at, author, kind, text, data FROM incident_timeline WHERE incident_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(SharedEntry {
            uid: r.get(0)?,
            at: r.get(1)?,
            author: r.get(2)?,
            kind: r.get(3)?,
            text: r.get(4)?,
            data: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    /// Whether writes are shared (the team store was found installed and writable).
    pub fn team_enabled(&self) -> Result<bool, StoreError> {
        Ok(self.team_meta("enabled")?.as_deref() == Some("true"))
    }

    /// A team store setting.
    pub fn team_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT value FROM team_meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Sets a team store setting.
    pub fn set_team_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO team_meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Every write not yet sent, oldest first.
    pub fn team_outbox(&self) -> Result<Vec<TeamOpRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT seq, kind, name, op, created_at, attempts, last_error FROM team_outbox ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok(TeamOpRecord {
                seq: r.get(0)?,
                kind: r.get(1)?,
                name: r.get(2)?,
                op: r.get(3)?,
                created_at: r.get(4)?,
                attempts: r.get(5)?,
                last_error: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The writes to `name` up to `through_seq` are in the cluster: removed.
    pub fn team_outbox_sent(&self, kind: &str, name: &str, through_seq: i64) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM team_outbox WHERE kind = ?1 AND name = ?2 AND seq <= ?3",
            params![kind, name, through_seq],
        )?)
    }

    /// Sending the writes to `name` failed: counted and kept, with the reason.
    pub fn team_outbox_failed(&self, kind: &str, name: &str, error: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE team_outbox SET attempts = attempts + 1, last_error = ?3 WHERE kind = ?1 AND name = ?2",
            params![kind, name, error],
        )?;
        Ok(())
    }

    /// Keeps the copy of a shared record just read.
    pub fn team_cache_put(&self, kind: &str, name: &str, rec: &CachedRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO team_cache (kind, name, resource_version, object, read_at, invalid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(kind, name) DO UPDATE SET \
             resource_version = excluded.resource_version, object = excluded.object, \
             read_at = excluded.read_at, invalid = excluded.invalid",
            params![kind, name, rec.resource_version, rec.object, rec.read_at, rec.invalid],
        )?;
        Ok(())
    }

    /// The last copy read of a shared record.
    pub fn team_cache_get(&self, kind: &str, name: &str) -> Result<Option<CachedRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT resource_version, object, read_at, invalid FROM team_cache WHERE kind = ?1 AND name = ?2",
                params![kind, name],
                |r| {
                    Ok(CachedRecord {
                        resource_version: r.get(0)?,
                        object: r.get(1)?,
                        read_at: r.get(2)?,
                        invalid: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Shared records of `kind` this app cannot read, with why.
    pub fn team_cache_invalid(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT name, invalid FROM team_cache WHERE kind = ?1 AND invalid IS NOT NULL ORDER BY name")?;
        let rows = stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest time any shared record was read (the offline view's age).
    pub fn team_cache_read_at(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT max(read_at) FROM team_cache", [], |r| r.get(0))?)
    }

    /// Every shared record of `kind` as last read.
    pub fn team_cache_all(&self, kind: &str) -> Result<Vec<(String, CachedRecord)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, resource_version, object, read_at, invalid FROM team_cache WHERE kind = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([kind], |r| {
            Ok((
                r.get(0)?,
                CachedRecord { resource_version: r.get(1)?, object: r.get(2)?, read_at: r.get(3)?, invalid: r.get(4)? },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queues `op` for incident `id` when it is shared; returns its shared name then.
    pub fn team_queue(&self, id: i64, op: &Value) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let name: Option<String> =
            tx.query_row("SELECT team_name FROM incidents WHERE id = ?1", [id], |r| r.get(0)).optional()?.flatten();
        record_op(&tx, id, op)?;
        tx.commit()?;
        Ok(name)
    }

    /// Queues `op` for the shared record `kind`/`name` of a kind whose local view is the
    /// cluster's copy with this desktop's writes applied (the on-call schedule, follow-ups,
    /// post-mortems): the outbox is its only local home, so it is written whether or not
    /// sharing is on (sent once it is).
    pub fn team_queue_record(&self, kind: &str, name: &str, op: &Value) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        queue(&tx, kind, name, op)?;
        tx.commit()?;
        Ok(())
    }

    /// The local id of the shared incident `name`.
    pub fn incident_by_team_name(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.conn().query_row("SELECT id FROM incidents WHERE team_name = ?1", [name], |r| r.get(0)).optional()?)
    }

    /// Incidents that are not shared (made before the team store, or while it was off).
    pub fn team_local_only_incidents(&self) -> Result<Vec<i64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM incidents WHERE team_name IS NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Shares a local-only incident: names it and queues its declaration and every
    /// timeline entry after the first, in order. Returns its name; `None` when it is
    /// already shared or does not exist.
    pub fn team_share_incident(&self, id: i64) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = tx
            .query_row(
                &format!("SELECT {} FROM incidents WHERE id = ?1", crate::incidents::INCIDENT_COLUMNS),
                [id],
                crate::incidents::incident_row,
            )
            .optional()?;
        let Some(rec) = rec.filter(|r| r.team_name.is_none()) else {
            return Ok(None);
        };
        let name = new_incident_name(&tx, &rec.declared_at)?;
        let entries = timeline_of(&tx, id)?;
        tx.execute("UPDATE incidents SET team_name = ?2 WHERE id = ?1", params![id, name])?;
        // Entries written before entries had ids get one from their row: unique per record.
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT id FROM incident_timeline WHERE incident_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for (n, (e, row)) in entries.iter().zip(ids).enumerate() {
            let uid = if e.uid.is_empty() { format!("{name}-{row}") } else { e.uid.clone() };
            let ev =
                json!({"uid": uid, "at": e.at, "author": e.author, "kind": e.kind, "text": e.text, "data": e.data});
            let op = if n == 0 {
                json!({"op": "declare", "incident": incident_json(&rec), "event": ev, "changes": {
                    "acknowledged_at": rec.acknowledged_at, "escalated_at": rec.escalated_at,
                    "resolved_at": rec.resolved_at, "last_update_at": rec.last_update_at, "summary": rec.summary}})
            } else {
                json!({"op": "event", "event": ev})
            };
            record_op(&tx, id, &op)?;
        }
        tx.commit()?;
        Ok(Some(name))
    }

    /// Writes the shared incident `name` as the cluster (with this app's unsent writes up
    /// to `through_seq` applied) has it: its row, and its timeline when that differs. The
    /// write is skipped when a newer local write to it exists.
    pub fn team_mirror_incident(
        &self,
        name: &str,
        through_seq: i64,
        rec: &IncidentRecord,
        entries: &[SharedEntry],
    ) -> Result<Mirrored, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let newest: Option<i64> =
            tx.query_row("SELECT max(seq) FROM team_outbox WHERE kind = 'incident' AND name = ?1", [name], |r| {
                r.get(0)
            })?;
        if newest.is_some_and(|s| s > through_seq) {
            return Ok(Mirrored::Stale);
        }
        let before = tx
            .query_row(
                &format!("SELECT {} FROM incidents WHERE team_name = ?1", crate::incidents::INCIDENT_COLUMNS),
                [name],
                crate::incidents::incident_row,
            )
            .optional()?;
        let cols = params![
            rec.title,
            rec.severity,
            rec.status,
            rec.components,
            rec.description,
            rec.declared_at,
            rec.declared_by,
            rec.acknowledged_at,
            rec.escalated_at,
            rec.resolved_at,
            rec.last_update_at,
            rec.source_alert,
            rec.summary,
            rec.drill,
            name,
            rec.cluster
        ];
        let (id, created, mut changed) = match &before {
            None => {
                tx.execute(
                    "INSERT INTO incidents (title, severity, status, components, description, declared_at, declared_by, \
                     acknowledged_at, escalated_at, resolved_at, last_update_at, source_alert, summary, drill, team_name, cluster) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                    cols,
                )?;
                (tx.last_insert_rowid(), true, true)
            }
            Some(b) => {
                let same = IncidentRecord {
                    id: b.id,
                    team_name: b.team_name.clone(),
                    cluster: rec.cluster.clone().or_else(|| b.cluster.clone()),
                    ..rec.clone()
                } == *b;
                if !same {
                    tx.execute(
                        "UPDATE incidents SET title = ?1, severity = ?2, status = ?3, components = ?4, description = ?5, \
                         declared_at = ?6, declared_by = ?7, acknowledged_at = ?8, escalated_at = ?9, resolved_at = ?10, \
                         last_update_at = ?11, source_alert = ?12, summary = ?13, drill = ?14, \
                         cluster = coalesce(?16, cluster) WHERE team_name = ?15",
                        cols,
                    )?;
                }
                (b.id, false, !same)
            }
        };
        if timeline_of(&tx, id)? != entries {
            changed = true;
            tx.execute("DELETE FROM incident_timeline WHERE incident_id = ?1", [id])?;
            for e in entries {
                tx.execute(
                    "INSERT INTO incident_timeline (incident_id, at, author, kind, text, data, uid) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![id, e.at, e.author, e.kind, e.text, e.data, e.uid],
                )?;
            }
        }
        tx.commit()?;
        Ok(Mirrored::Written { id, created, changed })
    }
}
