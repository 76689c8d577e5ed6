//! Stage 1 statistics on the device: column means and variances, Pearson with a continuous
//! target (then the F statistic on the host), and the joint histograms of mutual information
//! (bin edges placed on the host by the CPU estimator's own rule, entropies on the host).

use cudarc::driver::{LaunchConfig, PushKernelArg};
use rayon::prelude::*;

use super::device::{to_i32, Gpu};
use crate::backend::ColumnStats;
use crate::data::{ColumnMatrix, Target};
use crate::progress::CancelToken;
use crate::stage1::mi;

/// Threads per block of the per-column kernels (`STAT_THREADS` in `kernels/stage1.cu`).
const STAT_THREADS: u32 = 256;
/// Largest dynamic shared memory the histogram kernel asks for (the default per-block limit).
const SHARED_LIMIT: usize = 48 * 1024;

/// Why a GPU call stopped: cancelled by the user, or failed (the caller falls back).
pub(crate) enum Stop {
    Cancelled,
    Failed(String),
}

impl From<String> for Stop {
    fn from(e: String) -> Self {
        Self::Failed(e)
    }
}

fn cfg(blocks: usize, shared: usize) -> Result<LaunchConfig, String> {
    Ok(LaunchConfig {
        grid_dim: (u32::try_from(blocks).map_err(|_| "too many columns for one launch".to_string())?, 1, 1),
        block_dim: (STAT_THREADS, 1, 1),
        shared_mem_bytes: u32::try_from(shared).map_err(|_| "shared memory too large".to_string())?,
    })
}

fn err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

pub(crate) fn column_stats(gpu: &Gpu, x: &ColumnMatrix, cancel: &CancelToken) -> Result<Vec<ColumnStats>, Stop> {
    let cols: Vec<usize> = (0..x.n_cols).collect();
    let mut out = Vec::with_capacity(x.n_cols);
    let n = x.n_rows as i64;
    let f = gpu.function("column_stats")?;
    let mut cancelled = false;
    gpu.for_blocks(x, &cols, 16 + 4, |block, _| {
        if cancel.is_cancelled() {
            cancelled = true;
            return Ok(());
        }
        let s = &gpu.stream;
        let count = to_i32(block.idx.len())?;
        let idx = s.clone_htod(&block.idx).map_err(err("column index upload"))?;
        let mut mean = s.alloc_zeros::<f64>(block.idx.len()).map_err(err("allocating means"))?;
        let mut var = s.alloc_zeros::<f64>(block.idx.len()).map_err(err("allocating variances"))?;
        let mut launch = s.launch_builder(f);
        launch.arg(block.buf.as_ref()).arg(&n).arg(&idx).arg(&count).arg(&mut mean).arg(&mut var);
        // SAFETY: the arguments match `column_stats` in kernels/stage1.cu: the matrix holds
        // every indexed column of n values, and mean/var have one slot per index.
        #[allow(unsafe_code)]
        unsafe { launch.launch(cfg(block.idx.len(), 0)?) }.map_err(err("column_stats launch"))?;
        let m = s.clone_dtoh(&mean).map_err(err("column_stats"))?;
        let v = s.clone_dtoh(&var).map_err(err("column_stats"))?;
        out.extend(m.into_iter().zip(v).map(|(mean, variance)| ColumnStats { mean, variance }));
        Ok(())
    })?;
    if cancelled {
        return Err(Stop::Cancelled);
    }
    Ok(out)
}

pub(crate) fn relevance(
    gpu: &Gpu,
    x: &ColumnMatrix,
    cols: &[usize],
    stats: &[ColumnStats],
    target: &Target,
    bins: usize,
    cancel: &CancelToken,
) -> Result<Vec<f64>, Stop> {
    let mut out = Vec::with_capacity(cols.len());
    let n = x.n_rows as i64;
    let s = &gpu.stream;
    let mut cancelled = false;
    match target {
        Target::Continuous(y) => {
            let y_mean = y.iter().map(|v| f64::from(*v)).sum::<f64>() / y.len().max(1) as f64;
            let d_y = s.clone_htod(y).map_err(err("target upload"))?;
            let f = gpu.function("pearson")?;
            gpu.for_blocks(x, cols, 16, |block, block_cols| {
                if cancel.is_cancelled() {
                    cancelled = true;
                    return Ok(());
                }
                let count = to_i32(block.idx.len())?;
                let means: Vec<f64> = block_cols.iter().map(|&j| stats[j].mean).collect();
                let idx = s.clone_htod(&block.idx).map_err(err("column index upload"))?;
                let d_means = s.clone_htod(&means).map_err(err("means upload"))?;
                let mut r = s.alloc_zeros::<f64>(block.idx.len()).map_err(err("allocating r"))?;
                let mut launch = s.launch_builder(f);
                launch.arg(block.buf.as_ref()).arg(&n).arg(&idx).arg(&count).arg(&d_means).arg(&d_y).arg(&y_mean);
                launch.arg(&mut r);
                // SAFETY: matches `pearson` in kernels/stage1.cu: y has n values, means and r one per index.
                #[allow(unsafe_code)]
                unsafe { launch.launch(cfg(block.idx.len(), 0)?) }.map_err(err("pearson launch"))?;
                let r = s.clone_dtoh(&r).map_err(err("pearson"))?;
                out.extend(r.into_iter().map(|r| mi::f_statistic(r, y.len())));
                Ok(())
            })?;
        }
        Target::Classes { codes, labels } => {
            let n_classes = labels.len();
            let max_edges = bins.saturating_sub(1).max(1);
            let cells = (max_edges + 1) * n_classes;
            let shared = cells * 4 + max_edges * 4;
            if shared > SHARED_LIMIT {
                return Err(Stop::Failed(format!(
                    "{n_classes} classes x {bins} bins do not fit the histogram kernel's shared memory"
                )));
            }
            let d_codes = s.clone_htod(codes).map_err(err("class upload"))?;
            let f = gpu.function("mi_histogram")?;
            let (nc, me) = (to_i32(n_classes)?, to_i32(max_edges)?);
            gpu.for_blocks(x, cols, cells * 4 + max_edges * 4 + 8, |block, block_cols| {
                if cancel.is_cancelled() {
                    cancelled = true;
                    return Ok(());
                }
                // The same edges as the CPU estimator (a deterministic sample's quantiles).
                let edges: Vec<Vec<f32>> =
                    block_cols.par_iter().map(|&j| mi::quantile_edges(x.column(j), bins)).collect();
                let mut flat = vec![0f32; block_cols.len() * max_edges];
                let mut n_edges = Vec::with_capacity(block_cols.len());
                for (k, e) in edges.iter().enumerate() {
                    let e = &e[..e.len().min(max_edges)];
                    flat[k * max_edges..k * max_edges + e.len()].copy_from_slice(e);
                    n_edges.push(to_i32(e.len())?);
                }
                let count = to_i32(block.idx.len())?;
                let idx = s.clone_htod(&block.idx).map_err(err("column index upload"))?;
                let d_edges = s.clone_htod(&flat).map_err(err("edge upload"))?;
                let d_ne = s.clone_htod(&n_edges).map_err(err("edge count upload"))?;
                let mut counts = s.alloc_zeros::<u32>(block.idx.len() * cells).map_err(err("allocating histograms"))?;
                let mut launch = s.launch_builder(f);
                launch.arg(block.buf.as_ref()).arg(&n).arg(&idx).arg(&count).arg(&d_edges).arg(&d_ne).arg(&me);
                launch.arg(&d_codes).arg(&nc).arg(&mut counts);
                // SAFETY: matches `mi_histogram` in kernels/stage1.cu: edges hold max_edges slots per
                // index (n_edges used), codes are < n_classes, counts hold `cells` per index, and the
                // dynamic shared memory covers the histogram and the edges.
                #[allow(unsafe_code)]
                unsafe { launch.launch(cfg(block.idx.len(), shared)?) }.map_err(err("mi_histogram launch"))?;
                let counts = s.clone_dtoh(&counts).map_err(err("mi_histogram"))?;
                for (k, ne) in n_edges.iter().enumerate() {
                    let nb = *ne as usize + 1;
                    let h = &counts[k * cells..k * cells + nb * n_classes];
                    out.push(mi::mi_from_counts(h, nb, n_classes, x.n_rows));
                }
                Ok(())
            })?;
        }
    }
    if cancelled {
        return Err(Stop::Cancelled);
    }
    Ok(out)
}
