//! The engine on the cluster: feature-selection runs as Kubernetes Jobs of the engine image,
//! datasets uploaded to the shared claim through a short-lived pod's exec, and what a
//! follower needs to know of a Job (Pending with the scheduler's reason, Running on which
//! node, how it ended).
//!
//! Pure parts (manifests, quantity / selector / toleration parsing, the Job's state from its
//! objects) are separate from the calls so they are tested without a server.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Pod};
use kube::api::{Api, AttachParams, DeleteParams, ListParams, LogParams, PostParams, PropagationPolicy};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::{Cluster, ClusterError};

/// Where the engine's pods keep their own state (config, history): an emptyDir.
pub const WORK_DIR: &str = "/work";

/// A Job (or the upload pod) of the engine image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSpec {
    /// The engine image.
    pub image: String,
    /// The ReadWriteMany claim with datasets and results.
    pub claim: String,
    /// Where it is mounted.
    pub mount_path: String,
    /// GPUs per pod (0: none asked).
    pub gpus: u32,
    /// CPU request.
    pub cpu: String,
    /// Memory request and limit.
    pub memory: String,
    /// `key=value` node labels.
    pub node_selector: Vec<String>,
    /// `key[=value]:Effect` tolerations.
    pub tolerations: Vec<String>,
    /// `activeDeadlineSeconds`.
    pub deadline_secs: u32,
    /// `ttlSecondsAfterFinished`.
    pub ttl_secs: u32,
}

/// Whether `s` is a Kubernetes quantity (`4`, `500m`, `16Gi`, `1.5`).
pub fn is_quantity(s: &str) -> bool {
    let s = s.trim();
    let digits_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(digits_end);
    !num.is_empty()
        && num.parse::<f64>().is_ok_and(|v| v >= 0.0)
        && ["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].contains(&suffix)
}

/// `key=value` → (key, value).
pub fn parse_selector(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("`{s}`: expected key=value")),
    }
}

/// `key[=value]:Effect` → a toleration (operator `Equal` with a value, `Exists` without).
pub fn parse_toleration(s: &str) -> Result<Value, String> {
    let bad = || format!("`{s}`: expected key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute");
    let (kv, effect) = s.rsplit_once(':').ok_or_else(bad)?;
    if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
        return Err(bad());
    }
    match kv.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok(json!({"key": k, "operator": "Equal", "value": v, "effect": effect})),
        None if !kv.is_empty() => Ok(json!({"key": kv, "operator": "Exists", "effect": effect})),
        _ => Err(bad()),
    }
}

impl EngineSpec {
    /// The pod spec running `hsofctl ARGS…` with the claim mounted, an emptyDir for the
    /// engine's own state, the resources, node selector and tolerations.
    pub fn pod_spec(&self, container: &str, args: &[String]) -> Result<Value, ClusterError> {
        let invalid = ClusterError::Invalid;
        for (what, q) in [("cpu", &self.cpu), ("memory", &self.memory)] {
            if !is_quantity(q) {
                return Err(invalid(format!("{what} `{q}` is not a Kubernetes quantity")));
            }
        }
        let mut selector = serde_json::Map::new();
        for s in &self.node_selector {
            let (k, v) = parse_selector(s).map_err(invalid)?;
            selector.insert(k, json!(v));
        }
        let tolerations: Vec<Value> =
            self.tolerations.iter().map(|t| parse_toleration(t)).collect::<Result<_, _>>().map_err(invalid)?;
        let mut limits = json!({"memory": self.memory});
        if self.gpus > 0 {
            limits["nvidia.com/gpu"] = json!(self.gpus.to_string());
        }
        let mut command = vec!["hsofctl".to_string()];
        command.extend(args.iter().cloned());
        Ok(json!({
            "restartPolicy": "Never",
            "nodeSelector": selector,
            "tolerations": tolerations,
            "containers": [{
                "name": container,
                "image": self.image,
                "command": command,
                "env": [
                    {"name": "HSOF_CONTROL_CONFIG", "value": format!("{WORK_DIR}/config.toml")},
                    {"name": "HSOF_CONTROL_DATA_DIR", "value": format!("{WORK_DIR}/state")},
                    {"name": "HSOF_CONTROL_SECRETS_BACKEND", "value": "file"}
                ],
                "resources": {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": limits},
                "volumeMounts": [
                    {"name": "data", "mountPath": self.mount_path},
                    {"name": "work", "mountPath": WORK_DIR}
                ]
            }],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": self.claim}},
                {"name": "work", "emptyDir": {}}
            ]
        }))
    }

    /// A Job of `completions` pods (Indexed when more than one) running `hsofctl ARGS…`.
    pub fn job(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        args: &[String],
        completions: u32,
    ) -> Result<Job, ClusterError> {
        let mut spec = json!({
            "backoffLimit": 0,
            "activeDeadlineSeconds": self.deadline_secs,
            "ttlSecondsAfterFinished": self.ttl_secs,
            "template": {
                "metadata": {"labels": labels},
                "spec": self.pod_spec("engine", args)?
            }
        });
        if completions > 1 {
            spec["completionMode"] = json!("Indexed");
            spec["completions"] = json!(completions);
            spec["parallelism"] = json!(completions);
        }
        serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": labels},
            "spec": spec
        }))
        .map_err(|e| ClusterError::Invalid(format!("job {name}: {e}")))
    }
}

/// Where a Job stands, read from the Job, its pods and their events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Not found (deleted, or removed after its TTL).
    Gone,
    /// No pod runs yet: the scheduler's or the kubelet's reason, when there is one.
    Pending {
        /// `0/3 nodes are available: 3 Insufficient nvidia.com/gpu.`, `ImagePullBackOff: …`.
        reason: Option<String>,
    },
    /// A pod runs.
    Running {
        /// The running pods (index order for an Indexed Job).
        pods: Vec<String>,
        /// The node of the first.
        node: String,
        /// How many have succeeded (Indexed Jobs).
        succeeded: u32,
    },
    /// Every completion succeeded.
    Complete {
        /// The pods, index order.
        pods: Vec<String>,
        /// The node of the last.
        node: String,
    },
    /// The Job failed.
    Failed {
        /// Why, in words: the Job's condition and, when known, the container's end.
        reason: String,
        /// The failed pods still there (their logs tell more).
        pods: Vec<String>,
    },
}

fn pod_reason(p: &Pod, events: &[Event]) -> Option<String> {
    let st = p.status.as_ref()?;
    if let Some(w) = st
        .container_statuses
        .iter()
        .flatten()
        .find_map(|c| c.state.as_ref().and_then(|s| s.waiting.clone()))
        .filter(|w| w.reason.as_deref() != Some("ContainerCreating"))
    {
        return Some(format!("{}: {}", w.reason.unwrap_or_default(), w.message.unwrap_or_default()));
    }
    if let Some(c) = st.conditions.iter().flatten().find(|c| c.type_ == "PodScheduled" && c.status == "False") {
        return Some(format!(
            "{}: {}",
            c.reason.clone().unwrap_or_else(|| "Unschedulable".into()),
            c.message.clone().unwrap_or_default()
        ));
    }
    let name = p.metadata.name.as_deref()?;
    events
        .iter()
        .rfind(|e| e.involved_object.name.as_deref() == Some(name) && e.type_.as_deref() == Some("Warning"))
        .map(|e| format!("{}: {}", e.reason.clone().unwrap_or_default(), e.message.clone().unwrap_or_default()))
}

/// How a finished container ended, in words (`OOMKilled (exit 137)`).
fn terminated(p: &Pod) -> Option<String> {
    p.status.as_ref()?.container_statuses.iter().flatten().find_map(|c| {
        let t = c.state.as_ref()?.terminated.as_ref()?;
        (t.exit_code != 0)
            .then(|| format!("{} (exit code {})", t.reason.clone().unwrap_or_else(|| "Error".into()), t.exit_code))
    })
}

/// The state of a Job from its object, pods (any order) and the namespace's events.
pub fn job_state(job: Option<&Job>, pods: &[Pod], events: &[Event]) -> JobState {
    let Some(job) = job else { return JobState::Gone };
    let index = |p: &Pod| {
        p.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("batch.kubernetes.io/job-completion-index"))
            .and_then(|i| i.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let mut pods: Vec<&Pod> = pods.iter().collect();
    pods.sort_by_key(|p| index(p));
    let names = |f: &dyn Fn(&Pod) -> bool| -> Vec<String> {
        pods.iter().filter(|p| f(p)).filter_map(|p| p.metadata.name.clone()).collect()
    };
    let phase = |p: &Pod| p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
    let node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
    let status = job.status.clone().unwrap_or_default();
    let condition = |t: &str| status.conditions.iter().flatten().find(|c| c.type_ == t && c.status == "True").cloned();
    if let Some(c) = condition("Failed") {
        let mut reason = format!(
            "{}: {}",
            c.reason.clone().unwrap_or_else(|| "Failed".into()),
            c.message.clone().unwrap_or_default()
        );
        if let Some(end) = pods.iter().find_map(|p| terminated(p)) {
            reason.push_str(&format!("; the engine's container ended {end}"));
        } else if c.reason.as_deref() == Some("DeadlineExceeded") {
            if let Some(r) = pods.iter().find_map(|p| pod_reason(p, events)) {
                reason.push_str(&format!("; it was still waiting: {r}"));
            }
        } else if pods.is_empty() {
            reason.push_str("; its pod was deleted or lost with its node before it finished");
        }
        return JobState::Failed { reason, pods: names(&|p| phase(p) == "Failed") };
    }
    if condition("Complete").is_some() {
        let node = pods.last().map(|p| node(p)).unwrap_or_default();
        return JobState::Complete { pods: names(&|_| true), node };
    }
    let running: Vec<&&Pod> = pods.iter().filter(|p| phase(p) == "Running").collect();
    if let Some(first) = running.first() {
        return JobState::Running {
            pods: running.iter().filter_map(|p| p.metadata.name.clone()).collect(),
            node: node(first),
            succeeded: u32::try_from(status.succeeded.unwrap_or(0)).unwrap_or(0),
        };
    }
    let reason = pods.iter().filter(|p| phase(p) == "Pending").find_map(|p| pod_reason(p, events));
    JobState::Pending { reason }
}

impl Cluster {
    /// Whether namespace `name` exists (a 403 or an unreachable server is an error, not a no).
    pub async fn namespace_exists(&self, name: &str) -> Result<bool, ClusterError> {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        Ok(api.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get namespace {name}")))?.is_some())
    }

    /// This connection in another namespace.
    pub fn in_namespace(&self, namespace: &str) -> Cluster {
        Cluster { namespace: namespace.to_string(), ..self.clone() }
    }

    /// Checks that `claim` exists and can be mounted by pods on several nodes.
    pub async fn check_shared_claim(&self, claim: &str) -> Result<(), ClusterError> {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &self.namespace);
        let pvc = api
            .get_opt(claim)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("get persistentvolumeclaim {claim}")))?
            .ok_or_else(|| {
                ClusterError::NotFound(format!(
                    "the data claim {claim} does not exist in namespace {}: create it (ReadWriteMany) or set experiments.cluster.data_claim",
                    self.namespace
                ))
            })?;
        let modes = pvc.spec.and_then(|s| s.access_modes).unwrap_or_default();
        if !modes.iter().any(|m| m == "ReadWriteMany") {
            return Err(ClusterError::Invalid(format!(
                "the data claim {claim} is {}: the upload pod and the engine's pods (maybe on other nodes) must share it, which needs ReadWriteMany",
                if modes.is_empty() { "without access modes".to_string() } else { modes.join(", ") }
            )));
        }
        Ok(())
    }

    /// Creates a Job (server-side dry run first when `dry_run`).
    pub async fn create_job(&self, job: &Job, dry_run: bool) -> Result<Job, ClusterError> {
        let api: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let name = job.metadata.name.clone().unwrap_or_default();
        api.create(&PostParams { dry_run, ..Default::default() }, job)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("create job {name}")))
    }

    /// Deletes Job `name` with its pods (foreground propagation). Absent is fine.
    pub async fn delete_job(&self, name: &str) -> Result<(), ClusterError> {
        let api: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Foreground), ..Default::default() };
        match api.delete(name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(ClusterError::from_kube(e, &format!("delete job {name}"))),
        }
    }

    /// Where Job `name` stands.
    pub async fn job_state(&self, name: &str) -> Result<JobState, ClusterError> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let job = jobs.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get job {name}")))?;
        if job.is_none() {
            return Ok(JobState::Gone);
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let pods = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .map_err(|e| ClusterError::from_kube(e, "list the job's pods"))?
            .items;
        let pending = pods.iter().any(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"));
        let events = if pending { self.pod_events(&pods).await } else { Vec::new() };
        Ok(job_state(job.as_ref(), &pods, &events))
    }

    async fn pod_events(&self, pods: &[Pod]) -> Vec<Event> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut out = Vec::new();
        for p in pods {
            let Some(name) = p.metadata.name.as_deref() else { continue };
            let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
            if let Ok(list) = api.list(&lp).await {
                out.extend(list.items);
            }
        }
        out
    }

    /// The whole log of `pod` (empty when the pod is gone).
    pub async fn pod_log(&self, pod: &str) -> Result<String, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        match api.logs(pod, &LogParams::default()).await {
            Ok(s) => Ok(s),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(String::new()),
            Err(e) => Err(ClusterError::from_kube(e, &format!("logs of pod {pod}"))),
        }
    }

    /// The GPU model of `node` (the GPU feature discovery's `nvidia.com/gpu.product` label).
    pub async fn node_gpu(&self, node: &str) -> Option<String> {
        let api: Api<Node> = Api::all(self.client.clone());
        let n = api.get_opt(node).await.ok()??;
        n.metadata.labels?.get("nvidia.com/gpu.product").cloned()
    }

    /// Creates the upload pod `name` (the engine image idling, the claim mounted) unless it
    /// exists, and waits up to `wait` for it to run; the reason it does not, otherwise.
    pub async fn start_upload_pod(
        &self,
        spec: &EngineSpec,
        name: &str,
        labels: &BTreeMap<String, String>,
        wait: std::time::Duration,
    ) -> Result<(), ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let small = EngineSpec { gpus: 0, cpu: "100m".into(), memory: "256Mi".into(), ..spec.clone() };
        let mut pod_spec =
            small.pod_spec("upload", &["dataset".into(), "idle".into(), "--seconds".into(), "1800".into()])?;
        pod_spec["activeDeadlineSeconds"] = json!(3600);
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": pod_spec
        }))
        .map_err(|e| ClusterError::Invalid(e.to_string()))?;
        match api.create(&PostParams::default(), &pod).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(ClusterError::from_kube(e, &format!("create pod {name}"))),
        }
        let start = std::time::Instant::now();
        loop {
            let p = api.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get pod {name}")))?;
            let Some(p) = p else {
                return Err(ClusterError::NotFound(format!("the upload pod {name} was deleted while starting")));
            };
            match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
                Some("Running") => return Ok(()),
                Some(phase @ ("Failed" | "Succeeded")) => {
                    return Err(ClusterError::Invalid(format!(
                        "the upload pod {name} ended ({phase}) before the upload"
                    )))
                }
                _ => {}
            }
            if start.elapsed() >= wait {
                let events = self.pod_events(std::slice::from_ref(&p)).await;
                let why = pod_reason(&p, &events).unwrap_or_else(|| "no reason given yet".into());
                let _ = self.delete_pod(name).await;
                return Err(ClusterError::Unreachable(format!(
                    "the upload pod {name} did not start within {} s: {why}",
                    wait.as_secs()
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// Deletes pod `name` (absent is fine).
    pub async fn delete_pod(&self, name: &str) -> Result<(), ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(ClusterError::from_kube(e, &format!("delete pod {name}"))),
        }
    }

    /// Runs `command` in `pod`, feeding `stdin` (when given) and calling `sent` with the
    /// bytes written so far; returns (exit code, stdout, stderr).
    pub async fn exec_with_stdin(
        &self,
        pod: &str,
        command: &[String],
        stdin: Option<&mut (dyn AsyncRead + Unpin + Send)>,
        mut sent: impl FnMut(u64) + Send,
    ) -> Result<(i32, String, String), ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let params = AttachParams::default().stdin(stdin.is_some()).stdout(true).stderr(true);
        let mut proc = api
            .exec(pod, command.to_vec(), &params)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("exec in pod {pod}")))?;
        let mut out = proc.stdout();
        let mut err = proc.stderr();
        let read_out = async {
            let mut s = Vec::new();
            if let Some(o) = out.as_mut() {
                let _ = o.read_to_end(&mut s).await;
            }
            s
        };
        let read_err = async {
            let mut s = Vec::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_end(&mut s).await;
            }
            s
        };
        // Stdin is written but not closed: closing it ends the whole exec on servers that
        // speak only v4.channel.k8s.io (before the v5 close signal), losing the exit status.
        // The command must know how much to read (`dataset receive --size`).
        let writer = proc.stdin();
        let write_in = async {
            let (Some(input), Some(mut w)) = (stdin, writer) else { return Ok(None) };
            let mut buf = vec![0u8; 256 * 1024];
            let mut total = 0u64;
            loop {
                let n = input.read(&mut buf).await.map_err(|e| format!("reading the file: {e}"))?;
                if n == 0 {
                    break;
                }
                w.write_all(&buf[..n]).await.map_err(|e| format!("the upload stream broke: {e}"))?;
                total += n as u64;
                sent(total);
            }
            w.flush().await.map_err(|e| format!("the upload stream broke: {e}"))?;
            Ok::<_, String>(Some(w))
        };
        let (o, e, w) = tokio::join!(read_out, read_err, write_in);
        let status = match proc.take_status() {
            Some(s) => s.await,
            None => None,
        };
        let _ = proc.join().await;
        drop(w.map_err(ClusterError::Unreachable)?);
        let code = match status {
            Some(s) if s.status.as_deref() == Some("Success") => 0,
            Some(s) => s
                .details
                .and_then(|d| d.causes)
                .into_iter()
                .flatten()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
                .and_then(|c| c.message.and_then(|m| m.parse().ok()))
                .unwrap_or(1),
            None => {
                return Err(ClusterError::Unreachable(format!(
                    "exec in pod {pod}: the connection closed without a status"
                )))
            }
        };
        Ok((code, String::from_utf8_lossy(&o).into_owned(), String::from_utf8_lossy(&e).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_selectors_and_tolerations_parse_as_kubectl_writes_them() {
        for q in ["4", "500m", "16Gi", "1.5", "256Mi", "2k"] {
            assert!(is_quantity(q), "{q}");
        }
        for q in ["", "four", "16GB", "-1", "1.2.3Gi"] {
            assert!(!is_quantity(q), "{q}");
        }
        assert_eq!(parse_selector("nvidia.com/gpu.present=true"), Ok(("nvidia.com/gpu.present".into(), "true".into())));
        assert!(parse_selector("novalue").is_err());
        assert_eq!(
            parse_toleration("nvidia.com/gpu:NoSchedule"),
            Ok(json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}))
        );
        assert_eq!(
            parse_toleration("dedicated=ml:NoExecute"),
            Ok(json!({"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoExecute"}))
        );
        assert!(parse_toleration("dedicated=ml").is_err());
        assert!(parse_toleration("x:Sometimes").is_err());
    }

    fn spec() -> EngineSpec {
        EngineSpec {
            image: "hsof/hsof-engine:0.1.0".into(),
            claim: "hsof-data-storage".into(),
            mount_path: "/data".into(),
            gpus: 1,
            cpu: "4".into(),
            memory: "16Gi".into(),
            node_selector: vec!["nvidia.com/gpu.present=true".into()],
            tolerations: vec!["nvidia.com/gpu:NoSchedule".into()],
            deadline_secs: 3600,
            ttl_secs: 86_400,
        }
    }

    #[test]
    fn the_job_carries_resources_the_claim_and_gpu_placement() {
        let labels = BTreeMap::from([("hsof.io/experiment".to_string(), "7".to_string())]);
        let job = spec().job("hsof-select-7", &labels, &["select".into(), "--input".into(), "/data/x.csv".into()], 1);
        let v = serde_json::to_value(job.expect("job")).expect("json");
        let s = &v["spec"];
        assert_eq!(s["backoffLimit"], 0);
        assert_eq!(s["activeDeadlineSeconds"], 3600);
        assert!(s.get("completionMode").is_none());
        let pod = &s["template"]["spec"];
        let c = &pod["containers"][0];
        assert_eq!(c["command"], json!(["hsofctl", "select", "--input", "/data/x.csv"]));
        assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"], "1");
        assert_eq!(c["resources"]["requests"]["memory"], "16Gi");
        assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "hsof-data-storage");
        assert_eq!(pod["nodeSelector"]["nvidia.com/gpu.present"], "true");
        assert_eq!(pod["tolerations"][0]["operator"], "Exists");
        assert_eq!(s["template"]["metadata"]["labels"]["hsof.io/experiment"], "7");
        let indexed = serde_json::to_value(spec().job("x", &labels, &[], 3).expect("job")).expect("json");
        assert_eq!(indexed["spec"]["completionMode"], "Indexed");
        assert_eq!(indexed["spec"]["completions"], 3);
        let cpu = serde_json::to_value(EngineSpec { gpus: 0, ..spec() }.job("x", &labels, &[], 1).expect("job"))
            .expect("json");
        assert!(cpu["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
            .get("nvidia.com/gpu")
            .is_none());
        assert!(EngineSpec { memory: "lots".into(), ..spec() }.job("x", &labels, &[], 1).is_err());
    }

    fn pod(v: Value) -> Pod {
        serde_json::from_value(v).expect("pod")
    }

    fn job(status: Value) -> Job {
        serde_json::from_value(json!({"metadata": {"name": "j"}, "status": status})).expect("job")
    }

    #[test]
    fn the_state_names_the_scheduler_reason_and_how_a_container_ended() {
        let pending = pod(json!({"metadata": {"name": "j-abc"}, "status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."}]}}));
        match job_state(Some(&job(json!({}))), std::slice::from_ref(&pending), &[]) {
            JobState::Pending { reason: Some(r) } => assert!(r.contains("Insufficient nvidia.com/gpu"), "{r}"),
            other => panic!("{other:?}"),
        }
        let deadline = job(
            json!({"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]}),
        );
        match job_state(Some(&deadline), &[pending], &[]) {
            JobState::Failed { reason, .. } => {
                assert!(reason.contains("DeadlineExceeded") && reason.contains("Insufficient"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let oom = pod(json!({"metadata": {"name": "j-abc"}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "engine", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}));
        let failed = job(
            json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
        );
        match job_state(Some(&failed), &[oom], &[]) {
            JobState::Failed { reason, pods } => {
                assert!(reason.contains("OOMKilled (exit code 137)"), "{reason}");
                assert_eq!(pods, vec!["j-abc".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        match job_state(Some(&failed), &[], &[]) {
            JobState::Failed { reason, .. } => assert!(reason.contains("deleted or lost"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(job_state(None, &[], &[]), JobState::Gone);
    }
}
