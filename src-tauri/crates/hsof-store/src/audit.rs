//! `audit_log`: who changed what, when, the state before and after, and the result.
//!
//! Rows are hash-chained: each row's `hash` is SHA-256 over the previous row's hash and
//! the row's own fields, so editing, removing or reordering a row breaks the chain at
//! that row and [`Store::verify_audit`] names it.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Store, StoreError};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry about to be written.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    /// Who: OS user (and later the Kubernetes identity).
    pub actor: &'a str,
    /// What: a stable verb such as `config.save`, `rollout.restart`.
    pub action: &'a str,
    /// On what: a resource such as `deployment/hsof-main` or a config file path.
    pub target: &'a str,
    /// State before the change, usually JSON.
    pub before: Option<&'a str>,
    /// State after the change, usually JSON.
    pub after: Option<&'a str>,
    /// `ok`, or `error: <message>`.
    pub result: &'a str,
}

/// A stored audit row.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AuditEntry {
    /// Row id, consecutive from 1.
    #[specta(type = f64)]
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub ts: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// State before.
    pub before: Option<String>,
    /// State after.
    pub after: Option<String>,
    /// Outcome.
    pub result: String,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// Hash of this row.
    pub hash: String,
}

/// Outcome of walking the hash chain.
#[derive(Debug, Clone, Serialize, specta::Type, PartialEq, Eq)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: u32,
    /// True when every row links to its predecessor and matches its hash.
    pub intact: bool,
    /// Id of the first row where the chain breaks.
    #[specta(type = Option<f64>)]
    pub broken_at: Option<i64>,
    /// Why it breaks there.
    pub reason: Option<String>,
}

pub(crate) fn ts(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn row_hash(prev_hash: &str, e: &AuditEntry) -> String {
    // A JSON array is an unambiguous encoding of the fields (no delimiter games).
    let canonical =
        serde_json::json!([prev_hash, e.id, e.ts, e.actor, e.action, e.target, e.before, e.after, e.result])
            .to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// A change whose intent was written and whose outcome was not (yet).
#[derive(Debug, Clone)]
pub struct PendingIntent {
    /// The intent's audit row (`before`, and the dry run's `after`: what was expected).
    pub entry: AuditEntry,
    /// The change request, JSON.
    pub request: String,
}

fn append(
    tx: &rusqlite::Transaction<'_>,
    entry: &NewAuditEntry<'_>,
    now: DateTime<Utc>,
) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> = tx
        .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (last_id, prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
    let mut row = AuditEntry {
        id: last_id + 1,
        ts: ts(now),
        actor: entry.actor.to_string(),
        action: entry.action.to_string(),
        target: entry.target.to_string(),
        before: entry.before.map(str::to_string),
        after: entry.after.map(str::to_string),
        result: entry.result.to_string(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = row_hash(&row.prev_hash, &row);
    tx.execute(
        "INSERT INTO audit_log (id, ts, actor, action, target, before, after, result, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            row.id,
            row.ts,
            row.actor,
            row.action,
            row.target,
            row.before,
            row.after,
            row.result,
            row.prev_hash,
            row.hash
        ],
    )?;
    Ok(row)
}

impl Store {
    /// Appends an entry dated `now`, linked to the last row.
    pub fn append_audit(&self, entry: &NewAuditEntry<'_>, now: DateTime<Utc>) -> Result<AuditEntry, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = append(&tx, entry, now)?;
        tx.commit()?;
        Ok(row)
    }

    /// Records the intent of a change before it is applied: an audit row and the request
    /// (for the check at restart), in one transaction.
    pub fn append_intent(
        &self,
        entry: &NewAuditEntry<'_>,
        request: &str,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = append(&tx, entry, now)?;
        tx.execute("INSERT INTO change_intents (audit_id, request) VALUES (?1, ?2)", params![row.id, request])?;
        tx.commit()?;
        Ok(row)
    }

    /// Records the outcome of intent `intent_id` as a new audit row and settles the intent,
    /// in one transaction. `None` (and nothing written) when it was settled already, by
    /// another process say.
    pub fn settle_intent(
        &self,
        intent_id: i64,
        outcome: &NewAuditEntry<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let open: Option<i64> = tx
            .query_row(
                "SELECT audit_id FROM change_intents WHERE audit_id = ?1 AND outcome_audit_id IS NULL",
                [intent_id],
                |r| r.get(0),
            )
            .optional()?;
        if open.is_none() {
            return Ok(None);
        }
        let row = append(&tx, outcome, now)?;
        tx.execute("UPDATE change_intents SET outcome_audit_id = ?2 WHERE audit_id = ?1", params![intent_id, row.id])?;
        tx.commit()?;
        Ok(Some(row))
    }

    /// The chain's head: the last row's id and hash (`None` for an empty trail).
    pub fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The stored hash of row `id`, if the row exists.
    pub fn audit_hash(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT hash FROM audit_log WHERE id = ?1", [id], |r| r.get(0)).optional()?)
    }

    /// Intents without an outcome, oldest first.
    pub fn pending_intents(&self) -> Result<Vec<PendingIntent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT a.id, a.ts, a.actor, a.action, a.target, a.before, a.after, a.result, a.prev_hash, a.hash, i.request
             FROM change_intents i JOIN audit_log a ON a.id = i.audit_id
             WHERE i.outcome_audit_id IS NULL ORDER BY a.id",
        )?;
        let rows = stmt.query_map([], |r| Ok(PendingIntent { entry: read_row(r)?, request: r.get(10)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest `limit` audit rows, newest first.
    pub fn list_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts, actor, action, target, before, after, result, prev_hash, hash
             FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], read_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The audit rows stamped in [`from`, `to`] (RFC 3339, as stored), oldest first.
    pub fn audit_between(&self, from: &str, to: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts, actor, action, target, before, after, result, prev_hash, hash
             FROM audit_log WHERE ts >= ?1 AND ts <= ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map([from, to], read_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Walks the whole chain from the first row and reports the first break.
    pub fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts, actor, action, target, before, after, result, prev_hash, hash
             FROM audit_log ORDER BY id ASC",
        )?;
        let mut rows = stmt.query([])?;
        let (mut expected_id, mut prev_hash, mut count) = (1_i64, GENESIS_HASH.to_string(), 0_u32);
        while let Some(r) = rows.next()? {
            let row = read_row(r)?;
            count += 1;
            let reason = if row.id != expected_id {
                Some(format!("row {} follows row {}: rows are missing", row.id, expected_id - 1))
            } else if row.prev_hash != prev_hash {
                Some("does not link to the previous row's hash".to_string())
            } else if row_hash(&prev_hash, &row) != row.hash {
                Some("contents do not match the row's hash (edited after it was written)".to_string())
            } else {
                None
            };
            if let Some(reason) = reason {
                return Ok(AuditVerification {
                    rows: count,
                    intact: false,
                    broken_at: Some(row.id),
                    reason: Some(reason),
                });
            }
            expected_id = row.id + 1;
            prev_hash = row.hash;
        }
        Ok(AuditVerification { rows: count, intact: true, broken_at: None, reason: None })
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        ts: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        before: r.get(5)?,
        after: r.get(6)?,
        result: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}
