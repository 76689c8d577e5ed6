//! Operations calendar records: occurrence completions, step results, maintenance
//! windows, Job outcomes and notices shown once.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::{Store, StoreError};

/// What was recorded for one occurrence.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RunRecord {
    /// `<procedure id>@<local start>`.
    pub occurrence_key: String,
    /// Procedure.
    pub procedure_id: String,
    /// Start (RFC 3339).
    pub starts_at: String,
    /// Completed at.
    pub completed_at: Option<String>,
    /// Completed by.
    pub completed_by: Option<String>,
    /// Skipped (with `note` saying why).
    pub skipped: bool,
    /// Note.
    pub note: Option<String>,
}

/// A step result about to be recorded.
#[derive(Debug, Clone)]
pub struct NewStepResult<'a> {
    /// Occurrence.
    pub occurrence_key: &'a str,
    /// Procedure (for the run row).
    pub procedure_id: &'a str,
    /// Occurrence start (for the run row).
    pub starts_at: &'a str,
    /// Step.
    pub step_id: &'a str,
    /// When.
    pub at: &'a str,
    /// Who.
    pub by: &'a str,
    /// Run by the app (else ticked by hand).
    pub automated: bool,
    /// `pass`, `warn`, `fail`, `done`, `unknown`.
    pub verdict: &'a str,
    /// What the action printed (or the manual note).
    pub output: &'a str,
    /// A note.
    pub note: Option<&'a str>,
    /// The cluster it was run against, when the configuration lists several.
    pub cluster: Option<&'a str>,
}

/// A stored step result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// Id.
    pub id: i64,
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
    /// The cluster it was run against, when the configuration lists several.
    pub cluster: Option<String>,
}

/// A maintenance window.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct WindowRecord {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End.
    pub ends_at: String,
    /// Description.
    pub description: String,
    /// Expected impact.
    pub impact: String,
    /// Created at.
    pub created_at: String,
    /// Created by.
    pub created_by: String,
    /// AlertManager silence covering it.
    pub silence_id: Option<String>,
    /// Cancelled at.
    pub cancelled_at: Option<String>,
}

/// A runbook Job's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRecord {
    /// `integration-tests`, ...
    pub job: String,
    /// Kubernetes Job name.
    pub name: String,
    /// Finished.
    pub finished_at: String,
    /// Succeeded.
    pub succeeded: bool,
    /// A line of summary.
    pub summary: String,
}

pub(crate) fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        occurrence_key: r.get(0)?,
        procedure_id: r.get(1)?,
        starts_at: r.get(2)?,
        completed_at: r.get(3)?,
        completed_by: r.get(4)?,
        skipped: r.get::<_, i64>(5)? != 0,
        note: r.get(6)?,
    })
}

pub(crate) fn window_row(r: &Row<'_>) -> rusqlite::Result<WindowRecord> {
    Ok(WindowRecord {
        id: r.get(0)?,
        title: r.get(1)?,
        starts_at: r.get(2)?,
        ends_at: r.get(3)?,
        description: r.get(4)?,
        impact: r.get(5)?,
        created_at: r.get(6)?,
        created_by: r.get(7)?,
        silence_id: r.get(8)?,
        cancelled_at: r.get(9)?,
    })
}

pub(crate) const RUN_COLUMNS: &str =
    "occurrence_key, procedure_id, starts_at, completed_at, completed_by, skipped, note";
const WINDOW_COLUMNS: &str =
    "id, title, starts_at, ends_at, description, impact, created_at, created_by, silence_id, cancelled_at";

impl Store {
    /// Appends a step result (creating the occurrence's run row if needed); returns its id.
    pub fn record_step(&self, s: &NewStepResult<'_>) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO procedure_runs (occurrence_key, procedure_id, starts_at) VALUES (?1, ?2, ?3)",
            params![s.occurrence_key, s.procedure_id, s.starts_at],
        )?;
        tx.execute(
            "INSERT INTO step_results (occurrence_key, step_id, at, by_user, automated, verdict, output, note, cluster) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![s.occurrence_key, s.step_id, s.at, s.by, s.automated, s.verdict, s.output, s.note, s.cluster],
        )?;
        let id = tx.last_insert_rowid();
        crate::team_calendar::step_recorded(&tx, id, s)?;
        tx.commit()?;
        Ok(id)
    }

    /// The newest result of each step of an occurrence.
    pub fn step_results(&self, occurrence_key: &str) -> Result<Vec<StepRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, step_id, at, by_user, automated, verdict, output, note, cluster FROM step_results \
             WHERE id IN (SELECT max(id) FROM step_results WHERE occurrence_key = ?1 GROUP BY step_id) ORDER BY id",
        )?;
        let rows = stmt.query_map([occurrence_key], |r| {
            Ok(StepRecord {
                id: r.get(0)?,
                step_id: r.get(1)?,
                at: r.get(2)?,
                by: r.get(3)?,
                automated: r.get::<_, i64>(4)? != 0,
                verdict: r.get(5)?,
                output: r.get(6)?,
                note: r.get(7)?,
                cluster: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks an occurrence completed (or skipped, with the reason in `note`).
    pub fn finish_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO procedure_runs (occurrence_key, procedure_id, starts_at, completed_at, completed_by, skipped, note) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(occurrence_key) DO UPDATE SET \
             completed_at = excluded.completed_at, completed_by = excluded.completed_by, \
             skipped = excluded.skipped, note = excluded.note",
            params![
                run.occurrence_key,
                run.procedure_id,
                run.starts_at,
                run.completed_at,
                run.completed_by,
                run.skipped,
                run.note
            ],
        )?;
        crate::team_calendar::run_finished(&tx, run)?;
        tx.commit()?;
        Ok(())
    }

    /// Runs of occurrences starting in `[from, to)`, with how many steps have a result.
    pub fn runs_between(&self, from: &str, to: &str) -> Result<Vec<(RunRecord, u32)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS}, (SELECT count(DISTINCT step_id) FROM step_results s \
             WHERE s.occurrence_key = r.occurrence_key) FROM procedure_runs r WHERE starts_at >= ?1 AND starts_at < ?2"
        ))?;
        let rows = stmt.query_map(params![from, to], |r| Ok((run_row(r)?, r.get::<_, u32>(7)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One occurrence's run row.
    pub fn run(&self, occurrence_key: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM procedure_runs WHERE occurrence_key = ?1"),
                [occurrence_key],
                run_row,
            )
            .optional()?)
    }

    /// Stores a maintenance window; returns its id.
    pub fn insert_window(&self, w: &WindowRecord) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO maintenance_windows (title, starts_at, ends_at, description, impact, created_at, created_by, silence_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![w.title, w.starts_at, w.ends_at, w.description, w.impact, w.created_at, w.created_by, w.silence_id],
        )?;
        let id = tx.last_insert_rowid();
        crate::team_calendar::window_scheduled(&tx, id, w)?;
        tx.commit()?;
        Ok(id)
    }

    /// Sets the silence of window `id`.
    pub fn set_window_silence(&self, id: i64, silence_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE maintenance_windows SET silence_id = ?2 WHERE id = ?1", params![id, silence_id])?;
        crate::team_calendar::window_changed(&tx, id, "silence", serde_json::json!(silence_id))?;
        tx.commit()?;
        Ok(())
    }

    /// Cancels window `id`; false when it does not exist or was cancelled already.
    pub fn cancel_window(&self, id: i64, at: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE maintenance_windows SET cancelled_at = ?2 WHERE id = ?1 AND cancelled_at IS NULL",
            params![id, at],
        )?;
        if n > 0 {
            crate::team_calendar::window_changed(&tx, id, "cancel", serde_json::json!(at))?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Maintenance windows (cancelled ones too), soonest first.
    pub fn windows(&self) -> Result<Vec<WindowRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {WINDOW_COLUMNS} FROM maintenance_windows ORDER BY starts_at"))?;
        let rows = stmt.query_map([], window_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a runbook Job's outcome.
    pub fn record_job(&self, j: &JobRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO job_results (job, name, finished_at, succeeded, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![j.job, j.name, j.finished_at, j.succeeded, j.summary],
        )?;
        Ok(())
    }

    /// The newest outcome of runbook Job `job`.
    pub fn last_job(&self, job: &str) -> Result<Option<JobRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT job, name, finished_at, succeeded, summary FROM job_results WHERE job = ?1 ORDER BY id DESC LIMIT 1",
                [job],
                |r| {
                    Ok(JobRecord {
                        job: r.get(0)?,
                        name: r.get(1)?,
                        finished_at: r.get(2)?,
                        succeeded: r.get::<_, i64>(3)? != 0,
                        summary: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records that a notice was shown; false when it already had been.
    pub fn mark_notice(&self, key: &str, at: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .execute("INSERT OR IGNORE INTO calendar_notices (key, sent_at) VALUES (?1, ?2)", params![key, at])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_results_keep_history_and_the_newest_counts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(&dir.path().join("s.sqlite3")).expect("open");
        let key = "morning-health-check@2026-11-30T09:00";
        let step = |id: &'static str, verdict: &'static str, at: &'static str| NewStepResult {
            occurrence_key: key,
            procedure_id: "morning-health-check",
            starts_at: "2026-11-30T08:00:00.000Z",
            step_id: id,
            at,
            by: "ana",
            automated: true,
            verdict,
            output: "…",
            note: None,
            cluster: None,
        };
        s.record_step(&step("pods", "fail", "t1")).expect("record");
        s.record_step(&step("pods", "pass", "t2")).expect("record");
        s.record_step(&step("health", "pass", "t3")).expect("record");
        let latest = s.step_results(key).expect("results");
        assert_eq!(latest.len(), 2);
        assert_eq!(latest.iter().find(|r| r.step_id == "pods").map(|r| r.verdict.as_str()), Some("pass"));
        let runs = s.runs_between("2026-11-30T00:00:00.000Z", "2026-12-01T00:00:00.000Z").expect("runs");
        assert_eq!(runs[0].1, 2);
        s.finish_run(&RunRecord {
            occurrence_key: key.into(),
            procedure_id: "morning-health-check".into(),
            starts_at: "2026-11-30T08:00:00.000Z".into(),
            completed_at: Some("t4".into()),
            completed_by: Some("ana".into()),
            ..Default::default()
        })
        .expect("finish");
        assert_eq!(s.run(key).expect("run").and_then(|r| r.completed_at), Some("t4".into()));
        assert!(s.mark_notice("overdue:x", "t").expect("notice"));
        assert!(!s.mark_notice("overdue:x", "t").expect("notice"), "once");
    }
}
