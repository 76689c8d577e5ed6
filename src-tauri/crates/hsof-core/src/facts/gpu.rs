use hsof_gpu::{GpuReader, GpuReading, GpuState};
use serde::Serialize;

/// NVIDIA driver and devices, as NVML reports them.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GpuFacts {
    /// True when NVML loaded and answered.
    pub driver_present: bool,
    /// Driver version, e.g. `550.54.15`.
    pub driver_version: Option<String>,
    /// Highest CUDA version the driver supports, e.g. `12.4`.
    pub cuda_version: Option<String>,
    /// Devices found.
    pub devices: Vec<GpuDevice>,
    /// Why nothing could be read, in plain words.
    pub message: Option<String>,
}

/// One GPU.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GpuDevice {
    /// NVML index.
    pub index: u32,
    /// Product name.
    pub name: String,
    /// UUID.
    pub uuid: String,
    /// Total memory, bytes.
    pub memory_total_bytes: f64,
}

/// Reads the driver and device list; no driver is a normal, explained state. The reading
/// itself is hsof-gpu's (one NVML code path for Overview, the GPU screen and `hsofctl`).
pub fn read_gpus() -> GpuFacts {
    from_reading(&GpuReader::new().read(chrono::Utc::now()))
}

/// The facts in a GPU reading.
pub fn from_reading(reading: &GpuReading) -> GpuFacts {
    match &reading.state {
        GpuState::NoGpu { reason, driver_loaded } => GpuFacts {
            driver_present: *driver_loaded,
            driver_version: None,
            cuda_version: None,
            devices: vec![],
            message: Some(reason.clone()),
        },
        GpuState::Present { driver_version, cuda_version, devices } => GpuFacts {
            driver_present: true,
            driver_version: Some(driver_version.clone()),
            cuda_version: cuda_version.clone(),
            devices: devices
                .iter()
                .map(|d| GpuDevice {
                    index: d.index,
                    name: d.name.clone(),
                    uuid: d.uuid.clone(),
                    memory_total_bytes: d.memory_total_bytes.map(|b| b as f64).unwrap_or(0.0),
                })
                .collect(),
            message: None,
        },
    }
}
