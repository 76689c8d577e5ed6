//! `hsofctl demo` as a user runs it: start in a profile of its own, every scenario producing
//! within a minute the alerts and cluster state a real HSOF in that trouble would, the
//! profile usable by any `hsofctl --config … --data-dir …` command, and stop leaving no
//! process behind. Real Prometheus (with the runbook rules) and AlertManager underneath.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

struct Demo {
    dir: tempfile::TempDir,
}

impl Demo {
    fn ctl(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(hsof_tests::hsofctl())
            .args(args)
            .env("HSOF_DEMO_DIR", self.dir.path())
            // A user's own profile that nothing here may create or touch.
            .env("HSOF_CONTROL_CONFIG", self.dir.path().join("users-own/config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", self.dir.path().join("users-own/data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .output()
            .expect("run hsofctl");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn json(&self, args: &[&str]) -> Value {
        let (code, out, err) = self.ctl(args);
        assert_eq!(code, 0, "hsofctl {args:?}: {err}{out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("hsofctl {args:?} printed no JSON ({e}): {out}"))
    }

    /// `hsofctl --config C --data-dir D ARGS --json` against the demo's profile.
    fn app(&self, args: &[&str]) -> Value {
        let c = self.dir.path().join("config.toml").display().to_string();
        let d = self.dir.path().join("data").display().to_string();
        let mut all = vec!["--config", &c, "--data-dir", &d, "--json"];
        all.extend_from_slice(args);
        self.json(&all)
    }

    fn until(&self, what: &str, mut ok: impl FnMut(&Demo) -> bool) {
        let start = Instant::now();
        while !ok(self) {
            assert!(start.elapsed() < Duration::from_secs(75), "not within 75 s: {what}");
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    fn firing(&self, alert: &str) -> bool {
        let v = self.app(&["alerts"]);
        v["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["alerts"].as_array().into_iter().flatten())
            .any(|a| a["labels"]["alertname"] == alert && a["status"]["state"] == "active")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.ctl(&["demo", "stop"]);
    }
}

#[test]
fn demo_starts_once_plays_every_scenario_and_stops_clean() {
    let demo = Demo { dir: tempfile::tempdir().expect("tempdir") };
    let (code, _, _) = demo.ctl(&["demo", "status"]);
    assert_eq!(code, 1, "no demo yet");
    // A profile folder others may enter (a temporary folder is 0700): the demo makes it its own.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(demo.dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    let v = demo.json(&["demo", "start", "--json"]);
    assert_eq!(v["started"], true);
    let root = demo.dir.path();
    assert_eq!(Path::new(v["config"].as_str().expect("config")), root.join("config.toml"));
    assert_eq!(Path::new(v["data_dir"].as_str().expect("data_dir")), root.join("data"));
    let pid = v["demo"]["pid"].as_u64().and_then(|p| u32::try_from(p).ok()).expect("pid");
    // A second start finds it running.
    let again = demo.json(&["demo", "start", "--json"]);
    assert_eq!((again["started"].clone(), again["demo"]["pid"].as_u64()), (Value::Bool(false), Some(u64::from(pid))));
    assert!(!root.join("users-own").exists(), "the user's profile was created");

    // Healthy: every source answers through the demo profile.
    let h = demo.app(&["health"]);
    assert_eq!(h["report"]["overall"], "HEALTHY", "{h}");
    let pods = demo.app(&["cluster", "pods"]);
    assert_eq!(
        pods.as_array().map(|p| p.iter().filter(|p| p["name"].as_str().unwrap_or("").starts_with("hsof-main")).count()),
        Some(3)
    );
    // The demo's profile is private like the user's: folders 0700, its files, store and logs 0600.
    hsof_tests::assert_private_to_user(
        &[root, &root.join("data"), &root.join("logs")],
        &[&root.join("data/hsof-control-center.sqlite3")],
    );

    // A name that is not a scenario: refused with the list.
    let (code, _, err) = demo.ctl(&["demo", "scenario", "gpu-cold"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rollout-stuck") && err.contains("node-lost"), "{err}");

    demo.json(&["--json", "demo", "scenario", "error-burst"]);
    demo.until("HSOFErrorRateCritical fires", |d| d.firing("HSOFErrorRateCritical"));
    demo.until("the availability SLO burns", |d| {
        let s = d.app(&["slo"]);
        s["slos"].as_array().into_iter().flatten().any(|s| s["id"] == "availability" && s["level"] == "CRITICAL")
    });

    demo.json(&["--json", "demo", "scenario", "gpu-hot"]);
    demo.until("HSOFGPUTemperatureCritical fires", |d| d.firing("HSOFGPUTemperatureCritical"));

    demo.json(&["--json", "demo", "scenario", "rollout-stuck"]);
    let pods = demo.app(&["cluster", "pods"]);
    let stuck: Vec<&Value> =
        pods.as_array().into_iter().flatten().filter(|p| p["images"][0] == "hsof/hsof:1.6.0-rc1").collect();
    assert!(stuck.len() == 1 && stuck[0]["phase"] == "Pending", "{pods}");
    let events = demo.app(&["cluster", "events"]).to_string();
    assert!(events.contains("Failed to pull image"), "{events}");
    demo.until("HSOFDeploymentEvent fires", |d| d.firing("HSOFDeploymentEvent"));

    demo.json(&["--json", "demo", "scenario", "node-lost"]);
    let nodes = demo.app(&["cluster", "nodes"]);
    let lost = nodes.as_array().into_iter().flatten().find(|n| n["name"] == "gpu-node-2").expect("gpu-node-2");
    assert_eq!(lost["ready"], false, "{nodes}");
    // The stuck rollout was repaired on the way: back on 1.5.0 only.
    let pods = demo.app(&["cluster", "pods"]).to_string();
    assert!(!pods.contains("1.6.0-rc1"), "{pods}");

    demo.json(&["--json", "demo", "scenario", "backup-failed"]);
    let b = demo.app(&["cluster", "backup"]);
    assert_eq!(b["last_run_failed"], true, "{b}");
    demo.until("HSOFBackupFailure fires", |d| d.firing("HSOFBackupFailure"));
    let st = demo.json(&["--json", "demo", "status"]);
    assert_eq!(st["demo"]["scenario"], "backup-failed");

    // A drill on the running demo: marked, timed, not posted, not counted, scored.
    let d = demo.app(&["incident", "drill", "error-burst"]);
    let id = d["view"]["incident"]["id"].as_i64().expect("id");
    assert_eq!(d["view"]["incident"]["drill"], "error-burst", "{d}");
    assert_eq!(d["view"]["incident"]["severity"], "P1");
    assert_eq!(demo.json(&["--json", "demo", "status"])["demo"]["scenario"], "error-burst");
    let id_s = id.to_string();
    demo.app(&["incident", "ack", &id_s]);
    demo.app(&[
        "incident",
        "update",
        &id_s,
        "--conditions",
        "errors at 7 %",
        "--actions",
        "rolled back",
        "--needs",
        "none",
    ]);
    let done = demo.app(&["incident", "resolve", &id_s, "--note", "drill over"]);
    assert_eq!(done["slack"].as_array().map(Vec::len), Some(0), "a drill queued a Slack post: {done}");
    let stats = demo.app(&["incident", "stats"]);
    assert!(stats.as_array().expect("stats").iter().all(|s| s["count"] == 0), "a drill counted: {stats}");
    let c = root.join("config.toml").display().to_string();
    let dd = root.join("data").display().to_string();
    let (code, summary, err) = demo.ctl(&["--config", &c, "--data-dir", &dd, "incident", "summary", &id_s]);
    assert_eq!(code, 0, "{err}");
    assert!(summary.starts_with("# [DRILL] [P1]") && summary.contains("## Drill summary"), "{summary}");
    assert!(summary.contains("Steps taken:"), "{summary}");

    let (code, out, err) = demo.ctl(&["demo", "stop"]);
    assert!(code == 0 && out.contains("demo stopped"), "{err}{out}");
    let start = Instant::now();
    while !hsof_tests::process_gone(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(hsof_tests::process_gone(pid), "the demo server is still running");
    let (code, _, _) = demo.ctl(&["demo", "status"]);
    assert_eq!(code, 1);
    assert!(!root.join("state.json").exists());
    assert!(!root.join("users-own").exists(), "the user's profile was created");
    // No demo: a drill is refused with the command that fixes it.
    let (code, _, err) = demo.ctl(&["--config", &c, "--data-dir", &dd, "incident", "drill", "gpu-hot"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("hsofctl demo start"), "{err}");
}

/// First run from a kubeconfig alone: a fresh profile that knows only the demo's kubeconfig
/// finds HSOF, Prometheus and AlertManager through the API server's service proxy, saves
/// them (audited), and every monitoring command then answers through the forwarder.
#[test]
fn a_fresh_profile_connects_to_the_demo_through_the_service_proxy() {
    let demo = Demo { dir: tempfile::tempdir().expect("tempdir") };
    let v = demo.json(&["demo", "start", "--json"]);
    let kubeconfig = v["demo"]["kubeconfig"].as_str().expect("kubeconfig").to_string();
    let prometheus_url = v["demo"]["prometheus_url"].as_str().expect("prometheus").to_string();
    let fresh = demo.dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).expect("fresh");
    let config = fresh.join("config.toml");
    std::fs::write(&config, format!("[cluster]\nkubeconfig = {kubeconfig:?}\n")).expect("config");
    let c = config.display().to_string();
    let d = fresh.join("data").display().to_string();
    let ctl = |args: &[&str]| {
        let mut all = vec!["--config", &c, "--data-dir", &d];
        all.extend_from_slice(args);
        demo.ctl(&all)
    };
    let json = |args: &[&str]| {
        let (code, out, err) = ctl(args);
        (code, serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{args:?} ({e}): {err}{out}")))
    };

    // Nothing configured answers: the shipped defaults point nowhere.
    let (code, r) = json(&["connect", "--json"]);
    assert_eq!(code, 0, "every source is found and answers: {r}");
    assert_eq!(r["context"], "hsof-demo");
    let sources = r["sources"].as_array().expect("sources");
    let decision = |role: &str| {
        sources.iter().find(|s| s["role"] == role).map(|s| s["decision"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(decision("hsof").as_deref(), Some("k8s-service://hsof/hsof-api:health"));
    assert_eq!(decision("prometheus").as_deref(), Some("k8s-service://monitoring/prometheus:web"));
    assert_eq!(decision("alertmanager").as_deref(), Some("k8s-service://monitoring/alertmanager:web"));
    for s in sources {
        assert_eq!(s["configured_probe"]["ok"], false, "{s}");
        assert_eq!(s["proposed_probe"]["ok"], true, "{s}");
        assert!(s["proposed_probe"]["path"].as_str().unwrap_or("").contains("/proxy/"), "{s}");
    }
    assert!(!config.exists() || !std::fs::read_to_string(&config).expect("read").contains("k8s-service"));

    let (code, saved) = json(&["connect", "--save", "--json"]);
    assert_eq!(code, 0, "{saved}");
    let text = std::fs::read_to_string(&config).expect("config written");
    assert!(
        text.contains("k8s-service://monitoring/prometheus:web") && text.contains("context = \"hsof-demo\""),
        "{text}"
    );
    let (_, audit) = json(&["audit", "list", "--json"]);
    assert!(audit.to_string().contains("k8s-service://monitoring/alertmanager:web"), "the save is audited: {audit}");

    // Every source now answers through the forwarder.
    let (code, h) = json(&["health", "--json"]);
    assert_eq!((code, h["report"]["overall"].as_str()), (0, Some("HEALTHY")), "{h}");
    assert_eq!(h["freshness"]["stale"], false, "{h}");
    assert!(!h.to_string().contains("/proxy"), "reports name the service, not the forwarder: {h}");
    let (code, a) = json(&["alerts", "--json"]);
    assert_eq!((code, a["freshness"]["stale"].as_bool()), (0, Some(false)), "{a}");
    assert!(a["freshness"]["source"].as_str().unwrap_or("").contains("k8s-service://monitoring/alertmanager:web"));
    let (code, m) = json(&["metrics", "--json"]);
    assert_eq!((code, m["freshness"]["stale"].as_bool()), (0, Some(false)), "{m}");
    let (code, doctor, err) = ctl(&["doctor"]);
    assert_eq!(code, 0, "{err}");
    assert!(doctor.contains("/api/v1/namespaces/monitoring/services/prometheus:web/proxy"), "{doctor}");

    // A URL typed by hand that answers wins over what discovery finds.
    let typed = text.replace("k8s-service://monitoring/prometheus:web", &prometheus_url);
    std::fs::write(&config, typed).expect("type a URL");
    let (_, r) = json(&["connect", "--json"]);
    let p = r["sources"].as_array().and_then(|s| s.iter().find(|s| s["role"] == "prometheus").cloned()).expect("p");
    assert_eq!((p["typed_by_hand"].as_bool(), p["decision"].as_str()), (Some(true), Some(prometheus_url.as_str())));

    // A context the kubeconfig does not have: refused with the ones it has.
    let (code, _, err) = ctl(&["connect", "--context", "nope"]);
    assert_eq!(code, 3, "an invalid configuration choice: {err}");
    assert!(err.contains("hsof-demo"), "{err}");
}

/// `hsofctl demo start --regions 2`: a primary and its cold DR standby, each a fake
/// cluster with its own HSOF, Prometheus and AlertManager, listed as [[clusters]]; the
/// fleet sees both, a DR drill fails over to the standby and back, `region-down` leaves the
/// primary's last known row stale, and stop ends every process of both regions.
#[test]
fn two_regions_a_fleet_a_drill_and_a_region_down() {
    let demo = Demo { dir: tempfile::tempdir().expect("tempdir") };
    let v = demo.json(&["demo", "start", "--regions", "2", "--json"]);
    let pid = v["demo"]["pid"].as_u64().and_then(|p| u32::try_from(p).ok()).expect("pid");
    let regions = v["demo"]["regions"].as_array().expect("regions").clone();
    assert_eq!(regions.iter().map(|r| r["name"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["prod-eu", "dr-us"]);
    let clusters = demo.app(&["clusters"]);
    assert_eq!(clusters["current"], "prod-eu", "{clusters}");
    assert_eq!(clusters["clusters"].as_array().map(Vec::len), Some(2), "{clusters}");

    let fleet = |d: &Demo| {
        let c = d.dir.path().join("config.toml").display().to_string();
        let dd = d.dir.path().join("data").display().to_string();
        let (_, out, err) = d.ctl(&["--config", &c, "--data-dir", &dd, "--json", "fleet"]);
        serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"))
    };
    let row = |f: &Value, name: &str| {
        f["rows"].as_array().and_then(|r| r.iter().find(|r| r["name"] == name)).cloned().expect("row")
    };
    let f = fleet(&demo);
    assert_eq!(row(&f, "prod-eu")["reachable"], true, "{f}");
    assert_eq!(row(&f, "dr-us")["reachable"], true, "{f}");
    assert_eq!(row(&f, "dr-us")["replicas_desired"], 0, "a cold standby: {f}");

    // The drill fails over to dr-us and back (the demo's Slack is a secret nobody has, so
    // the communication test is the one step that says what is missing).
    let c = demo.dir.path().join("config.toml").display().to_string();
    let dd = demo.dir.path().join("data").display().to_string();
    let (_, out, err) = demo.ctl(&["--config", &c, "--data-dir", &dd, "--json", "dr", "drill", "--yes"]);
    let drill: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let verdict = |id: &str| {
        drill["drill"]["steps"].as_array().and_then(|s| s.iter().find(|x| x["id"] == id)).map(|x| x["verdict"].clone())
    };
    for step in ["preflight", "backup-restore", "failover", "failback"] {
        assert_eq!(verdict(step), Some(Value::from("pass")), "{step}: {drill}");
    }
    assert_eq!(verdict("communication"), Some(Value::from("fail")), "{drill}");
    assert!(drill["drill"]["rto_secs"].as_f64().is_some(), "{drill}");
    let f = fleet(&demo);
    assert_eq!(row(&f, "dr-us")["replicas_desired"], 0, "failed back: {f}");

    // region-down: the primary answers 503 and its HSOF nothing; its last row stays, stale.
    demo.json(&["--json", "demo", "scenario", "region-down"]);
    let f = fleet(&demo);
    let prod = row(&f, "prod-eu");
    assert_eq!((prod["reachable"].clone(), prod["stale"].clone()), (Value::Bool(false), Value::Bool(true)), "{prod}");
    assert_eq!(row(&f, "dr-us")["reachable"], true, "the DR region stays live: {f}");
    demo.json(&["--json", "demo", "scenario", "healthy"]);
    assert_eq!(row(&fleet(&demo), "prod-eu")["reachable"], true);

    let (code, _, err) = demo.ctl(&["demo", "stop"]);
    assert_eq!(code, 0, "{err}");
    let start = Instant::now();
    while !hsof_tests::process_gone(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(hsof_tests::process_gone(pid), "the demo server is still running");
    for r in &regions {
        let port = r["prometheus_url"].as_str().and_then(|u| u.rsplit(':').next()).expect("port").to_string();
        assert!(
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
            "{}'s Prometheus still answers",
            r["name"]
        );
    }
}
