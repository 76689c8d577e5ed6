//! The CUDA backend: stage 1's statistics and redundancy check on an NVIDIA GPU through
//! `cudarc`, with kernels from `kernels/*.cu` compiled at run time by NVRTC.
//!
//! Nothing CUDA is needed to build, and nothing panics without it: [`usable`] checks that the
//! driver and NVRTC libraries load (cudarc would panic otherwise) before any cudarc call, and
//! [`CudaBackend::open`] turns every failure (no driver, no device, NVRTC missing, a kernel that
//! does not compile or load) into a reason. During a run, a call that fails on the device (out of
//! memory even in blocks, a launch error) is redone on the CPU, logged, and named in
//! [`Backend::ran_on`], so the report says which backend ran; a run is never left half-done and
//! never mixes a partial GPU answer with a CPU one for the same step.

pub mod kernels;
pub mod loader;

mod device;
mod stats;
mod walk;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use crate::backend::{Backend, ColumnStats, CpuBackend};
use crate::data::{ColumnMatrix, Target};
use crate::error::{Result, SelectError};
use crate::progress::{CancelToken, Ctl};
use crate::stage1::redundancy::Kept;

use device::Gpu;
use stats::Stop;

/// Whether the CUDA backend can run here: the driver library, NVRTC, a device. The error says
/// what is missing, in words.
pub fn usable() -> std::result::Result<(), String> {
    CudaBackend::open().map(|_| ())
}

/// Stage 1 on the GPU; see the module documentation.
#[derive(Debug)]
pub struct CudaBackend {
    gpu: Gpu,
    cpu: CpuBackend,
    fallbacks: Mutex<Vec<String>>,
}

impl CudaBackend {
    /// Opens device 0 and compiles the kernels for it, or says why it cannot.
    pub fn open() -> std::result::Result<Self, String> {
        loader::driver()?;
        loader::nvrtc()?;
        let gpu = catch_unwind(Gpu::open)
            .unwrap_or_else(|_| Err("the CUDA libraries failed unexpectedly while starting".into()))?;
        tracing::info!(device = %gpu.name, capability = ?gpu.capability, "CUDA backend ready");
        Ok(Self { gpu, cpu: CpuBackend, fallbacks: Mutex::new(Vec::new()) })
    }

    /// The device's product name.
    pub fn device_name(&self) -> &str {
        &self.gpu.name
    }

    /// The device's peak memory bandwidth, bytes per second (for the benchmarks).
    pub fn peak_bandwidth(&self) -> Option<f64> {
        self.gpu.peak_bandwidth()
    }

    /// Steps that ran on the CPU instead, with why.
    pub fn fallbacks(&self) -> Vec<String> {
        self.fallbacks.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `gpu_step` under `catch_unwind`; a failure is logged, recorded, and `cpu_step` runs.
    fn or_cpu<T>(
        &self,
        what: &str,
        gpu_step: impl FnOnce() -> std::result::Result<T, Stop>,
        cpu_step: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let outcome = catch_unwind(AssertUnwindSafe(gpu_step))
            .unwrap_or_else(|_| Err(Stop::Failed("the CUDA library panicked".into())));
        match outcome {
            Ok(v) => Ok(v),
            Err(Stop::Cancelled) => Err(SelectError::Cancelled),
            Err(Stop::Failed(reason)) => {
                tracing::warn!(step = what, %reason, "GPU step failed; running it on the CPU");
                self.fallbacks.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{what}: {reason}"));
                cpu_step()
            }
        }
    }
}

impl Backend for CudaBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn ran_on(&self) -> String {
        let f = self.fallbacks();
        if f.is_empty() {
            format!("gpu ({})", self.gpu.name)
        } else {
            format!("gpu ({}), CPU fallback for {}", self.gpu.name, f.join("; "))
        }
    }

    fn column_stats(&self, x: &ColumnMatrix, cancel: &CancelToken) -> Result<Vec<ColumnStats>> {
        self.or_cpu(
            "column statistics",
            || stats::column_stats(&self.gpu, x, cancel),
            || self.cpu.column_stats(x, cancel),
        )
    }

    fn relevance(
        &self,
        x: &ColumnMatrix,
        cols: &[usize],
        stats: &[ColumnStats],
        target: &Target,
        bins: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<f64>> {
        self.or_cpu(
            "relevance",
            || stats::relevance(&self.gpu, x, cols, stats, target, bins, cancel),
            || self.cpu.relevance(x, cols, stats, target, bins, cancel),
        )
    }

    fn correlate_block(&self, z: &[f32], block: &[f32], n_rows: usize) -> Vec<f32> {
        // Only reached when the batched walk below fell back: the CPU's one-column walk.
        self.cpu.correlate_block(z, block, n_rows)
    }

    #[allow(clippy::too_many_arguments)]
    fn remove_redundant(
        &self,
        x: &ColumnMatrix,
        ranked: &[usize],
        means: &[f64],
        sds: &[f64],
        keep: usize,
        threshold: f64,
        ctl: &Ctl<'_>,
    ) -> Option<Result<Kept>> {
        let out = self.or_cpu(
            "redundancy check",
            || walk::remove_redundant(&self.gpu, x, ranked, means, sds, keep, threshold, ctl),
            || crate::stage1::redundancy::remove_redundant(&self.cpu, x, ranked, means, sds, keep, threshold, ctl),
        );
        // Stage 1 is done with the matrix: give the device memory back.
        self.gpu.release();
        Some(out)
    }
}
