//! The operations calendar's side of the team store: a procedure run becomes shared (named
//! after its occurrence, the same on every desktop) with its first step or completion
//! while sharing is on, a maintenance window when it is scheduled; each write to them is
//! queued in the team outbox in the same transaction; the mirror writes what the cluster
//! holds into the local rows.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::{json, Value};

use crate::team::{enabled, queue, run_name, Mirrored};
use crate::{RunRecord, Store, StoreError, WindowRecord};

/// A step result as the shared record holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedStep {
    /// Unique id.
    pub uid: String,
    /// Step.
    pub step_id: String,
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// Run by the app.
    pub automated: bool,
    /// Verdict.
    pub verdict: String,
    /// Output.
    pub output: String,
    /// Note.
    pub note: Option<String>,
    /// The cluster it was run against.
    pub cluster: Option<String>,
}

fn run_json(key: &str, procedure: &str, starts_at: &str) -> Value {
    json!({"occurrence": key, "procedure": procedure, "starts_at": starts_at})
}

fn step_json(s: &SharedStep) -> Value {
    json!({"uid": s.uid, "step": s.step_id, "at": s.at, "by": s.by, "automated": s.automated, "verdict": s.verdict,
        "output": s.output, "note": s.note, "cluster": s.cluster})
}

pub(crate) fn window_json(w: &WindowRecord) -> Value {
    json!({"title": w.title, "starts_at": w.starts_at, "ends_at": w.ends_at, "description": w.description,
        "impact": w.impact, "created_at": w.created_at, "created_by": w.created_by, "silence_id": w.silence_id,
        "cancelled_at": w.cancelled_at})
}

/// The run of `key` is shared: its name, naming it (and queueing the step results it already
/// has) the first time while sharing is on. `None` while sharing is off.
pub(crate) fn run_shared(
    tx: &Transaction<'_>,
    key: &str,
    procedure: &str,
    starts_at: &str,
) -> Result<Option<String>, StoreError> {
    if !enabled(tx)? {
        return Ok(None);
    }
    let existing: Option<String> = tx
        .query_row("SELECT team_name FROM procedure_runs WHERE occurrence_key = ?1", [key], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(name) = existing {
        return Ok(Some(name));
    }
    let name = run_name(key);
    tx.execute(
        "INSERT INTO procedure_runs (occurrence_key, procedure_id, starts_at, team_name) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(occurrence_key) DO UPDATE SET team_name = excluded.team_name",
        params![key, procedure, starts_at, name],
    )?;
    tx.execute(
        "UPDATE step_results SET uid = ?2 || '-' || id WHERE occurrence_key = ?1 AND uid IS NULL",
        params![key, name],
    )?;
    let older: Vec<Value> = {
        let mut stmt = tx.prepare(
            "SELECT uid, step_id, at, by_user, automated, verdict, output, note, cluster FROM step_results \
             WHERE occurrence_key = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([key], |r| {
            Ok(step_json(&SharedStep {
                uid: r.get(0)?,
                step_id: r.get(1)?,
                at: r.get(2)?,
                by: r.get(3)?,
                automated: r.get::<_, i64>(4)? != 0,
                verdict: r.get(5)?,
                output: r.get(6)?,
                note: r.get(7)?,
                cluster: r.get(8)?,
            }))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for step in older {
        queue(
            tx,
            "procedurerun",
            &name,
            &json!({"op": "step", "run": run_json(key, procedure, starts_at), "step": step}),
        )?;
    }
    Ok(Some(name))
}

/// Queues a step result just stored (row `id`) when its run is shared; gives it its uid.
pub(crate) fn step_recorded(tx: &Transaction<'_>, id: i64, s: &crate::NewStepResult<'_>) -> Result<(), StoreError> {
    let Some(name) = run_shared(tx, s.occurrence_key, s.procedure_id, s.starts_at)? else { return Ok(()) };
    let uid: String = tx.query_row(
        "UPDATE step_results SET uid = coalesce(uid, lower(hex(randomblob(8)))) WHERE id = ?1 RETURNING uid",
        [id],
        |r| r.get(0),
    )?;
    let step = step_json(&SharedStep {
        uid,
        step_id: s.step_id.into(),
        at: s.at.into(),
        by: s.by.into(),
        automated: s.automated,
        verdict: s.verdict.into(),
        output: s.output.into(),
        note: s.note.map(str::to_string),
        cluster: s.cluster.map(str::to_string),
    });
    queue(
        tx,
        "procedurerun",
        &name,
        &json!({"op": "step", "run": run_json(s.occurrence_key, s.procedure_id, s.starts_at), "step": step}),
    )
}

/// Queues a completion or skip when the run is shared.
pub(crate) fn run_finished(tx: &Transaction<'_>, run: &RunRecord) -> Result<(), StoreError> {
    let Some(name) = run_shared(tx, &run.occurrence_key, &run.procedure_id, &run.starts_at)? else { return Ok(()) };
    let op = json!({"op": "finish", "run": run_json(&run.occurrence_key, &run.procedure_id, &run.starts_at),
        "finished": {"at": run.completed_at, "by": run.completed_by, "skipped": run.skipped, "note": run.note}});
    queue(tx, "procedurerun", &name, &op)
}

/// Names and queues a window just stored (row `id`) while sharing is on.
pub(crate) fn window_scheduled(tx: &Transaction<'_>, id: i64, w: &WindowRecord) -> Result<(), StoreError> {
    if !enabled(tx)? {
        return Ok(());
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let tail: String = tx.query_row("SELECT lower(hex(randomblob(3)))", [], |r| r.get(0))?;
    let name = format!(
        "mw-{}-{}-{tail}",
        digits(w.starts_at.get(0..10).unwrap_or_default()),
        digits(w.starts_at.get(11..16).unwrap_or_default())
    );
    tx.execute("UPDATE maintenance_windows SET team_name = ?2 WHERE id = ?1", params![id, name])?;
    queue(tx, "maintenancewindow", &name, &json!({"op": "window", "window": window_json(w)}))
}

/// Queues a change (`silence`, `cancel`) of window `id` when it is shared.
pub(crate) fn window_changed(tx: &Transaction<'_>, id: i64, op: &str, field: Value) -> Result<(), StoreError> {
    let row = tx
        .query_row(
            "SELECT team_name, title, starts_at, ends_at, description, impact, created_at, created_by, silence_id, \
             cancelled_at FROM maintenance_windows WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    WindowRecord {
                        id,
                        title: r.get(1)?,
                        starts_at: r.get(2)?,
                        ends_at: r.get(3)?,
                        description: r.get(4)?,
                        impact: r.get(5)?,
                        created_at: r.get(6)?,
                        created_by: r.get(7)?,
                        silence_id: r.get(8)?,
                        cancelled_at: r.get(9)?,
                    },
                ))
            },
        )
        .optional()?;
    if let Some((Some(name), w)) = row {
        queue(tx, "maintenancewindow", &name, &json!({"op": op, "window": window_json(&w), "value": field}))?;
    }
    Ok(())
}

fn newer_write(tx: &Transaction<'_>, kind: &str, name: &str, through_seq: i64) -> Result<bool, StoreError> {
    let newest: Option<i64> =
        tx.query_row("SELECT max(seq) FROM team_outbox WHERE kind = ?1 AND name = ?2", params![kind, name], |r| {
            r.get(0)
        })?;
    Ok(newest.is_some_and(|s| s > through_seq))
}

impl Store {
    /// Procedure runs (occurrence keys) and maintenance windows (ids) that are not shared.
    pub fn team_local_only_calendar(&self) -> Result<(Vec<String>, Vec<i64>), StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT occurrence_key FROM procedure_runs WHERE team_name IS NULL ORDER BY starts_at")?;
        let runs = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
        let mut stmt = conn.prepare("SELECT id FROM maintenance_windows WHERE team_name IS NULL ORDER BY id")?;
        let windows = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
        Ok((runs, windows))
    }

    /// Shares a local-only run: names it and queues its step results and its completion.
    /// `None` while sharing is off, or when it is shared already or does not exist.
    pub fn team_share_run(&self, occurrence_key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let run = tx
            .query_row(
                &format!(
                    "SELECT {}, team_name FROM procedure_runs WHERE occurrence_key = ?1",
                    crate::calendar::RUN_COLUMNS
                ),
                [occurrence_key],
                |r| Ok((crate::calendar::run_row(r)?, r.get::<_, Option<String>>(7)?)),
            )
            .optional()?;
        let Some((run, None)) = run else { return Ok(None) };
        let name = run_shared(&tx, &run.occurrence_key, &run.procedure_id, &run.starts_at)?;
        if name.is_some() && run.completed_at.is_some() {
            run_finished(&tx, &run)?;
        }
        tx.commit()?;
        Ok(name)
    }

    /// Shares a local-only window: names it and queues it (and its cancellation).
    pub fn team_share_window(&self, id: i64) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let w = tx
            .query_row(
                "SELECT id, title, starts_at, ends_at, description, impact, created_at, created_by, silence_id, cancelled_at \
                 FROM maintenance_windows WHERE id = ?1 AND team_name IS NULL",
                [id],
                crate::calendar::window_row,
            )
            .optional()?;
        let Some(w) = w else { return Ok(None) };
        window_scheduled(&tx, id, &w)?;
        if let Some(at) = &w.cancelled_at {
            window_changed(&tx, id, "cancel", json!(at))?;
        }
        let name: Option<String> =
            tx.query_row("SELECT team_name FROM maintenance_windows WHERE id = ?1", [id], |r| r.get(0))?;
        tx.commit()?;
        Ok(name)
    }

    /// Writes the shared run `name` as the cluster (with this desktop's unsent writes up to
    /// `through_seq`) has it: its completion, and the step results this desktop lacks.
    pub fn team_mirror_run(
        &self,
        name: &str,
        through_seq: i64,
        run: &RunRecord,
        steps: &[SharedStep],
    ) -> Result<Mirrored, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if newer_write(&tx, "procedurerun", name, through_seq)? {
            return Ok(Mirrored::Stale);
        }
        let before: Option<RunRecord> = tx
            .query_row(
                &format!("SELECT {} FROM procedure_runs WHERE occurrence_key = ?1", crate::calendar::RUN_COLUMNS),
                [&run.occurrence_key],
                crate::calendar::run_row,
            )
            .optional()?;
        let created = before.is_none();
        let mut changed = before.as_ref().is_none_or(|b| {
            (&b.completed_at, &b.completed_by, b.skipped, &b.note)
                != (&run.completed_at, &run.completed_by, run.skipped, &run.note)
        });
        tx.execute(
            "INSERT INTO procedure_runs (occurrence_key, procedure_id, starts_at, completed_at, completed_by, skipped, note, team_name) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(occurrence_key) DO UPDATE SET \
             completed_at = excluded.completed_at, completed_by = excluded.completed_by, skipped = excluded.skipped, \
             note = excluded.note, team_name = excluded.team_name",
            params![run.occurrence_key, run.procedure_id, run.starts_at, run.completed_at, run.completed_by, run.skipped, run.note, name],
        )?;
        for s in steps {
            let n = tx.execute(
                "INSERT INTO step_results (occurrence_key, step_id, at, by_user, automated, verdict, output, note, uid, cluster) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE NOT EXISTS (SELECT 1 FROM step_results WHERE uid = ?9)",
                params![run.occurrence_key, s.step_id, s.at, s.by, s.automated, s.verdict, s.output, s.note, s.uid, s.cluster],
            )?;
            changed |= n > 0;
        }
        let id: i64 =
            tx.query_row("SELECT rowid FROM procedure_runs WHERE occurrence_key = ?1", [&run.occurrence_key], |r| {
                r.get(0)
            })?;
        tx.commit()?;
        Ok(Mirrored::Written { id, created, changed })
    }

    /// Writes the shared window `name` as the cluster (with this desktop's unsent writes up
    /// to `through_seq`) has it.
    pub fn team_mirror_window(&self, name: &str, through_seq: i64, w: &WindowRecord) -> Result<Mirrored, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if newer_write(&tx, "maintenancewindow", name, through_seq)? {
            return Ok(Mirrored::Stale);
        }
        let cols = params![
            w.title,
            w.starts_at,
            w.ends_at,
            w.description,
            w.impact,
            w.created_at,
            w.created_by,
            w.silence_id,
            w.cancelled_at,
            name
        ];
        let before: Option<WindowRecord> = tx
            .query_row(
                "SELECT id, title, starts_at, ends_at, description, impact, created_at, created_by, silence_id, cancelled_at \
                 FROM maintenance_windows WHERE team_name = ?1",
                [name],
                crate::calendar::window_row,
            )
            .optional()?;
        let (id, created, changed) = match before {
            None => {
                tx.execute(
                    "INSERT INTO maintenance_windows (title, starts_at, ends_at, description, impact, created_at, created_by, \
                     silence_id, cancelled_at, team_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    cols,
                )?;
                (tx.last_insert_rowid(), true, true)
            }
            Some(b) => {
                let same = WindowRecord { id: b.id, ..w.clone() } == b;
                if !same {
                    tx.execute(
                        "UPDATE maintenance_windows SET title = ?1, starts_at = ?2, ends_at = ?3, description = ?4, \
                         impact = ?5, created_at = ?6, created_by = ?7, silence_id = ?8, cancelled_at = ?9 WHERE team_name = ?10",
                        cols,
                    )?;
                }
                (b.id, false, !same)
            }
        };
        tx.commit()?;
        Ok(Mirrored::Written { id, created, changed })
    }
}
