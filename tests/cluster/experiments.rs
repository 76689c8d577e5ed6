//! Experiments on the cluster, end to end: the fake API server in kubelet mode runs the
//! real `hsofctl` as the engine image's container, with the data claim a local folder.
//! A cluster run returns the features a local run returns; uploads are content-addressed
//! and skipped when present; Pending reasons, deadlines, OOM kills, deleted pods, broken
//! reports, forbidden verbs, a read-only config and a claim that is not ReadWriteMany each
//! end in a clear state; cancel deletes the Job; a restart reattaches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use hsof_core::experiments::{ClusterRun, ExperimentRequest, ExperimentStatus, OuterValidation, Progress};
use hsof_core::{AppContext, BackendChoice, ErrorCode, Options};
use hsof_fake_kube::{seed_hsof, FakeKube, Kubelet, Store};
use tokio_util::sync::CancellationToken;

const IMAGE: &str = "hsof/hsof-engine:0.1.0";

struct Setup {
    server: FakeKube,
    kubeconfig: PathBuf,
    claim: PathBuf,
    dir: tempfile::TempDir,
    ctx: Arc<AppContext>,
}

impl Setup {
    fn kubectl(&self, args: &[&str]) -> String {
        crate::kubectl_at(&self.kubeconfig, args)
    }

    fn cli(&self) -> std::process::Command {
        let mut c = std::process::Command::new(hsof_tests::hsofctl());
        c.env("HSOF_CONTROL_CONFIG", self.dir.path().join("config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", self.dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .env("KUBECONFIG", &self.kubeconfig);
        c
    }

    fn jobs(&self) -> Vec<String> {
        self.server.with(|s| s.objects.keys().filter(|(p, _, _)| p == "jobs").map(|(_, _, n)| n.clone()).collect())
    }
}

/// A fake cluster in kubelet mode and a desktop pointed at it; `edit` changes the config.
fn setup(images: &[(&str, PathBuf)], edit: impl FnOnce(&mut hsof_core::config::Config)) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let claim = dir.path().join("claim");
    let mut store = Store::default();
    seed_hsof(&mut store, 1, 0);
    let mut k = Kubelet::from_pairs(&[], &[format!("hsof-data-storage={}", claim.display())]).expect("kubelet");
    k.images.insert(IMAGE.into(), hsof_tests::hsofctl());
    for (image, bin) in images {
        k.images.insert((*image).into(), bin.clone());
    }
    store.kubelet = Some(k);
    let server = FakeKube::start(store);
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = kubeconfig.display().to_string();
    edit(&mut cfg);
    let config = dir.path().join("config.toml");
    hsof_core::config::save(&config, &cfg).expect("config");
    let ctx = AppContext::open(&Options {
        config: Some(config),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    Setup { server, kubeconfig, claim, dir, ctx: Arc::new(ctx) }
}

/// A classification CSV: `informative` columns carry the label, the rest is noise.
fn dataset(dir: &Path, name: &str, rows: usize, noise: usize) -> PathBuf {
    let mut next = hsof_tests::uniform(0x9e37_79b9_7f4a_7c15);
    let mut text = String::from("id,y,a,b,c");
    for j in 0..noise {
        text.push_str(&format!(",n{j}"));
    }
    text.push('\n');
    for i in 0..rows {
        let (a, b, c) = (next(), next(), next());
        let y = u8::from(a + 0.8 * b - 0.6 * c + 0.1 * next() > 0.0);
        text.push_str(&format!("{i},{y},{a:.5},{b:.5},{c:.5}"));
        for _ in 0..noise {
            text.push_str(&format!(",{:.5}", next()));
        }
        text.push('\n');
    }
    let p = dir.join(name);
    std::fs::write(&p, text).expect("csv");
    p
}

fn request(input: &Path) -> ExperimentRequest {
    ExperimentRequest {
        input: input.display().to_string(),
        target: Some("y".into()),
        id_columns: vec!["id".into()],
        k1: Some(12),
        k2: Some(6),
        k3: Some(3),
        seed: Some(11),
        threads: Some(2),
        outer: Some(OuterValidation::Holdout(0.25)),
        search_seconds: Some(120.0),
        ..Default::default()
    }
}

type Seen = Arc<Mutex<Vec<Progress>>>;

fn sink(seen: &Seen) -> impl Fn(Progress) + Send + Sync + 'static {
    let seen = seen.clone();
    move |p| seen.lock().expect("lock").push(p)
}

fn said(seen: &Seen, needle: &str) -> bool {
    seen.lock().expect("lock").iter().any(|p| p.message.contains(needle))
}

fn features(e: &hsof_core::experiments::Experiment) -> Vec<String> {
    e.report.as_ref().expect("report").final_results.selected_features.iter().map(|f| f.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_run_returns_the_local_features_and_the_cli_does_too() {
    let s = setup(&[], |_| {});
    let input = dataset(s.dir.path(), "churn.csv", 240, 20);
    let token = CancellationToken::new();
    let local = s.ctx.run_experiment(request(&input), |_| {}, &token, Utc::now).await.expect("local run");

    let seen: Seen = Arc::default();
    let out = s.dir.path().join("report.json");
    let remote_req = ExperimentRequest {
        cluster: Some(ClusterRun::default()),
        out_path: Some(out.display().to_string()),
        ..request(&input)
    };
    let remote = s.ctx.run_experiment(remote_req.clone(), sink(&seen), &token, Utc::now).await.expect("cluster run");
    assert_eq!(features(&remote), features(&local), "the Job's engine chose what the local engine chose");
    let backend = remote.summary.backend.clone().unwrap_or_default();
    assert!(backend.starts_with("cluster ") && backend.contains("gpu-node-1"), "{backend}");
    assert!(out.is_file(), "the report asked for is written locally");
    // Progress came from the pod's log, stage by stage.
    let stages: Vec<_> = seen.lock().expect("lock").iter().map(|p| p.stage).collect();
    for st in [
        hsof_core::experiments::Stage::Filter,
        hsof_core::experiments::Stage::Search,
        hsof_core::experiments::Stage::Evaluate,
    ] {
        assert!(stages.contains(&st), "no {st:?} progress from the pod log: {stages:?}");
    }
    assert!(said(&seen, "uploaded"), "the first run uploads");
    // The data is content-addressed on the claim; the report is there too.
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&input).expect("read")))
    };
    assert!(s.claim.join(format!("datasets/{sha}/churn.csv")).is_file());
    let job = s.jobs().into_iter().next().expect("a job");
    assert!(s.claim.join(format!("results/{job}.json")).is_file(), "the engine wrote its report to the claim");
    assert!(!std::fs::read_dir(s.claim.join(format!("datasets/{sha}")))
        .expect("dir")
        .any(|e| { e.map(|e| e.file_name().to_string_lossy().ends_with(".part")).unwrap_or(false) }));
    let listed = s.kubectl(&["get", "jobs"]);
    assert!(listed.contains(&job), "{listed}");
    let audit = s.ctx.audit_list(20).expect("audit");
    assert!(audit.iter().any(|a| a.action == "experiment.cluster_run" && a.target.contains(&job)), "{audit:?}");
    assert!(audit.iter().any(|a| a.action == "experiment.upload"));
    let row = s.ctx.experiment_get(remote.summary.id).expect("row");
    assert_eq!(row.summary.status, ExperimentStatus::Ok);
    // The upload pod is gone.
    let pods = s.kubectl(&["get", "pods", "-o", "name"]);
    assert!(!pods.contains("hsof-upload-"), "{pods}");

    // The same file again, from the CLI: no second upload, the same features.
    let cli = s
        .cli()
        .args(["--json", "select", "--cluster", "--input"])
        .arg(&input)
        .args(["--target", "y", "--id-cols", "id", "--k1", "12", "--k2", "6", "--k3", "3", "--seed", "11"])
        .args(["--threads", "2", "--outer", "holdout:0.25", "--search-seconds", "120"])
        .output()
        .expect("hsofctl");
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(cli.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&cli.stdout).expect("json");
    let names: Vec<String> = v["report"]["final_results"]["selected_features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, features(&local));
    let uploads = s.ctx.audit_list(50).expect("audit").iter().filter(|a| a.action == "experiment.upload").count();
    assert_eq!(uploads, 1, "the second run found the file on the claim");
    assert_eq!(s.jobs().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_input_on_the_claim_runs_in_place() {
    let s = setup(&[], |_| {});
    std::fs::create_dir_all(s.claim.join("shared")).expect("dir");
    let input = dataset(&s.claim.join("shared"), "t.csv", 160, 10);
    let token = CancellationToken::new();
    let req = ExperimentRequest {
        input: "pvc:shared/t.csv".into(),
        cluster: Some(ClusterRun { gpus: Some(0), shards: None }),
        ..request(&input)
    };
    let e = s.ctx.run_experiment(req, |_| {}, &token, Utc::now).await.expect("run");
    assert_eq!(e.summary.input, "pvc:shared/t.csv");
    assert!(s.ctx.audit_list(20).expect("audit").iter().all(|a| a.action != "experiment.upload"));
    // No GPU asked: no nvidia.com/gpu limit on the pod.
    let job: serde_json::Value = serde_json::from_str(&s.kubectl(&["get", "jobs", "-o", "json"])).expect("json");
    let limits = &job["items"][0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"];
    assert!(limits.get("nvidia.com/gpu").is_none(), "{limits}");
}

async fn wait_for(seen: &Seen, needle: &str, secs: u64) {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while !said(seen, needle) {
        assert!(std::time::Instant::now() < until, "never said `{needle}`: {:?}", seen.lock().expect("lock"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_gpu_capacity_shows_the_scheduler_reason_and_the_deadline_ends_it() {
    let s = setup(&[], |c| c.experiments.cluster.active_deadline_seconds = 4);
    s.server.with(|st| st.kubelet.as_mut().expect("kubelet").faults.no_gpu_capacity = true);
    let input = dataset(s.dir.path(), "d.csv", 120, 5);
    let seen: Seen = Arc::default();
    let token = CancellationToken::new();
    let req = ExperimentRequest { cluster: Some(ClusterRun::default()), ..request(&input) };
    let err = s.ctx.run_experiment(req, sink(&seen), &token, Utc::now).await.expect_err("never scheduled");
    assert!(said(&seen, "Insufficient nvidia.com/gpu"), "the Pending reason is shown as it happens");
    let m = err.to_string();
    assert!(m.contains("DeadlineExceeded") && m.contains("Insufficient nvidia.com/gpu"), "{m}");
    let row = &s.ctx.experiments_list(1).expect("list")[0];
    assert_eq!((row.status, row.error_code.as_deref()), (ExperimentStatus::Failed, Some("job_failed")));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_that_cannot_be_pulled_is_named_while_waiting_and_when_the_deadline_ends_it() {
    let s = setup(&[], |c| c.experiments.cluster.active_deadline_seconds = 4);
    s.server.with(|st| st.kubelet.as_mut().expect("kubelet").faults.image_pull = vec![IMAGE.into()]);
    let input = dataset(s.dir.path(), "d.csv", 120, 5);
    std::fs::create_dir_all(&s.claim).expect("claim");
    std::fs::copy(&input, s.claim.join("d.csv")).expect("copy");
    let seen: Seen = Arc::default();
    let req = ExperimentRequest { input: "pvc:d.csv".into(), cluster: Some(ClusterRun::default()), ..request(&input) };
    let err = s.ctx.run_experiment(req, sink(&seen), &CancellationToken::new(), Utc::now).await.expect_err("no image");
    assert!(said(&seen, "ImagePullBackOff") || said(&seen, "ErrImagePull"), "{:?}", seen.lock().expect("lock"));
    let m = err.to_string();
    assert!(m.contains("DeadlineExceeded") && m.contains("hsof/hsof-engine:0.1.0"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn oom_killed_and_a_deleted_pod_fail_with_their_reason() {
    let s = setup(&[], |_| {});
    let input = dataset(s.dir.path(), "d.csv", 200, 10);
    s.server.with(|st| st.kubelet.as_mut().expect("kubelet").faults.oom_after_lines = Some(2));
    let token = CancellationToken::new();
    let req = ExperimentRequest { cluster: Some(ClusterRun::default()), ..request(&input) };
    let err = s.ctx.run_experiment(req.clone(), |_| {}, &token, Utc::now).await.expect_err("oom");
    let m = err.to_string();
    assert!(m.contains("OOMKilled") && m.contains("memory_request"), "{m}");

    // A pod deleted (its node lost) mid-run.
    s.server.with(|st| st.kubelet.as_mut().expect("kubelet").faults.oom_after_lines = None);
    let big = dataset(s.dir.path(), "big.csv", 3000, 300);
    let seen: Seen = Arc::default();
    let ctx = s.ctx.clone();
    let run = tokio::spawn({
        let (seen, req) = (seen.clone(), ExperimentRequest { search_seconds: Some(30.0), ..request(&big) });
        async move {
            let token = CancellationToken::new();
            let req = ExperimentRequest { cluster: Some(ClusterRun::default()), k1: Some(100), ..req };
            ctx.run_experiment(req, sink(&seen), &token, Utc::now).await
        }
    });
    wait_for(&seen, "runs on", 60).await;
    // "runs on" is said when the pod is scheduled; it is Running a moment later (on a busy
    // machine, more than a moment): wait for it rather than read an empty list.
    let started = std::time::Instant::now();
    let pod = loop {
        let pod = s
            .kubectl(&[
                "get",
                "pods",
                "-l",
                "app.kubernetes.io/component=experiment",
                "--field-selector",
                "status.phase=Running",
                "-o",
                "name",
            ])
            .trim()
            .to_string();
        if !pod.is_empty() {
            break pod;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the experiment's pod never ran");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    s.kubectl(&["delete", &pod, "--wait=false"]);
    let err = run.await.expect("join").expect_err("pod deleted");
    assert!(err.to_string().contains("BackoffLimitExceeded"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_deletes_the_job_and_a_restart_reattaches() {
    let s = setup(&[], |_| {});
    let big = dataset(s.dir.path(), "big.csv", 3000, 300);
    let req = ExperimentRequest {
        cluster: Some(ClusterRun::default()),
        k1: Some(100),
        search_seconds: Some(30.0),
        ..request(&big)
    };
    let seen: Seen = Arc::default();
    let token = CancellationToken::new();
    let run = tokio::spawn({
        let (ctx, seen, token, req) = (s.ctx.clone(), seen.clone(), token.clone(), req.clone());
        async move { ctx.run_experiment(req, sink(&seen), &token, Utc::now).await }
    });
    wait_for(&seen, "runs on", 60).await;
    token.cancel();
    let err = run.await.expect("join").expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert!(s.jobs().is_empty(), "the Job is deleted");
    let pods = s.kubectl(&["get", "pods", "-l", "app.kubernetes.io/component=experiment", "-o", "name"]);
    assert!(pods.trim().is_empty(), "its pod went with it: {pods}");
    assert_eq!(s.ctx.experiments_list(1).expect("list")[0].status, ExperimentStatus::Cancelled);
    assert!(s.ctx.audit_list(10).expect("audit").iter().any(|a| a.action == "experiment.cancel"));

    // The app goes away while a Job runs: the row stays running; attaching follows it to the end.
    let seen: Seen = Arc::default();
    let run = tokio::spawn({
        let (ctx, seen, req) = (s.ctx.clone(), seen.clone(), ExperimentRequest { search_seconds: Some(5.0), ..req });
        async move { ctx.run_experiment(req, sink(&seen), &CancellationToken::new(), Utc::now).await }
    });
    wait_for(&seen, "runs on", 60).await;
    run.abort();
    let _ = run.await;
    let id = s.ctx.cluster_runs_running().expect("running")[0];
    assert_eq!(s.ctx.experiment_get(id).expect("row").summary.status, ExperimentStatus::Running);
    let cli = s.cli().args(["--json", "select", "attach", &id.to_string()]).output().expect("hsofctl");
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let done = s.ctx.experiment_get(id).expect("row");
    assert_eq!(done.summary.status, ExperimentStatus::Ok);
    assert_eq!(done.report.expect("report").final_results.selected_features.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_that_is_not_json_fails_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("broken-engine");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"event\":\"progress\",\"stage\":\"filter\",\"fraction\":1.0,\"message\":\"done\"}'\necho '{\"event\":\"report\",\"report\":{\"dataset_info\":'\n",
    )
    .expect("script");
    std::process::Command::new("chmod").arg("+x").arg(&script).status().expect("chmod");
    let s = setup(&[("hsof/broken:1", script)], |c| c.experiments.cluster.image = "hsof/broken:1".into());
    let input = dataset(s.dir.path(), "d.csv", 50, 2);
    let req = ExperimentRequest { input: "pvc:d.csv".into(), cluster: Some(ClusterRun::default()), ..request(&input) };
    std::fs::create_dir_all(&s.claim).expect("claim");
    std::fs::copy(&input, s.claim.join("d.csv")).expect("copy");
    let err = s.ctx.run_experiment(req, |_| {}, &CancellationToken::new(), Utc::now).await.expect_err("bad report");
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    let row = &s.ctx.experiments_list(1).expect("list")[0];
    assert_eq!((row.status, row.error_code.as_deref()), (ExperimentStatus::Failed, Some("invalid_report")));
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_verbs_read_only_and_a_single_node_claim_are_refused_before_anything() {
    let s = setup(&[], |_| {});
    let input = dataset(s.dir.path(), "d.csv", 50, 2);
    let req = ExperimentRequest { cluster: Some(ClusterRun::default()), ..request(&input) };
    let token = CancellationToken::new();
    s.server.with(|st| st.denied.push(("create".into(), "pods".into(), "exec".into())));
    let err = s.ctx.run_experiment(req.clone(), |_| {}, &token, Utc::now).await.expect_err("forbidden");
    assert_eq!(err.code(), ErrorCode::Forbidden);
    assert!(err.to_string().contains("create pods/exec"), "{err}");
    assert!(s.jobs().is_empty());
    assert!(s.ctx.experiments_list(5).expect("list").is_empty(), "refused before any record");
    s.server.with(|st| st.denied.clear());
    s.ctx.forget_permissions();

    s.server.with(|st| {
        let pvcs = st.kind("PersistentVolumeClaim").expect("pvc");
        let mut c = st.get(pvcs, "hsof", "hsof-data-storage").cloned().expect("claim");
        c["spec"]["accessModes"] = serde_json::json!(["ReadWriteOnce"]);
        st.put(c);
    });
    let err = s.ctx.run_experiment(req.clone(), |_| {}, &token, Utc::now).await.expect_err("rwo");
    assert!(err.to_string().contains("ReadWriteOnce") && err.to_string().contains("ReadWriteMany"), "{err}");
    s.server.with(|st| {
        let pvcs = st.kind("PersistentVolumeClaim").expect("pvc");
        st.delete(pvcs, "hsof", "hsof-data-storage");
    });
    let err = s.ctx.run_experiment(req.clone(), |_| {}, &token, Utc::now).await.expect_err("no claim");
    assert!(err.to_string().contains("does not exist"), "{err}");

    let mut cfg = s.ctx.config().config;
    cfg.cluster.read_only = true;
    s.ctx.save_config(cfg, "test", Utc::now()).expect("save");
    let err = s.ctx.run_experiment(req, |_| {}, &token, Utc::now).await.expect_err("read only");
    assert_eq!(err.code(), ErrorCode::Forbidden);
    assert!(err.to_string().contains("read_only"), "{err}");
    assert!(s.jobs().is_empty());
}

#[test]
fn a_cut_or_corrupted_upload_never_leaves_a_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("datasets/x/d.csv");
    let body = b"a,b\n1,2\n3,4\n";
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(body))
    };
    let receive = |bytes: &[u8], size: usize, sha: &str| {
        let mut child = std::process::Command::new(hsof_tests::hsofctl())
            .args(["dataset", "receive"])
            .arg(&target)
            .args(["--sha256", sha, "--size", &size.to_string()])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("hsofctl");
        let _ = child.stdin.take().expect("stdin").write_all(bytes);
        let out = child.wait_with_output().expect("wait");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = receive(&body[..5], body.len(), &sha);
    assert_ne!(code, Some(0));
    assert!(err.contains("cut after 5 of 12 bytes"), "{err}");
    let (code, err) = receive(b"a,b\n1,2\n3,5\n", body.len(), &sha);
    assert_ne!(code, Some(0));
    assert!(err.contains("corrupted"), "{err}");
    assert!(!target.exists());
    let left: Vec<_> = std::fs::read_dir(target.parent().expect("dir")).expect("dir").collect();
    assert!(left.is_empty(), "no temporary file left: {left:?}");
    let (code, err) = receive(body, body.len(), &sha);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(&target).expect("file"), body);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_shards_keep_the_columns_and_features_of_one_process() {
    let s = setup(&[], |_| {});
    let input = dataset(s.dir.path(), "wide.csv", 240, 40);
    let token = CancellationToken::new();
    let local = s.ctx.run_experiment(request(&input), |_| {}, &token, Utc::now).await.expect("local run");
    let seen: Seen = Arc::default();
    let req = ExperimentRequest { cluster: Some(ClusterRun { gpus: None, shards: Some(3) }), ..request(&input) };
    let sharded = s.ctx.run_experiment(req, sink(&seen), &token, Utc::now).await.expect("sharded run");
    assert_eq!(features(&sharded), features(&local));
    let (a, b) = (local.report.expect("report"), sharded.report.expect("report"));
    let relevance = |r: &hsof_core::experiments::SelectionReport| -> Vec<(String, f64)> {
        r.final_results.selected_features.iter().map(|f| (f.name.clone(), f.relevance)).collect()
    };
    assert_eq!(relevance(&b), relevance(&a), "the merged statistics are the single process's, bit for bit");
    let kept = |r: &hsof_core::experiments::SelectionReport| -> Vec<(u32, u32)> {
        r.stages.iter().map(|st| (st.input_features, st.output_features)).collect()
    };
    assert_eq!(kept(&b), kept(&a));
    assert!(said(&seen, "stage 1 done on 3 shards"), "{:?}", seen.lock().expect("lock"));
    // The Indexed Job, as kubectl shows it.
    let jobs: serde_json::Value = serde_json::from_str(&s.kubectl(&["get", "jobs", "-o", "json"])).expect("json");
    let stage1 = jobs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|j| j["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("hsof-stage1-")))
        .expect("the stage-1 job");
    assert_eq!(stage1["spec"]["completionMode"], "Indexed");
    assert_eq!(stage1["spec"]["completions"], 3);
    assert_eq!(stage1["status"]["succeeded"], 3);
    assert_eq!(stage1["status"]["completedIndexes"], "0-2");
    let table = s.kubectl(&["get", "jobs"]);
    assert!(table.lines().any(|l| l.starts_with("hsof-stage1-") && l.contains("3/3")), "{table}");
    let shard_dir = std::fs::read_dir(s.claim.join("results"))
        .expect("results")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with("-stage1"))
        .expect("the shards' folder");
    assert_eq!(std::fs::read_dir(shard_dir.path()).expect("dir").count(), 3, "one file per shard");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_removed_before_anyone_read_it_is_read_back_from_the_claim() {
    let s = setup(&[], |_| {});
    let input = dataset(s.dir.path(), "d.csv", 200, 10);
    let req = ExperimentRequest { cluster: Some(ClusterRun::default()), ..request(&input) };
    let seen: Seen = Arc::default();
    let run = tokio::spawn({
        let (ctx, seen) = (s.ctx.clone(), seen.clone());
        async move { ctx.run_experiment(req, sink(&seen), &CancellationToken::new(), Utc::now).await }
    });
    wait_for(&seen, "runs on", 60).await;
    run.abort();
    let _ = run.await;
    let id = s.ctx.cluster_runs_running().expect("running")[0];
    // The Job finishes with no app following it, and its TTL removes it (here: kubectl).
    let job = s.jobs().into_iter().next().expect("job");
    // Generous: on a 2-core machine the cluster suite runs its tests side by side, each
    // with its own fake API server, kubectl and engine processes.
    let until = std::time::Instant::now() + Duration::from_secs(180);
    while !s.kubectl(&["get", "job", &job, "-o", "jsonpath={.status.succeeded}"]).contains('1') {
        assert!(std::time::Instant::now() < until, "the job never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.kubectl(&["delete", "job", &job]);
    let e = s.ctx.experiment_attach(id, |_| {}, &CancellationToken::new(), Utc::now).await.expect("read back");
    assert_eq!(e.summary.status, ExperimentStatus::Ok);
    assert!(e.summary.backend.unwrap_or_default().contains("read back from the claim"));
    assert_eq!(e.report.expect("report").final_results.selected_features.len(), 3);
    let pods = s.kubectl(&["get", "pods", "-o", "name"]);
    assert!(!pods.contains("hsof-read-"), "the reading pod is gone: {pods}");
}
