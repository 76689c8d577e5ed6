//! Security reviews (`security_reviews`): the record as JSON, who ran and signed it as
//! columns; their writes to the team store queued in its outbox (kind `securityreview`)
//! while sharing is on, like the calendar's.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::team::{enabled, queue};
use crate::{Store, StoreError};

/// One review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    /// Local id.
    pub id: i64,
    /// The name across desktops.
    pub uid: String,
    /// Who signed it off, when.
    pub signed_off: Option<(String, String)>,
    /// The record, JSON.
    pub record: String,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReviewRow> {
    let by: Option<String> = r.get(2)?;
    let at: Option<String> = r.get(3)?;
    Ok(ReviewRow { id: r.get(0)?, uid: r.get(1)?, signed_off: by.zip(at), record: r.get(4)? })
}

impl Store {
    /// Keeps a review; a review of the same `uid` already kept is left as it is (a mirror
    /// of the team store's copy arrives once). Returns its id.
    pub fn insert_security_review(
        &self,
        uid: &str,
        at: &str,
        cluster: &str,
        namespace: &str,
        by: &str,
        record_json: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO security_reviews (uid, at, cluster, namespace, by_user, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(uid) DO NOTHING",
            params![uid, at, cluster, namespace, by, record_json],
        )?;
        Ok(conn.query_row("SELECT id FROM security_reviews WHERE uid = ?1", [uid], |r| r.get(0))?)
    }

    /// Records the sign-off (the first one stands).
    pub fn sign_off_security_review(&self, id: i64, by: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE security_reviews SET signed_off_by = ?2, signed_off_at = ?3 WHERE id = ?1 AND signed_off_by IS NULL",
            params![id, by, at],
        )?;
        Ok(n == 1)
    }

    /// The sign-off of a review named `uid` (mirrored from the team store; the first one
    /// stands). True when it was recorded now.
    pub fn sign_off_security_review_uid(&self, uid: &str, by: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE security_reviews SET signed_off_by = ?2, signed_off_at = ?3 WHERE uid = ?1 AND signed_off_by IS NULL",
            params![uid, by, at],
        )?;
        Ok(n == 1)
    }

    /// The review named `uid`.
    pub fn security_review_by_uid(&self, uid: &str) -> Result<Option<ReviewRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, uid, signed_off_by, signed_off_at, record FROM security_reviews WHERE uid = ?1",
                [uid],
                row,
            )
            .optional()?)
    }

    /// Queues `op` for the shared review `name` when sharing is on (the calendar's gate);
    /// true when it was queued.
    pub fn team_queue_security_review(&self, name: &str, op: &Value) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !enabled(&tx)? {
            return Ok(false);
        }
        queue(&tx, "securityreview", name, op)?;
        tx.commit()?;
        Ok(true)
    }

    /// One review.
    pub fn security_review(&self, id: i64) -> Result<Option<ReviewRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, uid, signed_off_by, signed_off_at, record FROM security_reviews WHERE id = ?1",
                [id],
                row,
            )
            .optional()?)
    }

    /// Reviews of `cluster` (every cluster when empty), newest first.
    pub fn security_reviews(&self, cluster: &str, limit: u32) -> Result<Vec<ReviewRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, uid, signed_off_by, signed_off_at, record FROM security_reviews
             WHERE (?1 = '' OR cluster = ?1) ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![cluster, limit], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
