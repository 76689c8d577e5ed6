//! The GPU service over a real store with synthetic readings (CI has no GPU): samples are
//! stored per device, history is downsampled, and each threshold breach notifies once when
//! it begins and once when it ends.

use chrono::{TimeZone, Utc};
use hsof_core::gpu::{DeviceReading, GpuRange, GpuReading, GpuState};
use hsof_core::{AppContext, BackendChoice, Options};

fn ctx(dir: &std::path::Path) -> AppContext {
    AppContext::open(&Options {
        config: Some(dir.join("config.toml")),
        data_dir: Some(dir.join("data")),
        secrets: BackendChoice::File,
    })
}

fn device(temperature: f64, util: f64) -> DeviceReading {
    DeviceReading {
        index: 0,
        name: "NVIDIA H100 80GB HBM3".into(),
        uuid: "GPU-test-0".into(),
        pci_bus_id: None,
        utilization_pct: Some(util),
        memory_utilization_pct: Some(10.0),
        memory_used_bytes: Some(10 << 30),
        memory_total_bytes: Some(80 << 30),
        temperature_c: Some(temperature),
        power_draw_w: Some(300.0),
        power_limit_w: Some(700.0),
        graphics_clock_mhz: Some(1755),
        sm_clock_mhz: Some(1755),
        memory_clock_mhz: Some(2619),
        max_sm_clock_mhz: Some(1980),
        max_memory_clock_mhz: Some(2619),
        fan_pct: None,
        pstate: Some("P0".into()),
        throttle_reasons: vec![],
        ecc: None,
        processes: vec![],
        problems: vec![],
    }
}

fn reading(ts: i64, d: DeviceReading) -> GpuReading {
    GpuReading {
        at: String::new(),
        ts,
        state: GpuState::Present {
            driver_version: "550.54.15".into(),
            cuda_version: Some("12.4".into()),
            devices: vec![d],
        },
    }
}

#[test]
fn a_hot_gpu_notifies_once_per_breach_and_once_when_it_cools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = ctx(dir.path());
    let t0 = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("time").timestamp();
    let temps = [70.0, 88.0, 89.0, 90.0, 72.0, 71.0, 87.0];
    let mut fired = Vec::new();
    for (i, t) in temps.iter().enumerate() {
        let tick = ctx.gpu_record(reading(t0 + 2 * i as i64, device(*t, 80.0))).expect("record");
        for n in tick.notify {
            fired.push((i, n.resolved, n.title));
        }
    }
    let summary: Vec<(usize, bool)> = fired.iter().map(|(i, r, _)| (*i, *r)).collect();
    assert_eq!(summary, vec![(1, false), (4, true), (6, false)], "{fired:?}");
    assert!(fired[0].2.contains("GPU 0 (NVIDIA H100 80GB HBM3): GPU temperature > 85 °C"), "{}", fired[0].2);

    let now = Utc.timestamp_opt(t0 + 20, 0).single().expect("time");
    let h = ctx.gpu_history("GPU-test-0", GpuRange::Minutes15, now).expect("history");
    assert_eq!(h.buckets.iter().map(|b| b.samples).sum::<u32>(), 7);
    assert_eq!(h.buckets.iter().filter_map(|b| b.temperature_max_c).fold(0.0, f64::max), 90.0);
}

#[test]
fn low_utilisation_warns_after_ten_minutes_of_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = ctx(dir.path());
    let t0 = 1_800_000_000;
    let mut first_warning = None;
    for i in 0..=320 {
        let tick = ctx.gpu_record(reading(t0 + 2 * i, device(60.0, 5.0))).expect("record");
        if first_warning.is_none() && !tick.notify.is_empty() {
            first_warning = Some(2 * i);
            assert!(tick.notify[0].title.contains("utilisation < 20 % for > 10 min"), "{}", tick.notify[0].title);
        }
    }
    assert_eq!(first_warning, Some(602));
}

#[test]
fn without_a_gpu_the_status_explains_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = ctx(dir.path());
    let none = GpuReading {
        at: String::new(),
        ts: 1_800_000_000,
        state: GpuState::NoGpu { reason: "no NVIDIA GPU on this machine: test".into(), driver_loaded: false },
    };
    let tick = ctx.gpu_record(none).expect("record");
    assert!(tick.notify.is_empty() && tick.view.devices.is_empty());
    // The real reading on this machine: a GPU, or the explained absence; never a panic.
    let view = ctx.gpu_status(Utc::now());
    match view.reading.state {
        GpuState::NoGpu { reason, .. } => assert!(reason.starts_with("no NVIDIA GPU on this machine: ")),
        GpuState::Present { devices, .. } => assert_eq!(devices.len(), view.devices.len()),
    }
}
