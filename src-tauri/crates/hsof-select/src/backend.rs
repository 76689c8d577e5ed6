//! Compute backends. The heavy kernels of stage 1 go through [`Backend`] so a CUDA implementation
//! (issue #8, `cudarc` + `kernels/*.cu`) can replace [`CpuBackend`] without touching the stages.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{ColumnMatrix, Target};
use crate::error::{Result, SelectError};
use crate::options::BackendChoice;
use crate::progress::CancelToken;
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
    /// classes, the F statistic for a continuous target (see [`crate::stage1::mi`]).
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

/// Picks the backend for a choice: `auto` and `cpu` give the CPU; `gpu` is an error until the CUDA
/// backend exists.
pub fn select_backend(choice: BackendChoice) -> Result<Box<dyn Backend>> {
    match choice {
        BackendChoice::Auto | BackendChoice::Cpu => Ok(Box::new(CpuBackend)),
        BackendChoice::Gpu => Err(SelectError::BackendUnavailable {
            backend: "gpu".into(),
            reason: "the CUDA backend is not built yet (issue #8); choose `cpu` or `auto`".into(),
        }),
    }
}
