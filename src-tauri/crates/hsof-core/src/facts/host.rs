use serde::Serialize;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// CPU, memory and OS of this machine.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct HostFacts {
    /// Host name.
    pub hostname: String,
    /// OS name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// CPU model.
    pub cpu_model: String,
    /// Logical CPUs.
    pub logical_cpus: u32,
    /// Physical cores, when known.
    pub physical_cores: Option<u32>,
    /// Total memory, bytes.
    pub memory_total_bytes: f64,
    /// Available memory, bytes.
    pub memory_available_bytes: f64,
}

/// Reads CPU, memory and OS facts through `sysinfo`.
pub fn read_host() -> HostFacts {
    let sys = System::new_with_specifics(
        RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing()).with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .ok();
    let cpus = sys.as_ref().map(|s| s.cpus()).unwrap_or_default();
    let cpu_model = cpus.first().map(|c| c.brand().trim().to_string()).filter(|b| !b.is_empty());
    HostFacts {
        hostname: System::host_name().unwrap_or_else(|_| "unknown".into()),
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
        kernel: System::kernel_version().unwrap_or_else(|_| "unknown".into()),
        cpu_model: cpu_model.unwrap_or_else(|| std::env::consts::ARCH.into()),
        logical_cpus: u32::try_from(cpus.len()).unwrap_or(u32::MAX),
        physical_cores: System::physical_core_count().ok().and_then(|n| u32::try_from(n).ok()),
        memory_total_bytes: sys.as_ref().map_or(0.0, |s| s.total_memory() as f64),
        memory_available_bytes: sys.as_ref().map_or(0.0, |s| s.available_memory() as f64),
    }
}
