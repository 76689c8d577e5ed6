//! Reading the devices through NVML, loaded at run time.
//!
//! Every call that can fail returns a `Result` in nvml-wrapper; a figure a card does not
//! support becomes `None`, any other failure is named in [`DeviceReading::problems`]. The
//! whole read also runs under `catch_unwind`, so a misbehaving driver library costs one
//! reading, never the app.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use nvml_wrapper::bitmasks::device::ThrottleReasons;
use nvml_wrapper::enum_wrappers::device::{Clock, EccCounter, MemoryError, TemperatureSensor};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};

use crate::reading::{DeviceReading, EccErrors, GpuProcess, GpuReading, GpuState};

/// Reads the local GPUs. Holds NVML once it has started; while it cannot start, each read
/// tries again (a missing library fails in microseconds), so a driver installed or loaded
/// while the app runs is picked up.
#[derive(Debug, Default)]
pub struct GpuReader {
    nvml: Mutex<Option<Nvml>>,
}

/// `no NVIDIA GPU on this machine: <why>` for an NVML start-up failure.
fn no_driver_reason(e: &NvmlError) -> String {
    let why = match e {
        NvmlError::LibloadingError(_) => {
            "no NVIDIA driver is installed (libnvidia-ml.so could not be loaded)".to_string()
        }
        NvmlError::DriverNotLoaded => "the NVIDIA driver is installed but not loaded".to_string(),
        NvmlError::NoPermission => "this user may not query the NVIDIA driver".to_string(),
        other => format!("NVML could not start ({other})"),
    };
    format!("no NVIDIA GPU on this machine: {why}")
}

impl GpuReader {
    /// A reader; NVML is started by the first read.
    pub fn new() -> Self {
        Self::default()
    }

    /// One reading of every device at `now`. Never fails: no driver, a driver without a
    /// usable GPU, or a panicking driver library all give [`GpuState::NoGpu`] with the reason.
    pub fn read(&self, now: DateTime<Utc>) -> GpuReading {
        let state = catch_unwind(AssertUnwindSafe(|| self.read_state())).unwrap_or_else(|_| GpuState::NoGpu {
            reason: "no NVIDIA GPU on this machine: the NVML library failed while being read".into(),
            driver_loaded: false,
        });
        GpuReading { at: now.to_rfc3339_opts(SecondsFormat::Secs, true), ts: now.timestamp(), state }
    }

    fn read_state(&self) -> GpuState {
        // A poisoned lock only means an earlier read panicked; NVML itself holds no state we rely on.
        let mut guard = self.nvml.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            match Nvml::init() {
                Ok(n) => *guard = Some(n),
                Err(e) => return GpuState::NoGpu { reason: no_driver_reason(&e), driver_loaded: false },
            }
        }
        let Some(nvml) = guard.as_ref() else {
            return GpuState::NoGpu {
                reason: "no NVIDIA GPU on this machine: NVML did not start".into(),
                driver_loaded: false,
            };
        };
        let count = match nvml.device_count() {
            Ok(0) => {
                return GpuState::NoGpu {
                    reason: "no NVIDIA GPU on this machine: the driver is loaded but reports no device".into(),
                    driver_loaded: true,
                }
            }
            Ok(n) => n,
            Err(e) => {
                return GpuState::NoGpu {
                    reason: format!("no NVIDIA GPU on this machine: the driver could not count devices ({e})"),
                    driver_loaded: true,
                }
            }
        };
        let mut devices = Vec::new();
        let mut unusable = Vec::new();
        for index in 0..count {
            match nvml.device_by_index(index) {
                Ok(d) => devices.push(read_device(nvml, index, &d)),
                Err(e) => unusable.push(format!("GPU {index}: {e}")),
            }
        }
        if devices.is_empty() {
            return GpuState::NoGpu {
                reason: format!(
                    "no NVIDIA GPU on this machine: the driver reports {count} device(s) but none can be used ({})",
                    unusable.join("; ")
                ),
                driver_loaded: true,
            };
        }
        let cuda_version = nvml.sys_cuda_driver_version().ok().map(|v| format!("{}.{}", v / 1000, (v % 1000) / 10));
        GpuState::Present {
            driver_version: nvml.sys_driver_version().unwrap_or_else(|_| "unknown".into()),
            cuda_version,
            devices,
        }
    }
}

/// `Some(value)`, `None` when unsupported, or `None` plus a line in `problems`.
fn opt<T>(r: Result<T, NvmlError>, what: &str, problems: &mut Vec<String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(NvmlError::NotSupported | NvmlError::FailedToLoadSymbol(_) | NvmlError::NotFound) => None,
        Err(e) => {
            problems.push(format!("{what}: {e}"));
            None
        }
    }
}

fn read_device(nvml: &Nvml, index: u32, d: &Device<'_>) -> DeviceReading {
    let mut p = Vec::new();
    let name = opt(d.name(), "name", &mut p).unwrap_or_else(|| format!("GPU {index}"));
    let uuid = opt(d.uuid(), "uuid", &mut p).unwrap_or_else(|| format!("index-{index}"));
    let pci_bus_id = opt(d.pci_info(), "PCI info", &mut p).map(|i| i.bus_id);
    let util = opt(d.utilization_rates(), "utilisation", &mut p);
    let memory = opt(d.memory_info(), "memory", &mut p);
    let temperature_c = opt(d.temperature(TemperatureSensor::Gpu), "temperature", &mut p).map(f64::from);
    let power_draw_w = opt(d.power_usage(), "power draw", &mut p).map(|mw| f64::from(mw) / 1000.0);
    let power_limit_w = opt(d.enforced_power_limit(), "power limit", &mut p).map(|mw| f64::from(mw) / 1000.0);
    let graphics_clock_mhz = opt(d.clock_info(Clock::Graphics), "graphics clock", &mut p);
    let sm_clock_mhz = opt(d.clock_info(Clock::SM), "SM clock", &mut p);
    let memory_clock_mhz = opt(d.clock_info(Clock::Memory), "memory clock", &mut p);
    let max_sm_clock_mhz = opt(d.max_clock_info(Clock::SM), "max SM clock", &mut p);
    let max_memory_clock_mhz = opt(d.max_clock_info(Clock::Memory), "max memory clock", &mut p);
    let fan_pct = opt(d.fan_speed(0), "fan", &mut p);
    let pstate = opt(d.performance_state(), "performance state", &mut p).map(|s| format!("P{}", s.as_c()));
    let throttle_reasons =
        opt(d.current_throttle_reasons(), "throttle reasons", &mut p).map(throttle_words).unwrap_or_default();
    let ecc = read_ecc(d, &mut p);
    let processes = match d.running_compute_processes() {
        Ok(list) => list
            .into_iter()
            .map(|pi| GpuProcess {
                pid: pi.pid,
                name: process_name(nvml, pi.pid),
                used_memory_bytes: match pi.used_gpu_memory {
                    UsedGpuMemory::Used(b) => Some(b),
                    UsedGpuMemory::Unavailable => None,
                },
            })
            .collect(),
        Err(NvmlError::NotSupported) => Vec::new(),
        Err(e) => {
            p.push(format!("processes: {e}"));
            Vec::new()
        }
    };
    DeviceReading {
        index,
        name,
        uuid,
        pci_bus_id,
        utilization_pct: util.as_ref().map(|u| f64::from(u.gpu)),
        memory_utilization_pct: util.as_ref().map(|u| f64::from(u.memory)),
        memory_used_bytes: memory.as_ref().map(|m| m.used),
        memory_total_bytes: memory.as_ref().map(|m| m.total),
        temperature_c,
        power_draw_w,
        power_limit_w,
        graphics_clock_mhz,
        sm_clock_mhz,
        memory_clock_mhz,
        max_sm_clock_mhz,
        max_memory_clock_mhz,
        fan_pct,
        pstate,
        throttle_reasons,
        ecc,
        processes,
        problems: p,
    }
}

fn read_ecc(d: &Device<'_>, p: &mut Vec<String>) -> Option<EccErrors> {
    // Consumer cards do not support ECC and data-centre cards may have it switched off:
    // both are "no figure", not a problem.
    let enabled = d.is_ecc_enabled().ok()?;
    if !enabled.currently_enabled {
        return None;
    }
    let corrected = opt(d.total_ecc_errors(MemoryError::Corrected, EccCounter::Volatile), "ECC (corrected)", p)?;
    let uncorrected = opt(d.total_ecc_errors(MemoryError::Uncorrected, EccCounter::Volatile), "ECC (uncorrected)", p)?;
    Some(EccErrors { corrected, uncorrected })
}

fn process_name(nvml: &Nvml, pid: u32) -> String {
    nvml.sys_process_name(pid, 64)
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "?".into())
}

/// The active throttle reasons in words; "GPU idle" alone is not a slowdown worth showing.
fn throttle_words(r: ThrottleReasons) -> Vec<String> {
    const WORDS: &[(ThrottleReasons, &str)] = &[
        (ThrottleReasons::SW_POWER_CAP, "power cap"),
        (ThrottleReasons::HW_SLOWDOWN, "hardware slowdown"),
        (ThrottleReasons::HW_THERMAL_SLOWDOWN, "hardware thermal slowdown"),
        (ThrottleReasons::SW_THERMAL_SLOWDOWN, "software thermal slowdown"),
        (ThrottleReasons::HW_POWER_BRAKE_SLOWDOWN, "power brake"),
        (ThrottleReasons::SYNC_BOOST, "sync boost"),
        (ThrottleReasons::APPLICATIONS_CLOCKS_SETTING, "application clocks setting"),
        (ThrottleReasons::DISPLAY_CLOCK_SETTING, "display clock setting"),
    ];
    WORDS.iter().filter(|(bit, _)| r.contains(*bit)).map(|(_, w)| (*w).to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_bits_become_words_and_idle_is_not_a_slowdown() {
        let r = ThrottleReasons::SW_POWER_CAP | ThrottleReasons::HW_THERMAL_SLOWDOWN | ThrottleReasons::GPU_IDLE;
        assert_eq!(throttle_words(r), vec!["power cap", "hardware thermal slowdown"]);
        assert!(throttle_words(ThrottleReasons::GPU_IDLE).is_empty());
    }

    #[test]
    fn start_up_failures_read_as_no_gpu() {
        let r = no_driver_reason(&NvmlError::DriverNotLoaded);
        assert_eq!(r, "no NVIDIA GPU on this machine: the NVIDIA driver is installed but not loaded");
    }

    /// On a machine without the driver (CI, this project's build hosts) a reading is the
    /// explained no-GPU state; with one, it lists at least one device. Either way: no panic.
    #[test]
    fn a_reading_never_panics_and_explains_absence() {
        let reading = GpuReader::new().read(Utc::now());
        match &reading.state {
            GpuState::NoGpu { reason, .. } => {
                assert!(reason.starts_with("no NVIDIA GPU on this machine: "), "{reason}")
            }
            GpuState::Present { devices, .. } => assert!(!devices.is_empty()),
        }
        let json = serde_json::to_value(&reading).expect("serialises");
        assert!(json["state"]["kind"].is_string());
    }
}
