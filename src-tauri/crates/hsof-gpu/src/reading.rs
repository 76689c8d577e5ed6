//! What one reading of the local GPUs holds. Every figure a card may not support is an
//! `Option`: `None` means "this device or driver does not report it", not zero.

use serde::{Deserialize, Serialize};

/// One reading of every local NVIDIA GPU, or why there is none. Named `LocalGpuReading` in
/// TypeScript: `GpuReading` there is HSOF's `/health/gpu` answer (hsof-monitor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "LocalGpuReading")]
pub struct GpuReading {
    /// When it was read (RFC 3339, UTC).
    pub at: String,
    /// The same instant, unix seconds.
    #[specta(type = f64)]
    pub ts: i64,
    /// The devices, or the reason there are none.
    pub state: GpuState,
}

/// A driver with devices, or no usable GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GpuState {
    /// NVML answered and reported at least one device.
    Present {
        /// Driver version, e.g. `550.54.15`.
        driver_version: String,
        /// Highest CUDA version the driver supports, e.g. `12.4`.
        cuda_version: Option<String>,
        /// Every device, by NVML index.
        devices: Vec<DeviceReading>,
    },
    /// No driver, a driver that is not loaded, or a driver without a usable GPU.
    NoGpu {
        /// `no NVIDIA GPU on this machine: <why>`.
        reason: String,
        /// True when the driver answered (it has no usable device); false when it is
        /// missing, not loaded or refused.
        driver_loaded: bool,
    },
}

impl GpuReading {
    /// The devices read (empty without a GPU).
    pub fn devices(&self) -> &[DeviceReading] {
        match &self.state {
            GpuState::Present { devices, .. } => devices,
            GpuState::NoGpu { .. } => &[],
        }
    }

    /// Why there is no GPU, when there is none.
    pub fn no_gpu_reason(&self) -> Option<&str> {
        match &self.state {
            GpuState::NoGpu { reason, .. } => Some(reason),
            GpuState::Present { .. } => None,
        }
    }
}

/// One device at the moment of the reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DeviceReading {
    /// NVML index.
    pub index: u32,
    /// Product name, e.g. `NVIDIA H100 80GB HBM3`.
    pub name: String,
    /// Stable identifier (`GPU-…`); history is kept per UUID.
    pub uuid: String,
    /// PCI bus id, e.g. `00000000:17:00.0`.
    pub pci_bus_id: Option<String>,
    /// Share of the last sample period the GPU was busy, percent.
    pub utilization_pct: Option<f64>,
    /// Share of the last sample period device memory was read or written, percent.
    pub memory_utilization_pct: Option<f64>,
    /// Device memory in use, bytes.
    #[specta(type = Option<f64>)]
    pub memory_used_bytes: Option<u64>,
    /// Device memory in all, bytes.
    #[specta(type = Option<f64>)]
    pub memory_total_bytes: Option<u64>,
    /// Die temperature, °C.
    pub temperature_c: Option<f64>,
    /// Power draw, watts.
    pub power_draw_w: Option<f64>,
    /// Enforced power limit, watts.
    pub power_limit_w: Option<f64>,
    /// Graphics clock, MHz.
    pub graphics_clock_mhz: Option<u32>,
    /// SM clock, MHz.
    pub sm_clock_mhz: Option<u32>,
    /// Memory clock, MHz.
    pub memory_clock_mhz: Option<u32>,
    /// Highest SM clock, MHz.
    pub max_sm_clock_mhz: Option<u32>,
    /// Highest memory clock, MHz.
    pub max_memory_clock_mhz: Option<u32>,
    /// Fan speed, percent of its maximum (none on passively cooled cards).
    pub fan_pct: Option<u32>,
    /// Performance state, `P0` (fastest) … `P15`.
    pub pstate: Option<String>,
    /// Why the clocks are held down now, in words (`power cap`, `thermal slowdown`, …);
    /// empty when nothing holds them down.
    pub throttle_reasons: Vec<String>,
    /// ECC error counts since the driver loaded; `None` where ECC is unsupported or off.
    pub ecc: Option<EccErrors>,
    /// Processes using the device for compute.
    pub processes: Vec<GpuProcess>,
    /// Figures that could not be read for a reason other than "not supported".
    pub problems: Vec<String>,
}

impl DeviceReading {
    /// Memory in use as a percentage of the total, when both are known.
    pub fn memory_pct(&self) -> Option<f64> {
        match (self.memory_used_bytes, self.memory_total_bytes) {
            (Some(used), Some(total)) if total > 0 => Some(used as f64 * 100.0 / total as f64),
            _ => None,
        }
    }
}

/// Volatile ECC error counts (since the driver loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct EccErrors {
    /// Single-bit errors the hardware corrected.
    #[specta(type = f64)]
    pub corrected: u64,
    /// Double-bit errors it could not correct.
    #[specta(type = f64)]
    pub uncorrected: u64,
}

/// A process running compute work on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct GpuProcess {
    /// Process id.
    pub pid: u32,
    /// Its name (`?` when it cannot be read, e.g. another user's process in a container).
    pub name: String,
    /// Device memory it holds, bytes (not available under some drivers).
    #[specta(type = Option<f64>)]
    pub used_memory_bytes: Option<u64>,
}
