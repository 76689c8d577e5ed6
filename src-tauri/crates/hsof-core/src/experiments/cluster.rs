//! Experiments on the cluster: the same run as a local one, sent to the team's GPU nodes as
//! a Kubernetes Job of the engine image and followed like a local run.
//!
//! 1. Checks: `cluster.read_only`, a SelfSubjectAccessReview per verb the run needs, the
//!    data claim (present, ReadWriteMany).
//! 2. The input goes to the claim at `datasets/<sha256>/<file name>` through a short-lived
//!    upload pod of the engine image (`hsofctl dataset idle`), by exec of
//!    `hsofctl dataset receive` with the bytes on stdin; skipped when already there. An input
//!    written `pvc:PATH` is used in place.
//! 3. The Job (`hsofctl select … --progress jsonl --out <claim>/results/<job>.json`) is
//!    dry-run, audited, created; its name goes into the history row.
//! 4. Following (`follow.rs`): Pending with the scheduler's reason, then the pod log's JSON lines drive
//!    the progress; the report is the log's `report` line, parsed, stored with the node and
//!    GPU it ran on. Cancel deletes the Job (foreground). A restarted app or CLI follows a
//!    running row's Job again ([`AppContext::experiment_attach`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_cluster::{Cluster, EngineSpec};
use hsof_select::SelectError;
use hsof_store::{NewAuditEntry, NewExperiment};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::{off_thread, rfc3339, DatasetFormat, Experiment, ExperimentRequest, Pending, Progress, Stage};
use crate::{AppContext, Error};

/// Where a run goes on the cluster (part of [`ExperimentRequest`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterRun {
    /// GPUs per pod; `experiments.cluster.gpus` when left out.
    #[serde(default)]
    pub gpus: Option<u32>,
    /// Stage 1 sharded over this many pods (an Indexed Job) before the Job that runs
    /// stages 2 and 3; one Job when left out or 1.
    #[serde(default)]
    pub shards: Option<u32>,
}

/// The Job a cluster run became, kept in its history row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRef {
    /// Kubeconfig context.
    pub context: String,
    /// Namespace.
    pub namespace: String,
    /// Job name.
    pub job: String,
    /// Where the report is written on the claim.
    pub result_path: String,
    /// Local report file asked for.
    #[serde(default)]
    pub out_path: Option<String>,
    /// A sharded run's stage-1 Indexed Job (`job` then merges its shards).
    #[serde(default)]
    pub stage1_job: Option<String>,
    /// Its shard count.
    #[serde(default)]
    pub shards: u32,
    /// The merging Job's manifest, created once stage 1 has completed.
    #[serde(default)]
    pub merge_job: Option<serde_json::Value>,
}

/// The owner of a history row once its Job exists (`job:NAMESPACE/NAME`): not a process, so
/// a closed app never settles the row as interrupted.
pub(super) const JOB_OWNER: &str = "job:";

/// The prefix of an input already on the data claim.
pub const PVC_PREFIX: &str = "pvc:";

/// The engine's arguments for `request`, reading `input` on the claim (the caller adds
/// what the Job does with them: `--progress jsonl --out …`, or a shard's flags).
fn engine_args(request: &ExperimentRequest, input: &str, gpus: u32) -> Result<Vec<String>, Error> {
    let mut a: Vec<String> = vec!["select".into(), "--input".into(), input.into()];
    let mut opt = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            a.push(flag.into());
            a.push(v);
        }
    };
    opt("--target", request.target.clone().filter(|t| !t.trim().is_empty()));
    opt("--id-cols", (!request.id_columns.is_empty()).then(|| request.id_columns.join(",")));
    opt("--group-col", request.group_column.clone().filter(|c| !c.trim().is_empty()));
    opt("--time-col", request.time_column.clone().filter(|c| !c.trim().is_empty()));
    opt("--k1", request.k1.map(|k| k.to_string()));
    opt("--k2", request.k2.map(|k| k.to_string()));
    opt("--k3", request.k3.map(|k| k.to_string()));
    opt("--k3-max", request.k3_max.map(|k| k.to_string()));
    opt("--seed", request.seed.map(|s| s.to_string()));
    opt("--threads", request.threads.map(|t| t.to_string()));
    opt(
        "--outer",
        request.outer.map(|o| match o {
            super::OuterValidation::Auto => "auto".to_string(),
            super::OuterValidation::Folds(k) => format!("folds:{k}"),
            super::OuterValidation::Holdout(f) => format!("holdout:{f}"),
        }),
    );
    opt("--search-seconds", request.search_seconds.map(|s| s.to_string()));
    opt(
        "--class-weight",
        request.class_weight.map(|w| match w {
            super::ClassWeight::None => "none".to_string(),
            super::ClassWeight::Balanced => "balanced".to_string(),
        }),
    );
    let backend = match request.backend {
        super::BackendChoice::Gpu if gpus == 0 => {
            return Err(Error::InvalidInput(
                "the GPU backend was asked for with 0 GPUs per pod: give --gpus N or set experiments.cluster.gpus"
                    .into(),
            ))
        }
        super::BackendChoice::Gpu => "gpu",
        super::BackendChoice::Cpu => "cpu",
        super::BackendChoice::Auto if gpus == 0 => "cpu",
        super::BackendChoice::Auto => "auto",
    };
    opt("--backend", Some(backend.into()));
    Ok(a)
}

/// SHA-256 of a file, hex, reading it in 1 MiB blocks.
fn sha256_file(path: &Path, progress: &dyn Fn(u64)) -> Result<(String, u64), Error> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).map_err(|e| SelectError::Io { path: path.display().to_string(), source: e })?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| SelectError::Io { path: path.display().to_string(), source: e })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
        progress(total);
    }
    Ok((hex::encode(h.finalize()), total))
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

/// A name suffix nobody else picks: two desktops both have an experiment #1.
pub(super) fn suffix(seed: &str) -> String {
    let h = Sha256::digest(format!("{seed}/{}/{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or(0)));
    hex::encode(&h[..3])
}

impl AppContext {
    /// The engine spec from `[experiments.cluster]`, its namespace, and the cluster
    /// connection in that namespace.
    pub(super) async fn engine_target(&self, gpus: Option<u32>) -> Result<(Cluster, EngineSpec), Error> {
        let cfg = self.config().config;
        let c = &cfg.experiments.cluster;
        let ns = if c.namespace.trim().is_empty() { cfg.cluster.namespace.clone() } else { c.namespace.clone() };
        let cluster = self.cluster().await?.in_namespace(&ns);
        let spec = EngineSpec {
            image: c.image.clone(),
            claim: c.data_claim.clone(),
            mount_path: c.mount_path.trim_end_matches('/').to_string(),
            gpus: gpus.unwrap_or(c.gpus),
            cpu: c.cpu_request.clone(),
            memory: c.memory_request.clone(),
            node_selector: c.node_selector.clone(),
            tolerations: c.tolerations.clone(),
            deadline_secs: c.active_deadline_seconds,
            ttl_secs: c.ttl_seconds_after_finished,
        };
        Ok((cluster, spec))
    }

    /// Refuses, naming the verb, when the identity may not do what a cluster run needs.
    async fn check_cluster_run_permissions(&self, cluster: &Cluster, upload: bool) -> Result<(), Error> {
        let mut needed = vec![
            ("create", "batch", "jobs", "", "create the experiment's Job"),
            ("get", "batch", "jobs", "", "follow the Job"),
            ("delete", "batch", "jobs", "", "cancel the Job"),
            ("list", "", "pods", "", "find the Job's pods"),
            ("get", "", "pods", "log", "read the engine's progress and report"),
            ("get", "", "persistentvolumeclaims", "", "check the data claim"),
        ];
        if upload {
            needed.push(("create", "", "pods", "", "start the upload pod"));
            needed.push(("create", "", "pods", "exec", "send the dataset to the claim"));
            needed.push(("delete", "", "pods", "", "remove the upload pod"));
        }
        for (verb, group, resource, sub, why) in needed {
            let (ok, reason) = self.can_i(cluster, verb, group, resource, sub).await?;
            if !ok {
                let what = if sub.is_empty() { resource.to_string() } else { format!("{resource}/{sub}") };
                let what = if group.is_empty() { what } else { format!("{what}.{group}") };
                return Err(Error::Forbidden(format!(
                    "`{verb} {what}` is not allowed for you in namespace {} (needed to {why}){}; ask for a Role that grants it",
                    cluster.namespace,
                    if reason.is_empty() { String::new() } else { format!(": {reason}") }
                )));
            }
        }
        Ok(())
    }

    pub(super) fn cluster_audit(
        &self,
        cluster: &Cluster,
        action: &str,
        target: &str,
        after: &str,
        result: &str,
        now: DateTime<Utc>,
    ) {
        let who = self.audit_actor(&crate::os_user(), &cluster.context);
        self.audit_entry(&NewAuditEntry { actor: &who, action, target, before: None, after: Some(after), result }, now);
    }

    /// Sends `local` to the claim (unless there already) and returns its path on the claim,
    /// relative to the mount.
    async fn upload_dataset(
        &self,
        cluster: &Cluster,
        spec: &EngineSpec,
        local: &Path,
        progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancellationToken,
        now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    ) -> Result<String, Error> {
        let report = |fraction: f32, message: String| progress(Progress { stage: Stage::Load, fraction, message });
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().replace(|c: char| c == '/' || c.is_control(), "_"))
            .ok_or_else(|| Error::InvalidInput(format!("{} names no file", local.display())))?;
        let size = std::fs::metadata(local)
            .map_err(|e| SelectError::Io { path: local.display().to_string(), source: e })?
            .len();
        report(0.0, format!("hashing {} ({})", local.display(), mib(size)));
        let path = local.to_path_buf();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let hashing = off_thread(move || {
            sha256_file(&path, &|n| {
                let _ = tx.send(n);
            })
        });
        tokio::pin!(hashing);
        let (sha, size) = loop {
            tokio::select! {
                r = &mut hashing => break r??,
                Some(n) = rx.recv() => report(0.1 * n as f32 / size.max(1) as f32, format!("hashing: {} of {}", mib(n), mib(size))),
            }
        };
        let rel = format!("datasets/{sha}/{name}");
        let target = format!("{}/{rel}", spec.mount_path);
        // Per upload: two desktops sending the same file each have their own pod (and
        // temporary file); both renames put the same bytes in place.
        let pod = format!("hsof-upload-{}-{}", &sha[..12], suffix(&sha));
        let labels = BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), "hsof-engine".to_string()),
            ("app.kubernetes.io/component".to_string(), "upload".to_string()),
            ("app.kubernetes.io/managed-by".to_string(), "hsof-control-center".to_string()),
        ]);
        report(0.1, format!("starting the upload pod {pod}"));
        tokio::select! {
            r = cluster.start_upload_pod(spec, &pod, &labels, Duration::from_secs(120)) => r?,
            () = cancel.cancelled() => {
                let _ = cluster.delete_pod(&pod).await;
                return Err(SelectError::Cancelled.into());
            }
        }
        let receive = |check: bool| {
            let mut c: Vec<String> = vec![
                "hsofctl".into(),
                "dataset".into(),
                "receive".into(),
                target.clone(),
                "--sha256".into(),
                sha.clone(),
                "--size".into(),
                size.to_string(),
            ];
            if check {
                c.push("--check".into());
            }
            c
        };
        let result = async {
            let (code, _, err) = cluster.exec_with_stdin(&pod, &receive(true), None, |_| {}).await?;
            if code == 0 {
                report(1.0, format!("{name} is already on the claim ({rel})"));
                return Ok::<bool, Error>(false);
            }
            if code != 1 {
                return Err(Error::Unavailable(format!(
                    "checking the claim for {rel} failed (exit {code}): {}",
                    err.trim()
                )));
            }
            let mut file = tokio::fs::File::open(local)
                .await
                .map_err(|e| SelectError::Io { path: local.display().to_string(), source: e })?;
            let last = std::sync::Mutex::new(std::time::Instant::now());
            let sent = |n: u64| {
                let mut l = last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if l.elapsed() >= Duration::from_millis(200) || n == size {
                    *l = std::time::Instant::now();
                    report(
                        0.1 + 0.9 * n as f32 / size.max(1) as f32,
                        format!("uploading: {} of {}", mib(n), mib(size)),
                    );
                }
            };
            let command = receive(false);
            let (code, _, err) = tokio::select! {
                r = cluster.exec_with_stdin(&pod, &command, Some(&mut file), sent) => r?,
                () = cancel.cancelled() => return Err(SelectError::Cancelled.into()),
            };
            if code != 0 {
                return Err(Error::Unavailable(format!(
                    "the upload of {name} failed on the cluster's side (exit {code}): {}",
                    err.trim().trim_start_matches("hsofctl: ")
                )));
            }
            Ok(true)
        }
        .await;
        let _ = cluster.delete_pod(&pod).await;
        let uploaded = result?;
        if uploaded {
            self.cluster_audit(
                cluster,
                "experiment.upload",
                &format!("pvc/{}:{rel}", spec.claim),
                &serde_json::json!({"file": local.display().to_string(), "bytes": size, "sha256": sha}).to_string(),
                "ok",
                now(),
            );
            report(1.0, format!("uploaded {} to {rel}", mib(size)));
        }
        Ok(rel)
    }

    /// Runs `request` on the cluster (see the module). The history row is `running` while
    /// the Job runs; an error before the Job exists finishes it as failed (or cancelled).
    pub(super) async fn run_cluster_experiment(
        &self,
        request: ExperimentRequest,
        progress: impl Fn(Progress) + Send + Sync + 'static,
        cancel: &CancellationToken,
        now: impl Fn() -> DateTime<Utc> + Send + Sync,
    ) -> Result<Experiment, Error> {
        let run = request.cluster.clone().unwrap_or_default();
        let raw_input = request.input.trim().to_string();
        let in_place = raw_input.strip_prefix(PVC_PREFIX).map(|p| p.trim_start_matches('/').to_string());
        // The local checks of a local run (target, options, out path), on a copy that names
        // a file only when there is one here.
        let mut local = request.clone();
        if in_place.is_some() {
            local.input = "claim.csv".into();
        }
        let plan = local.plan()?;
        if in_place.is_none() {
            if plan.format == DatasetFormat::DatasetYaml {
                return Err(Error::InvalidInput(
                    "a dataset YAML names a SQLite file on this desktop: export the table to CSV or Parquet to run it on the cluster".into(),
                ));
            }
            if !plan.input.is_file() {
                return Err(Error::InvalidInput(format!("{} is not a file", plan.input.display())));
            }
        }
        let cfg = self.config().config;
        if cfg.cluster.read_only {
            return Err(Error::Forbidden(
                "cluster.read_only is set: running an experiment on the cluster creates a Job; clear it in Settings to send runs".into(),
            ));
        }
        let (cluster, spec) = self.engine_target(run.gpus).await?;
        self.check_cluster_run_permissions(&cluster, in_place.is_none()).await?;
        cluster.check_shared_claim(&spec.claim).await?;
        let store = self.store()?;
        let started = rfc3339(now());
        let input_shown = match &in_place {
            Some(p) => format!("{PVC_PREFIX}{p}"),
            None => plan.input.display().to_string(),
        };
        let request_json = serde_json::to_string(&request).unwrap_or_else(|_| "null".into());
        let out_path = plan.out.as_ref().map(|p| p.display().to_string());
        let record_cluster = self.record_cluster();
        let mut pending = Pending::begin(
            store,
            &NewExperiment {
                started_at: &started,
                input: &input_shown,
                target: &plan.target,
                request: &request_json,
                out_path: out_path.as_deref(),
                cluster: record_cluster.as_deref(),
            },
        )?;
        let id = pending.id;
        let progress: std::sync::Arc<dyn Fn(Progress) + Send + Sync> = std::sync::Arc::new(progress);
        let prepared = async {
            let rel = match &in_place {
                Some(p) => p.clone(),
                None => self.upload_dataset(&cluster, &spec, &plan.input, progress.as_ref(), cancel, &now).await?,
            };
            let sfx = suffix(&cluster.identity);
            let job = format!("hsof-select-{id}-{sfx}");
            let result_path = format!("{}/results/{job}.json", spec.mount_path);
            let input = format!("{}/{rel}", spec.mount_path);
            let base = engine_args(&request, &input, spec.gpus)?;
            let mut args = base.clone();
            let shards = run.shards.unwrap_or(1).max(1);
            let stage1_dir = format!("{}/results/{job}-stage1", spec.mount_path);
            if shards > 1 {
                args.extend(["--stage1-from".into(), stage1_dir.clone(), "--shard-count".into(), shards.to_string()]);
            }
            args.extend(["--progress".into(), "jsonl".into(), "--out".into(), result_path.clone()]);
            let mut labels = BTreeMap::from([
                ("app.kubernetes.io/name".to_string(), "hsof-engine".to_string()),
                ("app.kubernetes.io/component".to_string(), "experiment".to_string()),
                ("app.kubernetes.io/part-of".to_string(), "hsof".to_string()),
                ("app.kubernetes.io/managed-by".to_string(), "hsof-control-center".to_string()),
                ("hsof.io/experiment".to_string(), id.to_string()),
            ]);
            let manifest = spec.job(&job, &labels, &args, 1)?;
            cluster.create_job(&manifest, true).await?;
            let mut jref = JobRef {
                context: cluster.context.clone(),
                namespace: cluster.namespace.clone(),
                job: job.clone(),
                result_path,
                out_path: out_path.clone(),
                stage1_job: None,
                shards,
                merge_job: None,
            };
            // Sharded: the Indexed Job of stage 1 now; the merging Job once it completes.
            let (first, first_args, completions) = if shards > 1 {
                let stage1 = format!("hsof-stage1-{id}-{sfx}");
                let mut a = base;
                a.extend([
                    "--stage1-shards".into(),
                    shards.to_string(),
                    "--stage1-out".into(),
                    stage1_dir,
                    "--progress".into(),
                    "jsonl".into(),
                ]);
                jref.stage1_job = Some(stage1.clone());
                jref.merge_job = Some(serde_json::to_value(&manifest).map_err(|e| Error::Unavailable(e.to_string()))?);
                labels.insert("app.kubernetes.io/component".into(), "experiment-stage1".into());
                (stage1, a, shards)
            } else {
                (job.clone(), args.clone(), 1)
            };
            let first_manifest = spec.job(&first, &labels, &first_args, completions)?;
            cluster.create_job(&first_manifest, true).await?;
            let target = format!("job/{first} in namespace {} (context {})", cluster.namespace, cluster.context);
            let after = serde_json::json!({"job": first, "image": spec.image, "gpus": spec.gpus, "input": rel,
                "completions": completions, "args": first_args})
            .to_string();
            let created = cluster.create_job(&first_manifest, false).await;
            self.cluster_audit(
                &cluster,
                "experiment.cluster_run",
                &target,
                &after,
                match &created {
                    Ok(_) => "ok",
                    Err(_) => "error",
                },
                now(),
            );
            created?;
            Ok::<JobRef, Error>(jref)
        }
        .await;
        let jref = match prepared {
            Ok(j) => j,
            Err(e) => {
                pending.stopped(&e, &rfc3339(now()))?;
                return Err(e);
            }
        };
        let store = self.store()?;
        store.set_experiment_job(id, &serde_json::to_string(&jref).unwrap_or_default())?;
        store.set_experiment_owner(id, &format!("{JOB_OWNER}{}/{}", jref.namespace, jref.job))?;
        // From here the Job owns the run: dropping this future leaves the row running, and a
        // restarted app or CLI follows the Job again.
        pending.finished = true;
        self.record_event(
            now(),
            "experiment.submitted",
            &format!("experiment #{id}: job/{} in {}", jref.job, jref.namespace),
        );
        self.follow_cluster_run(id, &jref, progress.as_ref(), cancel, &now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_gets_the_request_as_flags() {
        let r = ExperimentRequest {
            input: "x.csv".into(),
            target: Some("y".into()),
            id_columns: vec!["id".into(), "ts".into()],
            k3: Some(5),
            seed: Some(7),
            outer: Some(super::super::OuterValidation::Folds(3)),
            ..Default::default()
        };
        let a = engine_args(&r, "/data/datasets/ab/x.csv", 0).expect("args");
        let s = a.join(" ");
        assert!(s.starts_with("select --input /data/datasets/ab/x.csv --target y --id-cols id,ts"), "{s}");
        assert!(s.contains("--k3 5") && s.contains("--seed 7") && s.contains("--outer folds:3"), "{s}");
        assert!(s.contains("--backend cpu"), "no GPU asked: the CPU backend ({s})");
        let gpu = ExperimentRequest { backend: super::super::BackendChoice::Gpu, ..r };
        assert!(engine_args(&gpu, "i", 0).is_err());
        assert!(engine_args(&gpu, "i", 1).expect("args").join(" ").contains("--backend gpu"));
    }
}
