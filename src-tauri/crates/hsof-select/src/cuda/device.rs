//! The device: context, stream, the compiled kernels, and the matrix's columns on the device
//! (the whole matrix kept resident when it fits, else uploaded in blocks of columns).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cudarc::driver::sys::CUdevice_attribute;
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, CudaView};

use super::kernels::{compile, Target, SOURCES};
use crate::data::ColumnMatrix;

/// Share of the free device memory one operation may plan to use; the rest is headroom for
/// the driver and for other processes on the same card.
const MEMORY_SHARE: f64 = 0.6;

/// An opened device with its kernels loaded.
pub(crate) struct Gpu {
    pub ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    functions: HashMap<&'static str, CudaFunction>,
    /// Product name, e.g. `NVIDIA H100 80GB HBM3`.
    pub name: String,
    /// Compute capability.
    pub capability: (i32, i32),
    /// The matrix kept on the device between calls.
    resident: Mutex<Option<Resident>>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu").field("name", &self.name).field("capability", &self.capability).finish_non_exhaustive()
    }
}

/// A matrix on the device, known by the address and length of its host values and a
/// fingerprint of sampled values (so a new matrix at a reused address is not mistaken for it).
struct Resident {
    key: (usize, usize, u64),
    buf: Arc<CudaSlice<f32>>,
}

fn fingerprint(v: &[f32]) -> u64 {
    let step = (v.len() / 257).max(1);
    v.iter()
        .step_by(step)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ u64::from(x.to_bits())).wrapping_mul(0x1000_0000_01b3))
}

/// Where a set of columns is on the device: a buffer and each column's index in it.
pub(crate) struct Columns {
    pub buf: Arc<CudaSlice<f32>>,
    pub idx: Vec<i32>,
}

impl Gpu {
    /// Opens device 0 and compiles the kernels for it. Call only after the loader said yes.
    pub fn open() -> Result<Self, String> {
        let ctx = CudaContext::new(0).map_err(|e| format!("CUDA could not start on device 0 ({e})"))?;
        let capability = ctx.compute_capability().map_err(|e| format!("compute capability: {e}"))?;
        let name = ctx.name().unwrap_or_else(|_| "CUDA device 0".into());
        let stream = ctx.default_stream();
        let mut functions = HashMap::new();
        for src in SOURCES {
            let target = Target::Cubin { major: capability.0, minor: capability.1 };
            let image = compile(src.file, src.source, target).or_else(|e| {
                // NVRTC older than the card: let the driver JIT the PTX instead.
                tracing::warn!(error = %e, "no CUBIN for this GPU; trying PTX");
                compile(src.file, src.source, Target::Ptx)
            })?;
            let module = ctx.load_module(image).map_err(|e| format!("loading {}: {e}", src.file))?;
            for f in src.functions {
                let func = module.load_function(f).map_err(|e| format!("kernel {f} in {}: {e}", src.file))?;
                functions.insert(*f, func);
            }
        }
        Ok(Self { ctx, stream, functions, name, capability, resident: Mutex::new(None) })
    }

    /// A loaded kernel.
    pub fn function(&self, name: &str) -> Result<&CudaFunction, String> {
        self.functions.get(name).ok_or_else(|| format!("kernel {name} is not loaded"))
    }

    /// Peak memory bandwidth from the device's attributes, bytes per second.
    pub fn peak_bandwidth(&self) -> Option<f64> {
        let clock_khz = self.ctx.attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE).ok()?;
        let bus_bits = self.ctx.attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH).ok()?;
        // Double data rate: two transfers per clock.
        Some(2.0 * f64::from(clock_khz) * 1e3 * f64::from(bus_bits) / 8.0)
    }

    /// Bytes one operation may plan to allocate now.
    pub fn budget(&self) -> usize {
        match self.ctx.mem_get_info() {
            Ok((free, _)) => (free as f64 * MEMORY_SHARE) as usize,
            Err(_) => 0,
        }
    }

    /// Forgets the resident matrix, freeing its device memory.
    pub fn release(&self) {
        *self.resident.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// `cols` of `x` on the device, in blocks of at most `budget` bytes each (with `per_col_extra`
    /// bytes of other buffers per column counted against it): one block over the resident matrix
    /// when the whole matrix fits, else copies of the columns block by block. Calls `f` per block.
    pub fn for_blocks(
        &self,
        x: &ColumnMatrix,
        cols: &[usize],
        per_col_extra: usize,
        mut f: impl FnMut(&Columns, &[usize]) -> Result<(), String>,
    ) -> Result<(), String> {
        let col_bytes = x.n_rows * 4;
        if let Some(buf) = self.resident(x, cols.len() * per_col_extra)? {
            let idx = cols.iter().map(|&c| to_i32(c)).collect::<Result<_, _>>()?;
            return f(&Columns { buf, idx }, cols);
        }
        let per_block = (self.budget() / (col_bytes + per_col_extra).max(1)).max(1);
        for block in cols.chunks(per_block) {
            let mut host = Vec::with_capacity(block.len() * x.n_rows);
            for &c in block {
                host.extend_from_slice(x.column(c));
            }
            let buf = self
                .stream
                .clone_htod(&host)
                .map_err(|e| format!("out of GPU memory for a block of {} columns ({e})", block.len()))?;
            let idx = (0..block.len()).map(to_i32).collect::<Result<_, _>>()?;
            f(&Columns { buf: Arc::new(buf), idx }, block)?;
        }
        Ok(())
    }

    /// The whole matrix on the device, uploaded on first use, when it fits with `extra` bytes more.
    fn resident(&self, x: &ColumnMatrix, extra: usize) -> Result<Option<Arc<CudaSlice<f32>>>, String> {
        let key = (x.values.as_ptr() as usize, x.values.len(), fingerprint(&x.values));
        let mut guard = self.resident.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = guard.as_ref() {
            if r.key == key {
                return Ok(Some(r.buf.clone()));
            }
        }
        *guard = None;
        if x.values.len() * 4 + extra > self.budget() {
            return Ok(None);
        }
        match self.stream.clone_htod(&x.values) {
            Ok(buf) => {
                let buf = Arc::new(buf);
                *guard = Some(Resident { key, buf: buf.clone() });
                Ok(Some(buf))
            }
            // Another process took the memory meanwhile: work in blocks instead.
            Err(e) => {
                tracing::info!(error = %e, "the matrix does not fit on the GPU; working in blocks");
                Ok(None)
            }
        }
    }
}

/// A view of a whole buffer (kernel arguments take views and slices alike).
pub(crate) fn view(buf: &CudaSlice<f32>) -> CudaView<'_, f32> {
    buf.slice(..)
}

/// An index or size as the kernels' `int`.
pub(crate) fn to_i32(v: usize) -> Result<i32, String> {
    i32::try_from(v).map_err(|_| format!("{v} is too large for the CUDA kernels"))
}
