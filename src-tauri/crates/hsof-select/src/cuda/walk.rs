//! The redundancy walk on the device, in batches: the same decisions as the CPU's one-column
//! walk ([`crate::stage1::redundancy`]), with the correlations of a whole batch computed as
//! two GEMMs: the batch against the columns kept so far, and the batch against itself (a
//! candidate must also clear the batch's earlier candidates that were kept).

use cudarc::driver::{CudaSlice, CudaView, LaunchConfig, PushKernelArg};

use super::device::{to_i32, view, Gpu};
use super::stats::Stop;
use crate::data::ColumnMatrix;
use crate::progress::{Ctl, Stage};
use crate::stage1::redundancy::Kept;

/// Candidates standardised and correlated per batch.
const BATCH: usize = 128;
/// Tile edge of `corr_partial` (`TILE` in kernels/redundancy.cu).
const TILE: usize = 16;

fn err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// `C = A^T B` (ka x kb, column-major, f32) for column-major `a` (n x ka) and `b` (n x kb).
fn correlate(
    gpu: &Gpu,
    a: &CudaView<'_, f32>,
    b: &CudaView<'_, f32>,
    n: usize,
    ka: usize,
    kb: usize,
) -> Result<Vec<f32>, String> {
    let s = &gpu.stream;
    let tiles = ka.div_ceil(TILE) * kb.div_ceil(TILE);
    // Enough blocks to fill the card (~2 per SM on the largest) without tiny row ranges.
    let splits = (264usize.div_ceil(tiles)).clamp(1, n.div_ceil(4096).max(1));
    let rows_per_split = n.div_ceil(splits).div_ceil(TILE) * TILE;
    let total = ka * kb;
    let mut partial = s.alloc_zeros::<f64>(splits * total).map_err(err("allocating partial sums"))?;
    let mut out = s.alloc_zeros::<f32>(total).map_err(err("allocating correlations"))?;
    let (n_i, ka_i, kb_i, rps) = (n as i64, to_i32(ka)?, to_i32(kb)?, rows_per_split as i64);
    let grid = |v: usize| u32::try_from(v).map_err(|_| "GEMM grid too large".to_string());
    let mut launch = s.launch_builder(gpu.function("corr_partial")?);
    launch.arg(a).arg(b).arg(&n_i).arg(&ka_i).arg(&kb_i).arg(&rps).arg(&mut partial);
    let cfg = LaunchConfig {
        grid_dim: (grid(ka.div_ceil(TILE))?, grid(kb.div_ceil(TILE))?, grid(splits)?),
        block_dim: (TILE as u32, TILE as u32, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: matches `corr_partial`: a and b hold ka and kb columns of n values, partial holds
    // splits * ka * kb values, and splits * rows_per_split >= n.
    #[allow(unsafe_code)]
    unsafe { launch.launch(cfg) }.map_err(err("corr_partial launch"))?;
    let (splits_i, total_i) = (to_i32(splits)?, to_i32(total)?);
    let mut launch = s.launch_builder(gpu.function("corr_reduce")?);
    launch.arg(&partial).arg(&splits_i).arg(&total_i).arg(&mut out);
    // SAFETY: matches `corr_reduce`: partial holds splits * total values, out holds total.
    #[allow(unsafe_code)]
    unsafe { launch.launch(LaunchConfig::for_num_elems(total_i as u32)) }.map_err(err("corr_reduce launch"))?;
    s.clone_dtoh(&out).map_err(err("correlations"))
}

/// The greedy walk over `ranked` on the device. `Err(Stop::Failed)` leaves the caller to run
/// the CPU walk from the start, so a failure mid-way never mixes two partial answers.
#[allow(clippy::too_many_arguments)]
pub(crate) fn remove_redundant(
    gpu: &Gpu,
    x: &ColumnMatrix,
    ranked: &[usize],
    means: &[f64],
    sds: &[f64],
    keep: usize,
    threshold: f64,
    ctl: &Ctl<'_>,
) -> Result<Kept, Stop> {
    let n = x.n_rows;
    let s = &gpu.stream;
    let cap = keep.min(ranked.len());
    let mut columns: Vec<usize> = Vec::with_capacity(cap);
    let mut dropped = 0;
    if cap == 0 || n == 0 {
        return Ok(Kept { columns, dropped });
    }
    let mut kept: CudaSlice<f32> = s
        .alloc_zeros::<f32>(cap * n)
        .map_err(|e| format!("out of GPU memory for the {cap} kept columns of {n} rows ({e})"))?;
    let n_i = n as i64;
    let mut last_report = 0;
    for batch in ranked.chunks(BATCH) {
        if columns.len() >= keep {
            break;
        }
        if ctl.cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let b = batch.len();
        let bm: Vec<f64> = batch.iter().map(|&c| means[c]).collect();
        // The scale of the CPU's `standardise_into`, computed the same way in f64.
        let bs: Vec<f64> =
            batch.iter().map(|&c| if sds[c] > 0.0 { 1.0 / (sds[c] * (n as f64).sqrt()) } else { 0.0 }).collect();
        let mut cand = s.alloc_zeros::<f32>(b * n).map_err(err("allocating the candidate batch"))?;
        let d_mean = s.clone_htod(&bm).map_err(err("means upload"))?;
        let d_scale = s.clone_htod(&bs).map_err(err("scale upload"))?;
        let f = gpu.function("standardise")?;
        let mut done = 0;
        gpu.for_blocks(x, batch, 4 * n + 16, |block, _| {
            let idx = s.clone_htod(&block.idx).map_err(err("column index upload"))?;
            let count = to_i32(block.idx.len())?;
            let mut launch = s.launch_builder(f);
            let (m, sc) = (d_mean.slice(done..), d_scale.slice(done..));
            let mut out = cand.slice_mut(done * n..);
            launch.arg(block.buf.as_ref()).arg(&n_i).arg(&idx).arg(&count).arg(&m).arg(&sc).arg(&mut out);
            let cfg = LaunchConfig {
                grid_dim: (u32::try_from(n.div_ceil(256).min(1024)).unwrap_or(1024), count as u32, 1),
                block_dim: (256, 1, 1),
                shared_mem_bytes: 0,
            };
            // SAFETY: matches `standardise`: the buffer holds every indexed column of n values;
            // from offset `done`, mean/scale have one value per index and cand count * n values.
            #[allow(unsafe_code)]
            unsafe { launch.launch(cfg) }.map_err(err("standardise launch"))?;
            done += block.idx.len();
            Ok(())
        })?;
        if done != b {
            return Err(Stop::Failed("the candidate batch was not standardised".into()));
        }
        let k0 = columns.len();
        let with_kept =
            if k0 > 0 { correlate(gpu, &kept.slice(..k0 * n), &view(&cand), n, k0, b)? } else { Vec::new() };
        let within = correlate(gpu, &view(&cand), &view(&cand), n, b, b)?;
        let mut accepted: Vec<usize> = Vec::new();
        for i in 0..b {
            if columns.len() >= keep {
                break;
            }
            let max_kept = (0..k0).map(|k| with_kept[k + i * k0].abs()).fold(0f32, f32::max);
            let max_batch = accepted.iter().map(|&j| within[j + i * b].abs()).fold(0f32, f32::max);
            if f64::from(max_kept.max(max_batch)) > threshold {
                dropped += 1;
                continue;
            }
            let slot = columns.len();
            s.memcpy_dtod(&cand.slice(i * n..(i + 1) * n), &mut kept.slice_mut(slot * n..(slot + 1) * n))
                .map_err(err("copying a kept column"))?;
            accepted.push(i);
            columns.push(batch[i]);
        }
        if columns.len() * 20 / keep.max(1) > last_report {
            last_report = columns.len() * 20 / keep.max(1);
            ctl.report(Stage::Filter, 0.5 + 0.5 * columns.len() as f32 / keep as f32, "removing redundant columns");
        }
    }
    s.synchronize().map_err(err("redundancy walk"))?;
    Ok(Kept { columns, dropped })
}
