//! Monitoring for HSOF: health probes, Prometheus and AlertManager clients, SLO math and
//! the runbook's thresholds. No Tauri here; pure logic takes time and samples as inputs.

pub mod alertmanager;
pub mod cost;
mod error;
pub mod grafana;
pub mod health;
mod http;
pub mod keymetrics;
pub mod prom;
pub mod slo;
pub mod thresholds;

pub use error::MonitorError;
pub use http::{clock_skew_secs, probe};

use serde::{Deserialize, Serialize};

/// A status level, ordered from best to worst. The words match HSOF's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// All good.
    Healthy,
    /// No data, or data that could not be read.
    Unknown,
    /// Needs attention.
    Warning,
    /// Act now.
    Critical,
}

impl Level {
    /// Parses HSOF's status words; anything else is `Unknown`.
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "HEALTHY" | "OK" => Self::Healthy,
            "WARNING" | "DEGRADED" => Self::Warning,
            "CRITICAL" | "DOWN" | "UNHEALTHY" => Self::Critical,
            _ => Self::Unknown,
        }
    }
}
