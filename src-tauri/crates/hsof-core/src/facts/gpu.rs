use nvml_wrapper::Nvml;
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

/// Reads the driver and device list; no driver is a normal, explained state.
pub fn read_gpus() -> GpuFacts {
    let nvml = match Nvml::init() {
        Ok(n) => n,
        Err(e) => {
            let message = match e {
                nvml_wrapper::error::NvmlError::LibloadingError(_) => {
                    "no NVIDIA driver on this machine (libnvidia-ml.so is not installed)".to_string()
                }
                nvml_wrapper::error::NvmlError::DriverNotLoaded => {
                    "the NVIDIA driver is installed but not loaded".to_string()
                }
                other => format!("NVML could not start: {other}"),
            };
            return GpuFacts {
                driver_present: false,
                driver_version: None,
                cuda_version: None,
                devices: vec![],
                message: Some(message),
            };
        }
    };
    let cuda_version = nvml.sys_cuda_driver_version().ok().map(|v| format!("{}.{}", v / 1000, (v % 1000) / 10));
    let mut devices = Vec::new();
    let mut message = None;
    match nvml.device_count() {
        Ok(n) => {
            for index in 0..n {
                match nvml.device_by_index(index) {
                    Ok(d) => devices.push(GpuDevice {
                        index,
                        name: d.name().unwrap_or_else(|e| format!("unreadable ({e})")),
                        uuid: d.uuid().unwrap_or_default(),
                        memory_total_bytes: d.memory_info().map(|m| m.total as f64).unwrap_or(0.0),
                    }),
                    Err(e) => message = Some(format!("GPU {index} could not be read: {e}")),
                }
            }
            if n == 0 {
                message = Some("the NVIDIA driver is loaded but reports no GPU".into());
            }
        }
        Err(e) => message = Some(format!("NVML could not count devices: {e}")),
    }
    GpuFacts { driver_present: true, driver_version: nvml.sys_driver_version().ok(), cuda_version, devices, message }
}
