//! The monthly DR drill between two fake API servers, through the real `hsofctl` and judged
//! by the real `kubectl`: the restore Job runs and is cleaned up, the DR cluster is scaled
//! up and back, RTO and RPO are recorded, the calendar's monthly-dr-test occurrence gets
//! every part, a drill killed half-way is found and rolled back, and the faults (a failing
//! restore, a DR cluster without HSOF, read-only, a backup older than the RPO target) are
//! each named with nothing left scaled up.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hsof_tests::webhook::{Answer, Webhook};
use serde_json::Value;

use crate::regions::Region;

fn region(dir: &Path, name: &str, replicas: i64) -> Region {
    Region::start(dir, name, replicas)
}

fn kubectl(r: &Region, args: &[&str]) -> String {
    r.kubectl(args)
}

fn replicas(r: &Region) -> String {
    kubectl(r, &["get", "deployment", "hsof-main", "-o", "jsonpath={.spec.replicas}"]).trim().to_string()
}

struct Setup {
    dir: tempfile::TempDir,
    prod: Region,
    dr: Region,
    hook: Webhook,
}

impl Setup {
    fn new(hold_secs: u32, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let prod = region(dir.path(), "prod-eu", 3);
        let dr = region(dir.path(), "dr-us", 0);
        let hook = Webhook::start(Answer::Ok);
        let restore = if extra.contains("restore_timeout_secs") { "" } else { "restore_timeout_secs = 30\n" };
        let text = format!(
            "[endpoints]\nrequest_timeout_secs = 2\n\n[dr]\nfailover_hold_secs = {hold_secs}\nfailover_timeout_secs = 30\n{restore}{extra}\n{}{}",
            prod.entry("prod-eu", "primary"),
            dr.entry("dr-us", "dr")
        );
        std::fs::write(dir.path().join("config.toml"), text).expect("config");
        let s = Setup { dir, prod, dr, hook };
        let mut child = s.cmd(&["secret", "set", "slack-webhook"]).stdin(Stdio::piped()).spawn().expect("hsofctl");
        child.stdin.take().expect("stdin").write_all(s.hook.url.as_bytes()).expect("write");
        assert!(child.wait().expect("wait").success());
        s
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(hsof_tests::hsofctl());
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .env_remove("LD_PRELOAD")
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().expect("hsofctl");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn json(&self, args: &[&str]) -> (i32, Value, String) {
        let (code, out, err) = self.run(&[&["--json"], args].concat());
        let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out} {err}"));
        (code, v, err)
    }
}

fn verdict(drill: &Value, step: &str) -> String {
    drill["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["id"] == step))
        .map(|x| x["verdict"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[test]
fn a_drill_restores_fails_over_measures_rto_and_rpo_and_puts_everything_back() {
    let s = Setup::new(1, "");
    // Without --yes it only says what it would do.
    let (code, plan, _) = s.run(&["dr", "drill"]);
    assert_eq!(code, 0, "{plan}");
    assert!(plan.contains("not run: add --yes") && plan.contains("scale hsof-main in dr-us"), "{plan}");
    assert_eq!(replicas(&s.dr), "0");

    let (code, v, err) = s.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 0, "{v}\n{err}");
    let d = &v["drill"];
    assert_eq!(v["scorecard"]["passed"], true, "{v}");
    for step in ["preflight", "backup-restore", "failover", "failback", "communication", "escalation"] {
        assert_eq!(verdict(d, step), "pass", "{step}: {d}");
    }
    assert!(d["rto_secs"].as_f64().is_some_and(|r| (0.0..30.0).contains(&r)), "{d}");
    // RPO: the age of the primary's last successful backup, as kubectl reads it.
    let last = kubectl(&s.prod, &["get", "cronjob", "hsof-backup", "-o", "jsonpath={.status.lastSuccessfulTime}"]);
    let age = (chrono::Utc::now()
        - chrono::DateTime::parse_from_rfc3339(last.trim()).expect("time").with_timezone(&chrono::Utc))
    .num_seconds() as f64;
    assert!((d["rpo_secs"].as_f64().expect("rpo") - age).abs() < 60.0, "{d}");
    assert_eq!(d["restored"], true);
    assert_eq!(d["before"]["replicas"], 0);
    // Everything the drill changed is back; what it created is gone.
    assert_eq!(replicas(&s.dr), "0", "dr-us back as before");
    assert_eq!(replicas(&s.prod), "3", "the primary untouched");
    let jobs = kubectl(&s.prod, &["get", "jobs", "-o", "name"]);
    assert!(!jobs.contains("backup-restore-test"), "the restore Job is cleaned up: {jobs}");
    // The communication test reached Slack, marked as a test.
    assert!(s.hook.bodies().iter().any(|b| b.to_string().contains("[TEST] HSOF DR drill")), "{:?}", s.hook.bodies());
    // Audited: the scale up and back in dr-us, the Job in prod-eu, the drill itself.
    let (_, audit, _) = s.json(&["audit", "list"]);
    let actions: Vec<String> =
        audit.as_array().expect("rows").iter().map(|a| a["action"].as_str().unwrap_or("").to_string()).collect();
    assert!(actions.iter().filter(|a| a.as_str() == "scale").count() >= 2, "{actions:?}");
    assert!(actions.iter().any(|a| a == "job.run") && actions.iter().any(|a| a == "dr.drill"), "{actions:?}");
    // The calendar's DR occurrence carries every part the drill covered.
    let (_, occ, _) = s.json(&["procedure", "show", "monthly-dr-test"]);
    let text = occ.to_string();
    for step in [
        "backup-restore",
        "failover",
        "recovery-procedures",
        "communication-protocols",
        "emergency-contacts",
        "escalation",
    ] {
        let r = occ["steps"]
            .as_array()
            .and_then(|st| st.iter().find(|x| x["step"]["id"] == step || x["id"] == step))
            .cloned()
            .unwrap_or_default();
        assert!(r.to_string().contains("pass"), "{step} recorded as passed: {text}");
    }
    // The Markdown report.
    let (_, md, _) = s.run(&["dr", "show", d["id"].to_string().as_str(), "--markdown"]);
    assert!(
        md.contains("**PASSED** — 6 of 6 steps passed") && md.contains("| RTO (failover start → healthy) |"),
        "{md}"
    );
    assert!(s.dir.path().join(format!("data/reports/dr-drill-{}.md", d["id"])).is_file());
}

#[test]
fn a_drill_killed_half_way_is_found_and_rolled_back() {
    let s = Setup::new(120, "");
    let mut child =
        s.cmd(&["dr", "drill", "--yes"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("hsofctl");
    let begun = Instant::now();
    while replicas(&s.dr) != "3" {
        assert!(begun.elapsed() < Duration::from_secs(60), "the DR cluster was never scaled up");
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().expect("kill -9 mid-drill");
    let _ = child.wait();
    assert_eq!(replicas(&s.dr), "3", "left scaled up by the killed drill");

    let (_, pending, err) = s.json(&["dr", "list", "--pending"]);
    let list = pending.as_array().expect("list");
    assert_eq!(list.len(), 1, "{pending}");
    assert!(err.contains("ended half-way and left dr-us changed"), "said at the next start: {err}");
    let id = list[0]["id"].to_string();
    // A new drill is refused until this one is rolled back.
    let (code, _, err) = s.run(&["dr", "drill", "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("hsofctl dr rollback {id}")), "{err}");

    // Someone changed the DR cluster since the drill scaled it: not rolled back blindly.
    kubectl(&s.dr, &["scale", "deployment", "hsof-main", "--replicas=4"]);
    let (code, _, err) = s.run(&["dr", "rollback", &id]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("runs 4 replica(s) now, not the 3 the drill set") && err.contains("--force"), "{err}");
    assert_eq!(replicas(&s.dr), "4");
    let (code, rolled, err) = s.json(&["dr", "rollback", &id, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rolled["state"], "rolled_back");
    assert_eq!(replicas(&s.dr), "0", "put back as it was before the drill");
    let (_, pending, _) = s.json(&["dr", "list", "--pending"]);
    assert_eq!(pending.as_array().map(Vec::len), Some(0));
    let (code, _, err) = s.run(&["dr", "rollback", &id]);
    assert_eq!(code, 2, "twice is refused: {err}");
}

#[test]
fn faults_are_named_and_nothing_is_left_scaled_up() {
    // The restore Job fails: the drill goes on (failover and back), and does not pass.
    let s = Setup::new(0, "");
    s.prod.kube().with(|st| st.failing_jobs.push("backup-restore".into()));
    let (code, v, _) = s.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(verdict(&v["drill"], "backup-restore"), "fail");
    assert!(v["drill"]["steps"][1]["evidence"].as_str().is_some_and(|e| e.contains("failed")), "{v}");
    assert_eq!(verdict(&v["drill"], "failback"), "pass");
    assert_eq!(replicas(&s.dr), "0");

    // A DR cluster without HSOF: the preflight says so and nothing changes.
    kubectl(&s.dr, &["delete", "deployment", "hsof-main"]);
    let (code, v, _) = s.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 1);
    assert_eq!(verdict(&v["drill"], "preflight"), "fail");
    assert!(
        v["drill"]["steps"][0]["evidence"].as_str().is_some_and(|e| e.contains("HSOF is not installed there")),
        "{v}"
    );
    assert_eq!(verdict(&v["drill"], "failover"), "skipped");
    assert!(v["drill"]["before"].is_null(), "nothing recorded as changed");

    // Read-only: refused before anything changes.
    let ro = Setup::new(0, "");
    let text = std::fs::read_to_string(ro.dir.path().join("config.toml")).expect("read");
    std::fs::write(ro.dir.path().join("config.toml"), format!("[cluster]\nread_only = true\n\n{text}")).expect("write");
    let (_, v, _) = ro.json(&["dr", "drill", "--yes"]);
    assert!(v["drill"]["steps"][0]["evidence"].as_str().is_some_and(|e| e.contains("read_only")), "{v}");
    assert_eq!(replicas(&ro.dr), "0");

    // The primary unreachable: named by the preflight, nothing changed in the DR cluster.
    ro.prod.kube().with(|st| st.faults.status = Some(503));
    std::fs::write(ro.dir.path().join("config.toml"), &text).expect("write");
    let (code, v, _) = ro.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        v["drill"]["steps"][0]["evidence"].as_str().is_some_and(|e| e.contains("prod-eu (primary) cannot be read")),
        "{v}"
    );
    assert!(v["drill"]["before"].is_null());
    assert_eq!(replicas(&ro.dr), "0");

    // A restore Job that never starts: the deadline names it, the Job is cleaned up, the
    // failover still runs and the DR cluster is put back.
    let held = Setup::new(0, "restore_timeout_secs = 3\n");
    held.prod.kube().with(|st| st.held_jobs.push("backup-restore".into()));
    let (code, v, _) = held.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(verdict(&v["drill"], "backup-restore"), "fail");
    let evidence = v["drill"]["steps"][1]["evidence"].as_str().unwrap_or_default().to_string();
    assert!(evidence.contains("timed_out") || evidence.contains("not finish"), "{evidence}");
    assert!(evidence.contains("deleted"), "cleaned up: {evidence}");
    assert!(!kubectl(&held.prod, &["get", "jobs", "-o", "name"]).contains("backup-restore-test"));
    assert_eq!(verdict(&v["drill"], "failback"), "pass");
    assert_eq!(replicas(&held.dr), "0");

    // A backup older than the RPO target: measured, over, named.
    let old = Setup::new(0, "rpo_target_hours = 0.001\n");
    let (code, v, _) = old.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 1);
    assert_eq!(v["scorecard"]["rpo_met"], false, "{v}");
    assert!(v["scorecard"]["findings"].to_string().contains("RPO"), "{v}");
}

/// The team's own Job manifests (the runbook's `deployment/testing/`) are the template for
/// each runbook Job: from a folder or from a ConfigMap, validated by the server-side dry
/// run, only name, namespace and labels changed; one that is not a Job is refused by name.
#[test]
fn the_teams_job_manifests_are_the_template_for_each_runbook_job() {
    let s = Setup::new(0, "");
    let manifests = s.dir.path().join("testing");
    std::fs::create_dir_all(&manifests).expect("mkdir");
    let job = |sa: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: whatever\n  labels:\n    team: platform\nspec:\n  backoffLimit: 1\n  template:\n    spec:\n      serviceAccountName: {sa}\n      restartPolicy: Never\n      nodeSelector:\n        disk: ssd\n      volumes:\n        - name: backups\n          persistentVolumeClaim:\n            claimName: hsof-data-storage\n      containers:\n        - name: restore\n          image: hsof/backup:1.0\n          command: [\"/bin/sh\", \"-c\", \"hsof-backup restore --latest --verify\"]\n          env:\n            - name: S3_KEY\n              valueFrom:\n                secretKeyRef: {{name: backup-s3, key: key}}\n          volumeMounts:\n            - name: backups\n              mountPath: /backups\n"
        )
    };
    std::fs::write(manifests.join("backup-restore-test.yaml"), job("hsof-backup")).expect("write");
    let config = s.dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(
        &config,
        format!(
            "{text}\n[jobs]\nmanifests_dir = \"{}\"\nmanifests_configmap = \"hsof-job-manifests\"\n",
            manifests.display()
        ),
    )
    .expect("write");
    let (code, out, err) = s.run(&["change", "run-job", "backup-restore-test", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let jobs: Value = serde_json::from_str(&kubectl(
        &s.prod,
        &["get", "jobs", "-l", "hsof.runbook/job=backup-restore-test", "-o", "json"],
    ))
    .expect("json");
    let created = &jobs["items"][0];
    assert_eq!(created["spec"]["template"]["spec"]["serviceAccountName"], "hsof-backup", "{created}");
    assert_eq!(
        created["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "hsof-data-storage"
    );
    assert_eq!(
        created["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "backup-s3"
    );
    assert_eq!(created["metadata"]["labels"]["team"], "platform", "the team's labels stay");
    assert!(created["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("backup-restore-test-")), "{created}");

    // From the ConfigMap when the folder has none for the Job.
    let scan = s.dir.path().join("vulnerability-scan.yaml");
    std::fs::write(&scan, job("hsof-scanner")).expect("write");
    kubectl(
        &s.prod,
        &[
            "create",
            "configmap",
            "hsof-job-manifests",
            &format!("--from-file=vulnerability-scan.yaml={}", scan.display()),
        ],
    );
    let (code, out, err) = s.run(&["change", "run-job", "vulnerability-scan", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let jobs: Value = serde_json::from_str(&kubectl(
        &s.prod,
        &["get", "jobs", "-l", "hsof.runbook/job=vulnerability-scan", "-o", "json"],
    ))
    .expect("json");
    assert_eq!(jobs["items"][0]["spec"]["template"]["spec"]["serviceAccountName"], "hsof-scanner", "{jobs}");

    // Not a Job: refused, naming the file; nothing created.
    std::fs::write(
        manifests.join("backup-restore-test.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
    )
    .expect("write");
    let before = kubectl(&s.prod, &["get", "jobs", "-o", "name"]);
    let (code, _, err) = s.run(&["change", "run-job", "backup-restore-test", "--yes"]);
    assert_ne!(code, 0);
    assert!(err.contains("backup-restore-test.yaml") && err.contains("not a batch/v1 Job"), "{err}");
    assert_eq!(kubectl(&s.prod, &["get", "jobs", "-o", "name"]), before);
}

/// The restore test in a scratch namespace (`dr.restore_namespace`): checked before anything
/// changes, the Job run and deleted there, HSOF's own namespace untouched.
#[test]
fn the_restore_test_can_run_in_a_scratch_namespace() {
    let s = Setup::new(0, "restore_namespace = \"hsof-scratch\"\n");
    let (code, v, _) = s.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        v["drill"]["steps"][0]["evidence"].as_str().is_some_and(|e| e.contains("no namespace hsof-scratch")),
        "{v}"
    );
    assert!(v["drill"]["before"].is_null(), "nothing changed");

    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&s.prod.kubeconfig)
        .args(["create", "namespace", "hsof-scratch"])
        .output()
        .expect("kubectl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, v, err) = s.json(&["dr", "drill", "--yes"]);
    assert_eq!(code, 0, "{v}\n{err}");
    let evidence = v["drill"]["steps"][1]["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains("in namespace hsof-scratch") && evidence.contains("deleted"), "{evidence}");
    let scratch_jobs = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&s.prod.kubeconfig)
        .args(["-n", "hsof-scratch", "get", "jobs", "-o", "name"])
        .output()
        .expect("kubectl");
    assert!(String::from_utf8_lossy(&scratch_jobs.stdout).trim().is_empty(), "cleaned up");
    assert!(
        !kubectl(&s.prod, &["get", "jobs", "-o", "name"]).contains("backup-restore-test"),
        "not in HSOF's namespace"
    );
    let (_, audit, _) = s.json(&["audit", "list"]);
    assert!(
        audit.as_array().is_some_and(|a| a
            .iter()
            .any(|r| r["action"] == "job.run" && r["target"].as_str().is_some_and(|t| t.ends_with("in hsof-scratch")))),
        "{audit}"
    );
}
