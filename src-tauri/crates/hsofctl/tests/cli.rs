//! `hsofctl` as cron, CI and people run it: real binary, temporary config and data dirs.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hsofctl(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsofctl"))
        .args(args)
        .env("HSOF_CONTROL_CONFIG", dir.join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", dir.join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hsofctl");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn doctor_json_has_the_overview_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hsofctl(dir.path(), &["doctor", "--json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["app"]["name"], "HSOF Control Center");
    assert_eq!(v["config"]["created"], true);
    assert_eq!(v["store"]["ok"], true);
    assert_eq!(v["store"]["facts"]["journal_mode"], "wal");
    assert!(v["host"]["logical_cpus"].as_u64().unwrap_or(0) >= 1);
    assert!(v["gpu"]["driver_present"].is_boolean());
    assert!(v["kube"]["contexts"].is_array());
    assert!(dir.path().join("config.toml").exists(), "first run writes the config");
}

#[test]
fn config_validate_names_the_bad_key_and_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), "[endpoints]\nprometheus_url = \"prometheus\"\n").expect("write");
    let out = hsofctl(dir.path(), &["config", "validate"], None);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("endpoints.prometheus_url") && err.contains("http:// or https:// URL"), "{err}");

    let out = hsofctl(dir.path(), &["config", "validate", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json error");
    assert_eq!(v["code"], "invalid_config");
    assert!(v["detail"].as_str().unwrap_or_default().contains("endpoints.prometheus_url"));
}

#[test]
fn config_path_and_show_need_no_existing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hsofctl(dir.path(), &["config", "path"], None);
    assert_eq!(stdout(&out).trim(), dir.path().join("config.toml").display().to_string());
    assert!(!dir.path().join("config.toml").exists(), "`config path` creates nothing");
    let out = hsofctl(dir.path(), &["config", "show", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["cluster"]["namespace"], "hsof");
    assert_eq!(v["severities"]["P0"]["response_minutes"], 5);
}

#[test]
fn audit_verify_exits_1_and_names_the_tampered_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hsofctl(dir.path(), &["audit", "verify"], None);
    assert!(out.status.success());
    assert!(stdout(&out).contains("intact: 0 rows"));
    // Two audited changes, made through the same core the app uses.
    let ctx = hsof_core_ctx(dir.path());
    for ns in ["hsof-a", "hsof-b"] {
        let mut c = ctx.config().config;
        c.cluster.namespace = ns.into();
        ctx.save_config(c, "ci", chrono_now()).expect("save");
    }
    drop(ctx);
    let out = hsofctl(dir.path(), &["audit", "list", "--json"], None);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(2));

    let db = dir.path().join("data/hsof-control-center.sqlite3");
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE id = 1;")
        .expect("tamper");
    drop(conn);
    let out = hsofctl(dir.path(), &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("BROKEN at row 1"), "{}", stdout(&out));
}

#[test]
fn secrets_go_in_from_stdin_and_never_come_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "https://hooks.slack.com/services/T1/B2/secret";
    let out = hsofctl(dir.path(), &["secret", "set", "slack-webhook"], Some(&format!("{url}\n")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = hsofctl(dir.path(), &["secret", "check", "slack-webhook", "--json"], None);
    assert!(out.status.success());
    assert!(!stdout(&out).contains("hooks.slack.com"));
    let out = hsofctl(dir.path(), &["secret", "check", "pagerduty"], None);
    assert_eq!(out.status.code(), Some(4));
    let out = hsofctl(dir.path(), &["secret", "set", "empty"], Some(""));
    assert_eq!(out.status.code(), Some(2));
    // Not in the store, not in the logs.
    for entry in walk(&dir.path().join("data")) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains("hooks.slack.com"), "secret leaked into {}", entry.display());
    }
}

#[test]
fn corrupt_store_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    let db = dir.path().join("data/hsof-control-center.sqlite3");
    std::fs::write(&db, b"garbage garbage garbage garbage garbage garbage garbage garbage").expect("write");
    let out = hsofctl(dir.path(), &["doctor", "--json"], None);
    assert!(out.status.success(), "doctor reports, it does not fail");
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["status"], "degraded");
    assert!(v["store"]["error"].as_str().unwrap_or_default().contains("left untouched"));
    let out = hsofctl(dir.path(), &["audit", "list"], None);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(std::fs::read(&db).expect("read"), b"garbage garbage garbage garbage garbage garbage garbage garbage");
}

fn hsof_core_ctx(dir: &Path) -> hsof_core::AppContext {
    hsof_core::AppContext::open(&hsof_core::Options {
        config: Some(dir.join("config.toml")),
        data_dir: Some(dir.join("data")),
        secrets: hsof_core::BackendChoice::File,
    })
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn times_are_taken_as_dates_in_the_team_zone_and_relative_forms() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), "[team]\ntimezone = \"Europe/Berlin\"\n").expect("config");
    let o = hsofctl(dir.path(), &["--json", "calendar", "--from", "2027-01-01", "--to", "2027-03-31"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let starts: Vec<chrono::DateTime<chrono::Utc>> = v["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .map(|o| o["occurrence"]["start"].as_str().expect("start").parse().expect("time"))
        .collect();
    let (first, last) = (starts.iter().min().expect("some"), starts.iter().max().expect("some"));
    // Berlin's 1 January starts at 23:00 UTC the day before; 31 March is included whole.
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("time");
    assert!(*first >= at("2026-12-31T23:00:00Z"), "{first}");
    assert!(*last < at("2027-03-31T22:00:00Z"), "{last}");
    assert!(*last >= at("2027-03-30T22:00:00Z"), "31 March missing: {last}");

    for args in [["--from", "-7d", "--to", "now"], ["--from", "yesterday", "--to", "+2w"]] {
        let mut all = vec!["--json", "calendar"];
        all.extend_from_slice(&args);
        let o = hsofctl(dir.path(), &all, None);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let o = hsofctl(dir.path(), &["calendar", "--from", "last tuesday", "--to", "now"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("from") && err.contains("-7d") && err.contains("YYYY-MM-DD"), "{err}");
    let o = hsofctl(dir.path(), &["--json", "incident", "list", "--from", "-30d", "--to", "today"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
