//! The configuration file as a user meets it: first run, typos, bad values, saves.

use hsof_core::config::{self, leaf_keys, load_or_create, parse, render, Config, ConfigError, Theme};
use proptest::prelude::*;

#[test]
fn defaults_carry_the_runbook_and_are_valid() {
    let c = Config::default();
    assert!(config::validate(&c).is_empty(), "{:?}", config::validate(&c));
    assert_eq!(c.cluster.namespace, "hsof");
    assert_eq!(c.cluster.deployment, "hsof-main");
    assert_eq!(c.cluster.backup_cronjob, "hsof-backup");
    assert_eq!(c.thresholds.latency_p95_max_secs, 30.0);
    assert_eq!(c.thresholds.warning.latency_p95_secs, 25.0);
    assert_eq!(c.thresholds.critical.gpu_temperature_c, 85.0);
    assert_eq!(c.thresholds.error_rate_max_pct, 0.1);
    assert_eq!(c.severities.P0.response_minutes, 5);
    assert_eq!(c.severities.P1.escalation, "30m");
    assert_eq!(c.severities.P3.escalation, "next-business-day");
}

#[test]
fn first_run_writes_a_commented_file_that_loads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub/config.toml");
    let first = load_or_create(&path);
    assert!(first.created && first.problem.is_none());
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(text.contains("# Namespace HSOF runs in.\nnamespace = \"hsof\""), "{text}");
    for key in leaf_keys(&Config::default()) {
        let leaf = key.rsplit('.').next().unwrap_or_default();
        assert!(text.contains(&format!("{leaf} = ")), "{key} missing from file");
    }
    let second = load_or_create(&path);
    assert!(!second.created);
    assert_eq!(second.config, Config::default());
}

#[test]
fn every_key_is_documented_in_docs_configuration_md() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../docs/configuration.md"))
        .expect("docs/configuration.md exists");
    for key in leaf_keys(&Config::default()) {
        assert!(config::doc_for(&key).is_some(), "no comment for {key}");
        assert!(docs.contains(&format!("`{key}`")), "docs/configuration.md does not document `{key}`");
    }
}

#[test]
fn wrong_type_names_file_line_and_key() {
    let path = std::path::Path::new("/etc/hsof/config.toml");
    let text = "[cluster]\nnamespace = \"hsof\"\n\n[thresholds]\ncpu_utilization_max_pct = \"eighty\"\n";
    match parse(path, text) {
        Err(ConfigError::Parse { line, key, .. }) => {
            assert_eq!(line, 5);
            assert_eq!(key, "thresholds.cpu_utilization_max_pct");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let msg = parse(path, text).expect_err("bad").to_string();
    assert!(msg.contains("/etc/hsof/config.toml") && msg.contains("line 5"), "{msg}");
}

#[test]
fn unknown_key_is_refused_by_name() {
    let err = parse(std::path::Path::new("c.toml"), "[cluster]\nnamespaec = \"hsof\"\n").expect_err("typo");
    let msg = err.to_string();
    assert!(msg.contains("namespaec") && msg.contains("line 2"), "{msg}");
}

#[test]
fn out_of_range_values_are_each_reported_with_what_is_expected() {
    let text = "[thresholds]\ncpu_utilization_max_pct = 180.0\n[endpoints]\nprometheus_url = \"prometheus:9090\"\n[severities.P1]\ndescription = \"x\"\nresponse_minutes = 15\nescalation = \"soon\"\nstatus_update_minutes = 15\npostmortem = true\n";
    let err = parse(std::path::Path::new("c.toml"), text).expect_err("invalid");
    let ConfigError::Invalid { problems, .. } = &err else { panic!("{err:?}") };
    let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["endpoints.prometheus_url", "thresholds.cpu_utilization_max_pct", "severities.P1.escalation"]);
    assert!(err.to_string().contains("expected a percentage between 0 and 100, found 180"), "{err}");
}

#[test]
fn broken_file_runs_on_defaults_and_is_left_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    let mine = "[cluster\nnamespace = 'hsof'  # my notes\n";
    std::fs::write(&path, mine).expect("write");
    let loaded = load_or_create(&path);
    assert!(loaded.problem.is_some());
    assert_eq!(loaded.config, Config::default());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), mine);
}

#[test]
fn save_refuses_invalid_and_keeps_previous_as_bak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    load_or_create(&path);
    let original = std::fs::read_to_string(&path).expect("read");
    let mut bad = Config::default();
    bad.cluster.namespace = "HSOF Prod".into();
    assert!(matches!(config::save(&path, &bad), Err(ConfigError::Invalid { .. })));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), original);

    let mut good = Config::default();
    good.ui.theme = Theme::Light;
    good.cluster.namespace = "hsof-staging".into();
    config::save(&path, &good).expect("save");
    assert_eq!(load_or_create(&path).config, good);
    assert_eq!(std::fs::read_to_string(dir.path().join("config.toml.bak")).expect("bak"), original);
}

proptest! {
    #[test]
    fn any_valid_numbers_survive_render_and_parse(
        cpu in 0.0f64..=100.0, p95 in 0.001f64..1e4, warn_frac in 0.01f64..0.99,
        quality in 0.0f64..=1.0, timeout in 1u32..=300, response in 1u32..100_000,
    ) {
        let mut c = Config::default();
        c.thresholds.cpu_utilization_max_pct = cpu;
        c.thresholds.latency_p95_max_secs = p95;
        c.thresholds.warning.latency_p95_secs = p95 * warn_frac;
        c.thresholds.selection_quality_min = quality;
        c.endpoints.request_timeout_secs = timeout;
        c.severities.P2.response_minutes = response;
        let back = parse(std::path::Path::new("p.toml"), &render(&c));
        prop_assert_eq!(back.ok(), Some(c));
    }
}
