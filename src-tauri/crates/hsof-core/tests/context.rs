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

/// `team.holidays` and `team.holidays_ics` make next-business-day escalation skip the
/// team's days off; a calendar that cannot be read is refused at save with its key.
#[test]
fn holidays_from_the_config_move_next_business_day_escalation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = AppContext::open(&opts(dir.path()));
    let now = Utc.with_ymd_and_hms(2026, 12, 24, 15, 0, 0).single().expect("time");
    let plain = ctx.business_hours_policy().expect("hours").next_business_day_start(now);
    assert_eq!(plain, Utc.with_ymd_and_hms(2026, 12, 25, 9, 0, 0).single().expect("t"));

    let ics = dir.path().join("holidays.ics");
    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20260101T000000Z\r\n\
         SUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .expect("write");
    let mut cfg = ctx.config().config;
    cfg.team.holidays_ics = ics.display().to_string();
    cfg.team.holidays = vec!["2026-12-28".into()];
    ctx.save_config(cfg.clone(), "alice", now).expect("save");
    let hours = ctx.business_hours_policy().expect("hours");
    // Fri 25th (calendar), weekend, Mon 28th (list) → Tuesday the 29th.
    assert_eq!(hours.next_business_day_start(now), Utc.with_ymd_and_hms(2026, 12, 29, 9, 0, 0).single().expect("t"));

    cfg.team.holidays = vec!["28.12.2026".into()];
    let err = ctx.save_config(cfg.clone(), "alice", now).expect_err("bad date");
    assert!(err.to_string().contains("team.holidays"), "{err}");
    cfg.team.holidays = vec![];
    cfg.team.holidays_ics = dir.path().join("missing.ics").display().to_string();
    let err = ctx.save_config(cfg, "alice", now).expect_err("missing file");
    assert!(err.to_string().contains("team.holidays_ics"), "{err}");
}

/// `endpoints.grafana_url`: every key metric links to its query in Grafana Explore, also
/// when Prometheus is away (the last known view); no Grafana, no links.
#[tokio::test]
async fn key_metrics_link_to_grafana_explore_when_a_grafana_is_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = AppContext::open(&opts(dir.path()));
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).single().expect("time");
    let mut cfg = ctx.config().config;
    // Nothing listens on port 9 of loopback: Prometheus is unreachable.
    cfg.endpoints.prometheus_url = "http://127.0.0.1:9".into();
    ctx.save_config(cfg.clone(), "alice", now).expect("save");
    let v = ctx.key_metrics(now).await.expect("metrics");
    assert!(v.freshness.stale);
    assert!(v.metrics.iter().all(|m| m.grafana.is_none()), "no Grafana configured");

    cfg.endpoints.grafana_url = "https://grafana.example.com/grafana/".into();
    ctx.save_config(cfg, "alice", now).expect("save");
    let v = ctx.key_metrics(now).await.expect("metrics");
    for m in &v.metrics {
        let link = m.grafana.as_deref().expect("a link per metric");
        assert!(link.starts_with("https://grafana.example.com/grafana/explore?"), "{link}");
        let url = url::Url::parse(link).expect("url");
        let panes = url.query_pairs().find(|(k, _)| k == "panes").expect("panes").1.to_string();
        assert!(panes.contains(&serde_json::to_string(&m.query).expect("json")), "{panes}");
    }
}
