//! Prometheus and AlertManager for the suites: `hsof_demo::servers`, logging to
//! `test-output/`, a failure to start failing the test.

use std::path::PathBuf;

pub use hsof_demo::servers::Server;

use crate::output_dir;

/// AlertManager with one null receiver and fast grouping.
pub fn alertmanager() -> Server {
    hsof_demo::servers::alertmanager(&output_dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// Prometheus scraping `target` every second, evaluating `rule_files` every second and
/// sending alerts to `alertmanager`.
pub fn prometheus(target: &str, rule_files: &[PathBuf], alertmanager: Option<&Server>) -> Server {
    hsof_demo::servers::prometheus(target, rule_files, alertmanager, &output_dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// Prometheus holding `openmetrics` as its history (backfilled with promtool), scraping
/// nothing: series whose every answer the test knows by construction.
pub fn prometheus_backfilled(openmetrics: &str) -> Server {
    hsof_demo::servers::prometheus_backfilled(openmetrics, &output_dir()).unwrap_or_else(|e| panic!("{e}"))
}
