//! `hsofctl select` as people and scripts run it: the real binary on a small CSV, a dataset
//! YAML over SQLite, a bad target, Ctrl-C.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn hsofctl(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hsofctl"));
    c.current_dir(dir)
        .env("HSOF_CONTROL_CONFIG", dir.join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", dir.join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .stdin(Stdio::null());
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    hsofctl(dir).args(args).output().expect("run hsofctl")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// `rows` rows: `signal_a` + `signal_b` decide `label`; `noise_*` columns do not.
fn write_csv(dir: &Path, name: &str, rows: usize, noise: usize) -> PathBuf {
    let mut state = 0x9e37_79b9_u64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as f64) / f64::from(1u32 << 31)
    };
    let mut text = String::from("id,signal_a,signal_b");
    for j in 0..noise {
        text.push_str(&format!(",noise_{j}"));
    }
    text.push_str(",label\n");
    for i in 0..rows {
        let (a, b) = (next(), next());
        text.push_str(&format!("{i},{a:.4},{b:.4}"));
        for _ in 0..noise {
            text.push_str(&format!(",{:.4}", next()));
        }
        text.push_str(if a + b > 1.0 { ",yes\n" } else { ",no\n" });
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write csv");
    path
}

#[test]
fn json_output_has_the_selected_features_and_out_writes_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_csv(dir.path(), "small.csv", 200, 5);
    let out = run(
        dir.path(),
        &["select", "--input", "small.csv", "--target", "label", "--id-cols", "id", "--k3", "2", "--seed", "3"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("signal_a") && text.contains("signal_b"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[filter]") && err.contains("[evaluate] 100%"), "plain progress lines off a terminal: {err}");

    let out = run(
        dir.path(),
        &[
            "select",
            "--input",
            "small.csv",
            "--target",
            "label",
            "--id-cols",
            "id",
            "--k3",
            "2",
            "--out",
            "r.json",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let mut names: Vec<&str> = v["report"]["final_results"]["selected_features"]
        .as_array()
        .expect("selected features")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["signal_a", "signal_b"]);
    assert_eq!(v["summary"]["status"], "ok");
    assert_eq!(v["report"]["dataset_info"]["preparation"]["skipped_columns"][0]["name"], "id");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("--out file")).expect("json");
    assert_eq!(file["final_results"], v["report"]["final_results"], "the file is the report shown");
    assert_eq!(v["summary"]["out_path"], dir.path().join("r.json").display().to_string());

    let out = run(dir.path(), &["select", "history", "--json"]);
    let rows = json(&out);
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    assert_eq!(rows[0]["selected"], 2);
    assert_eq!(rows[0]["input"], dir.path().join("small.csv").display().to_string());
    let out = run(dir.path(), &["select", "history"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("accuracy"));
}

#[test]
fn a_bad_target_exits_2_naming_it_and_the_columns_and_is_recorded_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_csv(dir.path(), "small.csv", 50, 2);
    let out = run(dir.path(), &["select", "--input", "small.csv", "--target", "price", "--out", "r.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("target column `price` not found") && err.contains("signal_a"), "{err}");
    assert!(!dir.path().join("r.json").exists());

    let out = run(dir.path(), &["select", "--input", "small.csv", "--target", "price", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["code"], "invalid_input");

    let out = run(dir.path(), &["select", "--input", "small.csv"]);
    assert_eq!(out.status.code(), Some(2), "a CSV needs --target");
    let out = run(dir.path(), &["select", "--input", "absent.csv", "--target", "label"]);
    assert_eq!(out.status.code(), Some(8), "a missing file is an I/O error");
    let out = run(dir.path(), &["select", "--input", "small.csv", "--target", "label", "--backend", "gpu"]);
    assert_eq!(out.status.code(), Some(5), "no CUDA backend yet: unavailable");

    let history = json(&run(dir.path(), &["select", "history", "--json"]));
    assert_eq!(history[history.as_array().map_or(0, Vec::len) - 1]["status"], "failed");
}

#[test]
fn config_with_a_dataset_yaml_reads_the_sqlite_table_it_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = std::fs::read_to_string(write_csv(dir.path(), "small.csv", 150, 3)).expect("read");
    let conn = rusqlite::Connection::open(dir.path().join("shop.sqlite")).expect("sqlite");
    conn.execute_batch(
        "CREATE TABLE train (id INTEGER, signal_a REAL, signal_b REAL, noise_0 REAL, noise_1 REAL, noise_2 REAL, label TEXT)",
    )
    .expect("table");
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        conn.execute("INSERT INTO train VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", rusqlite::params_from_iter(f))
            .expect("row");
    }
    drop(conn);
    std::fs::write(
        dir.path().join("shop.yaml"),
        "name: shop\ndatabase:\n  path: shop.sqlite\ntables:\n  train: train\ntarget_column: label\nid_columns:\n- id\nproblem_type: binary_classification\n",
    )
    .expect("yaml");
    let out = run(dir.path(), &["select", "--config", "shop.yaml", "--k3", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["summary"]["target"], "label", "the YAML names the target");
    assert_eq!(v["report"]["dataset_info"]["name"], "shop");
    assert_eq!(v["report"]["dataset_info"]["problem_type"], "binary_classification");
    // The app's own config and store still come from the environment.
    assert!(dir.path().join("config.toml").exists());
    assert_eq!(json(&run(dir.path(), &["select", "history", "--json"])).as_array().map(Vec::len), Some(1));

    let out = run(dir.path(), &["select", "--config", "shop.yaml", "--target", "label"]);
    assert_eq!(out.status.code(), Some(2), "a YAML names its own target");
}

#[test]
fn ctrl_c_cancels_with_exit_130_and_leaves_no_report_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_csv(dir.path(), "wide.csv", 2000, 200);
    let mut child = hsofctl(dir.path())
        .args(["select", "--input", "wide.csv", "--target", "label", "--out", "r.json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    // Interrupt once the filter stage is working, as a person watching the bar would.
    for line in lines.by_ref() {
        let line = line.expect("line");
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("[filter]") || Instant::now() > deadline {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().expect("kill").success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "stderr: {seen}{}", rest.join("\n"));
    assert!(rest.iter().any(|l| l.contains("cancelled")), "{rest:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.contains("r.json"))
        .collect();
    assert!(left.is_empty(), "no report and no temp file: {left:?}");
    let history = json(&run(dir.path(), &["select", "history", "--json"]));
    assert_eq!(history[0]["status"], "cancelled");
}

#[test]
fn outer_validation_is_chosen_on_the_command_line_and_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_csv(dir.path(), "small.csv", 240, 4);
    let base = ["select", "--input", "small.csv", "--target", "label", "--id-cols", "id", "--k3", "2"];
    let out = run(
        dir.path(),
        &[&base[..], &["--outer", "holdout:0.25", "--search-seconds", "5", "--class-weight", "balanced", "--json"]]
            .concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let validation = &v["report"]["final_results"]["validation"];
    assert_eq!(validation["scheme"], "holdout");
    assert_eq!(validation["held_out_rows"][0], 60);
    assert_eq!(v["report"]["pipeline_info"]["options"]["search"]["max_seconds"], 5.0);
    assert_eq!(v["report"]["pipeline_info"]["options"]["evaluate"]["class_weight"], "balanced");
    // Nested folds: the text says how the score was measured and shows each feature's stability.
    let out = run(dir.path(), &[&base[..], &["--outer", "folds:4"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("held out (4 outer folds:"), "{text}");
    assert!(text.contains("inner 5-fold CV"), "{text}");
    assert!(text.contains("stability"), "{text}");
    assert!(text.contains("held-out metrics: accuracy") && text.contains("balanced_accuracy"), "{text}");
    // The size chosen by the data, up to --k3-max: the text and the report say how.
    let auto = ["select", "--input", "small.csv", "--target", "label", "--id-cols", "id", "--k3-max", "3"];
    let out = run(dir.path(), &auto);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("size: 3 sizes from 1 to 3 tried"), "{text}");
    assert!(text.contains("inner score by size (* chosen)"), "{text}");
    let v = json(&run(dir.path(), &[&auto[..], &["--json"]].concat()));
    let choice = &v["report"]["final_results"]["size_choice"];
    assert_eq!(choice["rule"], "auto");
    let n = v["report"]["final_results"]["selected_features"].as_array().map(Vec::len).unwrap_or(0);
    assert!((1..=3).contains(&n) && choice["chosen"] == n, "{choice}");
    let out = run(dir.path(), &[&base[..], &["--k3-max", "4"]].concat());
    assert_eq!(out.status.code(), Some(2), "--k3 and --k3-max together are refused");
    for bad in ["folds:1", "holdout:0.9", "sometimes"] {
        let out = run(dir.path(), &[&base[..], &["--outer", bad]].concat());
        assert_eq!(out.status.code(), Some(2), "--outer {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("folds:K"), "--outer {bad}");
    }
}
