//! The runbook's Jobs — vulnerability scan, backup-restore test, integration tests, load
//! tests — created from templates (image and command from the configuration) and
//! followed to completion with their logs (`kubectl apply -f …; kubectl logs job/… -f`).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, PostParams};
use serde::Serialize;
use serde_json::json;

use crate::{ChangeOutcome, Cluster, ClusterError};

/// A Job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTemplate {
    /// Base name from the runbook, e.g. `vulnerability-scan`.
    pub name: String,
    /// Container image.
    pub image: String,
    /// Shell command run in it (`/bin/sh -c`).
    pub command: String,
    /// The team's own manifest for this Job (YAML), with where it came from: when given it
    /// is the Job created (only its name, namespace and labels change), not image + command.
    pub manifest: Option<(String, String)>,
}

/// How a Job ended (or that it has not).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct JobOutcome {
    /// Job name.
    pub name: String,
    /// `succeeded`, `failed`, `running` or `timed_out`.
    pub state: String,
    /// The log of its (last) pod.
    pub logs: String,
}

impl Cluster {
    /// Creates a Job from `t` named `<name>-<timestamp>`; server-side dry run first when asked.
    pub async fn run_job(
        &self,
        t: &JobTemplate,
        now: chrono::DateTime<chrono::Utc>,
        dry_run: bool,
    ) -> Result<ChangeOutcome, ClusterError> {
        let name = format!("{}-{}", t.name, now.format("%Y%m%d%H%M%S"));
        if let Some((source, yaml)) = &t.manifest {
            let job = job_from_manifest(
                yaml,
                &name,
                &self.namespace,
                &[("app.kubernetes.io/part-of", "hsof"), ("hsof.runbook/job", &t.name)],
            )
            .map_err(|e| ClusterError::Invalid(format!("{source}: {e}")))?;
            let api: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
            let params = PostParams { dry_run, ..Default::default() };
            api.create(&params, &job)
                .await
                .map_err(|e| ClusterError::from_kube(e, &format!("create job {name} from {source}")))?;
            let message = format!("job/{name} created from {source}");
            return Ok(ChangeOutcome {
                action: "job.run".into(),
                target: format!("job/{name}"),
                dry_run,
                before: "null".into(),
                after: json!({"job": name, "manifest": source}).to_string(),
                message: if dry_run { format!("dry run: {message}") } else { message },
            });
        }
        if t.image.trim().is_empty() || t.command.trim().is_empty() {
            return Err(ClusterError::Invalid(format!(
                "the `{}` job needs an image and a command in the configuration",
                t.name
            )));
        }
        let job: Job = serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "hsof", "hsof.runbook/job": t.name}},
            "spec": {
                "backoffLimit": 0,
                "ttlSecondsAfterFinished": 86_400,
                "template": {
                    "metadata": {"labels": {"job-name": name, "hsof.runbook/job": t.name}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": t.name, "image": t.image, "command": ["/bin/sh", "-c", t.command]}]}
                }
            }
        }))
        .map_err(|e| ClusterError::Invalid(e.to_string()))?;
        let api: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let params = PostParams { dry_run, ..Default::default() };
        api.create(&params, &job).await.map_err(|e| ClusterError::from_kube(e, &format!("create job {name}")))?;
        let message = format!("job/{name} created ({} running `{}`)", t.image, t.command);
        Ok(ChangeOutcome {
            action: "job.run".into(),
            target: format!("job/{name}"),
            dry_run,
            before: "null".into(),
            after: json!({"job": name, "image": t.image, "command": t.command}).to_string(),
            message: if dry_run { format!("dry run: {message}") } else { message },
        })
    }

    /// Waits for Job `name` to succeed or fail (polling every `every`, up to `timeout`),
    /// then returns its pod's log.
    pub async fn follow_job(&self, name: &str, timeout: Duration, every: Duration) -> Result<JobOutcome, ClusterError> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let start = std::time::Instant::now();
        let state = loop {
            let j = jobs.get(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get job {name}")))?;
            let st = j.status.unwrap_or_default();
            if st.succeeded.unwrap_or(0) > 0 {
                break "succeeded";
            }
            if st.failed.unwrap_or(0) > 0 {
                break "failed";
            }
            if start.elapsed() >= timeout {
                break "timed_out";
            }
            tokio::time::sleep(every).await;
        };
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .map_err(|e| ClusterError::from_kube(e, "list job pods"))?;
        let logs = match list.items.last().and_then(|p| p.metadata.name.clone()) {
            Some(pod) => pods
                .logs(&pod, &LogParams::default())
                .await
                .map_err(|e| ClusterError::from_kube(e, &format!("logs of {pod}")))?,
            None => String::new(),
        };
        Ok(JobOutcome { name: name.into(), state: state.into(), logs })
    }
}

/// The team's own Job manifest (the runbook's `deployment/testing/backup-restore-test.yaml`:
/// volumes, service account, resources, env from Secrets, node selector as they wrote it)
/// as the Job to create: only the name (`name`), the namespace and the labels the app adds
/// change. A document that is not a `batch/v1` Job is refused with what it is.
pub fn job_from_manifest(
    yaml: &str,
    name: &str,
    namespace: &str,
    labels: &[(&str, &str)],
) -> Result<k8s_openapi::api::batch::v1::Job, ClusterError> {
    let value: serde_json::Value = serde_norway::from_str(yaml)
        .map_err(|e| ClusterError::Invalid(format!("the Job manifest is not YAML: {e}")))?;
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let api_version = value.get("apiVersion").and_then(|k| k.as_str()).unwrap_or("");
    if kind != "Job" || api_version != "batch/v1" {
        return Err(ClusterError::Invalid(format!(
            "the manifest is a {} {}, not a batch/v1 Job",
            if api_version.is_empty() { "(no apiVersion)" } else { api_version },
            if kind.is_empty() { "(no kind)" } else { kind }
        )));
    }
    let mut job: k8s_openapi::api::batch::v1::Job = serde_json::from_value(value)
        .map_err(|e| ClusterError::Invalid(format!("the Job manifest does not describe a Job: {e}")))?;
    job.metadata.name = Some(name.to_string());
    job.metadata.generate_name = None;
    job.metadata.namespace = Some(namespace.to_string());
    job.metadata.resource_version = None;
    job.metadata.uid = None;
    job.status = None;
    let l = job.metadata.labels.get_or_insert_with(Default::default);
    for (k, v) in labels {
        l.insert((*k).to_string(), (*v).to_string());
    }
    Ok(job)
}
