//! Experiments through the application context: a real CSV, the real engine, the real store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use hsof_core::experiments::{ExperimentRequest, ExperimentStatus, Progress, Stage};
use hsof_core::{AppContext, BackendChoice, ErrorCode, Options};
use tokio_util::sync::CancellationToken;

fn open(dir: &Path) -> AppContext {
    AppContext::open(&Options {
        config: Some(dir.join("cfg/config.toml")),
        data_dir: Some(dir.join("data")),
        secrets: BackendChoice::File,
    })
}

/// 240 rows: `signal_a` and `signal_b` decide the class, `noise_*` do not; an `id` column.
fn write_csv(dir: &Path) -> PathBuf {
    let mut state = 0x2545_f491_u64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as f64) / f64::from(1u32 << 31)
    };
    let mut text = String::from("id,noise_1,signal_a,noise_2,signal_b,noise_3,noise_4,label\n");
    for i in 0..240 {
        let (a, b) = (next(), next());
        let label = if a + b > 1.0 { "yes" } else { "no" };
        text.push_str(&format!("{i},{:.4},{a:.4},{:.4},{b:.4},{:.4},{:.4},{label}\n", next(), next(), next(), next()));
    }
    let path = dir.join("synthetic.csv");
    std::fs::write(&path, text).expect("write csv");
    path
}

fn request(input: &Path, out: Option<&Path>) -> ExperimentRequest {
    ExperimentRequest {
        input: input.display().to_string(),
        target: Some("label".into()),
        id_columns: vec!["id".into()],
        k1: Some(6),
        k2: Some(4),
        k3: Some(2),
        seed: Some(7),
        out_path: out.map(|p| p.display().to_string()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_finds_the_signal_writes_its_report_and_is_recorded_in_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = open(dir.path());
    let csv = write_csv(dir.path());
    let out = dir.path().join("report.json");
    let seen = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let sink = seen.clone();
    let exp = ctx
        .run_experiment(
            request(&csv, Some(&out)),
            move |p| sink.lock().expect("lock").push(p),
            &CancellationToken::new(),
            Utc::now,
        )
        .await
        .expect("run");

    let report = exp.report.expect("an ok run has its report");
    let mut names: Vec<&str> = report.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["signal_a", "signal_b"]);
    assert_eq!(report.final_results.metric, "accuracy");
    assert!(report.final_results.score > 0.8, "accuracy {}", report.final_results.score);
    assert_eq!(exp.summary.status, ExperimentStatus::Ok);
    assert_eq!(exp.summary.selected, Some(2));
    assert_eq!(exp.summary.backend.as_deref(), Some("cpu"));
    assert_eq!(exp.request.expect("request kept").k3, Some(2));

    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("report file")).expect("json");
    assert_eq!(file["final_results"]["selected_features"].as_array().map(Vec::len), Some(2));

    let stages: Vec<Stage> = seen.lock().expect("lock").iter().map(|p| p.stage).collect();
    let firsts: Vec<Stage> =
        stages.iter().enumerate().filter(|(i, s)| *i == 0 || stages[i - 1] != **s).map(|(_, s)| *s).collect();
    // Load, then the three stages once per outer fold and once more on every row.
    let v = &report.final_results.validation;
    assert_eq!(v.scheme, "nested_folds", "a small table: outer folds");
    let mut expected = vec![Stage::Load];
    for _ in 0..=v.fold_scores.len() {
        expected.extend([Stage::Filter, Stage::Search, Stage::Evaluate]);
    }
    assert_eq!(firsts, expected);

    let history = ctx.experiments_list(10).expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].id, history[0].status, history[0].target.as_str()),
        (exp.summary.id, ExperimentStatus::Ok, "label")
    );
    assert_eq!(history[0].out_path.as_deref(), Some(out.display().to_string().as_str()));
    let again = ctx.experiment_get(exp.summary.id).expect("get");
    assert_eq!(again.report.map(|r| r.final_results.score), Some(report.final_results.score));
    assert_eq!(ctx.experiment_get(999).expect_err("missing").code(), ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_by_id_leaves_no_file_and_is_recorded_cancelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = Arc::new(open(dir.path()));
    let csv = write_csv(dir.path());
    let out = dir.path().join("out/report.json");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("out dir");
    let op = ctx.begin_operation("exp-1").expect("begin");
    let canceller = ctx.clone();
    let err = ctx
        .run_experiment(
            request(&csv, Some(&out)),
            // Cancel through the app's operation registry as the Cancel button does.
            move |p| {
                if p.stage == Stage::Search {
                    canceller.cancel_operation("exp-1");
                }
            },
            &op.token,
            Utc::now,
        )
        .await
        .expect_err("cancelled");
    drop(op);
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(err.code().exit_status(), 130);
    let left: Vec<_> = std::fs::read_dir(out.parent().expect("parent")).expect("dir").collect();
    assert!(left.is_empty(), "a cancelled run leaves nothing, not even a temp file: {left:?}");
    let history = ctx.experiments_list(10).expect("history");
    assert_eq!(history[0].status, ExperimentStatus::Cancelled);
    assert_eq!(history[0].error_code.as_deref(), Some("cancelled"));
    assert!(history[0].finished_at.is_some());
    assert!(ctx.experiment_get(history[0].id).expect("get").report.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_invalid_input_and_a_failed_run_is_recorded_with_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = open(dir.path());
    let csv = write_csv(dir.path());
    let token = CancellationToken::new();
    let run = |req: ExperimentRequest| ctx.run_experiment(req, |_| {}, &token, Utc::now);

    let err = run(ExperimentRequest { target: Some("price".into()), ..request(&csv, None) })
        .await
        .expect_err("no such target");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("`price` not found"), "{err}");
    let failed = &ctx.experiments_list(10).expect("history")[0];
    assert_eq!((failed.status, failed.error_code.as_deref()), (ExperimentStatus::Failed, Some("invalid_input")));
    assert!(failed.error.as_deref().unwrap_or_default().contains("price"));

    // Refused before any work, so not in the history.
    let err = run(ExperimentRequest { target: None, ..request(&csv, None) }).await.expect_err("no target");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let err = run(ExperimentRequest { k3: Some(0), ..request(&csv, None) }).await.expect_err("k3 = 0");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let nowhere = dir.path().join("missing-dir/report.json");
    let err = run(request(&csv, Some(&nowhere))).await.expect_err("out folder missing");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(ctx.experiments_list(10).expect("history").len(), 1);

    let err = run(request(&dir.path().join("absent.csv"), None)).await.expect_err("no file");
    assert_eq!(err.code(), ErrorCode::Io);
    std::fs::write(dir.path().join("constant.csv"), "a,b,label\n1,2,x\n3,4,x\n5,6,x\n").expect("write");
    let err = run(request(&dir.path().join("constant.csv"), None)).await.expect_err("constant target");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("constant"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_lists_columns_with_kind_and_first_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = write_csv(dir.path());
    let p = hsof_core::experiments::preview(&csv.display().to_string(), Utc::now()).await.expect("preview");
    let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["id", "noise_1", "signal_a", "noise_2", "signal_b", "noise_3", "noise_4", "label"]);
    let label = &p.columns[7];
    assert_eq!((label.kind, label.distinct), (hsof_core::experiments::ColumnKind::Text, 2));
    assert_eq!(p.columns[0].first_values, vec!["0", "1", "2", "3", "4"]);
    assert!(p.size_bytes > 1000.0);
    let err = hsof_core::experiments::preview(&dir.path().join("absent.csv").display().to_string(), Utc::now())
        .await
        .expect_err("absent");
    assert_eq!(err.code(), ErrorCode::Io);
    let err = hsof_core::experiments::preview("  ", Utc::now()).await.expect_err("empty");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[test]
fn a_run_whose_process_died_is_settled_as_interrupted_not_running_forever() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = open(dir.path());
    let store = ctx.store().expect("store");
    let row = |input: &str| {
        store
            .insert_experiment(&hsof_store::NewExperiment {
                started_at: "2026-11-28T10:00:00.000Z",
                input,
                target: "y",
                request: "null",
                out_path: None,
                cluster: None,
            })
            .expect("insert")
    };
    // A process that ran and is gone (its pid may be reused: the start time tells).
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let dead_pid = child.id();
    child.wait().expect("reaped");
    let dead = row("/data/dead.csv");
    store.set_experiment_owner(dead, &format!("{dead_pid}:1")).expect("owner");
    // This very process, alive and (as far as the store knows) still running it.
    let alive = row("/data/alive.csv");
    let me = hsof_core::experiments::process_identity(std::process::id()).expect("this process");
    store.set_experiment_owner(alive, &me).expect("owner");
    // Same pid, other start time: a reused pid is not the owner.
    let reused = row("/data/reused.csv");
    store.set_experiment_owner(reused, &format!("{}:1", std::process::id())).expect("owner");

    let list = ctx.experiments_list(10).expect("list");
    let status = |id: i64| list.iter().find(|e| e.id == id).expect("listed").clone();
    assert_eq!(status(alive).status, ExperimentStatus::Running);
    for id in [dead, reused] {
        let e = status(id);
        assert_eq!(e.status, ExperimentStatus::Failed, "{e:?}");
        assert_eq!(e.error_code.as_deref(), Some("interrupted"));
        assert!(e.error.unwrap_or_default().contains("ended before the run finished"));
    }
    assert_eq!(ctx.settle_orphaned_experiments(Utc::now()), 0, "settled once");
}
