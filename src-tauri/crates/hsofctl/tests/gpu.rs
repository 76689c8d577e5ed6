//! `hsofctl gpu` on the machine the tests run on. Without an NVIDIA driver (CI) it must say so
//! plainly and exit 0; with one it lists the devices. Either way `--watch --count` stops.

mod common;
use common::hsofctl;

#[test]
fn gpu_reports_devices_or_says_plainly_there_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hsofctl(dir.path(), &["gpu", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    match v["reading"]["state"]["kind"].as_str() {
        Some("no_gpu") => {
            let reason = v["reading"]["state"]["reason"].as_str().unwrap_or_default();
            assert!(reason.starts_with("no NVIDIA GPU on this machine: "), "{reason}");
            assert_eq!(v["devices"].as_array().map(Vec::len), Some(0));
            let text = hsofctl(dir.path(), &["gpu"]);
            assert!(text.status.success());
            assert!(String::from_utf8_lossy(&text.stdout).starts_with("no NVIDIA GPU on this machine: "));
        }
        Some("present") => {
            assert!(!v["reading"]["state"]["devices"].as_array().expect("devices").is_empty());
            assert_eq!(v["thresholds"]["temperature_c"], 85.0);
        }
        other => panic!("unexpected state {other:?}: {v}"),
    }
}

#[test]
fn gpu_watch_streams_one_json_line_per_reading_and_stops_at_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = hsofctl(dir.path(), &["gpu", "--watch", "--count", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1]["reading"]["ts"].as_f64() >= lines[0]["reading"]["ts"].as_f64());
}
