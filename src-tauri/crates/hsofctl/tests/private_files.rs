//! What `hsofctl` keeps for itself (the data directory, the store with its WAL, saved
//! reports) is readable by its user alone, on a fresh profile and on one an older version
//! left 0755/0644; what the user asked for at a path of their own (`.ics`) keeps their umask.
//! CI runs as root, for whom modes stop nothing: there the proof is another uid
//! (`setpriv --reuid 65534`) failing to list or read; elsewhere the modes are checked.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::hsofctl;

/// The store's file name in the data directory (hsof_store::STORE_FILE).
const STORE_FILE: &str = "hsof-control-center.sqlite3";

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = hsofctl(dir, args);
    assert!(out.status.success(), "hsofctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// This process's umask, from /proc.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|v| v.trim().to_string())))
        .and_then(|v| u32::from_str_radix(&v, 8).ok())
        .expect("Umask in /proc/self/status")
}

/// `sh -c SCRIPT` as uid/gid 65534, its exit status.
fn as_nobody(script: &str) -> Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "-c", script])
        // Under `make test-dates` this process runs with libfaketime preloaded; the other
        // user's shell needs no fake clock.
        .env_remove("LD_PRELOAD")
        .env_remove("FAKETIME")
        .output()
        .expect("setpriv (util-linux)")
}

/// A profile in a folder everyone may enter, so that only the app's own modes keep others out.
fn profile() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut cfg = hsof_core::config::Config::default();
    // Nothing answers: the report is written with its charts "not drawn", at once.
    cfg.endpoints.hsof_health_url = "http://127.0.0.1:1".into();
    cfg.endpoints.prometheus_url = "http://127.0.0.1:1".into();
    cfg.endpoints.alertmanager_url = "http://127.0.0.1:1".into();
    hsof_core::config::save(&dir.path().join("config.toml"), &cfg).expect("config");
    dir
}

/// The data directory, the store (and its WAL while one exists) and the reports: private,
/// by mode and, as root, by another uid failing to reach them.
fn assert_private(data: &Path) {
    assert_eq!(mode(data), 0o700, "{}", data.display());
    let store = data.join(STORE_FILE);
    assert_eq!(mode(&store), 0o600);
    for side in ["-wal", "-shm"] {
        let p = data.join(format!("{}{side}", STORE_FILE));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    let reports = data.join("reports");
    assert_eq!(mode(&reports), 0o700);
    let files: Vec<_> = std::fs::read_dir(&reports).expect("reports").map(|e| e.expect("entry").path()).collect();
    assert!(!files.is_empty(), "a report was written");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    if root() {
        let d = data.display();
        for script in [
            format!("ls '{d}'"),
            format!("cat '{}'", store.display()),
            format!("cat '{}'", files[0].display()),
            format!("ls '{d}/reports'"),
        ] {
            let out = as_nobody(&script);
            assert!(!out.status.success(), "uid 65534 could run `{script}`: {}", String::from_utf8_lossy(&out.stdout));
            assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"), "{out:?}");
        }
        // The check itself works: the same uid reads what is meant to be shared.
        let out = as_nobody(&format!("ls '{}'", data.parent().expect("parent").display()));
        assert!(out.status.success(), "the profile's parent is open to others: {out:?}");
    }
}

fn store_something(dir: &Path) {
    ok(dir, &["incident", "declare", "--severity", "P2", "--title", "private things", "--components", "api"]);
    ok(dir, &["report", "weekly"]);
}

#[test]
fn a_fresh_profile_is_private_to_its_user_and_doctor_says_so() {
    let dir = profile();
    store_something(dir.path());
    assert_private(&dir.path().join("data"));
    let v: serde_json::Value = serde_json::from_str(&ok(dir.path(), &["doctor", "--json"])).expect("json");
    assert_eq!(v["files"]["private"], true, "{v}");
    assert_eq!(v["files"]["tightened"].as_array().map(Vec::len), Some(0), "nothing to tighten: {v}");
    assert_eq!(v["status"], "ok", "{v}");
}

#[test]
fn an_older_0755_0644_profile_is_tightened_when_opened_and_said_once() {
    let dir = profile();
    store_something(dir.path());
    let data = dir.path().join("data");
    // As an older version left it.
    for d in [data.clone(), data.join("reports")] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    for e in std::fs::read_dir(data.join("reports")).expect("ls") {
        std::fs::set_permissions(e.expect("entry").path(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    std::fs::set_permissions(data.join(STORE_FILE), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    if root() {
        let before = as_nobody(&format!("cat '{}' >/dev/null", data.join(STORE_FILE).display()));
        assert!(before.status.success(), "as an older version left it, others read the store: {before:?}");
    }

    let first = hsofctl(dir.path(), &["doctor", "--json"]);
    assert!(first.status.success());
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(said.contains("was 0644") && said.contains("made 0600"), "said on stderr: {said}");
    let v: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(&first.stdout)).expect("json");
    assert_eq!(v["files"]["private"], true, "{v}");
    assert_eq!(v["status"], "ok", "tightened is done, not a risk: {v}");
    let tightened = v["files"]["tightened"].as_array().cloned().unwrap_or_default();
    let reports = std::fs::read_dir(data.join("reports")).expect("ls").count();
    assert!(reports >= 5, "the report and its charts: {reports}");
    assert_eq!(tightened.len(), 3 + reports, "folder, store, reports folder, each report file: {v}");
    assert!(
        v["attention"].as_array().into_iter().flatten().any(|a| a.as_str().is_some_and(|a| a.contains("was 0644"))),
        "{v}"
    );
    assert_private(&data);
    // Any command says it, not only doctor: loosened again, a plain listing tightens and says so.
    std::fs::set_permissions(data.join(STORE_FILE), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let listed = hsofctl(dir.path(), &["audit", "list"]);
    assert!(listed.status.success());
    let said = String::from_utf8_lossy(&listed.stderr);
    assert!(said.contains(STORE_FILE) && said.contains("made 0600"), "{said}");
    assert_eq!(mode(&data.join(STORE_FILE)), 0o600);
    let events = ok(dir.path(), &["events", "--json"]);
    assert_eq!(events.matches("files.tightened").count(), 2, "once per tightening: {events}");
    let again: serde_json::Value = serde_json::from_str(&ok(dir.path(), &["doctor", "--json"])).expect("json");
    assert_eq!(again["status"], "ok", "said once, not on every start: {again}");
}

#[test]
fn doctor_names_a_loose_store_it_could_not_tighten() {
    if !root() {
        eprintln!("skipped: a store owned by another uid needs root to set up");
        return;
    }
    let dir = profile();
    ok(dir.path(), &["audit", "list"]);
    let store = dir.path().join("data").join(STORE_FILE);
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::os::unix::fs::chown(&store, Some(65534), Some(65534)).expect("chown");
    let v: serde_json::Value = serde_json::from_str(&ok(dir.path(), &["doctor", "--json"])).expect("json");
    assert_eq!(v["files"]["private"], false, "{v}");
    assert_eq!(v["status"], "degraded", "{v}");
    let exposed = &v["files"]["exposures"][0];
    assert_eq!(exposed["path"], store.display().to_string(), "{v}");
    assert_eq!(exposed["mode"], "0644");
    assert_eq!(exposed["owner_uid"], 65534);
    assert_eq!(mode(&store), 0o644, "another user's file is not touched");
    let text = ok(dir.path(), &["doctor"]);
    assert!(text.contains("NOT PRIVATE") && text.contains("owned by another user"), "{text}");
}

#[test]
fn an_ics_written_where_the_user_chose_keeps_the_users_umask() {
    let dir = profile();
    let ics = dir.path().join("team.ics");
    ok(dir.path(), &["calendar", "export", "--ics", &ics.display().to_string()]);
    assert_eq!(mode(&ics), 0o666 & !umask(), "the user's file, the user's umask");
}
