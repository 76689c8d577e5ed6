//! Kubelet mode: the fake runs Jobs (and bare pods) whose image is mapped to a local
//! program as real local processes, so tests can run the real engine as a Job's container.
//!
//! `fake-kube --kubelet IMAGE=LOCAL_BINARY --volume CLAIM=LOCAL_DIR`. A container's command
//! (`command` + `args`) runs with its first word replaced by the image's program; every
//! argument and environment value under a volume's `mountPath` is rewritten to the local
//! folder (a claim's folder from `--volume`, a fresh folder per pod for an `emptyDir`), as a
//! container would see its mounts. Its stdout and stderr lines are the pod's log; its exit
//! code is the container's. `HOME` is the pod's own empty folder.
//!
//! What the Job controller, the scheduler and the kubelet do is played in order, with the
//! objects and events a real cluster shows: the pod is Pending (scheduled, or Unschedulable
//! with a `FailedScheduling` event), its image pulled (or `ErrImagePull` /
//! `ImagePullBackOff`), Running, then Succeeded or Failed with the container's exit code
//! and reason (`Completed`, `Error`, `OOMKilled`). Jobs honour `completions`,
//! `parallelism`, `completionMode: Indexed` (`JOB_COMPLETION_INDEX`, the
//! `batch.kubernetes.io/job-completion-index` annotation, `status.completedIndexes`),
//! `backoffLimit` and `activeDeadlineSeconds` (`DeadlineExceeded`). A pod deleted while its
//! process runs kills the process (and counts as a failure); a deleted Job takes its pods.
//!
//! Faults ([`KubeletFaults`]): no GPU capacity, an image that cannot be pulled, a container
//! OOM-killed after some lines.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::broadcast::error::RecvError;

use crate::resources::find;
use crate::store::{Signal, Store};

/// What the kubelet mode runs and where.
#[derive(Debug, Clone, Default)]
pub struct Kubelet {
    /// Image → the local program that stands for it.
    pub images: BTreeMap<String, PathBuf>,
    /// PersistentVolumeClaim name → the local folder that stands for its volume.
    pub volumes: BTreeMap<String, PathBuf>,
    /// Injected faults.
    pub faults: KubeletFaults,
}

/// Faults of the kubelet mode.
#[derive(Debug, Clone, Default)]
pub struct KubeletFaults {
    /// No node has a free GPU: pods that ask for `nvidia.com/gpu` stay Pending,
    /// Unschedulable (until this is cleared).
    pub no_gpu_capacity: bool,
    /// Images that cannot be pulled: their pods stay Pending in `ErrImagePull` /
    /// `ImagePullBackOff` (until removed from here).
    pub image_pull: Vec<String>,
    /// Kill a container as `OOMKilled` (exit 137) once it has written this many log lines.
    pub oom_after_lines: Option<usize>,
}

impl Kubelet {
    /// Parses `IMAGE=LOCAL_BINARY` and `CLAIM=LOCAL_DIR` pairs (the command line's form).
    pub fn from_pairs(images: &[String], volumes: &[String]) -> Result<Self, String> {
        let pair = |s: &String, what: &str| {
            s.split_once('=')
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
                .ok_or_else(|| format!("`{s}`: expected {what}"))
        };
        let mut k = Self::default();
        for s in images {
            let (image, bin) = pair(s, "IMAGE=LOCAL_BINARY")?;
            if !bin.is_file() {
                return Err(format!("{}: no such program (for image {image})", bin.display()));
            }
            k.images.insert(image, bin);
        }
        for s in volumes {
            let (claim, dir) = pair(s, "CLAIM=LOCAL_DIR")?;
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            k.volumes.insert(claim, dir);
        }
        Ok(k)
    }

    /// Whether this kubelet runs the pod template (or pod spec) `spec`: its first
    /// container's image is mapped.
    pub fn runs(&self, spec: &Value) -> bool {
        spec["containers"][0]["image"].as_str().is_some_and(|i| self.images.contains_key(i))
    }
}

type Shared = Arc<Mutex<Store>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Store> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether the kubelet mode takes this new object (a Job or a bare pod) over.
pub fn takes(store: &Store, obj: &Value) -> bool {
    let Some(k) = &store.kubelet else { return false };
    match obj["kind"].as_str() {
        Some("Job") => k.runs(&obj["spec"]["template"]["spec"]),
        Some("Pod") => {
            obj["metadata"]["ownerReferences"].as_array().is_none_or(|o| o.is_empty()) && k.runs(&obj["spec"])
        }
        _ => false,
    }
}

/// Runs forever on the server's runtime: each Job or bare pod the kubelet mode takes gets a
/// task of its own, started from the watch bus (as the real controllers are).
pub async fn run(store: Shared) {
    let mut rx = lock(&store).bus.0.subscribe();
    let mut seen: HashSet<String> = HashSet::new();
    let mut rescan = true;
    loop {
        if rescan {
            rescan = false;
            let todo: Vec<Value> = {
                let s = lock(&store);
                s.objects
                    .iter()
                    .filter(|((plural, _, _), _)| plural == "jobs" || plural == "pods")
                    .map(|(_, v)| v.clone())
                    .filter(|v| takes(&s, v) && v["status"].as_object().is_none_or(|o| o.is_empty()))
                    .collect()
            };
            for obj in todo {
                start(&store, &obj, &mut seen);
            }
        }
        match rx.recv().await {
            Ok(Signal::Change(c)) if c.kind == "ADDED" && (c.plural == "jobs" || c.plural == "pods") => {
                let take = takes(&lock(&store), &c.object);
                if take {
                    start(&store, &c.object, &mut seen);
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => rescan = true,
            Err(RecvError::Closed) => return,
        }
    }
}

fn start(store: &Shared, obj: &Value, seen: &mut HashSet<String>) {
    let uid = obj["metadata"]["uid"].as_str().unwrap_or_default().to_string();
    if !seen.insert(uid) {
        return;
    }
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let store = store.clone();
    if obj["kind"] == "Job" {
        tokio::spawn(async move { run_job(store, ns, name).await });
    } else {
        tokio::spawn(async move {
            let _ = run_pod(store, ns, name).await;
        });
    }
}

/// How a pod ended.
#[derive(Debug, Clone, PartialEq)]
enum PodEnd {
    Succeeded,
    Failed(String),
    /// Deleted (by a user, or with its Job).
    Gone,
}

fn event(store: &mut Store, ns: &str, kind: &str, name: &str, kind_of: &str, reason: &str, message: &str) {
    let rv = store.rv + 1;
    let component = match reason {
        "FailedScheduling" | "Scheduled" => "default-scheduler",
        _ if kind == "Job" => "job-controller",
        _ => "kubelet",
    };
    store.put(json!({
        "kind": "Event",
        "metadata": {"name": format!("{name}.{rv:x}"), "namespace": ns},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns, "apiVersion": if kind == "Job" { "batch/v1" } else { "v1" }},
        "reason": reason, "message": message, "type": kind_of,
        "firstTimestamp": now(), "lastTimestamp": now(), "count": 1,
        "source": {"component": component}
    }));
}

fn pods_res() -> &'static crate::resources::Resource {
    find("", "v1", "pods").expect("pods are served")
}

fn jobs_res() -> &'static crate::resources::Resource {
    find("batch", "v1", "jobs").expect("jobs are served")
}

/// Sets a pod's status (keeping the rest); false when the pod is gone.
fn set_pod_status(store: &Shared, ns: &str, name: &str, f: impl FnOnce(&mut Value)) -> bool {
    let mut s = lock(store);
    let Some(mut pod) = s.get(pods_res(), ns, name).cloned() else { return false };
    f(&mut pod);
    s.put(pod);
    true
}

fn pod_exists(store: &Shared, ns: &str, name: &str) -> bool {
    lock(store).get(pods_res(), ns, name).is_some()
}

fn wants_gpu(pod: &Value) -> bool {
    pod["spec"]["containers"].as_array().into_iter().flatten().any(|c| {
        ["limits", "requests"].iter().any(|k| {
            c["resources"][k]["nvidia.com/gpu"].as_str().map_or_else(
                || c["resources"][k]["nvidia.com/gpu"].as_i64().unwrap_or(0) > 0,
                |s| s.parse::<i64>().unwrap_or(0) > 0,
            )
        })
    })
}

/// Waits while `blocked` holds (a fault not cleared yet); false when the pod went away.
async fn wait_while(store: &Shared, ns: &str, name: &str, blocked: impl Fn(&Store) -> bool) -> bool {
    loop {
        {
            let s = lock(store);
            if s.get(pods_res(), ns, name).is_none() {
                return false;
            }
            if !blocked(&s) {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The program, arguments and environment a pod's first container runs here.
pub(crate) struct LocalRun {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Folders made for this pod (emptyDir volumes, HOME), removed when it ends.
    pub scratch: Vec<PathBuf>,
}

/// Maps a pod's container (with `command` replacing the container's own when given, as
/// an exec does) to a local process.
pub(crate) fn local_run(k: &Kubelet, pod: &Value, command: Option<&[String]>) -> Result<LocalRun, String> {
    let c = &pod["spec"]["containers"][0];
    let image = c["image"].as_str().unwrap_or_default();
    let program = k.images.get(image).cloned().ok_or_else(|| format!("image {image} is not mapped"))?;
    let uid = pod["metadata"]["uid"].as_str().unwrap_or_default().to_string();
    let base = std::env::temp_dir().join(format!("fake-kubelet-{}-{uid}", std::process::id()));
    let mut scratch = Vec::new();
    let mut mounts: Vec<(String, PathBuf)> = Vec::new();
    let volumes = pod["spec"]["volumes"].as_array().cloned().unwrap_or_default();
    for m in c["volumeMounts"].as_array().into_iter().flatten() {
        let (Some(name), Some(path)) = (m["name"].as_str(), m["mountPath"].as_str()) else { continue };
        let Some(v) = volumes.iter().find(|v| v["name"].as_str() == Some(name)) else {
            return Err(format!("volumeMount {name} names no volume"));
        };
        let local = if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
            k.volumes.get(claim).cloned().ok_or_else(|| format!("claim {claim} has no local folder (--volume)"))?
        } else {
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            scratch.push(dir.clone());
            dir
        };
        mounts.push((path.trim_end_matches('/').to_string(), local));
    }
    mounts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let map = |s: &str| -> String {
        let one = |s: &str| -> String {
            for (p, local) in &mounts {
                if s == p {
                    return local.display().to_string();
                }
                if let Some(rest) = s.strip_prefix(&format!("{p}/")) {
                    return local.join(rest).display().to_string();
                }
            }
            s.to_string()
        };
        match s.split_once('=') {
            Some((k, v)) if k.starts_with('-') => format!("{k}={}", one(v)),
            _ => one(s),
        }
    };
    let words: Vec<String> = match command {
        Some(cmd) => cmd.to_vec(),
        None => c["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(c["args"].as_array().into_iter().flatten())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    };
    let args = words.iter().skip(1).map(|w| map(w)).collect();
    let home = base.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    scratch.push(home.clone());
    let mut env = vec![
        ("PATH".to_string(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".to_string(), home.display().to_string()),
        ("HOSTNAME".to_string(), pod["metadata"]["name"].as_str().unwrap_or_default().to_string()),
    ];
    for e in c["env"].as_array().into_iter().flatten() {
        if let (Some(n), Some(v)) = (e["name"].as_str(), e["value"].as_str()) {
            env.push((n.to_string(), map(v)));
        }
    }
    if let Some(i) = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"].as_str() {
        env.push(("JOB_COMPLETION_INDEX".into(), i.to_string()));
    }
    Ok(LocalRun { program, args, env, scratch })
}

/// Plays one pod from Pending to its end.
async fn run_pod(store: Shared, ns: String, name: String) -> PodEnd {
    let Some(pod) = lock(&store).get(pods_res(), &ns, &name).cloned() else { return PodEnd::Gone };
    let image = pod["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string();
    let container = pod["spec"]["containers"][0]["name"].as_str().unwrap_or("main").to_string();
    let gpu = wants_gpu(&pod);
    set_pod_status(&store, &ns, &name, |p| {
        p["status"] = json!({"phase": "Pending", "qosClass": "Burstable"});
    });
    // The scheduler.
    let unschedulable = |s: &Store| gpu && s.kubelet.as_ref().is_some_and(|k| k.faults.no_gpu_capacity);
    if unschedulable(&lock(&store)) {
        let message = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.";
        {
            let mut s = lock(&store);
            event(&mut s, &ns, "Pod", &name, "Warning", "FailedScheduling", message);
        }
        set_pod_status(&store, &ns, &name, |p| {
            p["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message, "lastTransitionTime": now()}]);
        });
        if !wait_while(&store, &ns, &name, unschedulable).await {
            return PodEnd::Gone;
        }
    }
    let node = "gpu-node-1";
    if !set_pod_status(&store, &ns, &name, |p| {
        p["spec"]["nodeName"] = json!(node);
        p["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastTransitionTime": now()}]);
        p["status"]["hostIP"] = json!("192.168.1.11");
    }) {
        return PodEnd::Gone;
    }
    {
        let mut s = lock(&store);
        event(
            &mut s,
            &ns,
            "Pod",
            &name,
            "Normal",
            "Scheduled",
            &format!("Successfully assigned {ns}/{name} to {node}"),
        );
    }
    // The image.
    let pull_fails = |s: &Store| s.kubelet.as_ref().is_some_and(|k| k.faults.image_pull.contains(&image));
    if pull_fails(&lock(&store)) {
        let message = format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found");
        {
            let mut s = lock(&store);
            event(&mut s, &ns, "Pod", &name, "Warning", "Failed", &message);
        }
        set_pod_status(&store, &ns, &name, |p| {
            p["status"]["containerStatuses"] = json!([{"name": container, "image": image, "ready": false, "restartCount": 0, "started": false,
                "state": {"waiting": {"reason": "ErrImagePull", "message": message}}}]);
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        set_pod_status(&store, &ns, &name, |p| {
            p["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}});
        });
        if !wait_while(&store, &ns, &name, pull_fails).await {
            return PodEnd::Gone;
        }
    }
    // The container.
    let run = {
        let s = lock(&store);
        let Some(k) = s.kubelet.as_ref() else { return PodEnd::Failed("the kubelet mode was switched off".into()) };
        let Some(pod) = s.get(pods_res(), &ns, &name) else { return PodEnd::Gone };
        local_run(k, pod, None)
    };
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            let mut s = lock(&store);
            event(&mut s, &ns, "Pod", &name, "Warning", "FailedMount", &e);
            drop(s);
            set_pod_status(&store, &ns, &name, |p| {
                p["status"]["phase"] = json!("Failed");
                p["status"]["reason"] = json!("FailedMount");
                p["status"]["message"] = json!(e);
            });
            return PodEnd::Failed(e);
        }
    };
    let end = run_container(&store, &ns, &name, &container, &image, &run).await;
    for d in &run.scratch {
        let _ = std::fs::remove_dir_all(d);
    }
    if let Some(base) = run.scratch.first().and_then(|d| d.parent()) {
        let _ = std::fs::remove_dir(base);
    }
    end
}

async fn run_container(store: &Shared, ns: &str, name: &str, container: &str, image: &str, run: &LocalRun) -> PodEnd {
    {
        let mut s = lock(store);
        event(
            &mut s,
            ns,
            "Pod",
            name,
            "Normal",
            "Pulled",
            &format!("Container image \"{image}\" already present on machine"),
        );
        event(&mut s, ns, "Pod", name, "Normal", "Created", &format!("Created container {container}"));
    }
    let mut cmd = Command::new(&run.program);
    cmd.args(&run.args)
        .env_clear()
        .envs(run.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let message = format!("failed to create containerd task: exec: {}: {e}", run.program.display());
            set_pod_status(store, ns, name, |p| {
                p["status"]["phase"] = json!("Failed");
                p["status"]["containerStatuses"] = json!([{"name": container, "image": image, "ready": false, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 128, "reason": "StartError", "message": message, "finishedAt": now()}}}]);
            });
            return PodEnd::Failed(message);
        }
    };
    let started = now();
    set_pod_status(store, ns, name, |p| {
        p["status"]["phase"] = json!("Running");
        p["status"]["startTime"] = json!(started);
        p["status"]["podIP"] = json!("10.0.1.20");
        p["status"]["conditions"] =
            json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]);
        p["status"]["containerStatuses"] = json!([{"name": container, "image": image, "ready": true, "restartCount": 0, "started": true,
            "state": {"running": {"startedAt": started}}}]);
    });
    {
        let mut s = lock(store);
        event(&mut s, ns, "Pod", name, "Normal", "Started", &format!("Started container {container}"));
    }
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    for out in [
        child.stdout.take().map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(out).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut written = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut oom = false;
    let mut lines_open = true;
    let status = loop {
        tokio::select! {
            line = lines.recv(), if lines_open => match line {
                Some(l) => {
                    written += 1;
                    let mut s = lock(store);
                    s.append_log(ns, name, &l);
                    if s.kubelet.as_ref().and_then(|k| k.faults.oom_after_lines).is_some_and(|n| written >= n) {
                        oom = true;
                        drop(s);
                        let _ = child.start_kill();
                    }
                }
                None => lines_open = false,
            },
            st = child.wait(), if !lines_open => break st.ok(),
            _ = tick.tick() => {
                if !pod_exists(store, ns, name) {
                    let _ = child.kill().await;
                    return PodEnd::Gone;
                }
            }
        }
    };
    let code = status.and_then(|s| s.code()).unwrap_or(137);
    let (code, reason) = if oom {
        (137, "OOMKilled")
    } else if code == 0 {
        (0, "Completed")
    } else {
        (code, "Error")
    };
    let finished = now();
    let ok = code == 0;
    let alive = set_pod_status(store, ns, name, |p| {
        p["status"]["phase"] = json!(if ok { "Succeeded" } else { "Failed" });
        p["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False", "reason": "PodCompleted"}]);
        p["status"]["containerStatuses"] = json!([{"name": container, "image": image, "ready": false, "restartCount": 0, "started": false,
            "state": {"terminated": {"exitCode": code, "reason": reason, "startedAt": started, "finishedAt": finished}}}]);
    });
    if !alive {
        return PodEnd::Gone;
    }
    if ok {
        PodEnd::Succeeded
    } else {
        PodEnd::Failed(format!("container {container} terminated: {reason} (exit code {code})"))
    }
}

fn pod_suffix(store: &Store, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let h = Sha256::digest(format!("{salt}/{}", store.rv).as_bytes());
    h.iter().take(5).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

fn set_job_status(store: &Shared, ns: &str, name: &str, f: impl FnOnce(&mut Value)) -> bool {
    let mut s = lock(store);
    let Some(mut job) = s.get(jobs_res(), ns, name).cloned() else { return false };
    f(&mut job["status"]);
    s.put(job);
    true
}

/// `0-2,4` from indexes.
fn ranges(done: &[u32]) -> String {
    let mut v = done.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        out.push(if i == j { v[i].to_string() } else { format!("{}-{}", v[i], v[j]) });
        i = j + 1;
    }
    out.join(",")
}

fn delete_pods(store: &Shared, ns: &str, names: &[String]) {
    let mut s = lock(store);
    for n in names {
        s.delete(pods_res(), ns, n);
    }
}

/// The Job controller for one Job.
async fn run_job(store: Shared, ns: String, name: String) {
    let Some(job) = lock(&store).get(jobs_res(), &ns, &name).cloned() else { return };
    let spec = &job["spec"];
    let completions = spec["completions"].as_u64().unwrap_or(1).max(1) as u32;
    let parallelism = spec["parallelism"].as_u64().unwrap_or(1).max(1) as u32;
    let backoff = spec["backoffLimit"].as_u64().unwrap_or(6) as u32;
    let indexed = spec["completionMode"].as_str() == Some("Indexed");
    let deadline = spec["activeDeadlineSeconds"].as_u64().map(Duration::from_secs);
    let uid = job["metadata"]["uid"].as_str().unwrap_or_default().to_string();
    let started = now();
    let began = tokio::time::Instant::now();
    set_job_status(&store, &ns, &name, |st| {
        *st = json!({"startTime": started, "active": 0, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}});
    });
    let mut queue: Vec<u32> = (0..completions).rev().collect();
    let mut running: tokio::task::JoinSet<(u32, String, PodEnd)> = tokio::task::JoinSet::new();
    let mut active: BTreeMap<u32, String> = BTreeMap::new();
    let (mut succeeded, mut failed) = (0u32, 0u32);
    let mut done: Vec<u32> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let finish = |store: &Shared,
                  kind: &str,
                  reason: &str,
                  message: &str,
                  succeeded: u32,
                  failed: u32,
                  done: &[u32]| {
        let at = now();
        let (kind, reason, message) = (kind.to_string(), reason.to_string(), message.to_string());
        let done = ranges(done);
        set_job_status(store, &ns, &name, |st| {
            st["active"] = json!(0);
            st["ready"] = json!(0);
            st["succeeded"] = json!(succeeded);
            st["failed"] = json!(failed);
            if indexed {
                st["completedIndexes"] = json!(done);
            }
            let mut conds = vec![];
            if kind == "Complete" {
                conds.push(json!({"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastTransitionTime": at}));
                st["completionTime"] = json!(at);
            } else {
                conds.push(json!({"type": "FailureTarget", "status": "True", "reason": reason, "message": message, "lastTransitionTime": at}));
            }
            conds.push(
                json!({"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": at}),
            );
            st["conditions"] = json!(conds);
        });
        let mut s = lock(store);
        let (kind_of, ev) = if kind == "Complete" { ("Normal", "Completed") } else { ("Warning", reason.as_str()) };
        event(&mut s, &ns, "Job", &name, kind_of, ev, &message);
    };
    loop {
        while active.len() < parallelism as usize {
            let Some(index) = queue.pop() else { break };
            let pod_name = {
                let s = lock(&store);
                let suffix = pod_suffix(&s, &format!("{uid}/{index}/{failed}"));
                if indexed {
                    format!("{name}-{index}-{suffix}")
                } else {
                    format!("{name}-{suffix}")
                }
            };
            let mut template = job["spec"]["template"].clone();
            let mut meta = template["metadata"].take();
            if !meta.is_object() {
                meta = json!({});
            }
            meta["name"] = json!(pod_name);
            meta["namespace"] = json!(ns);
            meta["labels"]["job-name"] = json!(name);
            meta["labels"]["batch.kubernetes.io/job-name"] = json!(name);
            meta["labels"]["controller-uid"] = json!(uid);
            meta["labels"]["batch.kubernetes.io/controller-uid"] = json!(uid);
            if indexed {
                meta["labels"]["batch.kubernetes.io/job-completion-index"] = json!(index.to_string());
                meta["annotations"]["batch.kubernetes.io/job-completion-index"] = json!(index.to_string());
            }
            meta["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
            let pod = json!({"kind": "Pod", "metadata": meta, "spec": template["spec"].take()});
            {
                let mut s = lock(&store);
                s.put(pod);
                event(&mut s, &ns, "Job", &name, "Normal", "SuccessfulCreate", &format!("Created pod: {pod_name}"));
            }
            active.insert(index, pod_name.clone());
            let (st, n2, p2) = (store.clone(), ns.clone(), pod_name.clone());
            running.spawn(async move {
                let end = run_pod(st, n2, p2.clone()).await;
                (index, p2, end)
            });
            let n_active = active.len();
            set_job_status(&store, &ns, &name, |st| st["active"] = json!(n_active));
        }
        if active.is_empty() && queue.is_empty() {
            finish(
                &store,
                "Complete",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                succeeded,
                failed,
                &done,
            );
            return;
        }
        tokio::select! {
            joined = running.join_next() => {
                let Some(Ok((index, _pod, end))) = joined else { continue };
                active.remove(&index);
                match end {
                    PodEnd::Succeeded => {
                        succeeded += 1;
                        done.push(index);
                    }
                    PodEnd::Failed(_) | PodEnd::Gone => {
                        if lock(&store).get(jobs_res(), &ns, &name).is_none() {
                            let left: Vec<String> = active.values().cloned().collect();
                            delete_pods(&store, &ns, &left);
                            return;
                        }
                        failed += 1;
                        if failed > backoff {
                            let left: Vec<String> = active.values().cloned().collect();
                            delete_pods(&store, &ns, &left);
                            finish(&store, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", succeeded, failed, &done);
                            return;
                        }
                        queue.push(index);
                    }
                }
                let (n_active, d) = (active.len(), ranges(&done));
                set_job_status(&store, &ns, &name, |st| {
                    st["active"] = json!(n_active);
                    st["succeeded"] = json!(succeeded);
                    st["failed"] = json!(failed);
                    if indexed {
                        st["completedIndexes"] = json!(d);
                    }
                });
            }
            _ = tick.tick() => {
                if lock(&store).get(jobs_res(), &ns, &name).is_none() {
                    let left: Vec<String> = active.values().cloned().collect();
                    delete_pods(&store, &ns, &left);
                    return;
                }
                if deadline.is_some_and(|d| began.elapsed() >= d) {
                    let left: Vec<String> = active.values().cloned().collect();
                    delete_pods(&store, &ns, &left);
                    finish(&store, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline", succeeded, failed + left.len() as u32, &done);
                    return;
                }
            }
        }
    }
}
