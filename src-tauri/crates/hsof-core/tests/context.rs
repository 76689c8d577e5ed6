//! The application context over real files: degraded starts, audited config saves.

use chrono::{TimeZone, Utc};
use hsof_core::{AppContext, BackendChoice, ErrorCode, IpcError, Options};

fn opts(dir: &std::path::Path) -> Options {
    Options {
        config: Some(dir.join("cfg/config.toml")),
        data_dir: Some(dir.join("data")),
        secrets: BackendChoice::File,
    }
}

#[test]
fn saving_config_is_audited_with_before_and_after_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = AppContext::open(&opts(dir.path()));
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("time");
    let mut cfg = ctx.config().config;
    cfg.cluster.namespace = "hsof-canary".into();
    ctx.save_config(cfg.clone(), "alice", now).expect("save");

    let audit = ctx.audit_list(10).expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].action.as_str(), audit[0].result.as_str()),
        ("alice", "config.save", "ok")
    );
    assert!(audit[0].before.as_deref().unwrap_or_default().contains("\"namespace\":\"hsof\""));
    assert!(audit[0].after.as_deref().unwrap_or_default().contains("hsof-canary"));
    assert!(ctx.audit_verify().expect("verify").intact);
    drop(ctx);
    assert_eq!(AppContext::open(&opts(dir.path())).config().config, cfg);
}

#[test]
fn invalid_config_from_the_form_is_refused_with_per_key_detail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = AppContext::open(&opts(dir.path()));
    let mut cfg = ctx.config().config;
    cfg.endpoints.prometheus_url = "not a url".into();
    let err = ctx.save_config(cfg, "alice", Utc::now()).expect_err("invalid");
    let ipc = IpcError::from(&err);
    assert_eq!(ipc.code, ErrorCode::InvalidConfig);
    assert!(ipc.detail.unwrap_or_default().contains("endpoints.prometheus_url"));
    assert!(ctx.audit_list(10).expect("audit").is_empty(), "nothing changed, nothing audited");
}

#[test]
fn unusable_data_dir_starts_degraded_and_doctor_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, "a file where the data dir should be").expect("write");
    let ctx = AppContext::open(&opts(dir.path()));
    let err = ctx.audit_list(5).expect_err("degraded");
    assert_eq!(err.code(), ErrorCode::StoreUnavailable);
    let doctor = ctx.doctor(Utc::now());
    assert_eq!(doctor.status, "degraded");
    assert!(!doctor.store.ok);
    assert!(doctor.attention.iter().any(|a| a.starts_with("Store:")), "{:?}", doctor.attention);
    assert!(doctor.host.logical_cpus >= 1 && doctor.host.memory_total_bytes > 0.0);
    assert!(doctor.gpu.driver_present || doctor.gpu.message.is_some());
    // The config still saved: config lives elsewhere.
    let mut cfg = ctx.config().config;
    cfg.slack.channel = "#hsof-oncall".into();
    ctx.save_config(cfg, "bob", Utc::now()).expect("config saves while store is degraded");
}
