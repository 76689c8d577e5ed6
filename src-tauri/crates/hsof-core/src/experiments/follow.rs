//! Following a cluster run (see `cluster.rs` for how it is sent): the Job's state every
//! 500 ms, the running pod's `--progress jsonl` log lines back into [`Progress`], the
//! report line read and parsed at the end (or, for a Job removed before anyone read it, the
//! report it wrote to the claim), cancel by deleting the Job; and following a running row
//! again after a restart.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_cluster::{Cluster, JobState};
use hsof_select::SelectError;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::cluster::{suffix, JobRef, JOB_OWNER};
use super::{finish_ok, finish_stopped, rfc3339, Experiment, Progress, SelectionReport, Stage};
use crate::{AppContext, Error};

/// How watching a Job ended.
enum Watched {
    Complete { pods: Vec<String>, node: String },
    Failed(String, String),
    Cancelled,
}

/// One line of the engine's `--progress jsonl` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EngineLine {
    /// A progress message.
    Progress(Progress),
    /// The final report.
    Report {
        /// The history id in the engine's own (throwaway) store.
        #[serde(default)]
        experiment: i64,
        /// The report.
        report: Box<SelectionReport>,
    },
    /// The run failed.
    Error {
        /// Stable code.
        code: String,
        /// In words.
        message: String,
    },
}

/// What a finished Job's log says.
#[derive(Debug)]
enum LogVerdict {
    Report(Box<SelectionReport>),
    Error(String),
    Nothing(String),
}

/// Reads a whole engine log: the `report` line, else the engine's `error` line, else what
/// the last lines say (a report line that does not parse is named as such).
fn verdict(log: &str) -> LogVerdict {
    let mut tail: Vec<&str> = Vec::new();
    let mut bad_report = None;
    let mut error = None;
    for line in log.lines() {
        let l = line.trim();
        if l.starts_with('{') {
            match serde_json::from_str::<EngineLine>(l) {
                Ok(EngineLine::Report { report, .. }) => return LogVerdict::Report(report),
                Ok(EngineLine::Error { code, message }) => error = Some(format!("{message} ({code})")),
                Ok(EngineLine::Progress(_)) => {}
                Err(e) if l.contains("\"event\":\"report\"") || l.contains("\"event\": \"report\"") => {
                    bad_report = Some(format!("the engine's report is not valid JSON: {e}"));
                }
                Err(_) => tail.push(l),
            }
        } else if !l.is_empty() {
            tail.push(l);
        }
    }
    if let Some(b) = bad_report {
        return LogVerdict::Error(b);
    }
    if let Some(e) = error {
        return LogVerdict::Error(e);
    }
    let last: Vec<&str> = tail.iter().rev().take(3).rev().copied().collect();
    LogVerdict::Nothing(if last.is_empty() { "the log is empty".into() } else { last.join(" / ") })
}

impl AppContext {
    /// Reads a finished run's report from the claim (`hsofctl dataset send` in a short-lived
    /// pod of the engine image), for a Job removed before its log was read.
    async fn report_from_claim(&self, result_path: &str) -> Result<SelectionReport, Error> {
        let (cluster, spec) = self.engine_target(Some(0)).await?;
        let pod = format!("hsof-read-{}", suffix(result_path));
        let labels = BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), "hsof-engine".to_string()),
            ("app.kubernetes.io/component".to_string(), "read".to_string()),
            ("app.kubernetes.io/managed-by".to_string(), "hsof-control-center".to_string()),
        ]);
        cluster.start_upload_pod(&spec, &pod, &labels, Duration::from_secs(60)).await?;
        let command: Vec<String> = vec!["hsofctl".into(), "dataset".into(), "send".into(), result_path.into()];
        let read = cluster.exec_with_stdin(&pod, &command, None, |_| {}).await;
        let _ = cluster.delete_pod(&pod).await;
        let (code, out, err) = read?;
        if code != 0 {
            return Err(Error::NotFound(format!("{result_path}: {}", err.trim().trim_start_matches("hsofctl: "))));
        }
        serde_json::from_str(&out).map_err(|e| Error::Unavailable(format!("{result_path} is not a valid report: {e}")))
    }

    /// Follows the Job of running experiment `id` again (after a restart), to its end.
    /// A run that is not running is returned as it is.
    pub async fn experiment_attach(
        &self,
        id: i64,
        progress: impl Fn(Progress) + Send + Sync + 'static,
        cancel: &CancellationToken,
        now: impl Fn() -> DateTime<Utc> + Send + Sync,
    ) -> Result<Experiment, Error> {
        let rec = self.store()?.experiment(id)?.ok_or_else(|| Error::NotFound(format!("no experiment #{id}")))?;
        if rec.status != "running" {
            return self.experiment_get(id);
        }
        let Some(jref) = rec.cluster_job.as_deref().and_then(|j| serde_json::from_str::<JobRef>(j).ok()) else {
            return Err(Error::InvalidInput(format!(
                "experiment #{id} runs on this desktop, not on the cluster: there is no Job to attach to"
            )));
        };
        self.follow_cluster_run(id, &jref, &progress, cancel, &now).await
    }

    /// Cluster runs still `running` in the history (their Jobs to follow after a restart):
    /// the rows a Job owns.
    pub fn cluster_runs_running(&self) -> Result<Vec<i64>, Error> {
        Ok(self
            .store()?
            .running_experiments()?
            .into_iter()
            .filter(|(_, owner)| owner.as_deref().is_some_and(|o| o.starts_with(JOB_OWNER)))
            .map(|(id, _)| id)
            .collect())
    }

    /// Watches Job `job` until it completes, fails or `cancel` fires (then deletes it):
    /// Pending reasons and the first running pod's JSON progress lines go to `progress`.
    async fn watch_job(
        &self,
        cluster: &Cluster,
        job: &str,
        progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancellationToken,
        now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    ) -> Result<Watched, Error> {
        let say = |fraction: f32, message: String| progress(Progress { stage: Stage::Load, fraction, message });
        let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
        let follow_stop = CancellationToken::new();
        let _stop_follow = follow_stop.clone().drop_guard();
        let mut following: Option<String> = None;
        let mut last_said = String::new();
        let mut waiting_for: Option<String> = None;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                () = cancel.cancelled() => {
                    follow_stop.cancel();
                    let deleted = cluster.delete_job(job).await;
                    self.cluster_audit(cluster, "experiment.cancel", &format!("job/{job} in namespace {}", cluster.namespace),
                        "{\"propagation\":\"Foreground\"}", if deleted.is_ok() { "ok" } else { "error" }, now());
                    deleted?;
                    return Ok(Watched::Cancelled);
                }
                Some(line) = lines.recv() => {
                    if let Ok(EngineLine::Progress(p)) = serde_json::from_str::<EngineLine>(line.trim()) {
                        progress(p);
                    }
                    continue;
                }
                _ = tick.tick() => {}
            }
            let state = match cluster.job_state(job).await {
                Ok(s) => s,
                Err(e @ (hsof_cluster::ClusterError::Unreachable(_) | hsof_cluster::ClusterError::Api { .. })) => {
                    let m = format!("the cluster does not answer ({e}); the Job runs on, retrying");
                    if m != last_said {
                        say(1.0, m.clone());
                        last_said = m;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match state {
                JobState::Pending { reason } => {
                    if reason.is_some() {
                        waiting_for.clone_from(&reason);
                    }
                    let m = match reason {
                        Some(r) => format!("job/{job} is waiting: {r}"),
                        None => format!("job/{job} is waiting to be scheduled"),
                    };
                    if m != last_said {
                        say(1.0, m.clone());
                        last_said = m;
                    }
                }
                JobState::Running { pods, node, succeeded } => {
                    let pod = pods.first().cloned().unwrap_or_default();
                    if following.as_deref() != Some(pod.as_str()) {
                        let shards = if succeeded > 0 || pods.len() > 1 {
                            format!(" ({} running, {succeeded} done)", pods.len())
                        } else {
                            String::new()
                        };
                        say(1.0, format!("job/{job} runs on {node} (pod {pod}){shards}"));
                        following = Some(pod.clone());
                        let (c, tx, stop) = (cluster.clone(), tx.clone(), follow_stop.clone());
                        tokio::spawn(async move {
                            let _ = c
                                .follow_logs(&pod, None, 10_000, &stop, |ev| {
                                    if let hsof_cluster::FollowEvent::Line(l) = ev {
                                        let _ = tx.send(l.text);
                                    }
                                })
                                .await;
                        });
                    }
                }
                JobState::Complete { pods, node } => return Ok(Watched::Complete { pods, node }),
                JobState::Failed { reason, pods } => {
                    let mut message = format!("job/{job} failed: {reason}");
                    if following.is_none() && !reason.contains("still waiting") {
                        if let Some(w) = &waiting_for {
                            message.push_str(&format!("; it never ran, waiting: {w}"));
                        }
                    }
                    if let Some(pod) = pods.first() {
                        match verdict(&cluster.pod_log(pod).await.unwrap_or_default()) {
                            LogVerdict::Error(e) | LogVerdict::Nothing(e) if e != "the log is empty" => {
                                message.push_str(&format!("; the engine said: {e}"));
                            }
                            _ => {}
                        }
                    }
                    if reason.contains("OOMKilled") {
                        message.push_str("; raise experiments.cluster.memory_request or run on fewer rows");
                    }
                    return Ok(Watched::Failed("job_failed".into(), message));
                }
                JobState::Gone => {
                    return Ok(Watched::Failed(
                        "job_gone".into(),
                        format!(
                            "job/{job} is gone from namespace {} (deleted by someone, or removed after its TTL) before its report was read",
                            cluster.namespace
                        ),
                    ))
                }
            }
        }
    }

    pub(super) async fn follow_cluster_run(
        &self,
        id: i64,
        jref: &JobRef,
        progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancellationToken,
        now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    ) -> Result<Experiment, Error> {
        let base = self.cluster().await?;
        if base.context != jref.context {
            return Err(Error::InvalidInput(format!(
                "experiment #{id} runs in context {}, and the app is connected to {}: switch to it to follow the run",
                jref.context, base.context
            )));
        }
        let cluster = base.in_namespace(&jref.namespace);
        let job = jref.job.clone();
        // A sharded run: stage 1's Indexed Job first, then the Job that merges its shards.
        let mut outcome = None;
        if let (Some(stage1), Some(manifest)) = (&jref.stage1_job, &jref.merge_job) {
            if matches!(cluster.job_state(&job).await?, JobState::Gone) {
                match self.watch_job(&cluster, stage1, progress, cancel, now).await? {
                    Watched::Complete { .. } => {
                        let merge: k8s_openapi::api::batch::v1::Job = serde_json::from_value(manifest.clone())
                            .map_err(|e| Error::Unavailable(format!("the stored merge Job does not parse: {e}")))?;
                        cluster.create_job(&merge, true).await?;
                        let created = cluster.create_job(&merge, false).await;
                        self.cluster_audit(
                            &cluster,
                            "experiment.cluster_run",
                            &format!("job/{job} in namespace {} (context {})", cluster.namespace, cluster.context),
                            &serde_json::json!({"job": job, "merges": stage1, "shards": jref.shards}).to_string(),
                            if created.is_ok() { "ok" } else { "error" },
                            now(),
                        );
                        created?;
                        progress(Progress {
                            stage: Stage::Load,
                            fraction: 1.0,
                            message: format!(
                                "stage 1 done on {} shards (job/{stage1}); job/{job} merges them",
                                jref.shards
                            ),
                        });
                    }
                    other => outcome = Some(other),
                }
            }
        }
        let outcome = match outcome {
            Some(o) => o,
            None => self.watch_job(&cluster, &job, progress, cancel, now).await?,
        };
        let (status, error, report, node) = match outcome {
            Watched::Cancelled => {
                ("cancelled", Some(("cancelled".to_string(), format!("cancelled; job/{job} was deleted"))), None, None)
            }
            // Gone before its log was read (removed after its TTL while no app followed it):
            // the report it wrote to the claim is read back instead, when it is there.
            Watched::Failed(code, message) if code == "job_gone" => {
                match self.report_from_claim(&jref.result_path).await {
                    Ok(r) => ("ok", None, Some(Box::new(r)), None),
                    Err(e) => (
                        "failed",
                        Some((code, format!("{message}; its report could not be read from the claim: {e}"))),
                        None,
                        None,
                    ),
                }
            }
            Watched::Failed(code, message) => ("failed", Some((code, message)), None, None),
            Watched::Complete { pods, node } => {
                let pod = pods.last().cloned().unwrap_or_default();
                let log = cluster.pod_log(&pod).await?;
                match verdict(&log) {
                    LogVerdict::Report(r) => ("ok", None, Some(r), Some(node)),
                    LogVerdict::Error(e) => {
                        ("failed", Some(("invalid_report".into(), format!("job/{job} finished, but {e}"))), None, None)
                    }
                    LogVerdict::Nothing(tail) => (
                        "failed",
                        Some((
                            "invalid_report".into(),
                            format!("job/{job} finished without a report in its log (last lines: {tail})"),
                        )),
                        None,
                        None,
                    ),
                }
            }
        };
        let store = self.store()?;
        let finished = rfc3339(now());
        match (status, report) {
            ("ok", Some(report)) => {
                let gpu = match node.as_deref() {
                    Some(n) => cluster.node_gpu(n).await,
                    None => None,
                };
                let backend = match &node {
                    Some(n) => format!(
                        "cluster {} · {n} · {}",
                        report.pipeline_info.backend,
                        gpu.unwrap_or_else(|| "no GPU label".into())
                    ),
                    None => format!("cluster {} · report read back from the claim", report.pipeline_info.backend),
                };
                if let Some(out) = &jref.out_path {
                    if let Err(e) = super::write_user_report(Path::new(out), &report) {
                        tracing::warn!(error = %e, out, "the cluster run's report could not be written locally");
                    }
                }
                let first = finish_ok(store, id, &report, &backend, &finished)?;
                let fr = &report.final_results;
                // Another follower (the screen, the shell, a CLI) may have finished it first.
                if first {
                    self.record_event(
                        now(),
                        "experiment.ok",
                        &format!(
                            "experiment #{id} on the cluster (job/{job}): {} features",
                            fr.selected_features.len()
                        ),
                    );
                }
                self.experiment_get(id)
            }
            (status, _) => {
                let (code, message) = error.unwrap_or_else(|| ("job_failed".into(), format!("job/{job} failed")));
                let first = finish_stopped(store, id, status, Some(&code), &message, &finished)?;
                if first {
                    self.record_event(now(), &format!("experiment.{status}"), &format!("experiment #{id}: {message}"));
                }
                Err(if status == "cancelled" { SelectError::Cancelled.into() } else { Error::Unavailable(message) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_yields_its_report_or_says_why_not() {
        assert!(matches!(verdict(""), LogVerdict::Nothing(_)));
        let log = "{\"event\":\"progress\",\"stage\":\"filter\",\"fraction\":0.5,\"message\":\"x\"}\n{\"event\":\"report\",\"report\":{\"truncated\":\n";
        match verdict(log) {
            LogVerdict::Error(e) => assert!(e.contains("not valid JSON"), "{e}"),
            other => panic!("{other:?}"),
        }
        let log =
            "{\"event\":\"error\",\"code\":\"invalid_input\",\"message\":\"no column y\"}\nhsofctl: no column y\n";
        match verdict(log) {
            LogVerdict::Error(e) => assert!(e.contains("no column y (invalid_input)"), "{e}"),
            other => panic!("{other:?}"),
        }
        match verdict("panic: out of memory\n") {
            LogVerdict::Nothing(t) => assert!(t.contains("out of memory")),
            other => panic!("{other:?}"),
        }
    }
}
