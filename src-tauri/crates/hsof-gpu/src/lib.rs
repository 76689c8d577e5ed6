//! Local NVIDIA GPU telemetry and the runbook's GPU thresholds.
//!
//! [`GpuReader`] loads NVML (`libnvidia-ml.so`) at run time, so this crate builds and runs
//! on machines without a driver: there a reading is [`GpuState::NoGpu`] with the reason in
//! plain words, never a panic. [`thresholds`] is pure: it judges stored samples against the
//! runbook's limits with `now` passed in.

#![warn(missing_docs)]

mod nvml;
mod reading;
pub mod thresholds;

pub use nvml::GpuReader;
pub use reading::{DeviceReading, EccErrors, GpuProcess, GpuReading, GpuState};
pub use thresholds::{evaluate, notify_decision, GpuAlert, GpuLevel, GpuRule, GpuSample, GpuThresholds, Notify};
