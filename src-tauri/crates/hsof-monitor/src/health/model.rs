//! The JSON shapes HSOF's health endpoints send (see the reference README).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /health`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OverallHealth {
    /// `HEALTHY`, `WARNING`, `CRITICAL` or `UNKNOWN`.
    pub overall_status: String,
    /// Per component (`gpu`, `model`, `pipeline`).
    #[serde(default)]
    pub components: BTreeMap<String, ServiceComponent>,
    /// The service's own timestamp.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// A component as the service reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ServiceComponent {
    /// Status word.
    pub status: String,
    /// Its message.
    #[serde(default)]
    pub message: String,
}

/// `GET /health/gpu`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GpuHealth {
    /// GPUs the service sees.
    pub gpu_count: u32,
    /// Each GPU.
    pub gpus: Vec<GpuReading>,
}

/// One GPU in `/health/gpu`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GpuReading {
    /// Device index.
    pub device_id: u32,
    /// Usable by the service.
    pub available: bool,
    /// Memory used, GB.
    pub memory_used_gb: f64,
    /// Memory total, GB.
    pub memory_total_gb: f64,
    /// Memory used, percent.
    pub memory_percentage: f64,
    /// Temperature, °C.
    pub temperature_celsius: f64,
    /// Utilisation, percent.
    pub utilization_percent: f64,
    /// Power draw, W.
    pub power_watts: f64,
}

/// `GET /health/model`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ModelHealth {
    /// The metamodel is loaded.
    pub metamodel_loaded: bool,
    /// Its version.
    #[serde(default)]
    pub metamodel_version: Option<String>,
    /// Inference can run.
    pub inference_ready: bool,
    /// Last inference time.
    #[serde(default)]
    pub last_inference_time: Option<String>,
    /// Mean inference latency, ms.
    pub average_inference_ms: f64,
    /// Inference error rate as a fraction (0.05 = 5 %).
    pub error_rate: f64,
}

/// `GET /health/pipeline`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PipelineHealth {
    /// Stage 1 (filter) works.
    pub stage1_operational: bool,
    /// Stage 2 (tree search) works.
    pub stage2_operational: bool,
    /// Stage 3 (model evaluation) works.
    pub stage3_operational: bool,
    /// Database reachable.
    pub database_connected: bool,
    /// Redis reachable.
    pub redis_connected: bool,
    /// Filesystem usable.
    pub filesystem_accessible: bool,
}
