//! Compute backends. The heavy kernels of stage 1 go through [`Backend`]: [`CpuBackend`] (rayon)
//! and [`crate::cuda::CudaBackend`] (`cudarc` + `kernels/*.cu`), chosen by [`select_backend`].

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{ColumnMatrix, Target};
use crate::error::{Result, SelectError};
use crate::options::BackendChoice;
use crate::progress::{CancelToken, Ctl};
use crate::stage1::redundancy::Kept;
use crate::stage1::{mi, redundancy};

/// Mean and variance of one column (population variance, accumulated in f64).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ColumnStats {
    /// Mean.
    pub mean: f64,
    /// Population variance.
    pub variance: f64,
}

/// The kernels a backend provides. All are deterministic: the same input gives the same output
/// whatever the number of threads.
pub trait Backend: Send + Sync {
    /// `"cpu"` or `"gpu"`, recorded in the report.
    fn name(&self) -> &'static str;
    /// Mean and variance of every column.
    fn column_stats(&self, x: &ColumnMatrix, cancel: &CancelToken) -> Result<Vec<ColumnStats>>;
    /// Relevance of each column in `cols` to the target: Miller–Madow mutual information (nats) for
    /// classes (stage 1 passes a continuous target cut into quantile bins as classes), the F
    /// statistic for a continuous target passed as it is (see [`crate::stage1::mi`]).
    fn relevance(
        &self,
        x: &ColumnMatrix,
        cols: &[usize],
        stats: &[ColumnStats],
        target: &Target,
        bins: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<f64>>;
    /// Correlations of one standardised column `z` (see [`redundancy::standardise_into`]) with each
    /// column of `block` (standardised the same way, `n_rows` values each).
    fn correlate_block(&self, z: &[f32], block: &[f32], n_rows: usize) -> Vec<f32>;
    /// The whole redundancy walk, for a backend that does it better than one
    /// [`Backend::correlate_block`] per candidate (the GPU batches candidates into GEMMs). `None`
    /// (the default) runs [`redundancy::remove_redundant`]; an answer must make the same decisions.
    #[allow(clippy::too_many_arguments)]
    fn remove_redundant(
        &self,
        _x: &ColumnMatrix,
        _ranked: &[usize],
        _means: &[f64],
        _sds: &[f64],
        _keep: usize,
        _threshold: f64,
        _ctl: &Ctl<'_>,
    ) -> Option<Result<Kept>> {
        None
    }
    /// What ran, for the report: [`Backend::name`] plus the device and any step that fell back.
    fn ran_on(&self) -> String {
        self.name().to_string()
    }
}

/// The CPU backend: rayon over columns, column-major loops.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

/// Columns per rayon task, so the cancel check and task overhead stay small against the work.
const COLS_PER_TASK: usize = 8;

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn column_stats(&self, x: &ColumnMatrix, cancel: &CancelToken) -> Result<Vec<ColumnStats>> {
        let cols: Vec<usize> = (0..x.n_cols).collect();
        let chunks: Vec<Option<Vec<ColumnStats>>> = cols
            .par_chunks(COLS_PER_TASK)
            .map(|chunk| {
                if cancel.is_cancelled() {
                    return None;
                }
                Some(chunk.iter().map(|&j| stats_of(x.column(j))).collect())
            })
            .collect();
        flatten(chunks)
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
        let y_mean = match target {
            Target::Continuous(y) => y.iter().map(|v| f64::from(*v)).sum::<f64>() / y.len().max(1) as f64,
            Target::Classes { .. } => 0.0,
        };
        let chunks: Vec<Option<Vec<f64>>> = cols
            .par_chunks(COLS_PER_TASK)
            .map_init(Vec::new, |scratch, chunk| {
                if cancel.is_cancelled() {
                    return None;
                }
                Some(
                    chunk
                        .iter()
                        .map(|&j| match target {
                            Target::Classes { codes, labels } => {
                                mi::mutual_information(x.column(j), codes, labels.len(), bins, scratch)
                            }
                            Target::Continuous(y) => {
                                let r = mi::pearson(x.column(j), stats[j].mean, y, y_mean);
                                mi::f_statistic(r, y.len())
                            }
                        })
                        .collect(),
                )
            })
            .collect();
        flatten(chunks)
    }

    fn correlate_block(&self, z: &[f32], block: &[f32], n_rows: usize) -> Vec<f32> {
        if n_rows == 0 {
            return Vec::new();
        }
        // Small blocks are faster on one thread than split across rayon tasks.
        if block.len() < 1 << 16 {
            block.chunks_exact(n_rows).map(|k| redundancy::dot(z, k) as f32).collect()
        } else {
            block.par_chunks_exact(n_rows).map(|k| redundancy::dot(z, k) as f32).collect()
        }
    }
}

fn stats_of(col: &[f32]) -> ColumnStats {
    let n = col.len().max(1) as f64;
    let mean = col.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let variance = col.iter().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / n;
    ColumnStats { mean, variance }
}

fn flatten<T>(chunks: Vec<Option<Vec<T>>>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend(c.ok_or(SelectError::Cancelled)?);
    }
    Ok(out)
}

/// Picks the backend for a choice. `cpu` is the CPU. `auto` is the GPU when the CUDA backend can
/// start here (driver, device, NVRTC, kernels compiled), else the CPU, with the reason logged.
/// `gpu` is the GPU or an error naming what is missing.
pub fn select_backend(choice: BackendChoice) -> Result<Box<dyn Backend>> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(CpuBackend)),
        BackendChoice::Auto => match crate::cuda::CudaBackend::open() {
            Ok(gpu) => Ok(Box::new(gpu)),
            Err(reason) => {
                tracing::info!(%reason, "backend auto: running on the CPU");
                Ok(Box::new(CpuBackend))
            }
        },
        BackendChoice::Gpu => match crate::cuda::CudaBackend::open() {
            Ok(gpu) => Ok(Box::new(gpu)),
            Err(reason) => Err(SelectError::BackendUnavailable { backend: "gpu".into(), reason }),
        },
    }
}
