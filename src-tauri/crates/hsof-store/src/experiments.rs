//! Feature-selection runs: inserted when a run starts, finished once with its outcome.
//! Times are RFC 3339 UTC strings (sortable as text); the report is the engine's JSON.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::{Store, StoreError};

/// A run about to start.
#[derive(Debug, Clone)]
pub struct NewExperiment<'a> {
    /// When it started.
    pub started_at: &'a str,
    /// The input file (CSV, Parquet or dataset YAML).
    pub input: &'a str,
    /// The target column; empty when a dataset YAML names it.
    pub target: &'a str,
    /// The request as asked, JSON.
    pub request: &'a str,
    /// Where the report JSON is to be written, if anywhere.
    pub out_path: Option<&'a str>,
    /// The cluster it ran against, when the configuration lists several.
    pub cluster: Option<&'a str>,
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct ExperimentFinish<'a> {
    /// When it ended.
    pub finished_at: &'a str,
    /// `ok`, `failed` or `cancelled`.
    pub status: &'a str,
    /// The target, when the run learned it (a dataset YAML names it).
    pub target: Option<&'a str>,
    /// Stable error code of a failed or cancelled run.
    pub error_code: Option<&'a str>,
    /// The error, in words.
    pub error: Option<&'a str>,
    /// The report, JSON (ok runs).
    pub report: Option<&'a str>,
    /// Features selected.
    pub selected: Option<u32>,
    /// Mean cross-validated score.
    pub score: Option<f64>,
    /// Its standard deviation over folds.
    pub score_std: Option<f64>,
    /// `accuracy` or `r2`.
    pub metric: Option<&'a str>,
    /// The best model family.
    pub model: Option<&'a str>,
    /// Backend that ran the kernels.
    pub backend: Option<&'a str>,
    /// The engine's total time.
    pub seconds: Option<f64>,
}

/// A stored run, as columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ExperimentRecord {
    /// Id, increasing with start order.
    pub id: i64,
    /// Started (RFC 3339).
    pub started_at: String,
    /// Finished; `None` while running (or when the process died mid-run).
    pub finished_at: Option<String>,
    /// Input path.
    pub input: String,
    /// Target column ('' when not known yet).
    pub target: String,
    /// The request, JSON.
    pub request: String,
    /// `running`, `ok`, `failed`, `cancelled`.
    pub status: String,
    /// Stable error code.
    pub error_code: Option<String>,
    /// Error, in words.
    pub error: Option<String>,
    /// Report JSON; only filled by [`Store::experiment`], never by the list.
    pub report: Option<String>,
    /// Report file written.
    pub out_path: Option<String>,
    /// Features selected.
    pub selected: Option<u32>,
    /// Mean CV score.
    pub score: Option<f64>,
    /// Standard deviation of the score.
    pub score_std: Option<f64>,
    /// `accuracy` or `r2`.
    pub metric: Option<String>,
    /// Model family.
    pub model: Option<String>,
    /// Backend.
    pub backend: Option<String>,
    /// Engine time.
    pub seconds: Option<f64>,
    /// The Kubernetes Job of a cluster run (JSON: context, namespace, job), once created.
    pub cluster_job: Option<String>,
    /// The cluster it ran against, when the configuration lists several.
    pub cluster: Option<String>,
}

const COLUMNS: &str = "id, started_at, finished_at, input, target, request, status, error_code, error, out_path, \
     selected, score, score_std, metric, model, backend, seconds, cluster_job, cluster";

fn record(r: &Row<'_>) -> rusqlite::Result<ExperimentRecord> {
    Ok(ExperimentRecord {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        input: r.get(3)?,
        target: r.get(4)?,
        request: r.get(5)?,
        status: r.get(6)?,
        error_code: r.get(7)?,
        error: r.get(8)?,
        report: None,
        out_path: r.get(9)?,
        selected: r.get(10)?,
        score: r.get(11)?,
        score_std: r.get(12)?,
        metric: r.get(13)?,
        model: r.get(14)?,
        backend: r.get(15)?,
        seconds: r.get(16)?,
        cluster_job: r.get(17)?,
        cluster: r.get(18)?,
    })
}

impl Store {
    /// Records a run that starts now as `running`; returns its id.
    pub fn insert_experiment(&self, e: &NewExperiment<'_>) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO experiments (started_at, input, target, request, status, out_path, cluster) \
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
            params![e.started_at, e.input, e.target, e.request, e.out_path, e.cluster],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Records how run `id` ended. Only a `running` row can finish, once; false when `id`
    /// is unknown or already finished.
    pub fn finish_experiment(&self, id: i64, f: &ExperimentFinish<'_>) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE experiments SET finished_at = ?2, status = ?3, target = coalesce(?4, target), \
             error_code = ?5, error = ?6, report = ?7, selected = ?8, score = ?9, score_std = ?10, \
             metric = ?11, model = ?12, backend = ?13, seconds = ?14 \
             WHERE id = ?1 AND status = 'running'",
            params![
                id,
                f.finished_at,
                f.status,
                f.target,
                f.error_code,
                f.error,
                f.report,
                f.selected,
                f.score,
                f.score_std,
                f.metric,
                f.model,
                f.backend,
                f.seconds
            ],
        )?;
        Ok(n == 1)
    }

    /// Records which process runs experiment `id` (an opaque `pid:start time`).
    pub fn set_experiment_owner(&self, id: i64, owner: &str) -> Result<(), StoreError> {
        self.conn().execute("UPDATE experiments SET owner = ?2 WHERE id = ?1", params![id, owner])?;
        Ok(())
    }

    /// Records the Kubernetes Job a cluster run became (JSON), so it can be followed again.
    pub fn set_experiment_job(&self, id: i64, job: &str) -> Result<(), StoreError> {
        self.conn().execute("UPDATE experiments SET cluster_job = ?2 WHERE id = ?1", params![id, job])?;
        Ok(())
    }

    /// `running` experiments with their owners (`None` for rows from before owners were kept).
    pub fn running_experiments(&self) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, owner FROM experiments WHERE status = 'running' ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest `limit` runs, newest first, without their reports.
    pub fn experiments(&self, limit: u32) -> Result<Vec<ExperimentRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM experiments ORDER BY id DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Run `id` with its report.
    pub fn experiment(&self, id: i64) -> Result<Option<ExperimentRecord>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(&format!("SELECT {COLUMNS}, report FROM experiments WHERE id = ?1"), [id], |r| {
                let mut rec = record(r)?;
                rec.report = r.get(19)?;
                Ok(rec)
            })
            .optional()?)
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

    fn new<'a>(input: &'a str, started_at: &'a str) -> NewExperiment<'a> {
        NewExperiment {
            started_at,
            input,
            target: "y",
            request: "{\"k3\":15}",
            out_path: Some("/tmp/r.json"),
            cluster: None,
        }
    }

    #[test]
    fn a_run_is_recorded_running_then_finished_once_and_survives_reopening() {
        let (dir, s) = store();
        let id = s.insert_experiment(&new("/data/a.csv", "2026-11-28T10:00:00.000Z")).expect("insert");
        let running = s.experiment(id).expect("read").expect("exists");
        assert_eq!(running.status, "running");
        assert_eq!(running.finished_at, None);
        let ok = ExperimentFinish {
            finished_at: "2026-11-28T10:00:02.000Z",
            status: "ok",
            report: Some("{\"final_results\":{}}"),
            selected: Some(15),
            score: Some(0.91),
            score_std: Some(0.02),
            metric: Some("accuracy"),
            model: Some("random_forest"),
            backend: Some("cpu"),
            seconds: Some(1.5),
            ..Default::default()
        };
        assert!(s.finish_experiment(id, &ok).expect("finish"));
        let again = ExperimentFinish { status: "failed", error: Some("late"), ..ok.clone() };
        assert!(!s.finish_experiment(id, &again).expect("second finish"), "a run finishes once");
        assert!(!s.finish_experiment(999, &ok).expect("unknown"), "an unknown id finishes nothing");
        drop(s);
        let s = Store::open(&dir.path().join("s.sqlite3")).expect("reopen");
        let got = s.experiment(id).expect("read").expect("exists");
        assert_eq!(got.status, "ok");
        assert_eq!(got.target, "y", "a finish without a target keeps the one recorded at the start");
        assert_eq!(got.report.as_deref(), Some("{\"final_results\":{}}"));
        assert_eq!((got.selected, got.score, got.metric.as_deref()), (Some(15), Some(0.91), Some("accuracy")));
        assert_eq!(got.out_path.as_deref(), Some("/tmp/r.json"));
        assert!(s.experiment(999).expect("read").is_none());
    }

    #[test]
    fn the_list_is_newest_first_limited_and_carries_no_report() {
        let (_dir, s) = store();
        let a = s.insert_experiment(&new("/data/a.csv", "2026-11-28T10:00:00.000Z")).expect("a");
        let b = s
            .insert_experiment(&NewExperiment { target: "", ..new("/data/b.yaml", "2026-11-28T11:00:00.000Z") })
            .expect("b");
        let c = s.insert_experiment(&new("/data/c.csv", "2026-11-28T12:00:00.000Z")).expect("c");
        let fin = |status, code| ExperimentFinish {
            finished_at: "2026-11-28T12:00:01.000Z",
            status,
            error_code: code,
            report: Some("{}"),
            target: Some("Survived"),
            ..Default::default()
        };
        s.finish_experiment(a, &fin("ok", None)).expect("a");
        s.finish_experiment(b, &fin("cancelled", Some("cancelled"))).expect("b");
        s.finish_experiment(c, &fin("failed", Some("invalid_input"))).expect("c");
        let list = s.experiments(2).expect("list");
        assert_eq!(list.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b]);
        assert!(list.iter().all(|r| r.report.is_none()), "the list stays small");
        assert_eq!(list[1].target, "Survived", "a YAML run learns its target when it finishes");
        assert_eq!(list[1].status, "cancelled");
        assert_eq!(list[0].error_code.as_deref(), Some("invalid_input"));
    }

    #[test]
    fn the_schema_refuses_an_unknown_status() {
        let (_dir, s) = store();
        let id = s.insert_experiment(&new("/data/a.csv", "2026-11-28T10:00:00.000Z")).expect("insert");
        let bad = ExperimentFinish { finished_at: "x", status: "done", ..Default::default() };
        assert!(s.finish_experiment(id, &bad).is_err());
        assert_eq!(s.experiment(id).expect("read").expect("exists").status, "running");
    }
}
