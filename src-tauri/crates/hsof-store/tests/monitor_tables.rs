//! Monitoring tables over a real SQLite file.

use hsof_store::{Store, ThresholdRecord, STORE_FILE};

#[test]
fn series_downsample_in_sql_and_keep_every_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join(STORE_FILE)).expect("open");
    let id = store.series_id("metric.error_rate_pct").expect("series");
    assert_eq!(store.series_id("metric.error_rate_pct").expect("same"), id);
    let points: Vec<(i64, f64)> = (0..240).map(|i| (i * 15, (i % 4) as f64)).collect();
    store.insert_samples(id, &points).expect("insert");
    store.insert_samples(id, &[(15, 9.0), (30, f64::NAN)]).expect("replace one, skip NaN");
    assert_eq!(store.samples(id, 0, 3600).expect("raw").len(), 240);
    let b = store.downsample(id, 0, 3599, 600).expect("buckets");
    assert_eq!(b.len(), 6);
    // Bucket 0 holds 40 points: values 0,9,2,3 then 0,1,2,3 repeating.
    assert_eq!((b[0].min, b[0].max), (0.0, 9.0));
    assert!((b[0].avg - (1.5 * 40.0 + 8.0) / 40.0).abs() < 1e-9, "{:?}", b[0]);
    assert_eq!(b[5].ts, 3000.0);
}

#[test]
fn health_polls_last_known_and_alert_links_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join(STORE_FILE)).expect("open");
    store.insert_health("", 100, true, "HEALTHY", "{}").expect("h");
    store.insert_health("", 130, false, "CRITICAL", "{\"x\":1}").expect("h");
    store.insert_health("dr-us", 131, true, "HEALTHY", "{\"dr\":1}").expect("h");
    assert_eq!(store.health_up_since("", 110).expect("since"), vec![(130, false)]);
    assert_eq!(store.last_health("").expect("last"), Some((130, "{\"x\":1}".to_string())));
    assert_eq!(store.health_up_since("dr-us", 0).expect("since"), vec![(131, true)], "one cluster's polls only");

    assert_eq!(store.last_known("alerts").expect("none"), None);
    store.put_last_known("alerts", "[1]", "2026-11-27T09:00:00Z").expect("put");
    store.put_last_known("alerts", "[2]", "2026-11-27T09:01:00Z").expect("put");
    assert_eq!(store.last_known("alerts").expect("get"), Some(("[2]".into(), "2026-11-27T09:01:00Z".into())));

    let id = store.link_alert("abc123", "HSOFErrorRateCritical", "{}", "2026-11-27T09:00:00Z", "alice").expect("link");
    assert_eq!(store.open_alert_links().expect("links")[0].0, id);

    let rec = ThresholdRecord { active: true, since: Some(50), notified_at: None, snoozed_until: Some(900) };
    store.set_threshold_state("gpu_temp", &rec).expect("set");
    assert_eq!(store.threshold_state("gpu_temp").expect("get"), Some(rec));
}

#[test]
fn the_single_clusters_history_moves_to_its_listed_name_once_and_gpu_state_stays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join(STORE_FILE)).expect("open");
    store.insert_health("", 100, true, "HEALTHY", "{}").expect("h");
    let old = store.series_id("metric.error_rate_pct").expect("series");
    store.insert_samples(old, &[(100, 0.5)]).expect("samples");
    store.put_last_known("key_metrics", "{}", "2026-12-07T10:00:00Z").expect("known");
    let rec = ThresholdRecord { active: true, since: Some(90), ..ThresholdRecord::default() };
    store.set_threshold_state("error_rate_critical", &rec).expect("rule");
    store.set_threshold_state("gpu.GPU-1.temperature", &rec).expect("gpu rule");
    // A series the cluster already has under its name is not overwritten.
    let taken = store.series_id("@prod-eu/metric.latency_p95_secs").expect("scoped");
    store.series_id("metric.latency_p95_secs").expect("unscoped twin");

    assert!(store.adopt_unscoped("prod-eu").expect("adopt") >= 4);
    assert_eq!(store.health_up_since("prod-eu", 0).expect("since"), vec![(100, true)]);
    assert!(store.health_up_since("", 0).expect("since").is_empty());
    assert_eq!(store.series_id("@prod-eu/metric.error_rate_pct").expect("moved"), old, "same series, same samples");
    assert_eq!(store.samples(old, 0, 200).expect("samples"), vec![(100, 0.5)]);
    assert_eq!(store.series_id("@prod-eu/metric.latency_p95_secs").expect("kept"), taken);
    assert!(store.last_known("@prod-eu/key_metrics").expect("known").is_some());
    assert!(store.last_known("key_metrics").expect("gone").is_none());
    assert!(store.threshold_state("@prod-eu/error_rate_critical").expect("rule").is_some());
    assert!(store.threshold_state("gpu.GPU-1.temperature").expect("gpu").is_some(), "the machine's GPU stays");
    // Said once: nothing left to move the second time.
    assert_eq!(store.adopt_unscoped("prod-eu").expect("again"), 0);
    assert_eq!(store.adopt_unscoped("").expect("no scope"), 0);
}
