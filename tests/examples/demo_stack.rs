//! A local HSOF stack for trying the app without a cluster: the test exporter with
//! realistic values, Debian's Prometheus (with the project's runbook rules) and
//! AlertManager on loopback. Prints a config to point the app at it, then runs until
//! interrupted.
//!
//!   cargo run -p hsof-tests --example demo_stack -- [--errors]
//!
//! `--errors` makes 2 % of requests fail, which fires HSOFErrorRateCritical.

use std::io::Write;

use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::servers;

fn main() {
    let errors = std::env::args().any(|a| a == "--errors");
    let exporter = Exporter::start(Script { err_per_sec: if errors { 1.0 } else { 0.02 }, ..Script::default() });
    let am = servers::alertmanager();
    let rules = hsof_tests::workspace_root().join("monitoring/hsof-runbook-rules.yml");
    let prom = servers::prometheus(&format!("127.0.0.1:{}", exporter.port), &[rules], Some(&am));
    let dir = hsof_tests::workspace_root().join("test-output/demo");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut cfg = hsof_core::config::Config::default();
    cfg.endpoints.hsof_health_url = exporter.url();
    cfg.endpoints.prometheus_url = prom.url.clone();
    cfg.endpoints.alertmanager_url = am.url.clone();
    cfg.endpoints.poll_interval_secs = 5;
    let path = dir.join("config.toml");
    hsof_core::config::save(&path, &cfg).expect("write config");
    println!("HSOF exporter  {}\nPrometheus     {}\nAlertManager   {}", exporter.url(), prom.url, am.url);
    println!(
        "\nRun the app against it:\n  HSOF_CONTROL_CONFIG={} HSOF_CONTROL_DATA_DIR={} target/debug/hsof-control-center",
        path.display(),
        dir.join("data").display()
    );
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
